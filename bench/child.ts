import { type ChildProcess, fork } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Forks a TypeScript module of bench/ under tsx, with an IPC channel. */
export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(BENCH_DIR, '..');

export function forkTs(
  file: string,
  args: string[],
  options: { quiet?: boolean; env?: NodeJS.ProcessEnv } = {},
): ChildProcess {
  return fork(resolve(BENCH_DIR, file), args, {
    cwd: REPO_ROOT,
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, ...options.env },
    // The functions log JSON lines per delivery; they cost as in Lambda but must not reach the table.
    // stderr (SDK and Powertools warnings) is kept by the caller and shown only if the child fails.
    stdio: options.quiet ? ['ignore', 'ignore', 'pipe', 'ipc'] : ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/** The next IPC message of `type` from `child`, or the child's exit as an error. */
export function nextMessage<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise<T>((resolvePromise, reject) => {
    const onMessage = (message: { type?: string }) => {
      if (message.type !== type) return;
      cleanup();
      resolvePromise(message as T);
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`bench child exited (code ${code}) before sending "${type}"`));
    };
    const cleanup = () => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}
