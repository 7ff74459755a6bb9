/**
 * One delivery attempt as the delivery log keeps it (DESIGN §3): small, with a TTL,
 * never a secret or a request header. Written by the delivery function (and the test
 * ping), read by `/history` and `/{id}/deliveries`.
 *
 * Keys: pk = keys.projectLog(projectId), sk = keys.logSk(attemptedAt, deliveryId, attempt),
 *       gsi2pk = keys.subscriptionLog(subscriptionId), gsi2sk = the same as sk,
 *       expiresAt = epoch seconds (TTL).
 */
export type DeliveryOutcome =
  /** 2xx */
  | 'delivered'
  /** Will be retried (non-2xx, timeout, network error, refused target at delivery time). */
  | 'failed'
  /** Last attempt failed; SQS moves the message to the DLQ. */
  | 'dead-lettered'
  /** 410 Gone: the subscription was removed. */
  | 'gone'
  /** The subscription was deleted or disabled before the attempt. */
  | 'skipped';

export interface DeliveryAttempt {
  deliveryId: string;
  eventId: string;
  subscriptionId: string;
  id_project: string;
  event: string;
  target: string;
  /** 1-based attempt number (SQS ApproximateReceiveCount). */
  attempt: number;
  outcome: DeliveryOutcome;
  /** HTTP status, absent for a timeout or network error. */
  statusCode?: number;
  durationMs: number;
  error?: string;
  /** At most LIMITS.maxLoggedResponseBytes of the response body. */
  responseBody?: string;
  /** ISO time of the attempt. */
  attemptedAt: string;
  /** ISO time of the next scheduled attempt, when one is scheduled. */
  nextAttemptAt?: string;
}
