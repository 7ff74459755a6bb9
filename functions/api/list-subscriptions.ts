import { API } from '../core/config/api';
import { authorizedPath, httpHandler, jsonResponse } from '../core/http';
import { newDocumentClient } from '../core/http/clients';
import { apiConfig } from '../core/http/config';
import { listSubscriptionsQuerySchema, parseInput, projectPathSchema } from '../core/schemas';
import { listSubscriptions } from '../core/subscriptions/use-cases';

const db = newDocumentClient();

/** GET /{projectId}/subscriptions?limit&cursor&event: a bare array, oldest first, next cursor in a header. */
export const handler = httpHandler(async (event) => {
  const { projectId } = authorizedPath(event, projectPathSchema);
  const query = parseInput(listSubscriptionsQuerySchema, event.queryStringParameters ?? {}, 'query');
  const page = await listSubscriptions(db, apiConfig().tableName, projectId, query);
  return jsonResponse(200, page.items, page.nextCursor ? { [API.nextCursorHeader]: page.nextCursor } : {});
});
