import * as z from 'zod';
import type { PingResult } from '../delivery/test-ping';
import type { ErrorBody } from '../http/errors';
import type { DeliveryAttempt, DeliveryOutcome } from '../model/delivery-log';
import type { PublicSubscription, Subscription } from '../model/subscription';
import type { RecoverResult, RetryResult } from '../replay/replay';
import type { RotatedSubscription } from '../subscriptions/secret-rotation';
import { SUBSCRIPTION_STATUSES } from './requests';

/**
 * Schemas of what the API answers and what the service sends. Handlers build these
 * answers from the model's types, not by parsing; the schemas exist for the OpenAPI
 * document, and the type checks at the bottom keep them equal to those types.
 * A schema with an `id` becomes a named component (`#/components/schemas/<id>`).
 */

const isoTime = (description: string) =>
  z.string().meta({ description, format: 'date-time', examples: ['2025-01-31T12:00:00.000Z'] });

export const subscriptionSchema = z
  .object({
    _id: z.string().meta({ description: 'Subscription id', examples: ['sub_3kTMd9P1wq7XbY2nRz5vLc'] }),
    id_project: z
      .string()
      .meta({ description: 'Project id (from the path)', examples: ['65c5f3599faf2d04cd7da528'] }),
    event: z.string().meta({ description: 'Event name or pattern', examples: ['request.create'] }),
    target: z
      .string()
      .meta({ description: 'URL the webhooks are POSTed to', examples: ['https://example.com/hook'] }),
    status: z.enum(SUBSCRIPTION_STATUSES).meta({
      description: '`disabled` subscriptions receive nothing; PUT `status: active` re-enables one',
    }),
    disabledReason: z
      .string()
      .optional()
      .meta({ description: 'Why the service disabled it (failures without a success); absent otherwise' }),
    createdBy: z.string().meta({ description: 'API key id or token subject that created it' }),
    createdAt: isoTime('Creation time'),
    updatedAt: isoTime('Last change'),
    failingSince: isoTime('Start of the current run of failed deliveries').optional(),
    lastSuccessAt: isoTime('Last successful delivery').optional(),
  })
  .meta({ id: 'Subscription', description: 'A subscription, without its secret' });

export const subscriptionWithSecretSchema = subscriptionSchema
  .extend({
    secret: z.string().meta({
      description:
        'Signing secret (Standard Webhooks `whsec_<base64>`); returned only here and in the x-hook-secret header',
      examples: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
    }),
    previousSecretExpiresAt: isoTime(
      'After a rotation: until then the replaced secret still signs too (a second signature in webhook-signature)',
    ).optional(),
  })
  .meta({
    id: 'SubscriptionWithSecret',
    description: 'A subscription with its signing secret: the answer of create and of secret rotation',
  });

export const fieldErrorSchema = z.object({
  field: z
    .string()
    .meta({ description: 'The input that is wrong: a body field, a parameter, `body` or a header' }),
  message: z.string(),
});

export const errorBodySchema = z
  .object({
    success: z.literal(false),
    msg: z.string().meta({ description: 'Every problem in one line' }),
    errors: z.array(fieldErrorSchema),
  })
  .meta({
    id: 'Error',
    description: 'Every error answer',
    examples: [
      {
        success: false,
        msg: 'target: must be an https URL',
        errors: [{ field: 'target', message: 'must be an https URL' }],
      },
    ],
  });

const DELIVERY_OUTCOMES = [
  'delivered',
  'failed',
  'dead-lettered',
  'gone',
  'skipped',
] as const satisfies readonly DeliveryOutcome[];

