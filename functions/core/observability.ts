import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

/**
 * One Logger and one Metrics per function (module scope, reused across invocations).
 * JSON logs; correlation keys (eventId, deliveryId, subscriptionId, projectId) are
 * appended per record with `logger.appendKeys` and removed with `logger.resetKeys()`.
 * Nothing that holds a secret or an Authorization value is ever passed to them.
 */
export const SERVICE_NAME = 'tiledesk-webhooks';
export const METRICS_NAMESPACE = 'TiledeskWebhooks';

export const logger = new Logger({ serviceName: SERVICE_NAME });

export const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });

/** Flushes the invocation's metrics; an invocation that stored none (it failed early) writes no warning line. */
export function publishMetrics(): void {
  if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
}

/** Metric names, shared by the functions and the alarms and dashboard of the CDK stack. */
export const METRIC = {
  deliveries: 'Deliveries',
  deliveryLatency: 'DeliveryLatency',
  fanOutSize: 'FanOutSize',
  deadLettered: 'DeadLettered',
  subscriptionsDisabled: 'SubscriptionsDisabled',
  subscriptionsGone: 'SubscriptionsGone',
  rejectedEvents: 'RejectedEvents',
  apiErrors: 'ApiErrors',
  /** Operational events (disabled, removed, dead-lettered) that could not be put on the bus. */
  operationalEventFailures: 'OperationalEventFailures',
  /** Failed deliveries whose payload could not be stored for replay. */
  payloadStoreFailures: 'PayloadStoreFailures',
} as const;
