import * as z from 'zod';

/**
 * The SQS body of one delivery (DESIGN §2.3): one message per (event, subscription).
 * No secret travels in it; the delivery function reads the subscription.
 */
export const deliveryMessageSchema = z.object({
  v: z.literal(1),
  deliveryId: z.string().min(1),
  eventId: z.string().min(1),
  subscriptionId: z.string().min(1),
  projectId: z.string().min(1),
  event: z.string().min(1),
  /** When the event happened, ms since the epoch (the webhook body's `timestamp`). */
  timestamp: z.number().int().nonnegative(),
  payload: z.unknown(),
  token: z.string().optional(),
});

export type DeliveryMessage = z.infer<typeof deliveryMessageSchema>;
