import * as z from 'zod';
import { PROJECT_ID_PATTERN } from '../config/api';
import { LIMITS } from '../config/limits';
import type { TargetPolicy } from '../config/settings';
import { cursorSchema, LOG_SORT_KEY, SUBSCRIPTION_SORT_KEY } from './cursor';
import { eventSchema } from './event';
import { targetSchema } from './target';

/**
 * One zod schema per API input. Bodies are strict (an unknown field is a 400 naming it);
 * query strings ignore parameters they do not know (cache busters, tracking).
 */

export const SUBSCRIPTION_STATUSES = ['active', 'disabled'] as const;

/** Ids as stored (newSubscriptionId) or as a client may have kept them; an id of the right shape that is absent is a 404. */
const SUBSCRIPTION_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export const projectPathSchema = z.object({
  projectId: z.string().regex(PROJECT_ID_PATTERN, 'must be 1-64 letters, digits, _ or -'),
});

export const subscriptionPathSchema = projectPathSchema.extend({
  subscriptionId: z.string().regex(SUBSCRIPTION_ID_PATTERN, 'must be 1-64 letters, digits, _ or -'),
});

const JSON_OBJECT = {
  error: (issue: { code: string }) => (issue.code === 'invalid_type' ? 'must be a JSON object' : undefined),
};

/** POST /{projectId}/subscriptions */
export function createSubscriptionBodySchema(policy: TargetPolicy) {
  return z.strictObject({ event: eventSchema, target: targetSchema(policy) }, JSON_OBJECT);
}

/** PUT /{projectId}/subscriptions/{subscriptionId}: any of event, target, status, and nothing else. */
export function updateSubscriptionBodySchema(policy: TargetPolicy) {
  return z
    .strictObject(
      {
        event: eventSchema.optional(),
        target: targetSchema(policy).optional(),
        status: z.enum(SUBSCRIPTION_STATUSES, 'must be active or disabled').optional(),
      },
      JSON_OBJECT,
    )
    .refine(
      (body) => body.event !== undefined || body.target !== undefined || body.status !== undefined,
      'must set at least one of event, target, status',
    );
}

/** A whole number query parameter in [min, max], `fallback` when absent. */
function integerParameter(min: number, max: number, fallback: number) {
  return z
    .string()
    .regex(/^\d{1,9}$/, `must be a whole number between ${min} and ${max}`)
    .transform(Number)
    .pipe(
      z
        .number()
        .min(min, `must be a whole number between ${min} and ${max}`)
        .max(max, `must be a whole number between ${min} and ${max}`),
    )
    .optional()
    .transform((value) => value ?? fallback)
    .meta({ description: `A whole number from ${min} to ${max}; ${fallback} when absent` });
}

/** GET /{projectId}/subscriptions?limit&cursor&event */
export const listSubscriptionsQuerySchema = z.object({
  limit: integerParameter(1, LIMITS.listMaxLimit, LIMITS.listDefaultLimit),
  cursor: cursorSchema(SUBSCRIPTION_SORT_KEY).optional(),
  event: eventSchema.optional(),
});

/** GET /{projectId}/subscriptions/history?page (Tiledesk's paging: page 1 is the newest). */
export const historyQuerySchema = z.object({
  page: integerParameter(1, LIMITS.historyMaxPage, 1),
});

/** GET /{projectId}/subscriptions/{subscriptionId}/deliveries?limit&cursor */
export const deliveriesQuerySchema = z.object({
  limit: integerParameter(1, LIMITS.deliveriesMaxLimit, LIMITS.deliveriesDefaultLimit),
  cursor: cursorSchema(LOG_SORT_KEY).optional(),
});

export type CreateSubscriptionBody = z.infer<ReturnType<typeof createSubscriptionBodySchema>>;
export type UpdateSubscriptionBody = z.infer<ReturnType<typeof updateSubscriptionBodySchema>>;
export type ListSubscriptionsQuery = z.infer<typeof listSubscriptionsQuerySchema>;
export type HistoryQuery = z.infer<typeof historyQuerySchema>;
export type DeliveriesQuery = z.infer<typeof deliveriesQuerySchema>;

/** Delivery ids as the service makes them (`msg_` + 26 characters) or as a client kept them. */
const DELIVERY_ID_PATTERN = /^[A-Za-z0-9_-]{1,100}$/;

/** POST /{projectId}/subscriptions/{subscriptionId}/deliveries/{deliveryId}/retry */
export const deliveryPathSchema = subscriptionPathSchema.extend({
  deliveryId: z.string().regex(DELIVERY_ID_PATTERN, 'must be 1-100 letters, digits, _ or -'),
});

/**
 * The body of the routes that take none (`/test`, `/secret`): absent, or an empty JSON
 * object; anything else is a 400 naming the unknown field.
 */
export const emptyBodySchema = z.strictObject({}, JSON_OBJECT);

/** Clock skew tolerated on `since`, in either direction. */
export const RECOVER_SINCE_SLACK_MS = 60_000;

/**
 * POST /{projectId}/subscriptions/{subscriptionId}/recover `{"since": "<ISO 8601 date-time>"}`:
 * not in the future and within the delivery log's retention (older attempts and payloads are
 * gone). The parsed `since` is the instant, normalised to `toISOString()` form.
 */
export function recoverBodySchema(options: { retentionDays: number; now: number }) {
  const oldest = options.now - options.retentionDays * 86_400_000 - RECOVER_SINCE_SLACK_MS;
  const latest = options.now + RECOVER_SINCE_SLACK_MS;
  return z.strictObject(
    {
      since: z.iso
        .datetime({
          offset: true,
          error: (issue) =>
            issue.input === undefined
              ? 'is required'
              : 'must be an ISO 8601 date-time with a time zone, e.g. 2025-01-31T12:00:00Z',
        })
        .transform((value) => Date.parse(value))
        .refine((time) => time <= latest, 'must not be in the future')
        .refine(
          (time) => time >= oldest,
          `must be within the delivery log's retention (${options.retentionDays} days)`,
        )
        .transform((time) => new Date(time).toISOString())
        .meta({
          description: 'Re-queue the deliveries that failed at or after this time',
          examples: ['2025-01-31T12:00:00Z'],
        }),
    },
    JSON_OBJECT,
  );
}

export type DeliveryPath = z.infer<typeof deliveryPathSchema>;
export type RecoverBody = z.infer<ReturnType<typeof recoverBodySchema>>;
