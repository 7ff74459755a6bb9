import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { ChangeMessageVisibilityCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { attemptsFor, nextDelaySeconds } from '../config/retry-schedule';
import type { DeliverySettings } from '../config/settings';
import { DeliveryLogBuffer } from '../delivery-log/batch';
import { maskTargetCredentials, writeDeliveryAttempt } from '../delivery-log/writer';
import { patternMatches } from '../events/catalog';
import type { DeliveryAttempt, DeliveryOutcome } from '../model/delivery-log';
import { type DeliveryMessage, deliveryMessageSchema } from '../model/delivery-message';
import type { Subscription } from '../model/subscription';
import { logger, METRIC, metrics } from '../observability';
import {
  OPERATIONAL_EVENT,
  type OperationalEventInput,
  publishOperationalEvent,
} from '../operations/operational-events';
import { storePayloadOnce } from '../replay/payloads';
import { keys, TABLE } from '../storage/table';
import { deleteSubscription, getSubscription, isConditionalCheckFailed } from '../subscriptions/repository';
import { type Agents, type HttpAttemptResult, postWebhook } from './http-attempt';
import { type RecordLog, recordLog } from './record-log';
import type { SubscriptionCache } from './subscription-cache';
import type { AddressJudge, Resolver } from './target-guard';
import { buildWebhookRequest } from './webhook-request';

/**
 * The delivery function's domain: one SQS record = one signed POST of one webhook.
 *
 * - 2xx: delivered. 410: the subscription is removed (RESTHooks). Anything else, a timeout,
 *   a network error or a refused target: the record is a batch item failure, and its next
 *   attempt is scheduled by setting the message's visibility from the retry schedule.
 * - The attempt number is SQS's ApproximateReceiveCount.
 * - Dead-lettering: SQS moves a message to the DLQ when a receive would EXCEED the redrive
 *   policy's maxReceiveCount = attemptsFor(schedule) + REDRIVE_MARGIN_RECEIVES. The margin is
 *   there for receives that end without an attempt (throttled or crashed invocations), so a
 *   throttle cannot cost a real attempt. Consequently, after the last real attempt
 *   (receive count == attemptsFor) the message is released with visibility 0 and, on each
 *   further receive (count > attemptsFor), it is failed again at once with visibility 0 and
 *   WITHOUT a POST, until SQS redrives it: the receiver gets exactly attemptsFor attempts and
 *   the message reaches the DLQ within seconds of its last attempt.
 */

export interface DeliveryDeps {
  db: DynamoDBDocumentClient;
  sqs: SQSClient;
  settings: DeliverySettings;
  cache: SubscriptionCache;
  now?: () => number;
  /** Jitter source of the retry schedule. */
  random?: () => number;
  resolver?: Resolver;
  judge?: AddressJudge;
  agents?: Agents;
  /** Set by deliverBatch: the batch's log items, written together after its POSTs. */
  deliveryLog?: DeliveryLogBuffer;
  /** Puts the operational events (disabled, removed, dead-lettered) on settings.eventBusName. */
  eventBridge?: EventBridgeClient;
  /**
   * Keep the payload of a failed delivery for replay (functions/core/replay/payloads.ts): on
   * its first attempt's failure and again, as a fallback, when it is dead-lettered.
   */
  keepFailedPayloads?: boolean;
}

/** What happened to one record; `malformed` and `released` never reach the delivery log. */
export type RecordOutcome = DeliveryOutcome | 'malformed' | 'released';

export interface RecordResult {
  outcome: RecordOutcome;
  /** Report the record as a batch item failure (SQS keeps it for another receive). */
  retry: boolean;
}

export async function deliverBatch(
  records: readonly SQSRecord[],
  deps: DeliveryDeps,
): Promise<SQSBatchResponse> {
  // The batch's log items are written together once its POSTs are done (delivery-log/batch.ts).
  const deliveryLog = new DeliveryLogBuffer(deps.settings);
  const batchDeps: DeliveryDeps = { ...deps, deliveryLog };
  const results = await Promise.all(records.map((record) => deliverRecordSafely(record, batchDeps)));
  await deliveryLog.flush(deps.db, (error, attempts) => {
    for (const attempt of attempts) {
      logger.error('could not write the delivery log item', {
        error,
        deliveryId: attempt.deliveryId,
        subscriptionId: attempt.subscriptionId,
        target: maskTargetCredentials(attempt.target),
      });
    }
  });
  const counts = new Map<RecordOutcome, number>();
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  records.forEach((record, index) => {
    const result = results[index];
    if (!result) return;
    counts.set(result.outcome, (counts.get(result.outcome) ?? 0) + 1);
    if (result.retry) batchItemFailures.push({ itemIdentifier: record.messageId });
  });
  const single = outcomeMetrics();
  for (const [outcome, count] of counts) {
    single.addDimension('outcome', outcome);
    // A single-metric instance publishes at once and then clears the outcome dimension.
    single.addMetric(METRIC.deliveries, MetricUnit.Count, count);
  }
  return { batchItemFailures };
}

let outcomeMetricsInstance: Metrics | undefined;

/**
 * The Deliveries-by-outcome emitter, made once per container: `metrics.singleMetric()` builds
 * a whole Metrics (and a Console) per call, which the benchmark showed per batch.
 */
function outcomeMetrics(): Metrics {
  outcomeMetricsInstance ??= metrics.singleMetric();
  return outcomeMetricsInstance;
}

async function deliverRecordSafely(record: SQSRecord, deps: DeliveryDeps): Promise<RecordResult> {
  try {
    return await deliverRecord(record, deps);
  } catch (error) {
    // Unexpected (e.g. DynamoDB down while reading the subscription): SQS redelivers it
    // after the queue's visibility timeout.
    logger.error('delivery failed unexpectedly; the message will be received again', {
      messageId: record.messageId,
      error,
    });
    return { outcome: 'failed', retry: true };
  }
}

function parseMessage(body: string): { message: DeliveryMessage } | { errors: string[] } {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { errors: ['body is not JSON'] };
  }
  const parsed = deliveryMessageSchema.safeParse(json);
  if (parsed.success) return { message: parsed.data };
  return {
    errors: parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`),
  };
}

function receiveCount(record: SQSRecord): number {
  const count = Number(record.attributes.ApproximateReceiveCount);
  return Number.isInteger(count) && count >= 1 ? count : 1;
}

export async function deliverRecord(record: SQSRecord, deps: DeliveryDeps): Promise<RecordResult> {
  const parsed = parseMessage(record.body);
  if (!('message' in parsed)) {
    // It can never succeed, so it is not retried; the metric (outcome=malformed) and this line show it.
    logger.error('malformed delivery message dropped', {
      messageId: record.messageId,
      errors: parsed.errors,
    });
    return { outcome: 'malformed', retry: false };
  }
  const message = parsed.message;
  const log = recordLog(logger, {
    eventId: message.eventId,
    deliveryId: message.deliveryId,
    subscriptionId: message.subscriptionId,
    projectId: message.projectId,
  });
  const attempt = receiveCount(record);
  const schedule = deps.settings.retrySchedule;
  const maxAttempts = attemptsFor(schedule);

  if (attempt > maxAttempts) {
    await changeVisibility(deps, record, 0, log);
    log.warn('attempts exhausted; released for the redrive to the DLQ', { attempt, maxAttempts });
    return { outcome: 'released', retry: true };
  }

  const now = (deps.now ?? Date.now)();
  const attemptedAt = new Date(now).toISOString();
  const base = {
    deliveryId: message.deliveryId,
    eventId: message.eventId,
    subscriptionId: message.subscriptionId,
    id_project: message.projectId,
    event: message.event,
    attempt,
    attemptedAt,
  };

  const load = () => loadSubscription(deps, message.projectId, message.subscriptionId);
  let subscription = await deps.cache.get(message.projectId, message.subscriptionId, load);
  if (subscription && skipReasonFor(subscription, message) !== undefined) {
    // A skip drops the delivery, so it is never decided on a cached copy: the subscription
    // may have been re-enabled (or its event changed back) since it was cached.
    deps.cache.delete(message.projectId, message.subscriptionId);
    subscription = await deps.cache.get(message.projectId, message.subscriptionId, () =>
      getSubscription(deps.db, deps.settings.tableName, message.projectId, message.subscriptionId, {
        consistent: true,
      }),
    );
  }
  const skipReason = !subscription ? 'subscription deleted' : skipReasonFor(subscription, message);
  if (!subscription || skipReason !== undefined) {
    log.info('delivery skipped', { reason: skipReason, attempt });
    await recordAttempt(deps, log, {
      ...base,
      target: subscription?.target ?? '',
      outcome: 'skipped',
      durationMs: 0,
      error: skipReason,
    });
    return { outcome: 'skipped', retry: false };
  }

  const request = buildWebhookRequest(subscription, message, { userAgent: deps.settings.userAgent, now });
  const result = await postWebhook(subscription.target, request, {
    timeoutMs: deps.settings.attemptTimeoutMs,
    targets: deps.settings.targets,
    resolver: deps.resolver,
    judge: deps.judge,
    agents: deps.agents,
  });
  metrics.addMetric(METRIC.deliveryLatency, MetricUnit.Milliseconds, result.durationMs);
  const secrets = secretValues(subscription);
  const answered = result.kind === 'response' ? result : undefined;
  const observed = {
    ...base,
    target: subscription.target,
    durationMs: result.durationMs,
    ...(answered ? { statusCode: answered.statusCode } : {}),
    ...(answered && answered.body !== '' ? { responseBody: scrub(answered.body, secrets) } : {}),
  };
  const logged = { attempt, statusCode: answered?.statusCode, durationMs: result.durationMs };

  if (answered && answered.statusCode >= 200 && answered.statusCode < 300) {
    await noteSuccess(deps, subscription, now, log);
    // DEBUG, not INFO: the delivery log item is the record of a success, and a JSON line per
    // success was a sixth of the delivery CPU (docs/performance.md). Failures stay at INFO/WARN.
    log.debug('webhook delivered', logged);
    await recordAttempt(deps, log, { ...observed, outcome: 'delivered' });
    return { outcome: 'delivered', retry: false };
  }

  if (answered?.statusCode === 410) {
    try {
      await deleteSubscription(deps.db, deps.settings.tableName, message.projectId, message.subscriptionId);
      deps.cache.delete(message.projectId, message.subscriptionId);
      metrics.addMetric(METRIC.subscriptionsGone, MetricUnit.Count, 1);
      log.info('receiver answered 410 Gone; subscription removed', logged);
      await recordAttempt(deps, log, {
        ...observed,
        outcome: 'gone',
        error: 'subscription removed (410 Gone)',
      });
      await announce(deps, log, {
        type: OPERATIONAL_EVENT.subscriptionRemoved,
        subscription,
        reason: 'the receiver answered 410 Gone',
        deliveryId: message.deliveryId,
        event: message.event,
      });
      return { outcome: 'gone', retry: false };
    } catch (error) {
      // Not removed: retry, and the next 410 removes it.
      log.error('could not remove the subscription after 410 Gone', { error });
      return fail(
        deps,
        record,
        message,
        log,
        subscription,
        now,
        observed,
        result,
        'could not remove subscription after 410',
      );
    }
  }

  return fail(deps, record, message, log, subscription, now, observed, result);
}

/** Why a subscription that exists must not get this message, or undefined when it must. */
function skipReasonFor(subscription: Subscription, message: DeliveryMessage): string | undefined {
  if (subscription.status !== 'active') return `subscription ${subscription.status}`;
  if (!patternMatches(subscription.event, message.event))
    return `subscription now listens to ${subscription.event}`;
  return undefined;
}

async function fail(
  deps: DeliveryDeps,
  record: SQSRecord,
  message: DeliveryMessage,
  log: RecordLog,
  subscription: Subscription,
  now: number,
  observed: Omit<DeliveryAttempt, 'outcome'>,
  result: HttpAttemptResult,
  extraError?: string,
): Promise<RecordResult> {
  const schedule = deps.settings.retrySchedule;
  const last = observed.attempt >= attemptsFor(schedule);
  const retryAfterSeconds =
    result.kind === 'response' && (result.statusCode === 429 || result.statusCode === 503)
      ? parseRetryAfter(result.retryAfter, now)
      : undefined;
  // After the last attempt: visible again at once, so the extra receives before redrive are quick.
  const delaySeconds = last
    ? 0
    : nextDelaySeconds(schedule, observed.attempt, { retryAfterSeconds, random: deps.random ?? Math.random });
  await changeVisibility(deps, record, delaySeconds, log);
  // The first failure keeps the payload for replay; the last one retries that write in case it failed.
  if (observed.attempt === 1 || last) await keepPayload(deps, message, now, log);

  const disabledReason = await noteFailure(deps, subscription, now, log);
  const errors = [
    result.kind === 'error' ? result.error : `HTTP ${result.statusCode}`,
    ...(extraError ? [extraError] : []),
    ...(disabledReason ? [`subscription disabled: ${disabledReason}`] : []),
  ];
  const outcome: DeliveryOutcome = last ? 'dead-lettered' : 'failed';
  if (last) {
    metrics.addMetric(METRIC.deadLettered, MetricUnit.Count, 1);
    log.warn('last attempt failed; the message goes to the DLQ', {
      attempt: observed.attempt,
      statusCode: observed.statusCode,
      error: errors.join('; '),
    });
  } else {
    log.info('attempt failed; retry scheduled', {
      attempt: observed.attempt,
      statusCode: observed.statusCode,
      error: errors.join('; '),
      nextAttemptInSeconds: delaySeconds,
    });
  }
  await recordAttempt(deps, log, {
    ...observed,
    outcome,
    error: errors.join('; '),
    ...(last ? {} : { nextAttemptAt: new Date(now + delaySeconds * 1000).toISOString() }),
  });
  const about = { deliveryId: message.deliveryId, event: message.event };
  if (disabledReason) {
    await announce(deps, log, {
      type: OPERATIONAL_EVENT.subscriptionDisabled,
      subscription: {
        ...subscription,
        status: 'disabled',
        disabledReason,
        updatedAt: new Date(now).toISOString(),
      },
      reason: disabledReason,
      ...about,
    });
  }
  if (last) {
    await announce(deps, log, {
      type: OPERATIONAL_EVENT.deliveryDeadLettered,
      subscription,
      reason: errors.join('; '),
      ...about,
    });
  }
  return { outcome, retry: true };
}

/** Operational events are best effort: publishOperationalEvent logs and counts its own failures. */
async function announce(deps: DeliveryDeps, log: RecordLog, input: OperationalEventInput): Promise<void> {
  await publishOperationalEvent(
    { client: deps.eventBridge, busName: deps.settings.eventBusName },
    input,
    log,
  );
}

/** A failed payload write costs replayability, never the delivery: it is logged and counted. */
async function keepPayload(
  deps: DeliveryDeps,
  message: DeliveryMessage,
  now: number,
  log: RecordLog,
): Promise<void> {
  if (!deps.keepFailedPayloads) return;
  try {
    await storePayloadOnce(deps.db, deps.settings, message, now);
  } catch (error) {
    metrics.addMetric(METRIC.payloadStoreFailures, MetricUnit.Count, 1);
    log.error('could not keep the payload for replay', { error });
  }
}

/** Retry-After as delta-seconds or an HTTP date, in seconds from now; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

async function changeVisibility(
  deps: DeliveryDeps,
  record: SQSRecord,
  seconds: number,
  log: RecordLog,
): Promise<void> {
  try {
    await deps.sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: deps.settings.queueUrl,
        ReceiptHandle: record.receiptHandle,
        VisibilityTimeout: seconds,
      }),
    );
  } catch (error) {
    // The message still comes back, after the queue's own visibility timeout.
    log.error('could not schedule the next attempt', { error, visibilityTimeout: seconds });
  }
}

/** A miss is read again consistently: a subscription created moments ago must not be skipped. */
async function loadSubscription(
  deps: DeliveryDeps,
  projectId: string,
  subscriptionId: string,
): Promise<Subscription | undefined> {
  const { db, settings } = deps;
  return (
    (await getSubscription(db, settings.tableName, projectId, subscriptionId)) ??
    (await getSubscription(db, settings.tableName, projectId, subscriptionId, { consistent: true }))
  );
}

function subscriptionKey(subscription: Subscription) {
  return {
    [TABLE.partitionKey]: keys.project(subscription.id_project),
    [TABLE.sortKey]: keys.subscriptionSk(subscription._id),
  };
}

/**
 * A success ends a run of failures. Without one in progress (the cached subscription has no
 * failingSince) nothing is written, so a success costs one write: its log item. A cache up to
 * `subscriptionCacheTtlMs` old can miss a failingSince set moments ago by another container;
 * the next success after the cache refreshes clears it.
 */
async function noteSuccess(
  deps: DeliveryDeps,
  subscription: Subscription,
  now: number,
  log: RecordLog,
): Promise<void> {
  if (!subscription.failingSince) return;
  const lastSuccessAt = new Date(now).toISOString();
  try {
    await deps.db.send(
      new UpdateCommand({
        TableName: deps.settings.tableName,
        Key: subscriptionKey(subscription),
        UpdateExpression: 'SET lastSuccessAt = :now REMOVE failingSince',
        ConditionExpression: `attribute_exists(${TABLE.partitionKey})`,
        ExpressionAttributeValues: { ':now': lastSuccessAt },
      }),
    );
    const { failingSince: _cleared, ...rest } = subscription;
    deps.cache.set({ ...rest, lastSuccessAt });
  } catch (error) {
    deps.cache.delete(subscription.id_project, subscription._id);
    if (!isConditionalCheckFailed(error)) log.error('could not clear failingSince', { error });
  }
}

/**
 * Auto-disable (Svix-like): the first failure after a success stamps failingSince; a failure
 * more than `disableAfterMs` after it disables the subscription and takes it out of the
 * fan-out index. Returns the reason when this call disabled it.
 */
async function noteFailure(
  deps: DeliveryDeps,
  subscription: Subscription,
  now: number,
  log: RecordLog,
): Promise<string | undefined> {
  const nowIso = new Date(now).toISOString();
  const table = deps.settings.tableName;
  try {
    if (!subscription.failingSince) {
      await deps.db.send(
        new UpdateCommand({
          TableName: table,
          Key: subscriptionKey(subscription),
          UpdateExpression: 'SET failingSince = :now',
          ConditionExpression: `attribute_exists(${TABLE.partitionKey}) AND attribute_not_exists(failingSince)`,
          ExpressionAttributeValues: { ':now': nowIso },
        }),
      );
      deps.cache.set({ ...subscription, failingSince: nowIso });
      return undefined;
    }
    const since = Date.parse(subscription.failingSince);
    if (!Number.isFinite(since) || now - since < deps.settings.disableAfterMs) return undefined;
    const reason = `deliveries failed without success since ${subscription.failingSince}`;
    await deps.db.send(
      new UpdateCommand({
        TableName: table,
        Key: subscriptionKey(subscription),
        UpdateExpression:
          'SET #status = :disabled, disabledReason = :reason, updatedAt = :now REMOVE #gsiPk, #gsiSk',
        // Only the run of failures this container saw: a success or an edit elsewhere wins.
        ConditionExpression: '#status = :active AND failingSince = :since',
        ExpressionAttributeNames: {
          '#status': 'status',
          '#gsiPk': TABLE.fanOutIndex.partitionKey,
          '#gsiSk': TABLE.fanOutIndex.sortKey,
        },
        ExpressionAttributeValues: {
          ':disabled': 'disabled',
          ':active': 'active',
          ':reason': reason,
          ':now': nowIso,
          ':since': subscription.failingSince,
        },
      }),
    );
    deps.cache.set({ ...subscription, status: 'disabled', disabledReason: reason, updatedAt: nowIso });
    metrics.addMetric(METRIC.subscriptionsDisabled, MetricUnit.Count, 1);
    log.warn('subscription disabled', { reason });
    return reason;
  } catch (error) {
    // Someone else changed it first (condition failed): read it afresh next time.
    deps.cache.delete(subscription.id_project, subscription._id);
    if (!isConditionalCheckFailed(error))
      log.error('could not record the failure on the subscription', { error });
    return undefined;
  }
}

/** The log is observability: a failed write is reported, never turned into a re-delivery. */
async function recordAttempt(deps: DeliveryDeps, log: RecordLog, attempt: DeliveryAttempt): Promise<void> {
  if (deps.deliveryLog) {
    deps.deliveryLog.add(attempt);
    return;
  }
  try {
    await writeDeliveryAttempt(deps.db, deps.settings, attempt);
  } catch (error) {
    log.error('could not write the delivery log item', {
      error,
      target: maskTargetCredentials(attempt.target),
    });
  }
}

/** Every value that authenticates to the receiver: secrets and URL credentials. */
function secretValues(subscription: Subscription): string[] {
  const values = [subscription.secret, subscription.previousSecret];
  for (const secret of [subscription.secret, subscription.previousSecret]) {
    if (secret?.startsWith('whsec_')) values.push(secret.slice('whsec_'.length));
  }
  // A password needs an `@` in the authority; most targets have none and skip the URL parse.
  if (!subscription.target.includes('@')) return values.filter(isLongEnough);
  try {
    const url = new URL(subscription.target);
    if (url.password !== '') {
      const user = decodeURIComponent(url.username);
      const password = decodeURIComponent(url.password);
      values.push(password, Buffer.from(`${user}:${password}`).toString('base64'));
    }
  } catch {
    // An unparsable target was refused before any request.
  }
  return values.filter(isLongEnough);
}

function isLongEnough(value: string | undefined): value is string {
  return typeof value === 'string' && value.length >= 4;
}

/** A receiver that echoes the request would hand the secret back; it is never stored. */
function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join('[redacted]');
  return out;
}
