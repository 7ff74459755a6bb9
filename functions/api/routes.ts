import * as z from 'zod';
import { LIMITS } from '../core/config/limits';
import { DEFAULTS, type TargetPolicy } from '../core/config/settings';
import {
  createSubscriptionBodySchema,
  deliveriesQuerySchema,
  deliveryPathSchema,
  emptyBodySchema,
  historyQuerySchema,
  listSubscriptionsQuerySchema,
  projectPathSchema,
  recoverBodySchema,
  subscriptionPathSchema,
  updateSubscriptionBodySchema,
} from '../core/schemas';
import {
  deliveryAttemptSchema,
  pingResultSchema,
  recoverQueuedSchema,
  retryQueuedSchema,
  subscriptionSchema,
  subscriptionWithSecretSchema,
} from '../core/schemas/responses';

/**
 * The REST API's routes: one Lambda each. The CDK stack builds API Gateway resources
 * and least-privilege grants from this list; the local API stand-in routes with it.
 *
 * `access` names what the function may do, and nothing more:
 * - `read`:    read the table
 * - `write`:   read and write the table
 * - `enqueue`: read and write the table and send to the delivery queue
 * - `deliver`: read the table, write the delivery log, call out to targets
 */
export type RouteAccess = 'read' | 'write' | 'enqueue' | 'deliver';

/** A response header the API sets; the OpenAPI generator documents each once (components.headers). */
export type ResponseHeaderName = 'x-hook-secret' | 'x-next-cursor';

export interface RouteResponse {
  status: 200 | 201 | 202 | 204;
  description: string;
  /** The body's schema (functions/core/schemas/responses.ts); absent for an empty body. */
  schema?: z.ZodType;
  headers?: readonly ResponseHeaderName[];
}

/** An error answer particular to the route; 400, 401, 403, 429 and 500 (413 and 415 with a body) apply to all. */
export interface RouteError {
  status: 404 | 409;
  description: string;
}

export interface Route {
  /** Short id, also the function's construct id. */
  id: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path below the stage, API Gateway syntax. */
  path: string;
  /** Handler module, relative to the repository root; it exports `handler`. */
  entry: string;
  access: RouteAccess;
  summary: string;
  /*
   * What the route takes and answers, for the OpenAPI document (bin/openapi.ts). The
   * schemas are the very ones the handler parses with, so the two cannot drift.
   */
  /** Path parameters. */
  pathSchema?: z.ZodType;
  /** Query string parameters. */
  querySchema?: z.ZodType;
  /** The JSON body; a factory because targets are judged by the deployment's policy. */
  bodySchema?: (policy: TargetPolicy) => z.ZodType;
  /** The body may be left out (routes that take none, or `{}`). */
  bodyOptional?: boolean;
  /** Success answers. */
  responses?: readonly RouteResponse[];
  /** Error answers particular to this route. */
  errors?: readonly RouteError[];
}

const SUBSCRIPTION_NOT_FOUND: RouteError = {
  status: 404,
  description: 'No subscription with this id in this project',
};
const EVENT_TARGET_BUSY: RouteError = {
  status: 409,
  description: 'Another request is changing the same event and target; retry in a few seconds',
};
const SUBSCRIPTION_DISABLED: RouteError = {
  status: 409,
  description: 'The subscription is disabled; re-enable it (PUT `status: active`) first',
};

