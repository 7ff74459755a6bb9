import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { LIMITS } from '../config/limits';
import type { ReplaySettings } from '../config/settings';
import { PING_EVENT } from '../delivery/test-ping';
import type { DeliveryAttempt } from '../model/delivery-log';
import type { DeliveryMessage } from '../model/delivery-message';
import type { Subscription } from '../model/subscription';
import { withoutStorageAttributes } from '../storage/items';
import { keys, TABLE } from '../storage/table';
import { getSubscription } from '../subscriptions/repository';
import { getPayload } from './payloads';

/**
 * Redelivery (`.../deliveries/{deliveryId}/retry`) and recovery (`.../recover`): a failed
 * delivery's stored message (payloads.ts) goes back on the delivery queue unchanged, so it
 * carries the same deliveryId, hence the same `webhook-id`, and a receiver that got it
 * after all can drop the duplicate. It starts a fresh set of attempts (a new SQS message
 * has receive count 1) and is signed with the subscription's current secret(s).
 *
 * Only deliveries that failed at least once can be replayed: a payload is kept from the
 * first failure until the delivery log's TTL, never for a first-attempt success.
 */

/** Delivery-log items `recover` reads at most per call (its Query pages); more sets `truncated`. */
export const MAX_RECOVER_LOG_ITEMS = 20_000;
/** Payload reads and sends in flight at once. */
const REPLAY_CONCURRENCY = 8;

export interface ReplayDeps {
  now?: () => number;
}

type SubscriptionCheck =
  | { kind: 'not-found' }
  /** A disabled subscription would skip the replay; it must be re-enabled first. */
  | { kind: 'disabled' }
  | { kind: 'active'; subscription: Subscription };

async function activeSubscription(
  db: DynamoDBDocumentClient,
  tableName: string,
  projectId: string,
  subscriptionId: string,
): Promise<SubscriptionCheck> {
  const subscription = await getSubscription(db, tableName, projectId, subscriptionId, { consistent: true });
  if (!subscription) return { kind: 'not-found' };
  if (subscription.status !== 'active') return { kind: 'disabled' };
  return { kind: 'active', subscription };
}

async function enqueue(sqs: SQSClient, queueUrl: string, message: DeliveryMessage): Promise<void> {
  await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(message) }));
}

export interface RetryInput {
  projectId: string;
  subscriptionId: string;
  deliveryId: string;
}

export type RetryResult =
  | { kind: 'queued'; deliveryId: string }
  | { kind: 'subscription-not-found' }
  /** No payload is kept for this delivery of this subscription (never failed, expired, or another's). */
  | { kind: 'delivery-not-found' }
  | { kind: 'disabled' };

export async function retryDelivery(
  db: DynamoDBDocumentClient,
  sqs: SQSClient,
  settings: ReplaySettings,
  input: RetryInput,
  deps: ReplayDeps = {},
): Promise<RetryResult> {
  const check = await activeSubscription(db, settings.tableName, input.projectId, input.subscriptionId);
  if (check.kind === 'not-found') return { kind: 'subscription-not-found' };
  if (check.kind === 'disabled') return { kind: 'disabled' };
  const stored = await getPayload(db, settings.tableName, input.deliveryId, (deps.now ?? Date.now)());
  if (
    !stored ||
    stored.projectId !== input.projectId ||
    stored.subscriptionId !== input.subscriptionId ||
    stored.message.deliveryId !== input.deliveryId
  ) {
    return { kind: 'delivery-not-found' };
  }
  await enqueue(sqs, settings.queueUrl, stored.message);
  return { kind: 'queued', deliveryId: input.deliveryId };
}

export interface RecoverInput {
  projectId: string;
  subscriptionId: string;
  /** ISO time (toISOString form): failures at or after it are re-queued. */
  since: string;
}

export type RecoverResult =
  | {
      kind: 'queued';
      queued: number;
      /** More failed deliveries may remain: the cap (LIMITS.maxRecoverDeliveries) or the read bound was hit. */
      truncated: boolean;
      /** When truncated: call again with this `since` to continue (a few deliveries may be queued twice). */
      nextSince?: string;
    }
  | { kind: 'not-found' }
  | { kind: 'disabled' };

interface DeliveryState {
  deliveryId: string;
  firstFailedAt: string;
  /** The newest attempt seen decides: a delivery whose newest attempt succeeded is not recovered. */
  failedLast: boolean;
}

