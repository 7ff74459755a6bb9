import * as z from './zod-mini';

/**
 * The SQS body of one delivery (DESIGN §2.3): one message per (event, subscription).
 * No secret travels in it; the delivery function reads the subscription.
 * zod mini (./zod-mini): the delivery function's cold start.
 */
export const deliveryMessageSchema = z.object({
  v: z.literal(1),
  deliveryId: z.string().check(z.minLength(1)),
  eventId: z.string().check(z.minLength(1)),
  subscriptionId: z.string().check(z.minLength(1)),
  projectId: z.string().check(z.minLength(1)),
  event: z.string().check(z.minLength(1)),
  /** When the event happened, ms since the epoch (the webhook body's `timestamp`). */
  timestamp: z.int().check(z.nonnegative()),
  payload: z.unknown(),
  token: z.optional(z.string()),
});

export type DeliveryMessage = z.infer<typeof deliveryMessageSchema>;