export const deliveryAttemptSchema = z
  .object({
    deliveryId: z
      .string()
      .meta({ description: 'Also the webhook-id header; the same on every attempt of a delivery' }),
    eventId: z.string(),
    subscriptionId: z.string(),
    id_project: z.string(),
    event: z.string(),
    target: z.string(),
    attempt: z.number().int().min(1).meta({ description: '1-based attempt number' }),
    outcome: z.enum(DELIVERY_OUTCOMES).meta({
      description:
        'delivered: 2xx; failed: will be retried; dead-lettered: the last attempt failed; gone: 410 removed the subscription; skipped: the subscription was gone or disabled',
    }),
    statusCode: z
      .number()
      .int()
      .optional()
      .meta({ description: "The receiver's HTTP status; absent on a timeout or network error" }),
    durationMs: z.number().min(0),
    error: z.string().optional(),
    responseBody: z.string().optional().meta({ description: "The start of the receiver's response body" }),
    attemptedAt: isoTime('Time of the attempt'),
    nextAttemptAt: isoTime('Time of the next scheduled attempt, when there is one').optional(),
  })
  .meta({ id: 'DeliveryAttempt', description: 'One delivery attempt from the delivery log' });

export const webhookBodySchema = z
  .object({
    hook: subscriptionSchema,
    timestamp: z.number().int().meta({ description: 'When the event happened, ms since the epoch' }),
    payload: z.unknown().meta({ description: "The event's payload as the platform sent it" }),
    token: z.string().optional().meta({ description: 'Present when the event carried one' }),
  })
  .meta({ id: 'WebhookBody', description: "The body of every webhook POST (Tiledesk's shape)" });

export const pingResultSchema = z
  .object({
    ok: z.boolean().meta({ description: 'The target answered 2xx' }),
    status: z
      .number()
      .int()
      .nullable()
      .meta({ description: "The target's HTTP status; null when none came" }),
    durationMs: z.number().min(0),
    error: z.string().nullable().meta({ description: 'Why it is not ok; null when ok' }),
    deliveryId: z.string().meta({ description: "The ping's webhook-id, also its id in the delivery log" }),
  })
  .meta({ id: 'PingResult', description: 'What the target answered to a test ping (event `ping`)' });

export const retryQueuedSchema = z.object({
  deliveryId: z.string(),
  queued: z.literal(true),
});

export const recoverQueuedSchema = z.object({
  queued: z.number().int().min(0).meta({ description: 'Deliveries re-queued by this call' }),
  truncated: z.boolean().meta({ description: 'More failed deliveries may remain (the cap was hit)' }),
  nextSince: isoTime('When truncated: call again with this `since` to continue').optional(),
});

// Compile-time checks: each schema describes exactly the type the code sends.
// (The generic-function form also tells an optional field apart from a missing one.)
type Flat<T> = { [K in keyof T]: T[K] };
type Same<A, B> =
  (<T>() => T extends Flat<A> ? 1 : 2) extends <T>() => T extends Flat<B> ? 1 : 2 ? true : false;
const subscriptionMatches: Same<z.infer<typeof subscriptionSchema>, PublicSubscription> = true;
const withSecretMatches: Same<
  z.infer<typeof subscriptionWithSecretSchema>,
  PublicSubscription & Pick<Subscription, 'secret' | 'previousSecretExpiresAt'>
> = true;
const rotatedFits: z.infer<typeof subscriptionWithSecretSchema> = {} as RotatedSubscription;
const pingMatches: Same<z.infer<typeof pingResultSchema>, PingResult> = true;
const retryMatches: Same<
  z.infer<typeof retryQueuedSchema>,
  Omit<Extract<RetryResult, { kind: 'queued' }>, 'kind'> & { queued: true }
> = true;
const recoverMatches: Same<
  z.infer<typeof recoverQueuedSchema>,
  Omit<Extract<RecoverResult, { kind: 'queued' }>, 'kind'>
> = true;
const errorMatches: Same<z.infer<typeof errorBodySchema>, ErrorBody> = true;
const attemptMatches: Same<z.infer<typeof deliveryAttemptSchema>, DeliveryAttempt> = true;
void [
  subscriptionMatches,
  withSecretMatches,
  rotatedFits,
  pingMatches,
  retryMatches,
  recoverMatches,
  errorMatches,
  attemptMatches,
];
