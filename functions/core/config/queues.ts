import { maxReceiveCountFor } from './retry-schedule';

/**
 * The delivery queue and its DLQ, defined once for the CDK stack and the local stack.
 */
export const DELIVERY_FUNCTION_TIMEOUT_SECONDS = 60;

export const QUEUES = {
  delivery: {
    /** Logical name; the deployed queue gets a generated name, the local one this. */
    name: 'webhook-deliveries',
    /** At least six times the delivery function's timeout, as AWS advises for event source mappings. */
    visibilityTimeoutSeconds: DELIVERY_FUNCTION_TIMEOUT_SECONDS * 6,
    /** Retention covers the whole default schedule (~28 h) with room for an outage of SQS consumers. */
    retentionSeconds: 4 * 24 * 60 * 60,
  },
  deliveryDlq: {
    name: 'webhook-deliveries-dlq',
    retentionSeconds: 14 * 24 * 60 * 60,
  },
  /** Events the fan-out could not process (bad shape, or retries exhausted). */
  ingestDlq: {
    name: 'webhook-ingest-dlq',
    retentionSeconds: 14 * 24 * 60 * 60,
  },
} as const;

/** The event source mapping of the delivery function. */
export const DELIVERY_EVENT_SOURCE = {
  batchSize: 10,
  maxBatchingWindowSeconds: 1,
  maxConcurrency: 50,
} as const;

export function deliveryRedrivePolicy(schedule: readonly number[]): { maxReceiveCount: number } {
  return { maxReceiveCount: maxReceiveCountFor(schedule) };
}
