import { authorizedPath, httpHandler, jsonResponse, notFound } from '../core/http';
import { newDocumentClient } from '../core/http/clients';
import { apiConfig } from '../core/http/config';
import { toPublic } from '../core/model/subscription';
import { subscriptionPathSchema } from '../core/schemas';
import { deleteSubscription } from '../core/subscriptions/repository';

const db = newDocumentClient();

/** DELETE /{projectId}/subscriptions/{subscriptionId}: 200 with the removed subscription (no secret); 404. */
export const handler = httpHandler(async (event) => {
  const { projectId, subscriptionId } = authorizedPath(event, subscriptionPathSchema);
  const removed = await deleteSubscription(db, apiConfig().tableName, projectId, subscriptionId);
  if (!removed) throw notFound('subscriptionId', 'no subscription with this id in this project');
  return jsonResponse(200, toPublic(removed));
});
