import { describe, expect, it, vi } from 'vitest';
import { LIMITS } from '../../../functions/core/config/limits';
import { ApiError, GATEWAY_RESPONSES, httpHandler, parseJsonBody } from '../../../functions/core/http';
import { logger } from '../../../functions/core/observability';
import { parse, proxyEvent } from './events';

function errorOf(run: () => unknown): ApiError {
  try {
    run();
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('expected an ApiError');
}

describe('parseJsonBody', () => {
  it('parses a JSON body', () => {
    expect(parseJsonBody(proxyEvent({ body: { event: 'request.create' } }))).toEqual({
      event: 'request.create',
    });
  });

  it('accepts a charset parameter, +json types and a missing content-type', () => {
    for (const contentType of [
      'application/json; charset=utf-8',
      'Application/JSON',
      'application/merge-patch+json',
    ]) {
      const event = proxyEvent({ body: { a: 1 }, headers: { 'Content-Type': contentType } });
      expect(parseJsonBody(event), contentType).toEqual({ a: 1 });
    }
    const event = proxyEvent({ body: { a: 1 } });
    delete event.headers['Content-Type'];
    expect(parseJsonBody(event)).toEqual({ a: 1 });
  });

  it('decodes a base64-encoded body', () => {
    const event = proxyEvent({ rawBody: Buffer.from('{"a":"é"}').toString('base64'), isBase64Encoded: true });
    expect(parseJsonBody(event)).toEqual({ a: 'é' });
  });

  it('answers 413 for a body over the limit, counted in bytes', () => {
    // Two-byte characters: under the limit in characters, over it in bytes.
    const text = JSON.stringify({ a: 'é'.repeat(LIMITS.maxRequestBodyBytes / 2) });
    const error = errorOf(() => parseJsonBody(proxyEvent({ rawBody: text })));
    expect(error.statusCode).toBe(413);
    expect(error.errors[0]?.field).toBe('body');
  });

  it('answers 413 for a base64 body whose decoded size is over the limit', () => {
    const raw = Buffer.alloc(LIMITS.maxRequestBodyBytes + 1, 0x20).toString('base64');
    expect(errorOf(() => parseJsonBody(proxyEvent({ rawBody: raw, isBase64Encoded: true }))).statusCode).toBe(
      413,
    );
  });

  it('accepts a body of exactly the limit', () => {
    const padding = ' '.repeat(LIMITS.maxRequestBodyBytes - 2);
    expect(parseJsonBody(proxyEvent({ rawBody: `{}${padding}` }))).toEqual({});
  });

  it('answers 415 for a content-type that is not JSON', () => {
    for (const contentType of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/json; charset=latin1',
    ]) {
      const error = errorOf(() =>
        parseJsonBody(proxyEvent({ rawBody: '{}', headers: { 'Content-Type': contentType } })),
      );
      expect(error.statusCode, contentType).toBe(415);
      expect(error.errors[0]?.field).toBe('content-type');
    }
  });

  it('answers 400 for invalid JSON, an empty body and invalid UTF-8', () => {
    for (const event of [
      proxyEvent({ rawBody: '{"event":' }),
      proxyEvent({ rawBody: '' }),
      proxyEvent({ rawBody: Buffer.from([0x7b, 0xff, 0x7d]).toString('base64'), isBase64Encoded: true }),
    ]) {
      const error = errorOf(() => parseJsonBody(event));
      expect(error.statusCode).toBe(400);
      expect(error.errors).toEqual([{ field: 'body', message: expect.any(String) }]);
      expect(error.body().success).toBe(false);
    }
  });
});

describe('httpHandler', () => {
  it('answers an ApiError with its status, headers and the error shape', async () => {
    const handler = httpHandler(async () => {
      throw new ApiError(404, 'gone', [{ field: 'subscriptionId', message: 'gone' }], { 'x-extra': '1' });
    });
    const response = parse(await handler(proxyEvent()));
    expect(response.statusCode).toBe(404);
    expect(response.headers['x-extra']).toBe('1');
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.body).toEqual({
      success: false,
      msg: 'gone',
      errors: [{ field: 'subscriptionId', message: 'gone' }],
    });
  });

  it('turns an unexpected error into a generic 500 and logs it without the request body', async () => {
    const logged = vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const handler = httpHandler(async () => {
      throw new Error('DynamoDB exploded');
    });
    const response = parse(await handler(proxyEvent({ body: { secret: 'whsec_do-not-log' } })));
    expect(response.statusCode).toBe(500);
    expect(response.body).toEqual({ success: false, msg: 'internal error', errors: [] });
    expect(logged).toHaveBeenCalledTimes(1);
    expect(JSON.stringify(logged.mock.calls)).toContain('DynamoDB exploded');
    expect(JSON.stringify(logged.mock.calls)).not.toContain('whsec_do-not-log');
    logged.mockRestore();
  });

  it('shapes 401s with WWW-Authenticate: Basic and the realm', () => {
    const response = GATEWAY_RESPONSES.unauthorized;
    expect(response.statusCode).toBe(401);
    expect(response.headers['www-authenticate']).toBe('Basic realm="tiledesk-webhooks"');
    expect(response.body.errors.map((error) => error.field)).toEqual(['authorization']);
    expect(GATEWAY_RESPONSES.forbidden.body.errors.map((error) => error.field)).toEqual(['projectId']);
  });
});
