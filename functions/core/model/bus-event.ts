import * as z from 'zod';
import { LIMITS } from '../config/limits';

/**
 * An event as the platform puts it on the bus (DESIGN §2.2):
 * Source "tiledesk", DetailType = event name, Detail {id_project, payload, id?, token?}.
 */
export const busEventDetailSchema = z.object({
  id_project: z.string().min(1).max(100),
  payload: z.unknown().refine((value) => value !== undefined, 'payload is required'),
  /** The platform's own id of the event; when given it replaces the EventBridge id for idempotency. */
  id: z.string().min(1).max(200).optional(),
  token: z.string().max(8192).optional(),
});

export type BusEventDetail = z.infer<typeof busEventDetailSchema>;

/** The EventBridge envelope the fan-out function receives. */
export const busEventEnvelopeSchema = z.object({
  id: z.string().min(1),
  'detail-type': z.string().min(1).max(LIMITS.maxEventNameLength),
  source: z.string().min(1),
  time: z.string().min(1),
  detail: z.unknown(),
});

export type BusEventEnvelope = z.infer<typeof busEventEnvelopeSchema>;
