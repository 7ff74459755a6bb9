import { authorizedPath, httpHandler, jsonResponse, notFound } from '../core/http';
import { newDocumentClient } from '../core/http/clients';
import { apiConfig } from '../core/http/config';
import { toPublic } from '../core/model/subscription';
import { subscriptionPathSchema } from '../core/schemas';
import { getSubscription } from '../core/subscriptions/repository';

const db = newDocumentClient();

/** GET /{projectId}/subscriptions/{subscriptionId}: without its secret; 404 when absent from this project. */
export const handler = httpHandler(async (event) => {
  const { projectId, subscriptionId } = authorizedPath(event, subscriptionPathSchema);
  const subscription = await getSubscription(db, apiConfig().tableName, projectId, subscriptionId);
  if (!subscription) throw notFound('subscriptionId', 'no subscription with this id in this project');
  return jsonResponse(200, toPublic(subscription));
});
