import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { logger } from '../observability';
import { ApiError } from './errors';
import { jsonResponse } from './responses';

export type ApiHandler = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

/**
 * Wraps an API handler: an ApiError becomes its JSON answer; anything else is a bug or an
 * AWS failure (never a client's input, which every route validates first) and becomes a
 * 500 with a generic message, logged without the request's headers or body.
 */
export function httpHandler(handle: ApiHandler): ApiHandler {
  return async (event) => {
    try {
      return await handle(event);
    } catch (error) {
      if (error instanceof ApiError) return jsonResponse(error.statusCode, error.body(), error.headers);
      logger.error('unhandled error', {
        error:
          error instanceof Error
            ? { name: error.name, message: error.message, stack: error.stack }
            : String(error),
        resource: event.resource,
        httpMethod: event.httpMethod,
        requestId: event.requestContext?.requestId,
      });
      return jsonResponse(500, { success: false, msg: 'internal error', errors: [] });
    }
  };
}
