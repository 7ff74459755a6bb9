import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { logger, METRIC, metrics } from '../observability';
import { ApiError } from './errors';
import { jsonResponse } from './responses';

export type ApiHandler = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

/** What Lambda calls: the context is optional so tests and the local stand-in can leave it out. */
export type LambdaApiHandler = (
  event: APIGatewayProxyEvent,
  context?: Context,
) => Promise<APIGatewayProxyResult>;

/** The dimension of METRIC.apiErrors: `4xx` (the client's) or `5xx` (ours). */
export const API_ERROR_DIMENSION = 'statusClass';

/**
 * Wraps an API handler: an ApiError becomes its JSON answer; anything else is a bug or an
 * AWS failure (never a client's input, which every route validates first) and becomes a
 * 500 with a generic message, logged without the request's headers or body. Every error
 * answer counts one METRIC.apiErrors by status class, and every log line of the request
 * carries its projectId and subscriptionId (from the path) and the API request id.
 */
export function httpHandler(handle: ApiHandler): LambdaApiHandler {
  return async (event, context) => {
    if (context) logger.addContext(context);
    logger.appendKeys(correlationKeys(event));
    try {
      const response = await answer(handle, event);
      if (response.statusCode >= 400) countApiError(response.statusCode);
      return response;
    } finally {
      logger.resetKeys();
    }
  };
}

async function answer(handle: ApiHandler, event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
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
    });
    return jsonResponse(500, { success: false, msg: 'internal error', errors: [] });
  }
}

function correlationKeys(event: APIGatewayProxyEvent): Record<string, string> {
  const keys: Record<string, string | undefined> = {
    projectId: event.pathParameters?.projectId,
    subscriptionId: event.pathParameters?.subscriptionId,
    deliveryId: event.pathParameters?.deliveryId,
    requestId: event.requestContext?.requestId,
  };
  return Object.fromEntries(
    Object.entries(keys).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  );
}

/** Published at once (a single-metric EMF line), so a success answer publishes nothing at all. */
function countApiError(statusCode: number): void {
  const single = metrics.singleMetric();
  single.addDimension(API_ERROR_DIMENSION, statusCode >= 500 ? '5xx' : '4xx');
  single.addMetric(METRIC.apiErrors, MetricUnit.Count, 1);
}
