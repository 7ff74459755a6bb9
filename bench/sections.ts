import { forkTs } from './child';

/** Runs bench/section.ts `name` in a child process and resolves with its result. */
export function runSection<T>(name: string, options: unknown): Promise<T> {
  const child = forkTs('section.ts', [name, JSON.stringify(options)], { quiet: true });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  });
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    child.on('message', (message: { type?: string; result?: unknown; error?: string }) => {
      if (message.type === 'result') {
        settled = true;
        resolve(message.result as T);
      } else if (message.type === 'error') {
        settled = true;
        reject(new Error(`bench section ${name} failed: ${message.error}\n${stderr}`));
      }
    });
    child.on('exit', (code) => {
      if (!settled)
        reject(new Error(`bench section ${name} exited with code ${code} and no result\n${stderr}`));
    });
  });
}
