import http from 'node:http';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SQSRecord } from 'aws-lambda';
import { DELIVERY_EVENT_SOURCE } from '../functions/core/config/queues';
import { DEFAULTS, deliverySettings, ENV } from '../functions/core/config/settings';
import { deliverBatch } from '../functions/core/delivery/deliver';
import { SubscriptionCache } from '../functions/core/delivery/subscription-cache';
import { buildWebhookRequest, type WebhookRequest } from '../functions/core/delivery/webhook-request';
import { deliveryIdFor, newSubscriptionId, newWebhookSecret } from '../functions/core/ids';
import type { DeliveryMessage } from '../functions/core/model/delivery-message';
import type { Subscription } from '../functions/core/model/subscription';
import { metrics } from '../functions/core/observability';
import { StubAwsTransport } from './aws-stub';
import { startReceiverProcess } from './receiver-process';
import { cpuMsSince, median, round } from './stats';

/**
 * Delivery overhead: the delivery domain (deliverBatch, as the handler calls it) against a
 * receiver process on 127.0.0.1, beside plain keep-alive POSTs of the same bodies with the
 * same batch shape and concurrency. The AWS calls (delivery log, visibility) are answered by
 * an in-process stub transport (bench/aws-stub.ts) and counted; the subscription cache is warm, as in a busy container.
 */
const DYNAMODB_WRITES = ['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems'];
const DYNAMODB_READS = ['GetItem', 'BatchGetItem', 'Query', 'Scan'];
const SQS_OPERATIONS = [
  'ChangeMessageVisibility',
  'ChangeMessageVisibilityBatch',
  'SendMessage',
  'SendMessageBatch',
  'DeleteMessage',
];

export interface DeliveryBenchOptions {
  deliveriesPerRun: number;
  /** Rounds of (baseline, ours), alternating which goes first; medians are reported. */
  rounds: number;
  /** Batches in flight at once (several event source mapping pollers into one container's worth of work). */
  concurrentBatches: number;
  /** Distinct subscriptions the deliveries go to. */
  subscriptions: number;
  /** Approximate size of each event's payload (bytes of JSON). */
  payloadBytes: number;
}

export const DELIVERY_BENCH_SIZES: Record<'full' | 'smoke', DeliveryBenchOptions> = {
  full: { deliveriesPerRun: 4000, rounds: 5, concurrentBatches: 4, subscriptions: 50, payloadBytes: 1024 },
  smoke: { deliveriesPerRun: 60, rounds: 1, concurrentBatches: 2, subscriptions: 3, payloadBytes: 256 },
};

export interface DeliveryRun {
  deliveriesPerSecond: number;
  cpuMsPerDelivery: number;
}

export interface DeliveryBenchResult {
  batchSize: number;
  concurrentBatches: number;
  deliveriesPerRun: number;
  rounds: number;
  payloadBytes: number;
  oursDeliveriesPerSecond: number;
  baselineDeliveriesPerSecond: number;
  /** Median of the per-round ratios ours / baseline. */
  ratio: number;
  oursCpuMsPerDelivery: number;
  baselineCpuMsPerDelivery: number;
  /** AWS calls of every measured `ours` run, per delivery, and by operation. */
  awsCalls: Record<string, number>;
  awsCallsPerDelivery: number;
  writesPerDelivery: number;
  readsPerDelivery: number;
  sqsCallsPerDelivery: number;
  delivered: number;
  failed: number;
  receiverRequests: number;
  roundsDetail: { ours: DeliveryRun; baseline: DeliveryRun }[];
}

/** A JSON payload of about `bytes` bytes, shaped like a Tiledesk request.create. */
export function samplePayload(bytes: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const base = {
    _id: '65f0c0ffee0123456789abcd',
    request_id: 'support-group-65f0c0ffee-0123456789abcdef',
    status: 100,
    first_text: 'Hello, I need help with my order',
    department: { _id: '65f0c0ffee0123456789abce', name: 'Default' },
    lead: { fullname: 'Guest', email: 'guest@example.com' },
    ...extra,
  };
  const fill = Math.max(0, bytes - JSON.stringify(base).length - 12);
  return { ...base, notes: 'x'.repeat(fill) };
}

