import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';

const base = JSON.parse(
  readFileSync(new URL('../../fixtures/api/proxy-event.json', import.meta.url), 'utf8'),
) as APIGatewayProxyEvent;

export interface EventOptions {
  method?: string;
  pathParameters?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
  /** A raw body string, sent as is. */
  rawBody?: string;
  headers?: Record<string, string>;
  /** The projects the authorizer granted (comma-joined in its context). */
  projectIds?: string;
  isBase64Encoded?: boolean;
}

/** A REST API proxy event as API Gateway sends it after the authorizer allowed project p1. */
export function proxyEvent(options: EventOptions = {}): APIGatewayProxyEvent {
  const event = structuredClone(base);
  event.httpMethod = options.method ?? event.httpMethod;
  event.pathParameters = options.pathParameters ?? event.pathParameters;
  event.queryStringParameters = options.query ?? null;
  event.headers = { ...event.headers, ...options.headers };
  event.isBase64Encoded = options.isBase64Encoded ?? false;
  if (options.rawBody !== undefined) event.body = options.rawBody;
  else if (options.body !== undefined) event.body = JSON.stringify(options.body);
  if (options.projectIds !== undefined) {
    event.requestContext.authorizer = { ...event.requestContext.authorizer, projectIds: options.projectIds };
  }
  return event;
}

export interface ParsedResponse {
  statusCode: number;
  headers: Record<string, string | number | boolean>;
  body: unknown;
}

export function parse(response: APIGatewayProxyResult): ParsedResponse {
  return {
    statusCode: response.statusCode,
    headers: response.headers ?? {},
    body: JSON.parse(response.body),
  };
}

/** The `field`s an error body names. */
export function fieldsOf(body: unknown): string[] {
  const errors = (body as { errors?: { field: string }[] }).errors ?? [];
  return errors.map((error) => error.field);
}
