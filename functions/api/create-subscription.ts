import { authorizedPath, conflict, httpHandler, jsonResponse, parseJsonBody } from '../core/http';
import { newDocumentClient } from '../core/http/clients';
import { apiConfig } from '../core/http/config';
import { withSecret } from '../core/model/subscription';
import { createSubscriptionBodySchema, parseInput, projectPathSchema } from '../core/schemas';
import { createSubscription } from '../core/subscriptions/use-cases';

const db = newDocumentClient();
let bodySchema: ReturnType<typeof createSubscriptionBodySchema> | undefined;

/** POST /{projectId}/subscriptions: 201 with the secret (body and x-hook-secret), or 200 with the existing one. */
export const handler = httpHandler(async (event) => {
  const { projectId, caller } = authorizedPath(event, projectPathSchema);
  const config = apiConfig();
  bodySchema ??= createSubscriptionBodySchema(config.targets);
  const body = parseInput(bodySchema, parseJsonBody(event), 'body');
  const result = await createSubscription(db, config.tableName, {
    projectId,
    ...body,
    createdBy: caller.principal,
  });
  if (result.kind === 'busy') {
    throw conflict('target', 'another request is changing this event and target; retry in a few seconds');
  }
  const { subscription } = result;
  return jsonResponse(result.kind === 'created' ? 201 : 200, withSecret(subscription), {
    'x-hook-secret': subscription.secret,
  });
});
