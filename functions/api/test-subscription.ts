import { attemptSettings } from '../core/config/settings';
import { pingSubscription } from '../core/delivery/test-ping';
import { authorizedPath, httpHandler, jsonResponse, notFound, parseJsonBody } from '../core/http';
import { newDocumentClient } from '../core/http/clients';
import { emptyBodySchema, parseInput, subscriptionPathSchema } from '../core/schemas';

const db = newDocumentClient();
let settings: ReturnType<typeof attemptSettings> | undefined;

/**
 * POST /{projectId}/subscriptions/{subscriptionId}/test: sends a signed `ping` webhook now and
 * answers 200 `{ok, status, durationMs, error, deliveryId}` whatever the receiver did; 404.
 * A disabled subscription can be pinged too (to check an endpoint before re-enabling it).
 */
export const handler = httpHandler(async (event) => {
  const { projectId, subscriptionId } = authorizedPath(event, subscriptionPathSchema);
  if (event.body) parseInput(emptyBodySchema, parseJsonBody(event), 'body');
  settings ??= attemptSettings();
  const outcome = await pingSubscription(db, settings, projectId, subscriptionId);
  if (outcome.kind === 'not-found')
    throw notFound('subscriptionId', 'no subscription with this id in this project');
  return jsonResponse(200, outcome.result);
});
