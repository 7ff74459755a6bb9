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

export function unauthorizedBody(): ErrorBody {
  const message = 'missing or invalid credentials (Basic API key or Bearer/JWT token)';
  return { success: false, msg: message, errors: [{ field: 'authorization', message }] };
}

/** A 401 as the API answers it; the CDK stack's UNAUTHORIZED gateway response mirrors this body and header. */
export function unauthorizedResponse(): APIGatewayProxyResult {
  return jsonResponse(401, unauthorizedBody(), { 'www-authenticate': WWW_AUTHENTICATE });
}
