import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DEFAULTS } from '../config/settings';
import type { RecordLog } from '../delivery/record-log';
import { type PublicSubscription, type Subscription, toPublic } from '../model/subscription';
import { METRIC, metrics } from '../observability';

/**
 * The service's own events, put on the bus so the platform can tell a project's owners:
 * Source `webhooks` (DEFAULTS.operationalEventSource; the ingest rule matches only the
 * platform's source, so they never loop back into fan-out), Detail in the platform's shape
 * `{id_project, payload}`. Never a secret: the subscription goes out in its public view.
 */
export const OPERATIONAL_EVENT = {
  subscriptionDisabled: 'webhook.subscription.disabled',
  subscriptionRemoved: 'webhook.subscription.removed',
  deliveryDeadLettered: 'webhook.delivery.dead_lettered',
} as const;

export type OperationalEventType = (typeof OPERATIONAL_EVENT)[keyof typeof OPERATIONAL_EVENT];

export interface OperationalEventDetail {
  id_project: string;
  payload: {
    subscription: PublicSubscription;
    reason: string;
    deliveryId?: string;
    /** The event name of the delivery concerned. */
    event?: string;
  };
}

export interface OperationalEventInput {
  type: OperationalEventType;
  subscription: Subscription;
  reason: string;
  deliveryId?: string;
  event?: string;
}

export function operationalEventDetail(input: OperationalEventInput): OperationalEventDetail {
  return {
    id_project: input.subscription.id_project,
    payload: {
      subscription: toPublic(input.subscription),
      reason: input.reason,
      ...(input.deliveryId !== undefined ? { deliveryId: input.deliveryId } : {}),
      ...(input.event !== undefined ? { event: input.event } : {}),
    },
  };
}

export interface OperationalEventTarget {
  client: EventBridgeClient | undefined;
  /** Unset: the deployment has no bus to tell (nothing is sent). */
  busName: string | undefined;
}

/**
 * Puts one operational event. Best effort by design: a failure (throttle, outage, a
 * rejected entry) is logged and counted (METRIC.operationalEventFailures) and never
 * fails the delivery that caused it. Returns whether the bus accepted it.
 */
export async function publishOperationalEvent(
  target: OperationalEventTarget,
  input: OperationalEventInput,
  log: RecordLog,
): Promise<boolean> {
  if (!target.client || !target.busName) return false;
  try {
    const result = await target.client.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: target.busName,
            Source: DEFAULTS.operationalEventSource,
            DetailType: input.type,
            Detail: JSON.stringify(operationalEventDetail(input)),
          },
        ],
      }),
    );
    const failed = result.Entries?.find((entry) => entry.ErrorCode !== undefined);
    if ((result.FailedEntryCount ?? 0) > 0 || failed) {
      throw new Error(`${failed?.ErrorCode ?? 'FailedEntry'}: ${failed?.ErrorMessage ?? 'entry rejected'}`);
    }
    return true;
  } catch (error) {
    metrics.addMetric(METRIC.operationalEventFailures, MetricUnit.Count, 1);
    log.error('could not put the operational event on the bus', { detailType: input.type, error });
    return false;
  }
}
