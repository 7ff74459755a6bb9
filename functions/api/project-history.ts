import { projectHistory } from '../core/delivery-log/reader';
import { authorizedPath, httpHandler, jsonResponse } from '../core/http';
import { newDocumentClient } from '../core/http/clients';
import { apiConfig } from '../core/http/config';
import { historyQuerySchema, parseInput, projectPathSchema } from '../core/schemas';

const db = newDocumentClient();

/** GET /{projectId}/subscriptions/history?page: the project's delivery log, newest first. */
export const handler = httpHandler(async (event) => {
  const { projectId } = authorizedPath(event, projectPathSchema);
  const { page } = parseInput(historyQuerySchema, event.queryStringParameters ?? {}, 'query');
  return jsonResponse(200, await projectHistory(db, apiConfig().tableName, projectId, page));
});