/**
 * The deliveries of a subscription whose newest logged attempt since `since` failed
 * (outcome failed or dead-lettered), oldest first failure first, read from the log's
 * per-subscription index. At most `maxLogItems` items are read.
 */
export async function failedDeliveriesSince(
  db: DynamoDBDocumentClient,
  tableName: string,
  projectId: string,
  subscriptionId: string,
  since: string,
  maxLogItems: number = MAX_RECOVER_LOG_ITEMS,
): Promise<{ failed: DeliveryState[]; complete: boolean; lastReadAt: string | undefined }> {
  const index = TABLE.deliveryIndex;
  const states = new Map<string, DeliveryState>();
  let read = 0;
  let lastReadAt: string | undefined;
  let start: Record<string, unknown> | undefined;
  do {
    const output = await db.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: index.name,
        // Log sort keys start with the attempt's ISO time, so `>= since` is "attempted since".
        KeyConditionExpression: '#pk = :pk AND #sk >= :since',
        ExpressionAttributeNames: { '#pk': index.partitionKey, '#sk': index.sortKey },
        ExpressionAttributeValues: { ':pk': keys.subscriptionLog(subscriptionId), ':since': since },
        ScanIndexForward: true,
        Limit: Math.min(1000, maxLogItems - read),
        ExclusiveStartKey: start,
      }),
    );
    start = output.LastEvaluatedKey;
    for (const item of output.Items ?? []) {
      read++;
      const attempt = withoutStorageAttributes<DeliveryAttempt>(item);
      lastReadAt = attempt.attemptedAt;
      // Subscription ids are unique across projects (a second lock on the door); pings are tests, never replayed.
      if (attempt.id_project !== projectId || attempt.event === PING_EVENT) continue;
      const failed = attempt.outcome === 'failed' || attempt.outcome === 'dead-lettered';
      const state = states.get(attempt.deliveryId);
      if (state) {
        if (failed || attempt.outcome === 'delivered') state.failedLast = failed;
      } else if (failed) {
        states.set(attempt.deliveryId, {
          deliveryId: attempt.deliveryId,
          firstFailedAt: attempt.attemptedAt,
          failedLast: true,
        });
      }
    }
  } while (start && read < maxLogItems);
  return {
    failed: [...states.values()].filter((state) => state.failedLast),
    complete: start === undefined,
    lastReadAt,
  };
}

/** Runs `work` over `items` with at most `concurrency` in flight; rethrows the first failure after all settle. */
async function forEachBounded<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let firstError: unknown;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      try {
        await work(item);
      } catch (error) {
        firstError ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  if (firstError !== undefined) throw firstError;
}

/**
 * Re-queues every delivery of the subscription that failed since `since` and has not been
 * delivered since, at most LIMITS.maxRecoverDeliveries per call. Deliveries whose payload is
 * no longer kept are passed over (not counted).
 */
export async function recoverDeliveries(
  db: DynamoDBDocumentClient,
  sqs: SQSClient,
  settings: ReplaySettings,
  input: RecoverInput,
  deps: ReplayDeps & { maxDeliveries?: number; maxLogItems?: number } = {},
): Promise<RecoverResult> {
  const check = await activeSubscription(db, settings.tableName, input.projectId, input.subscriptionId);
  if (check.kind !== 'active') return { kind: check.kind };
  const cap = deps.maxDeliveries ?? LIMITS.maxRecoverDeliveries;
  const found = await failedDeliveriesSince(
    db,
    settings.tableName,
    input.projectId,
    input.subscriptionId,
    input.since,
    deps.maxLogItems,
  );
  const chosen = found.failed.slice(0, cap);
  const beyondCap = found.failed[cap];
  const now = (deps.now ?? Date.now)();
  let queued = 0;
  await forEachBounded(chosen, REPLAY_CONCURRENCY, async (state) => {
    const stored = await getPayload(db, settings.tableName, state.deliveryId, now);
    if (!stored || stored.projectId !== input.projectId || stored.subscriptionId !== input.subscriptionId) {
      return;
    }
    await enqueue(sqs, settings.queueUrl, stored.message);
    queued++;
  });
  const truncated = beyondCap !== undefined || !found.complete;
  const nextSince = beyondCap?.firstFailedAt ?? (found.complete ? undefined : found.lastReadAt);
  return { kind: 'queued', queued, truncated, ...(truncated && nextSince ? { nextSince } : {}) };
}
