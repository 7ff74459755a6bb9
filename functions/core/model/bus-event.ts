import { LIMITS } from '../config/limits';
import * as z from './zod-mini';

/**
 * An event as the platform puts it on the bus (DESIGN §2.2):
 * Source "tiledesk", DetailType = event name, Detail {id_project, payload, id?, token?}.
 * zod mini (./zod-mini): the fan-out function's cold start.
 */
export const busEventDetailSchema = z.object({
  id_project: z.string().check(z.minLength(1), z.maxLength(100)),
  payload: z.unknown().check(z.refine((value) => value !== undefined, 'payload is required')),
  /** The platform's own id of the event; when given it replaces the EventBridge id for idempotency. */
  id: z.optional(z.string().check(z.minLength(1), z.maxLength(200))),
  token: z.optional(z.string().check(z.maxLength(8192))),
});

export type BusEventDetail = z.infer<typeof busEventDetailSchema>;

/** The EventBridge envelope the fan-out function receives. */
export const busEventEnvelopeSchema = z.object({
  id: z.string().check(z.minLength(1)),
  'detail-type': z.string().check(z.minLength(1), z.maxLength(LIMITS.maxEventNameLength)),
  source: z.string().check(z.minLength(1)),
  time: z.string().check(z.minLength(1)),
  detail: z.unknown(),
});

export type BusEventEnvelope = z.infer<typeof busEventEnvelopeSchema>;
