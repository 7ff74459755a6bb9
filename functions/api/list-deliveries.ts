import { API } from '../core/config/api';
import { listDeliveries } from '../core/delivery-log/reader';
import { authorizedPath, httpHandler, jsonResponse, notFound } from '../core/http';
import { newDocumentClient } from '../core/http/clients';
import { apiConfig } from '../core/http/config';
import { deliveriesQuerySchema, parseInput, subscriptionPathSchema } from '../core/schemas';

const db = newDocumentClient();

/** GET /{projectId}/subscriptions/{subscriptionId}/deliveries?limit&cursor: newest first. */
export const handler = httpHandler(async (event) => {
  const { projectId, subscriptionId } = authorizedPath(event, subscriptionPathSchema);
  const query = parseInput(deliveriesQuerySchema, event.queryStringParameters ?? {}, 'query');
  const result = await listDeliveries(db, apiConfig().tableName, projectId, subscriptionId, query);
  if (result.kind === 'not-found')
    throw notFound('subscriptionId', 'no subscription with this id in this project');
  return jsonResponse(
    200,
    result.items,
    result.nextCursor ? { [API.nextCursorHeader]: result.nextCursor } : {},
  );
});
