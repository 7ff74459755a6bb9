import type { APIGatewayProxyEvent } from 'aws-lambda';
import { LIMITS } from '../config/limits';
import { ApiError } from './errors';
import { header } from './request';

/** `application/json` and `application/<anything>+json`, with at most a UTF-8 charset parameter. */
function isJsonMediaType(contentType: string): boolean {
  const [type = '', ...params] = contentType.split(';').map((part) => part.trim().toLowerCase());
  if (type !== 'application/json' && !/^application\/[a-z0-9!#$&^_.-]+\+json$/.test(type)) return false;
  return params.every((param) => {
    const [name, value = ''] = param.split('=').map((part) => part.trim());
    if (name !== 'charset') return true;
    return ['utf-8', 'utf8', '"utf-8"'].includes(value);
  });
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The request body as parsed JSON. Order of checks: size (413), media type (415), text
 * encoding and JSON syntax (400). A missing content-type is accepted as JSON, because
 * Tiledesk's examples and many clients send JSON without it; an empty body is a 400.
 */
export function parseJsonBody(event: APIGatewayProxyEvent): unknown {
  const raw = event.body ?? '';
  const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  if (bytes.byteLength > LIMITS.maxRequestBodyBytes) {
    const message = `the body must be at most ${LIMITS.maxRequestBodyBytes} bytes, got ${bytes.byteLength}`;
    throw new ApiError(413, message, [{ field: 'body', message }]);
  }
  const contentType = header(event.headers, 'content-type');
  if (contentType !== undefined && !isJsonMediaType(contentType)) {
    const message = `the body must be application/json, got "${contentType.slice(0, 100)}"`;
    throw new ApiError(415, message, [{ field: 'content-type', message }]);
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    const message = 'the body is not valid UTF-8';
    throw new ApiError(400, message, [{ field: 'body', message }]);
  }
  if (text.trim() === '') {
    const message = 'a JSON body is required';
    throw new ApiError(400, message, [{ field: 'body', message }]);
  }
  try {
    return JSON.parse(text);
  } catch {
    const message = 'the body is not valid JSON';
    throw new ApiError(400, message, [{ field: 'body', message }]);
  }
}
