import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { $ZodError } from 'zod/v4/core';
import { LIMITS } from '../config/limits';
import type { FanOutSettings } from '../config/settings';
import { isCatalogEvent, matchingPatterns } from '../events/catalog';
import { deliveryIdFor } from '../ids';
import { busEventDetailSchema, busEventEnvelopeSchema } from '../model/bus-event';
import type { DeliveryMessage } from '../model/delivery-message';
import { logger, METRIC, metrics } from '../observability';
import { keys, TABLE } from '../storage/table';
import { BatchBuilder, BatchSender } from './batches';

/**
 * Fan-out: one EventBridge event in, one SQS delivery message per matching active
 * subscription out (DESIGN §2.2-2.3). Query pages stream into SendMessageBatch calls
 * with bounded concurrency, so a 10,000-subscription event neither waits for every
 * page first nor holds every message in memory.
 */

export interface FanOutDeps {
  db: DynamoDBDocumentClient;
  sqs: SQSClient;
  settings: FanOutSettings;
  /** Injectable for tests (backoff between retries of failed batch entries). */
  sleep?: (ms: number) => Promise<void>;
}

export type RejectReason = 'bad-envelope' | 'wrong-source' | 'unknown-event' | 'bad-detail' | 'bad-time';

export interface FanOutSummary {
  outcome: 'enqueued';
  eventId: string;
  event: string;
  projectId: string;
  /** Distinct matching subscriptions. */
  matched: number;
  enqueued: number;
  queryPages: number;
  /** SendMessageBatch calls, retries of failed entries included. */
  sendBatchCalls: number;
}

export interface FanOutRejection {
  outcome: 'rejected';
  reason: RejectReason;
  errors: string[];
}

export type FanOutResult = FanOutSummary | FanOutRejection;

/** The body of a message on the rejected-events queue. */
export interface RejectedEventMessage {
  reason: RejectReason;
  errors: string[];
  /** The event as received, with a `detail.token` redacted (it may be a JWT). */
  event: unknown;
}

/** Retries of the entries SendMessageBatch reports in `Failed`, with 100, 200, 400 ms backoff. */
const MAX_ENTRY_RETRIES = 3;
const ENTRY_RETRY_BASE_DELAY_MS = 100;
/** A rejected event is kept whole up to this size; larger ones are cut so the SQS message fits. */
const MAX_REJECTED_EVENT_BYTES = 200 * 1024;

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function issues(error: $ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
}

export async function fanOut(envelope: unknown, deps: FanOutDeps): Promise<FanOutResult> {
  // One event per invocation: the correlation keys are this event's only.
  logger.resetKeys();
  const parsedEnvelope = busEventEnvelopeSchema.safeParse(envelope);
  if (!parsedEnvelope.success) {
    return reject(deps, envelope, 'bad-envelope', issues(parsedEnvelope.error));
  }
  const bus = parsedEnvelope.data;
  const event = bus['detail-type'];
  if (bus.source !== deps.settings.eventSource) {
    return reject(deps, envelope, 'wrong-source', [
      `source must be "${deps.settings.eventSource}", got "${bus.source}"`,
    ]);
  }
  if (!isCatalogEvent(event)) {
    return reject(deps, envelope, 'unknown-event', [`detail-type "${event}" is not a catalog event`]);
  }
  const parsedDetail = busEventDetailSchema.safeParse(bus.detail);
  if (!parsedDetail.success) {
    return reject(deps, envelope, 'bad-detail', issues(parsedDetail.error));
  }
  const timestamp = Date.parse(bus.time);
  if (!Number.isFinite(timestamp) || timestamp < 0) {
    return reject(deps, envelope, 'bad-time', [`time "${bus.time}" is not an ISO 8601 date`]);
  }
  const detail = parsedDetail.data;
  const eventId = detail.id ?? bus.id;
  const projectId = detail.id_project;
  logger.appendKeys({ eventId, projectId });

  const messageBody = deliveryMessageBodies(detail.payload, detail.token);
  const builder = new BatchBuilder();
  const sender = new BatchSender(deps.sqs, {
    queueUrl: deps.settings.queueUrl,
    concurrency: LIMITS.fanOutSendConcurrency,
    maxEntryRetries: MAX_ENTRY_RETRIES,
    baseDelayMs: ENTRY_RETRY_BASE_DELAY_MS,
    sleep: deps.sleep ?? defaultSleep,
  });
  // The same subscription cannot carry two patterns, but a retried page or a changed
  // subscription seen under two patterns must still get one message.
  const seen = new Set<string>();
  let queryPages = 0;

  try {
    for (const pattern of matchingPatterns(event)) {
      for await (const ids of subscriptionIdPages(deps, projectId, pattern)) {
        queryPages++;
        for (const subscriptionId of ids) {
          if (seen.has(subscriptionId)) continue;
          seen.add(subscriptionId);
          const deliveryId = deliveryIdFor(eventId, subscriptionId);
          const body = messageBody({
            v: 1,
            deliveryId,
            eventId,
            subscriptionId,
            projectId,
            event,
            timestamp,
          });
          for (const batch of builder.add({ id: deliveryId, body })) {
            await sender.submit(batch);
          }
        }
      }
    }
    const last = builder.flush();
    if (last) await sender.submit(last);
    await sender.drain();
  } catch (error) {
    logger.error('fan-out failed; the invocation will be retried', {
      event,
      matchedSoFar: seen.size,
      enqueuedSoFar: sender.enqueued,
      error,
    });
    // Let in-flight sends settle before failing, so nothing runs after the invocation ends.
    await sender.drain().catch(() => undefined);
    throw error;
  }

  metrics.addMetric(METRIC.fanOutSize, MetricUnit.Count, seen.size);
  const summary: FanOutSummary = {
    outcome: 'enqueued',
    eventId,
    event,
    projectId,
    matched: seen.size,
    enqueued: sender.enqueued,
    queryPages,
    sendBatchCalls: sender.calls,
  };
  logger.info('event fanned out', { ...summary });
  return summary;
}

