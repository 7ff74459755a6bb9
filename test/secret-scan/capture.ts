import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { format } from 'node:util';
import { threadId } from 'node:worker_threads';

/**
 * The workers' side of the secret scan: a copy of everything this process writes (stdout,
 * stderr, console) goes to `<dir>/<pid>-<thread>.log`; tests register secrets that have no
 * recognisable shape (API key secrets) and dump delivery-log items into the same capture.
 */
const CAPTURING = Symbol.for('webhooks.secretScan.capturing');
type Flagged = typeof globalThis & { [CAPTURING]?: string };

function captureDir(): string | undefined {
  return (globalThis as Flagged)[CAPTURING];
}

function fileOf(dir: string, extension: string): string {
  return join(dir, `${process.pid}-${threadId}.${extension}`);
}

function append(extension: string, text: string): void {
  const dir = captureDir();
  if (!dir) return;
  try {
    appendFileSync(fileOf(dir, extension), text.endsWith('\n') ? text : `${text}\n`);
  } catch {
    // The capture must never break a test.
  }
}

export function startCapture(dir: string): void {
  const flagged = globalThis as Flagged;
  if (flagged[CAPTURING]) return;
  flagged[CAPTURING] = dir;
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      append('log', typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      return write(chunk, ...rest);
    }) as typeof stream.write;
  }
  for (const method of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
    const original = console[method].bind(console);
    console[method] = (...args: unknown[]) => {
      append('log', format(...args));
      original(...args);
    };
  }
}

/** A secret value the final scan must not find anywhere in the capture. */
export function registerSecret(...values: string[]): void {
  append('secrets', values.join('\n'));
}

/** Items a test read back (delivery-log items), added to the capture as JSON lines. */
export function captureItems(items: readonly unknown[]): void {
  if (items.length > 0) append('log', items.map((item) => JSON.stringify(item)).join('\n'));
}
