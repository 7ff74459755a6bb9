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
}

export const ROUTES: readonly Route[] = [
  {
    id: 'CreateSubscription',
    method: 'POST',
    path: '/{projectId}/subscriptions',
    entry: 'functions/api/create-subscription.ts',
    access: 'write',
    summary: 'Subscribe a target to an event',
  },
  {
    id: 'ListSubscriptions',
    method: 'GET',
    path: '/{projectId}/subscriptions',
    entry: 'functions/api/list-subscriptions.ts',
    access: 'read',
    summary: "List the project's subscriptions, oldest first",
  },
  {
    id: 'ProjectHistory',
    method: 'GET',
    path: '/{projectId}/subscriptions/history',
    entry: 'functions/api/project-history.ts',
    access: 'read',
    summary: "The project's delivery log, newest first",
  },
  {
    id: 'GetSubscription',
    method: 'GET',
    path: '/{projectId}/subscriptions/{subscriptionId}',
    entry: 'functions/api/get-subscription.ts',
    access: 'read',
    summary: 'Read one subscription',
  },
  {
    id: 'UpdateSubscription',
    method: 'PUT',
    path: '/{projectId}/subscriptions/{subscriptionId}',
    entry: 'functions/api/update-subscription.ts',
    access: 'write',
    summary: "Change a subscription's event, target or status",
  },
  {
    id: 'DeleteSubscription',
    method: 'DELETE',
    path: '/{projectId}/subscriptions/{subscriptionId}',
    entry: 'functions/api/delete-subscription.ts',
    access: 'write',
    summary: 'Unsubscribe',
  },
  {
    id: 'ListDeliveries',
    method: 'GET',
    path: '/{projectId}/subscriptions/{subscriptionId}/deliveries',
    entry: 'functions/api/list-deliveries.ts',
    access: 'read',
    summary: "A subscription's delivery attempts, newest first",
  },
  {
    id: 'TestSubscription',
    method: 'POST',
    path: '/{projectId}/subscriptions/{subscriptionId}/test',
    entry: 'functions/api/test-subscription.ts',
    access: 'deliver',
    summary: 'Send a signed `ping` webhook now and report what the target answered',
  },
  {
    id: 'RotateSubscriptionSecret',
    method: 'POST',
    path: '/{projectId}/subscriptions/{subscriptionId}/secret',
    entry: 'functions/api/rotate-secret.ts',
    access: 'write',
    summary: 'Rotate the signing secret; the previous one stays valid for a grace period',
  },
  {
    id: 'RetryDelivery',
    method: 'POST',
    path: '/{projectId}/subscriptions/{subscriptionId}/deliveries/{deliveryId}/retry',
    entry: 'functions/api/retry-delivery.ts',
    access: 'enqueue',
    summary: 'Re-queue one failed delivery (same webhook-id)',
  },
  {
    id: 'RecoverDeliveries',
    method: 'POST',
    path: '/{projectId}/subscriptions/{subscriptionId}/recover',
    entry: 'functions/api/recover-deliveries.ts',
    access: 'enqueue',
    summary: 'Re-queue every delivery that failed since a time (capped)',
  },
];