function benchSubscription(index: number, receiverUrl: string, now: number): Subscription {
  const iso = new Date(now).toISOString();
  return {
    _id: newSubscriptionId(now + index),
    id_project: 'bench-project',
    event: 'request.create',
    target: `${receiverUrl}/hooks/${index}`,
    status: 'active',
    createdBy: 'bench',
    createdAt: iso,
    updatedAt: iso,
    secret: newWebhookSecret(),
  };
}

function record(message: DeliveryMessage, index: number): SQSRecord {
  return {
    messageId: `m-${index}`,
    receiptHandle: `rh-${index}`,
    body: JSON.stringify(message),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(message.timestamp),
      SenderId: 'bench',
      ApproximateFirstReceiveTimestamp: String(message.timestamp),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:webhook-deliveries',
    awsRegion: 'us-east-1',
  };
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** `workers` loops, each taking the next batch and awaiting `run` on it, as pollers do. */
async function runBatches<T>(
  batches: readonly T[],
  workers: number,
  run: (batch: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (next < batches.length) {
        const batch = batches[next++] as T;
        await run(batch);
      }
    }),
  );
}

function plainPost(agent: http.Agent, url: URL, request: WebhookRequest): Promise<void> {
  return new Promise((resolve, reject) => {
    const body = Buffer.from(request.body, 'utf8');
    const req = http.request(
      {
        method: 'POST',
        hostname: url.hostname,
        port: Number(url.port),
        path: url.pathname,
        headers: { ...request.headers, 'content-length': String(body.length) },
        agent,
      },
      (res) => {
        res.on('data', () => undefined);
        res.on('end', () =>
          res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`)),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export async function runDeliveryBench(options: DeliveryBenchOptions): Promise<DeliveryBenchResult> {
  const batchSize = DELIVERY_EVENT_SOURCE.batchSize;
  const receiver = await startReceiverProcess('plain');
  const now = Date.now();
  const settings = deliverySettings({
    [ENV.tableName]: 'bench-table',
    [ENV.deliveryQueueUrl]: 'https://sqs.us-east-1.amazonaws.com/000000000000/webhook-deliveries',
    [ENV.allowHttpTargets]: 'true',
    [ENV.allowPrivateTargets]: 'true',
    [ENV.deliveryLogLevel]: 'all',
    [ENV.subscriptionCacheTtlMs]: String(24 * 3_600_000),
  });
  const aws = new StubAwsTransport();
  // As functions/delivery.ts builds them, with the stub transport.
  const db = DynamoDBDocumentClient.from(new DynamoDBClient(aws.clientConfig()), {
    marshallOptions: { removeUndefinedValues: true },
  });
  const sqs = new SQSClient(aws.clientConfig());

  const subscriptions = Array.from({ length: options.subscriptions }, (_, i) =>
    benchSubscription(i, receiver.url, now),
  );
  const cache = new SubscriptionCache({ ttlMs: settings.subscriptionCacheTtlMs });
  for (const subscription of subscriptions) cache.set(subscription);

  const messages: DeliveryMessage[] = Array.from({ length: options.deliveriesPerRun }, (_, i) => {
    const subscription = subscriptions[i % subscriptions.length] as Subscription;
    const eventId = `evt-${i}`;
    return {
      v: 1,
      deliveryId: deliveryIdFor(eventId, subscription._id),
      eventId,
      subscriptionId: subscription._id,
      projectId: subscription.id_project,
      event: 'request.create',
      timestamp: now,
      payload: samplePayload(options.payloadBytes),
    };
  });
  const records = messages.map(record);
  const recordBatches = chunk(records, batchSize);
  // The baseline sends the very requests ours builds (same bodies and headers), prepared in advance.
  const prepared = messages.map((message, i) => ({
    url: new URL((subscriptions[i % subscriptions.length] as Subscription).target),
    request: buildWebhookRequest(subscriptions[i % subscriptions.length] as Subscription, message, {
      userAgent: DEFAULTS.userAgent,
      now,
    }),
  }));
  const preparedBatches = chunk(prepared, batchSize);
  // The same socket pool settings as the delivery function's keepAliveAgents.
  const baselineAgent = new http.Agent({
    keepAlive: true,
    maxSockets: 64,
    maxFreeSockets: 64,
    scheduling: 'lifo',
  });

  let delivered = 0;
  let failed = 0;
  const deps = { db, sqs, settings, cache };
  const ours = async (): Promise<DeliveryRun> => {
    const cpu = process.cpuUsage();
    const started = performance.now();
    await runBatches(recordBatches, options.concurrentBatches, async (batch) => {
      const response = await deliverBatch(batch, deps);
      failed += response.batchItemFailures.length;
      delivered += batch.length - response.batchItemFailures.length;
      // As the handler does after every batch.
      metrics.publishStoredMetrics();
    });
    const seconds = (performance.now() - started) / 1000;
    return {
      deliveriesPerSecond: options.deliveriesPerRun / seconds,
      cpuMsPerDelivery: cpuMsSince(cpu) / options.deliveriesPerRun,
    };
  };
  const baseline = async (): Promise<DeliveryRun> => {
    const cpu = process.cpuUsage();
    const started = performance.now();
    await runBatches(preparedBatches, options.concurrentBatches, async (batch) => {
      await Promise.all(batch.map(({ url, request }) => plainPost(baselineAgent, url, request)));
    });
    const seconds = (performance.now() - started) / 1000;
    return {
      deliveriesPerSecond: options.deliveriesPerRun / seconds,
      cpuMsPerDelivery: cpuMsSince(cpu) / options.deliveriesPerRun,
    };
  };

  try {
    // Warm-up: JIT, sockets and the receiver, on both paths; not counted.
    await baseline();
    await ours();
    aws.reset();
    delivered = 0;
    failed = 0;
    await receiver.reset();

    const roundsDetail: DeliveryBenchResult['roundsDetail'] = [];
    for (let round = 0; round < options.rounds; round++) {
      if (round % 2 === 0) {
        const b = await baseline();
        const o = await ours();
        roundsDetail.push({ ours: o, baseline: b });
      } else {
        const o = await ours();
        const b = await baseline();
        roundsDetail.push({ ours: o, baseline: b });
      }
    }
    const oursRuns = options.rounds * options.deliveriesPerRun;
    const writes = aws.total(DYNAMODB_WRITES);
    const reads = aws.total(DYNAMODB_READS);
    const sqsCalls = aws.total(SQS_OPERATIONS);
    const allCalls = aws.total();
    const stats = await receiver.stats();
    return {
      batchSize,
      concurrentBatches: options.concurrentBatches,
      deliveriesPerRun: options.deliveriesPerRun,
      rounds: options.rounds,
      payloadBytes: options.payloadBytes,
      oursDeliveriesPerSecond: round(median(roundsDetail.map((r) => r.ours.deliveriesPerSecond)), 0),
      baselineDeliveriesPerSecond: round(median(roundsDetail.map((r) => r.baseline.deliveriesPerSecond)), 0),
      ratio: round(
        median(roundsDetail.map((r) => r.ours.deliveriesPerSecond / r.baseline.deliveriesPerSecond)),
        3,
      ),
      oursCpuMsPerDelivery: round(median(roundsDetail.map((r) => r.ours.cpuMsPerDelivery)), 4),
      baselineCpuMsPerDelivery: round(median(roundsDetail.map((r) => r.baseline.cpuMsPerDelivery)), 4),
      awsCallsPerDelivery: round(allCalls / oursRuns, 3),
      awsCalls: Object.fromEntries(aws.counts),
      writesPerDelivery: round(writes / oursRuns, 3),
      readsPerDelivery: round(reads / oursRuns, 3),
      sqsCallsPerDelivery: round(sqsCalls / oursRuns, 3),
      delivered,
      failed,
      receiverRequests: stats.requests,
      roundsDetail,
    };
  } finally {
    baselineAgent.destroy();
    db.destroy();
    sqs.destroy();
    await receiver.stop();
  }
}
