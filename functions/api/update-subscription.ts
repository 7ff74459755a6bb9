import { authorizedPath, conflict, httpHandler, jsonResponse, notFound, parseJsonBody } from '../core/http';
import { newDocumentClient } from '../core/http/clients';
import { apiConfig } from '../core/http/config';
import { parseInput, subscriptionPathSchema, updateSubscriptionBodySchema } from '../core/schemas';
import { updateSubscription } from '../core/subscriptions/use-cases';

const db = newDocumentClient();
let bodySchema: ReturnType<typeof updateSubscriptionBodySchema> | undefined;

/** PUT /{projectId}/subscriptions/{subscriptionId}: change event, target and/or status. */
export const handler = httpHandler(async (event) => {
  const { projectId, subscriptionId } = authorizedPath(event, subscriptionPathSchema);
  const config = apiConfig();
  bodySchema ??= updateSubscriptionBodySchema(config.targets);
  const changes = parseInput(bodySchema, parseJsonBody(event), 'body');
  const result = await updateSubscription(db, config.tableName, projectId, subscriptionId, changes);
  switch (result.kind) {
    case 'updated':
      return jsonResponse(200, result.subscription);
    case 'not-found':
      throw notFound('subscriptionId', 'no subscription with this id in this project');
    case 'conflict':
      throw conflict('target', `subscription ${result.subscriptionId} already has this event and target`);
    case 'busy':
      throw conflict('target', 'another request is changing this event and target; retry in a few seconds');
  }
});
