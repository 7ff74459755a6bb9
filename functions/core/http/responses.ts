import type { APIGatewayProxyResult } from 'aws-lambda';
import { API } from '../config/api';
import type { ErrorBody } from './errors';

/** Headers on every JSON answer; `no-store` because some answers carry a secret. */
const JSON_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
} as const;

export function jsonResponse(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyResult {
  return { statusCode, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) };
}

/** The `WWW-Authenticate` value of every 401, so `curl -u` and browsers know to send Basic credentials. */
export const WWW_AUTHENTICATE = `Basic realm="${API.authRealm}"`;

/**
 * The answers API Gateway itself gives (gateway responses), in the service's error shape.
 * The CDK stack renders them as response templates and the local API stand-in sends them,
 * so a deployed and a local 401 or 403 are the same bytes.
 */
export const GATEWAY_RESPONSES = {
  unauthorized: {
    statusCode: 401,
    headers: { 'www-authenticate': WWW_AUTHENTICATE },
    body: errorBody('missing or invalid credentials (Basic API key or Bearer/JWT token)', 'authorization'),
  },
  forbidden: {
    statusCode: 403,
    headers: {},
    body: errorBody('these credentials do not give access to this project', 'projectId'),
  },
  throttled: {
    statusCode: 429,
    headers: {},
    body: errorBody('too many requests, slow down and retry', 'request'),
  },
} as const satisfies Record<string, { statusCode: number; headers: Record<string, string>; body: ErrorBody }>;

function errorBody(message: string, field: string): ErrorBody {
  return { success: false, msg: message, errors: [{ field, message }] };
}