export const ROUTES: readonly Route[] = [
  {
    id: 'CreateSubscription',
    method: 'POST',
    path: '/{projectId}/subscriptions',
    entry: 'functions/api/create-subscription.ts',
    access: 'write',
    summary: 'Subscribe a target to an event',
    pathSchema: projectPathSchema,
    bodySchema: createSubscriptionBodySchema,
    responses: [
      {
        status: 201,
        description: 'Subscribed; the only time the secret is shown, besides rotation',
        schema: subscriptionWithSecretSchema,
        headers: ['x-hook-secret'],
      },
      {
        status: 200,
        description: 'This project already has this event and target: that subscription, with its secret',
        schema: subscriptionWithSecretSchema,
        headers: ['x-hook-secret'],
      },
    ],
    errors: [EVENT_TARGET_BUSY],
  },
  {
    id: 'ListSubscriptions',
    method: 'GET',
    path: '/{projectId}/subscriptions',
    entry: 'functions/api/list-subscriptions.ts',
    access: 'read',
    summary: "List the project's subscriptions, oldest first",
    pathSchema: projectPathSchema,
    querySchema: listSubscriptionsQuerySchema,
    responses: [
      {
        status: 200,
        description: 'A bare array (no secrets); x-next-cursor is set when there is another page',
        schema: z.array(subscriptionSchema),
        headers: ['x-next-cursor'],
      },
    ],
  },
  {
    id: 'ProjectHistory',
    method: 'GET',
    path: '/{projectId}/subscriptions/history',
    entry: 'functions/api/project-history.ts',
    access: 'read',
    summary: "The project's delivery log, newest first",
    pathSchema: projectPathSchema,
    querySchema: historyQuerySchema,
    responses: [
      {
        status: 200,
        description: `Page \`page\` of the log, ${LIMITS.historyPageSize} attempts a page`,
        schema: z.array(deliveryAttemptSchema),
      },
    ],
  },
  {
    id: 'GetSubscription',
    method: 'GET',
    path: '/{projectId}/subscriptions/{subscriptionId}',
    entry: 'functions/api/get-subscription.ts',
    access: 'read',
    summary: 'Read one subscription',
    pathSchema: subscriptionPathSchema,
    responses: [
      { status: 200, description: 'The subscription, without its secret', schema: subscriptionSchema },
    ],
    errors: [SUBSCRIPTION_NOT_FOUND],
  },
  {
    id: 'UpdateSubscription',
    method: 'PUT',
    path: '/{projectId}/subscriptions/{subscriptionId}',
    entry: 'functions/api/update-subscription.ts',
    access: 'write',
    summary: "Change a subscription's event, target or status",
    pathSchema: subscriptionPathSchema,
    bodySchema: updateSubscriptionBodySchema,
    responses: [
      {
        status: 200,
        description:
          'The changed subscription; `status: active` on a disabled one also resets its failure state',
        schema: subscriptionSchema,
      },
    ],
    errors: [
      SUBSCRIPTION_NOT_FOUND,
      {
        status: 409,
        description:
          'Another subscription of this project has this event and target, or is being changed to it',
      },
    ],
  },
  {
    id: 'DeleteSubscription',
    method: 'DELETE',
    path: '/{projectId}/subscriptions/{subscriptionId}',
    entry: 'functions/api/delete-subscription.ts',
    access: 'write',
    summary: 'Unsubscribe',
    pathSchema: subscriptionPathSchema,
    responses: [{ status: 200, description: 'The removed subscription', schema: subscriptionSchema }],
    errors: [SUBSCRIPTION_NOT_FOUND],
  },
  {
    id: 'ListDeliveries',
    method: 'GET',
    path: '/{projectId}/subscriptions/{subscriptionId}/deliveries',
    entry: 'functions/api/list-deliveries.ts',
    access: 'read',
    summary: "A subscription's delivery attempts, newest first",
    pathSchema: subscriptionPathSchema,
    querySchema: deliveriesQuerySchema,
    responses: [
      {
        status: 200,
        description: 'Attempts, newest first; x-next-cursor is set when there is another page',
        schema: z.array(deliveryAttemptSchema),
        headers: ['x-next-cursor'],
      },
    ],
    errors: [SUBSCRIPTION_NOT_FOUND],
  },
  {
    id: 'TestSubscription',
    method: 'POST',
    path: '/{projectId}/subscriptions/{subscriptionId}/test',
    entry: 'functions/api/test-subscription.ts',
    access: 'deliver',
    summary: 'Send a signed `ping` webhook now and report what the target answered',
    pathSchema: subscriptionPathSchema,
    bodySchema: () => emptyBodySchema,
    bodyOptional: true,
    responses: [
      {
        status: 200,
        description:
          'Whatever the target answered (ok false for a non-2xx, a timeout or a refused address); logged as event `ping`',
        schema: pingResultSchema,
      },
    ],
    errors: [SUBSCRIPTION_NOT_FOUND],
  },
  {
    id: 'RotateSubscriptionSecret',
    method: 'POST',
    path: '/{projectId}/subscriptions/{subscriptionId}/secret',
    entry: 'functions/api/rotate-secret.ts',
    access: 'write',
    summary: 'Rotate the signing secret; the previous one stays valid for a grace period',
    pathSchema: subscriptionPathSchema,
    bodySchema: () => emptyBodySchema,
    bodyOptional: true,
    responses: [
      {
        status: 200,
        description: `The new secret, shown this once; the previous one keeps signing for ${DEFAULTS.secretGraceHours} h by default (until previousSecretExpiresAt)`,
        schema: subscriptionWithSecretSchema,
        headers: ['x-hook-secret'],
      },
    ],
    errors: [
      SUBSCRIPTION_NOT_FOUND,
      { status: 409, description: 'Another rotation of this secret is in progress; retry' },
    ],
  },
  {
    id: 'RetryDelivery',
    method: 'POST',
    path: '/{projectId}/subscriptions/{subscriptionId}/deliveries/{deliveryId}/retry',
    entry: 'functions/api/retry-delivery.ts',
    access: 'enqueue',
    summary: 'Re-queue one failed delivery (same webhook-id)',
    pathSchema: deliveryPathSchema,
    responses: [
      {
        status: 202,
        description: 'Queued for delivery, with the same webhook-id',
        schema: retryQueuedSchema,
      },
    ],
    errors: [
      {
        status: 404,
        description:
          'No subscription with this id in this project, or no failed delivery with this id kept for it (only failed deliveries are kept, for the log retention)',
      },
      SUBSCRIPTION_DISABLED,
    ],
  },
  {
    id: 'RecoverDeliveries',
    method: 'POST',
    path: '/{projectId}/subscriptions/{subscriptionId}/recover',
    entry: 'functions/api/recover-deliveries.ts',
    access: 'enqueue',
    summary: 'Re-queue every delivery that failed since a time (capped)',
    pathSchema: subscriptionPathSchema,
    bodySchema: () => recoverBodySchema({ retentionDays: DEFAULTS.deliveryLogTtlDays, now: Date.now() }),
    responses: [
      {
        status: 202,
        description: `Queued: every delivery that failed at or after \`since\` and was not delivered since, at most ${LIMITS.maxRecoverDeliveries} a call (then \`truncated\` and \`nextSince\`)`,
        schema: recoverQueuedSchema,
      },
    ],
    errors: [SUBSCRIPTION_NOT_FOUND, SUBSCRIPTION_DISABLED],
  },
];
