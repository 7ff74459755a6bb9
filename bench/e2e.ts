import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { startLocalStack } from '../local/stack';
import { type CpuGroup, startProfile } from './profile';
import { startReceiverProcess } from './receiver-process';
import { cpuMsSince, percentile, round } from './stats';

/**
 * End to end through the local stack (`npm start`'s stack, in this process): PutEvents with
 * the real EventBridgeClient in batches of 10, fan-out, fauxqs, the SQS poller, delivery, to a
 * receiver process that notes receipt time minus the `sentAt` carried in the payload. Events
 * are put as fast as the bus answers (a burst), so latency includes queueing behind the burst.
 */
export interface EndToEndBenchOptions {
  events: number;
  subscriptions: number;
  /** Concurrent delivery pollers (Lambda would scale up to DELIVERY_EVENT_SOURCE.maxConcurrency). */
  pollers: number;
  /** PutEvents calls in flight at once. */
  putConcurrency: number;
  timeoutMs: number;
}

export const END_TO_END_BENCH_SIZES: Record<'full' | 'smoke', EndToEndBenchOptions> = {
  full: { events: 1000, subscriptions: 5, pollers: 8, putConcurrency: 4, timeoutMs: 240_000 },
  smoke: { events: 10, subscriptions: 2, pollers: 2, putConcurrency: 2, timeoutMs: 60_000 },
};

export interface EndToEndBenchResult {
  events: number;
  subscriptions: number;
  expectedDeliveries: number;
  delivered: number;
  duplicates: number;
  seconds: number;
  deliveriesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** CPU of the stack's process over wall time (1.0 = one core busy all the time). */
  processCpuUtilisation: number;
  /** Shares of the stack process's busy CPU time (profile samples), by group. */
  cpuShares: Record<CpuGroup, number>;
}

const PROJECT = 'bench-e2e';
const KEY = { keyId: 'bench-e2e-key', secret: 'bench-e2e-secret-0123456789' };
const ENTRIES_PER_PUT = 10;

export async function runEndToEndBench(options: EndToEndBenchOptions): Promise<EndToEndBenchResult> {
  const receiver = await startReceiverProcess('record');
  const stack = await startLocalStack({
    ports: { api: 0, eventBridge: 0, sqs: 0, dynamoDb: 0 },
    apiKeys: [{ projectId: PROJECT, ...KEY }],
    retrySchedule: '1,1,1',
    dataDir: undefined,
    pollerConcurrency: options.pollers,
  });
  const eventBridge = new EventBridgeClient({
    region: stack.config.region,
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
    endpoint: stack.eventBridgeEndpoint,
  });
  try {
    const auth = `Basic ${Buffer.from(`${KEY.keyId}:${KEY.secret}`).toString('base64')}`;
    for (let i = 0; i < options.subscriptions; i++) {
      const response = await fetch(`${stack.apiUrl}/${PROJECT}/subscriptions`, {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/json' },
        body: JSON.stringify({ event: 'request.create', target: `${receiver.url}/e2e/${i}` }),
      });
      if (response.status !== 201)
        throw new Error(`subscribe answered ${response.status}: ${await response.text()}`);
    }
    await receiver.reset();
    const expected = options.events * options.subscriptions;

    const stopProfile = await startProfile();
    const cpu = process.cpuUsage();
    const started = performance.now();
    let nextEvent = 0;
    await Promise.all(
      Array.from({ length: options.putConcurrency }, async () => {
        while (nextEvent < options.events) {
          const first = nextEvent;
          nextEvent = Math.min(options.events, nextEvent + ENTRIES_PER_PUT);
          const entries = Array.from({ length: nextEvent - first }, (_, k) => ({
            EventBusName: stack.busName,
            Source: stack.config.eventSource,
            DetailType: 'request.create',
            Detail: JSON.stringify({
              id_project: PROJECT,
              payload: { sentAt: Date.now(), n: first + k, text: 'benchmark event' },
            }),
          }));
          const result = await eventBridge.send(new PutEventsCommand({ Entries: entries }));
          if (result.FailedEntryCount) throw new Error(`PutEvents failed ${result.FailedEntryCount} entries`);
        }
      }),
    );
    let stats = await receiver.stats();
    const deadline = Date.now() + options.timeoutMs;
    while (stats.latenciesMs.length < expected && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      stats = await receiver.stats();
    }
    const seconds = (performance.now() - started) / 1000;
    const cpuMs = cpuMsSince(cpu);
    const groups = await stopProfile();
    const busy = Object.values(groups).reduce((a, b) => a + b, 0);
    const shares = Object.fromEntries(
      Object.entries(groups).map(([group, ms]) => [group, round(busy > 0 ? ms / busy : 0, 3)]),
    ) as Record<CpuGroup, number>;
    return {
      events: options.events,
      subscriptions: options.subscriptions,
      expectedDeliveries: expected,
      delivered: stats.latenciesMs.length,
      duplicates: stats.duplicates,
      seconds: round(seconds, 2),
      deliveriesPerSecond: round(stats.latenciesMs.length / seconds, 0),
      p50Ms: round(percentile(stats.latenciesMs, 50), 0),
      p99Ms: round(percentile(stats.latenciesMs, 99), 0),
      maxMs: round(percentile(stats.latenciesMs, 100), 0),
      processCpuUtilisation: round(cpuMs / (seconds * 1000), 2),
      cpuShares: shares,
    };
  } finally {
    eventBridge.destroy();
    await stack.stop();
    await receiver.stop();
  }
}
