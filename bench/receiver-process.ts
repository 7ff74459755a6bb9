import { forkTs, nextMessage } from './child';

/** A handle on the receiver process (bench/receiver.ts). */
export interface ReceiverProcess {
  url: string;
  stats(): Promise<ReceiverStats>;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export interface ReceiverStats {
  requests: number;
  latenciesMs: number[];
  duplicates: number;
}

export async function startReceiverProcess(mode: 'plain' | 'record'): Promise<ReceiverProcess> {
  const child = forkTs('receiver.ts', [mode]);
  const { port } = await nextMessage<{ port: number }>(child, 'ready');
  return {
    url: `http://127.0.0.1:${port}`,
    async stats() {
      const answer = nextMessage<ReceiverStats>(child, 'stats');
      child.send({ type: 'stats' });
      return answer;
    },
    async reset() {
      const answer = nextMessage<unknown>(child, 'reset');
      child.send({ type: 'reset' });
      await answer;
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.disconnect();
      await exited;
    },
  };
}
