import { randomUUID } from 'node:crypto';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AttemptSettings } from '../config/settings';
import { writeDeliveryAttempt } from '../delivery-log/writer';
import { deliveryIdFor } from '../ids';
import type { DeliveryAttempt } from '../model/delivery-log';
import type { DeliveryMessage } from '../model/delivery-message';
import { logger } from '../observability';
import { getSubscription } from '../subscriptions/repository';
import { type Agents, postWebhook } from './http-attempt';
import type { AddressJudge, Resolver } from './target-guard';
import { buildWebhookRequest } from './webhook-request';

/**
 * The test ping (`POST .../{id}/test`): one signed webhook of event `ping`, sent now, with
 * the same body shape, headers, SSRF guard and attempt timeout as a real delivery, and
 * logged in the delivery log as event `ping`.
 *
 * What it deliberately does not do, unlike a real delivery:
 * - no retry and no queue: the caller gets the outcome in the answer;
 * - it works on a DISABLED subscription too, so an integrator can check a fixed endpoint
 *   before re-enabling it;
 * - it never changes the subscription: no failure run (auto-disable), no success reset,
 *   and a 410 answer does not unsubscribe (it is reported as `ok: false, status: 410`).
 */
export const PING_EVENT = 'ping';

export interface PingResult {
  ok: boolean;
  /** The receiver's HTTP status; null when no response came (refused target, timeout, network). */
  status: number | null;
  durationMs: number;
  /** Why it is not ok; null when ok. */
  error: string | null;
  /** The `webhook-id` the ping carried (also its id in the delivery log). */
  deliveryId: string;
}

export type PingOutcome = { kind: 'not-found' } | { kind: 'sent'; result: PingResult };

export interface PingDeps {
  now?: () => number;
  newEventId?: () => string;
  resolver?: Resolver;
  judge?: AddressJudge;
  agents?: Agents;
}

export function pingPayload(subscriptionId: string): Record<string, unknown> {
  return {
    event: PING_EVENT,
    message: 'A test webhook: this endpoint is subscribed and its signature can be verified.',
    subscriptionId,
  };
}

export async function pingSubscription(
  db: DynamoDBDocumentClient,
  settings: AttemptSettings,
  projectId: string,
  subscriptionId: string,
  deps: PingDeps = {},
): Promise<PingOutcome> {
  // Consistent: a secret rotated a moment ago must sign the ping.
  const subscription = await getSubscription(db, settings.tableName, projectId, subscriptionId, {
    consistent: true,
  });
  if (!subscription) return { kind: 'not-found' };
  const now = (deps.now ?? Date.now)();
  const eventId = `ping_${(deps.newEventId ?? randomUUID)()}`;
  const message: DeliveryMessage = {
    v: 1,
    deliveryId: deliveryIdFor(eventId, subscriptionId),
    eventId,
    subscriptionId,
    projectId,
    event: PING_EVENT,
    timestamp: now,
    payload: pingPayload(subscriptionId),
  };
  const request = buildWebhookRequest(subscription, message, { userAgent: settings.userAgent, now });
  const attempt = await postWebhook(subscription.target, request, {
    timeoutMs: settings.attemptTimeoutMs,
    targets: settings.targets,
    resolver: deps.resolver,
    judge: deps.judge,
    agents: deps.agents,
  });
  const status = attempt.kind === 'response' ? attempt.statusCode : null;
  const ok = status !== null && status >= 200 && status < 300;
  const error = ok ? null : attempt.kind === 'error' ? attempt.error : `HTTP ${status}`;
  const result: PingResult = {
    ok,
    status,
    durationMs: attempt.durationMs,
    error,
    deliveryId: message.deliveryId,
  };

  const logged: DeliveryAttempt = {
    deliveryId: message.deliveryId,
    eventId,
    subscriptionId,
    id_project: projectId,
    event: PING_EVENT,
    target: subscription.target,
    attempt: 1,
    outcome: ok ? 'delivered' : 'failed',
    ...(status !== null ? { statusCode: status } : {}),
    durationMs: attempt.durationMs,
    ...(error !== null ? { error } : {}),
    attemptedAt: new Date(now).toISOString(),
  };
  try {
    await writeDeliveryAttempt(db, settings, logged);
  } catch (writeError) {
    // The caller still learns the outcome; the log is observability.
    logger.error('could not write the ping to the delivery log', { error: writeError, subscriptionId });
  }
  return { kind: 'sent', result };
}
