import { createHash } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { LIMITS } from '../functions/core/config/limits';
import { ENV, fanOutSettings } from '../functions/core/config/settings';
import { matchingPatterns } from '../functions/core/events/catalog';
import { fanOut } from '../functions/core/fanout/fan-out';
import { newSubscriptionId } from '../functions/core/ids';
import { metrics } from '../functions/core/observability';
import { keys, TABLE } from '../functions/core/storage/table';
import { StubAwsTransport, type StubCall } from './aws-stub';
import { samplePayload } from './delivery';
import { cpuMsSince, median, round } from './stats';

/**
 * Fan-out cost: one event matching N active subscriptions, the fan-out index answered by a
 * stub that pages the way DynamoDB does (1 MB of KEYS_ONLY index items per Query page) and
 * SendMessageBatch answered as SQS does (MD5s included, since the SDK checks them). Reports
 * CPU per 1,000 subscriptions and the exact AWS calls beside the minimum.
 */
export interface FanOutBenchOptions {
  sizes: number[];
  /** Repetitions per size: the CPU figure is the median per event. */
  repetitions: Record<string, number>;
  payloadBytes: number;
}

export const FAN_OUT_BENCH_SIZES: Record<'full' | 'smoke', FanOutBenchOptions> = {
  full: { sizes: [1, 100, 10_000], repetitions: { '1': 300, '100': 60, '10000': 7 }, payloadBytes: 1024 },
  smoke: { sizes: [1, 25], repetitions: { '1': 3, '25': 2 }, payloadBytes: 256 },
};

export interface FanOutSizeResult {
  subscriptions: number;
  enqueued: number;
  queryPages: number;
  minQueryPages: number;
  sendBatchCalls: number;
  minSendBatchCalls: number;
  /** Every AWS call of one event, by operation. */
  awsCalls: Record<string, number>;
  cpuMsPerEvent: number;
  cpuMsPer1000Subscriptions: number;
  wallMsPerEvent: number;
}

export interface FanOutBenchResult {
  event: string;
  patternsQueried: number;
  indexItemBytes: number;
  itemsPerQueryPage: number;
  sizes: FanOutSizeResult[];
}

const PROJECT = 'bench-project';
const EVENT = 'request.create';
const PAGE_BYTES = 1024 * 1024;

/** DynamoDB's item size: attribute names plus string values, in UTF-8 bytes. */
function itemBytes(item: Record<string, string>): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(item))
    bytes += Buffer.byteLength(name) + Buffer.byteLength(value);
  return bytes;
}

function indexItem(subscriptionId: string): Record<string, string> {
  return {
    [TABLE.partitionKey]: keys.project(PROJECT),
    [TABLE.sortKey]: keys.subscriptionSk(subscriptionId),
    [TABLE.fanOutIndex.partitionKey]: keys.fanOut(PROJECT, EVENT),
    [TABLE.fanOutIndex.sortKey]: keys.subscriptionSk(subscriptionId),
  };
}

const attribute = (value: string) => ({ S: value });

/** Precomputed Query answers for one partition: page k answers ExclusiveStartKey = last id of page k-1. */
function queryPages(ids: readonly string[], perPage: number): Map<string, string> {
  const pages = new Map<string, string>();
  for (let start = 0; start === 0 || start < ids.length; start += perPage) {
    const slice = ids.slice(start, start + perPage);
    const last = slice[slice.length - 1];
    const more = start + perPage < ids.length && last !== undefined;
    const answer = {
      Items: slice.map((id) => ({ [TABLE.fanOutIndex.sortKey]: attribute(keys.subscriptionSk(id)) })),
      Count: slice.length,
      ScannedCount: slice.length,
      ...(more
        ? {
            LastEvaluatedKey: Object.fromEntries(
              Object.entries(indexItem(last)).map(([k, v]) => [k, attribute(v)]),
            ),
          }
        : {}),
    };
    const previous = start === 0 ? '' : (ids[start - 1] as string);
    pages.set(previous, JSON.stringify(answer));
    if (ids.length === 0) break;
  }
  return pages;
}

interface QueryBody {
  ExpressionAttributeValues?: Record<string, { S?: string }>;
  ExclusiveStartKey?: Record<string, { S?: string }>;
}

interface SendBatchBody {
  Entries: { Id: string; MessageBody: string }[];
}