/** A delivery message without the event's payload and token, which are the same in every message. */
export type DeliveryMessageHead = Omit<DeliveryMessage, 'payload' | 'token'>;

/**
 * The SQS bodies of one event's messages: exactly JSON.stringify(message), but the payload
 * (up to 256 KB) and token are serialised once per event instead of once per subscription.
 */
export function deliveryMessageBodies(
  payload: unknown,
  token: string | undefined,
): (head: DeliveryMessageHead) => string {
  const tail = `,"payload":${JSON.stringify(payload)}${token !== undefined ? `,"token":${JSON.stringify(token)}` : ''}}`;
  return (head) => `${JSON.stringify(head).slice(0, -1)}${tail}`;
}

/** Subscription ids of one fan-out index partition, one array per Query page, every page. */
async function* subscriptionIdPages(
  deps: FanOutDeps,
  projectId: string,
  pattern: string,
): AsyncGenerator<string[]> {
  let startKey: Record<string, unknown> | undefined;
  do {
    const result = await deps.db.send(
      new QueryCommand({
        TableName: deps.settings.tableName,
        IndexName: TABLE.fanOutIndex.name,
        KeyConditionExpression: '#pk = :pk',
        ProjectionExpression: '#sk',
        ExpressionAttributeNames: { '#pk': TABLE.fanOutIndex.partitionKey, '#sk': TABLE.fanOutIndex.sortKey },
        ExpressionAttributeValues: { ':pk': keys.fanOut(projectId, pattern) },
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      }),
    );
    const ids: string[] = [];
    for (const item of result.Items ?? []) {
      const sortKey = item[TABLE.fanOutIndex.sortKey];
      if (typeof sortKey === 'string' && sortKey.startsWith(keys.subscriptionPrefix)) {
        ids.push(sortKey.slice(keys.subscriptionPrefix.length));
      }
    }
    yield ids;
    startKey = result.LastEvaluatedKey;
  } while (startKey);
}

/** Removes a `detail.token` (possibly a JWT) from an event kept for operators. */
function redacted(envelope: unknown): unknown {
  if (typeof envelope !== 'object' || envelope === null || Array.isArray(envelope)) return envelope;
  const outer = envelope as Record<string, unknown>;
  const detail = outer.detail;
  if (typeof detail !== 'object' || detail === null || Array.isArray(detail) || !('token' in detail)) {
    return envelope;
  }
  return { ...outer, detail: { ...detail, token: '[redacted]' } };
}

/**
 * An event that can never be fanned out goes to the rejected-events queue with the reason,
 * and is counted; the invocation then succeeds, because a retry cannot fix it. If even that
 * send fails the error propagates, so the event reaches the rule's DLQ or on-failure destination.
 */
async function reject(
  deps: FanOutDeps,
  envelope: unknown,
  reason: RejectReason,
  errors: string[],
): Promise<FanOutRejection> {
  const message: RejectedEventMessage = { reason, errors, event: redacted(envelope) };
  let body = JSON.stringify(message) ?? '{}';
  if (Buffer.byteLength(body, 'utf8') > MAX_REJECTED_EVENT_BYTES) {
    const whole = JSON.stringify(message.event) ?? '';
    body = JSON.stringify({
      reason,
      errors,
      event: { truncated: true, preview: whole.slice(0, MAX_REJECTED_EVENT_BYTES / 4) },
    });
  }
  await deps.sqs.send(
    new SendMessageCommand({ QueueUrl: deps.settings.rejectedEventsQueueUrl, MessageBody: body }),
  );
  metrics.addMetric(METRIC.rejectedEvents, MetricUnit.Count, 1);
  logger.warn('event rejected', { reason, errors, eventId: envelopeId(envelope) });
  return { outcome: 'rejected', reason, errors };
}

function envelopeId(envelope: unknown): string | undefined {
  if (typeof envelope !== 'object' || envelope === null) return undefined;
  const id = (envelope as Record<string, unknown>).id;
  return typeof id === 'string' ? id : undefined;
}
