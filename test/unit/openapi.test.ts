import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ROUTES } from '../../functions/api/routes';
import { API } from '../../functions/core/config/api';
import { buildOpenApiDocument, serializeOpenApiDocument } from '../../functions/core/openapi/document';

type Json = Record<string, unknown>;

const OPENAPI_PATH = new URL('../../docs/openapi.json', import.meta.url);

const document = buildOpenApiDocument();
const paths = document.paths as Record<string, Record<string, Json>>;
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

function operations(): Array<{ where: string; operation: Json }> {
  const found: Array<{ where: string; operation: Json }> = [];
  const sections = { paths, webhooks: document.webhooks as Record<string, Record<string, Json>> };
  for (const [section, items] of Object.entries(sections)) {
    for (const [name, item] of Object.entries(items)) {
      for (const method of HTTP_METHODS) {
        const operation = item[method];
        if (operation) found.push({ where: `${section} ${method.toUpperCase()} ${name}`, operation });
      }
    }
  }
  return found;
}

function refsIn(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) for (const inner of value) refsIn(inner, found);
  else if (value !== null && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      if (key === '$ref' && typeof inner === 'string') found.push(inner);
      else refsIn(inner, found);
    }
  }
  return found;
}

/** Follows a local JSON pointer (`#/a/b`, with ~1 for / and ~0 for ~). */
function resolve(ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = document;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (node === null || typeof node !== 'object' || !(key in node)) return undefined;
    node = (node as Json)[key];
  }
  return node;
}

describe('the OpenAPI document', () => {
  it('is the committed docs/openapi.json (run `npm run openapi` after changing routes or schemas)', () => {
    const committed = readFileSync(OPENAPI_PATH, 'utf8');

    expect(committed).toBe(serializeOpenApiDocument(document));
  });

  it('is OpenAPI 3.1 with an info block, paths, webhooks and security schemes', () => {
    expect(document.openapi).toMatch(/^3\.1\.\d+$/);
    expect(document.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    expect(Object.keys(paths).length).toBeGreaterThan(0);
    const components = document.components as Json;
    expect(components.securitySchemes).toMatchObject({
      apiKey: { type: 'http', scheme: 'basic' },
      bearerJwt: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
    });
    expect(Object.keys(components.schemas as Json)).toEqual(
      expect.arrayContaining([
        'Subscription',
        'SubscriptionWithSecret',
        'Error',
        'DeliveryAttempt',
        'WebhookBody',
      ]),
    );
  });

  it('has every route of the route table under its path and method, with its id', () => {
    for (const route of ROUTES) {
      const operation = paths[route.path]?.[route.method.toLowerCase()];
      expect(operation, `${route.method} ${route.path}`).toBeDefined();
      expect(operation?.operationId).toBe(route.id);
    }
    expect(operations().filter(({ where }) => where.startsWith('paths'))).toHaveLength(ROUTES.length);
  });

  it('documents every route: path parameters exactly those of its path, and a success answer', () => {
    for (const route of ROUTES) {
      const inPath = [...route.path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]);
      const operation = paths[route.path]?.[route.method.toLowerCase()] ?? {};
      const pathParameters = ((operation.parameters ?? []) as Json[])
        .filter((parameter) => parameter.in === 'path')
        .map((parameter) => parameter.name);

      expect(pathParameters, `${route.id} path parameters`).toEqual(inPath);
      const statuses = Object.keys((operation.responses ?? {}) as Json);
      expect(
        statuses.some((status) => /^2\d\d$/.test(status)),
        `${route.id} has no success response`,
      ).toBe(true);
    }
  });

  it('gives every operation responses, and every route the error answers of the API', () => {
    for (const { where, operation } of operations()) {
      expect(Object.keys((operation.responses ?? {}) as Json).length, where).toBeGreaterThan(0);
    }
    for (const route of ROUTES) {
      const responses = (paths[route.path]?.[route.method.toLowerCase()]?.responses ?? {}) as Json;
      const expected = ['400', '401', '403', '429', '500', ...(route.bodySchema ? ['413', '415'] : [])];
      expect(Object.keys(responses), route.id).toEqual(expect.arrayContaining(expected));
    }
  });

  it('resolves every $ref inside the document', () => {
    const refs = refsIn(document);

    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) expect(resolve(ref), ref).toBeDefined();
  });

  it('documents the headers: x-hook-secret on create, x-next-cursor on the list routes, the webhook trio', () => {
    const created = paths['/{projectId}/subscriptions']?.post?.responses as Record<string, Json>;
    expect(Object.keys(created['201']?.headers as Json)).toContain('x-hook-secret');
    const listed = paths['/{projectId}/subscriptions']?.get?.responses as Record<string, Json>;
    expect(Object.keys(listed['200']?.headers as Json)).toContain(API.nextCursorHeader);
    const webhook = (document.webhooks as Record<string, Record<string, Json>>).subscriptionEvent?.post;
    const headers = ((webhook?.parameters ?? []) as Json[]).map((parameter) => parameter.name);
    expect(headers).toEqual(
      expect.arrayContaining(['webhook-id', 'webhook-timestamp', 'webhook-signature', 'x-hook-secret']),
    );
  });

  it('describes bodies with the handlers’ own schemas under the deployment policy (https only)', () => {
    const body = paths['/{projectId}/subscriptions']?.post?.requestBody as Json;
    const schema = ((body.content as Json)['application/json'] as Json).schema as Json;

    expect(schema).toMatchObject({ required: ['event', 'target'], additionalProperties: false });
    expect(JSON.stringify(schema)).toContain('https URL');
  });

  it('follows the route table: a changed route changes the document', () => {
    const [first, ...rest] = ROUTES;
    if (!first) throw new Error('no routes');

    const changed = buildOpenApiDocument([{ ...first, summary: 'changed' }, ...rest]);

    expect(serializeOpenApiDocument(changed)).not.toBe(serializeOpenApiDocument(document));
  });
});
