import { secretGraceHours, tableName } from '../core/config/settings';
import { authorizedPath, conflict, httpHandler, jsonResponse, notFound, parseJsonBody } from '../core/http';
import { newDocumentClient } from '../core/http/clients';
import { emptyBodySchema, parseInput, subscriptionPathSchema } from '../core/schemas';
import { rotateSecret } from '../core/subscriptions/secret-rotation';

const db = newDocumentClient();
let settings: { tableName: string; graceMs: number } | undefined;

/**
 * POST /{projectId}/subscriptions/{subscriptionId}/secret: a new secret, returned this once
 * (body `secret` and header `x-hook-secret`); the replaced one keeps signing until
 * `previousSecretExpiresAt` (SECRET_GRACE_HOURS). 404; 409 when a concurrent rotation won.
 */
export const handler = httpHandler(async (event) => {
  const { projectId, subscriptionId } = authorizedPath(event, subscriptionPathSchema);
  if (event.body) parseInput(emptyBodySchema, parseJsonBody(event), 'body');
  settings ??= { tableName: tableName(), graceMs: secretGraceHours() * 3_600_000 };
  const result = await rotateSecret(db, settings.tableName, projectId, subscriptionId, {
    graceMs: settings.graceMs,
  });
  switch (result.kind) {
    case 'rotated':
      return jsonResponse(200, result.subscription, { 'x-hook-secret': result.subscription.secret });
    case 'not-found':
      throw notFound('subscriptionId', 'no subscription with this id in this project');
    case 'busy':
      throw conflict('subscriptionId', 'another rotation of this secret is in progress; retry');
  }
});