function responder(partitions: Map<string, Map<string, string>>) {
  return (call: StubCall): unknown => {
    if (call.operation === 'Query') {
      const body = JSON.parse(call.body) as QueryBody;
      const partition = body.ExpressionAttributeValues?.[':pk']?.S ?? '';
      const startSk = body.ExclusiveStartKey?.[TABLE.fanOutIndex.sortKey]?.S;
      const startId = startSk ? startSk.slice(keys.subscriptionPrefix.length) : '';
      return new RawJson(
        partitions.get(partition)?.get(startId) ?? '{"Items":[],"Count":0,"ScannedCount":0}',
      );
    }
    if (call.operation === 'SendMessageBatch') {
      const body = JSON.parse(call.body) as SendBatchBody;
      return {
        Successful: body.Entries.map((entry) => ({
          Id: entry.Id,
          MessageId: `sqs-${entry.Id}`,
          MD5OfMessageBody: createHash('md5').update(entry.MessageBody).digest('hex'),
        })),
        Failed: [],
      };
    }
    return {};
  };
}

/** A responder answer that is already JSON text (precomputed pages). */
export class RawJson {
  constructor(readonly json: string) {}
  toJSON(): unknown {
    return JSON.parse(this.json);
  }
}

export async function runFanOutBench(options: FanOutBenchOptions): Promise<FanOutBenchResult> {
  const settings = fanOutSettings({
    [ENV.tableName]: 'bench-table',
    [ENV.deliveryQueueUrl]: 'https://sqs.us-east-1.amazonaws.com/000000000000/webhook-deliveries',
    [ENV.rejectedEventsQueueUrl]: 'https://sqs.us-east-1.amazonaws.com/000000000000/webhook-ingest-dlq',
  });
  const sampleBytes = itemBytes(indexItem(newSubscriptionId()));
  const perPage = Math.floor(PAGE_BYTES / sampleBytes);
  const patterns = matchingPatterns(EVENT);
  const sizes: FanOutSizeResult[] = [];

  for (const n of options.sizes) {
    const now = Date.now();
    const ids = Array.from({ length: n }, (_, i) => newSubscriptionId(now + i)).sort();
    const partitions = new Map([[keys.fanOut(PROJECT, EVENT), queryPages(ids, perPage)]]);
    const aws = new StubAwsTransport(responder(partitions));
    // As functions/fan-out.ts builds them, with the stub transport.
    const db = DynamoDBDocumentClient.from(new DynamoDBClient(aws.clientConfig()));
    const sqs = new SQSClient(aws.clientConfig());
    const deps = { db, sqs, settings };
    let sequence = 0;
    const envelope = () => ({
      version: '0',
      id: `bench-event-${n}-${sequence++}`,
      'detail-type': EVENT,
      source: settings.eventSource,
      account: '000000000000',
      time: new Date().toISOString(),
      region: 'us-east-1',
      resources: [],
      detail: { id_project: PROJECT, payload: samplePayload(options.payloadBytes) },
    });

    // Warm-up (JIT, SDK lazy init), then one measured event for the exact call counts.
    await fanOut(envelope(), deps);
    aws.reset();
    const first = await fanOut(envelope(), deps);
    metrics.publishStoredMetrics();
    if (first.outcome !== 'enqueued') throw new Error(`fan-out rejected the bench event: ${first.reason}`);
    const awsCalls = Object.fromEntries(aws.counts);

    const repetitions = options.repetitions[String(n)] ?? 3;
    const cpu: number[] = [];
    const wall: number[] = [];
    for (let i = 0; i < repetitions; i++) {
      const event = envelope();
      const started = performance.now();
      const usage = process.cpuUsage();
      await fanOut(event, deps);
      // As the handler does after every event.
      metrics.publishStoredMetrics();
      cpu.push(cpuMsSince(usage));
      wall.push(performance.now() - started);
    }
    db.destroy();
    sqs.destroy();
    const cpuMsPerEvent = median(cpu);
    const dataPages = Math.max(1, Math.ceil(n / perPage));
    sizes.push({
      subscriptions: n,
      enqueued: first.enqueued,
      queryPages: first.queryPages,
      // One page per pattern (request.create, request.*, *); only the exact event's partition holds N.
      minQueryPages: dataPages + (patterns.length - 1),
      sendBatchCalls: first.sendBatchCalls,
      minSendBatchCalls: Math.ceil(n / LIMITS.sqsBatchEntries),
      awsCalls,
      cpuMsPerEvent: round(cpuMsPerEvent, 3),
      cpuMsPer1000Subscriptions: round((cpuMsPerEvent / n) * 1000, 1),
      wallMsPerEvent: round(median(wall), 2),
    });
  }
  return {
    event: EVENT,
    patternsQueried: patterns.length,
    indexItemBytes: sampleBytes,
    itemsPerQueryPage: perPage,
    sizes,
  };
}
