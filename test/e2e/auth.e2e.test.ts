import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES, type Route } from '../../functions/api/routes';
import { revokeApiKey } from '../../functions/core/auth/api-keys';
import { LIMITS } from '../../functions/core/config/limits';
import type { LocalStack } from '../../local/stack';
import { IP_LITERAL_TARGETS, SCHEME_TARGETS } from '../fixtures/ssrf-targets';
import { registerSecret } from '../secret-scan/capture';
import { basicAuth, callApi, quietHandlers } from './support';

/**
 * Authentication and tenancy through the API stand-in with the REAL authorizer: API keys
 * (wrong, unknown, revoked, malformed headers by fast-check), JWTs from a local JWKS
 * (valid, expired, not yet valid, forged, alg none, wrong audience or issuer, HS256 made
 * with the public key), and the matrix of every route x (own project, other project, no
 * credential). Targets are judged as a deployment judges them (no http, no private
 * addresses), so the SSRF corpus is refused by create and update.
 */
const A = { projectId: 'tenant-a', keyId: 'key-a', secret: 'secret-a-0123456789abcdef' };
const B = { projectId: 'tenant-b', keyId: 'key-b', secret: 'secret-b-0123456789abcdef' };
const REVOKED = { projectId: 'tenant-a', keyId: 'key-revoked', secret: 'secret-r-0123456789abcdef' };
const ISSUER = 'https://issuer.example.com/';
const AUDIENCE = 'tiledesk-webhooks';
const KID = 'test-key';

type SigningKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

let stack: LocalStack;
let jwks: Server;
let signingKey: SigningKey;
let otherKey: SigningKey;
let publicJwk: Record<string, unknown>;

function call(path: string, init: { method?: string; authorization?: string; body?: unknown } = {}) {
  return callApi(stack, path, init);
}

const ownKey = () => basicAuth(A.keyId, A.secret);

async function createSubscription(target = 'https://hooks.example.com/a'): Promise<string> {
  const response = await call(`/${A.projectId}/subscriptions`, {
    method: 'POST',
    authorization: ownKey(),
    body: { event: 'request.create', target: `${target}?n=${Math.random()}` },
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { _id: string })._id;
}

async function token(claims: JWTPayload, options: { key?: SigningKey; kid?: string } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ id_project: A.projectId, ...claims })
    .setProtectedHeader({ alg: 'RS256', kid: options.kid ?? KID })
    .setIssuer(typeof claims.iss === 'string' ? claims.iss : ISSUER)
    .setAudience(claims.aud ?? AUDIENCE)
    .setSubject('user-1')
    .setIssuedAt(now)
    .setExpirationTime(typeof claims.exp === 'number' ? claims.exp : now + 300)
    .sign(options.key ?? signingKey);
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

beforeAll(async () => {
  quietHandlers();
  registerSecret(A.secret, B.secret, REVOKED.secret);
  ({ privateKey: signingKey } = await generateKeyPair('RS256', { extractable: true }).then(async (pair) => {
    publicJwk = { ...(await exportJWK(pair.publicKey)), kid: KID, alg: 'RS256', use: 'sig' };
    return pair;
  }));
  ({ privateKey: otherKey } = await generateKeyPair('RS256'));
  jwks = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ keys: [publicJwk] }));
  });
  await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
  Object.assign(process.env, {
    JWT_ISSUER: ISSUER,
    JWT_AUDIENCE: AUDIENCE,
    JWT_JWKS_URL: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`,
  });
  const { startLocalStack } = await import('../../local/stack');
  stack = await startLocalStack({
    ports: { api: 0, eventBridge: 0, sqs: 0, dynamoDb: 0 },
    apiKeys: [A, B, REVOKED],
    dataDir: undefined,
    allowPrivateTargets: false,
    allowHttpTargets: false,
    // Every request reaches the authorizer: a revoked key must be refused at once.
    authorizerCacheTtlSeconds: 0,
    // Nothing is delivered from this file (the targets do not exist).
    wrapHandlers: () => ({ fanOut: async () => undefined }),
  });
});

afterAll(async () => {
  await stack?.stop();
  await new Promise<void>((resolve) => (jwks ? jwks.close(() => resolve()) : resolve()));
  for (const name of ['JWT_ISSUER', 'JWT_AUDIENCE', 'JWT_JWKS_URL']) delete process.env[name];
});

describe('API keys', () => {
  it('refuses wrong and unknown keys with 401 and a Basic challenge', async () => {
    for (const authorization of [
      basicAuth(A.keyId, 'not-the-secret-0123456789'),
      basicAuth('no-such-key', A.secret),
      basicAuth(A.keyId, A.secret.toUpperCase()),
      basicAuth(B.keyId, A.secret),
    ]) {
      const response = await call(`/${A.projectId}/subscriptions`, { authorization });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Basic /);
    }
  });

  it('refuses a revoked key from the moment it is revoked', async () => {
    expect(
      (
        await call(`/${A.projectId}/subscriptions`, {
          authorization: basicAuth(REVOKED.keyId, REVOKED.secret),
        })
      ).status,
    ).toBe(200);
    const db = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        endpoint: stack.dynamoDbEndpoint,
        region: stack.config.region,
        credentials: { accessKeyId: 'e2e', secretAccessKey: 'e2e' },
      }),
    );
    await revokeApiKey(db, stack.tableName, REVOKED.keyId);
    db.destroy();

    const response = await call(`/${A.projectId}/subscriptions`, {
      authorization: basicAuth(REVOKED.keyId, REVOKED.secret),
    });
    expect(response.status).toBe(401);
  });

  it('answers 401, never anything else, to malformed Authorization headers (fast-check)', async () => {
    const visible = (value: string) => /^[\t\x20-\x7e]*$/.test(value) && value.trim() === value;
    const header = fc.oneof(
      fc.string({ maxLength: 200 }).filter(visible),
      fc
        .tuple(
          fc.constantFrom('Basic', 'basic', 'BASIC', 'Bearer', 'JWT', 'Digest', 'Negotiate', ''),
          fc.string({ maxLength: 100 }).filter(visible),
        )
        .map(([s, v]) => `${s} ${v}`),
      fc.uint8Array({ maxLength: 80 }).map((bytes) => `Basic ${Buffer.from(bytes).toString('base64')}`),
      fc
        .tuple(fc.string({ maxLength: 30 }), fc.string({ maxLength: 30 }))
        .map(([id, secret]) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`),
      fc
        .tuple(fc.base64String(), fc.base64String(), fc.base64String())
        .map((parts) => `Bearer ${parts.join('.').replace(/[+/=]/g, '_')}`),
      fc.constantFrom(
        'Basic',
        'Basic ',
        'Basic ====',
        `Basic ${Buffer.from(':').toString('base64')}`,
        `Basic ${Buffer.from(`${A.keyId}:`).toString('base64')}`,
        `Basic ${Buffer.from(`:${A.secret}`).toString('base64')}`,
        `Basic ${basicAuth(A.keyId, A.secret).slice(6)}x`,
        `${basicAuth(A.keyId, A.secret)} extra`,
        `Basic ${'A'.repeat(9000)}`,
        'Bearer a.b',
        'Bearer ..',
        'Bearer eyJhbGciOiJub25lIn0.e30.',
      ),
    );
    await fc.assert(
      fc.asyncProperty(header, async (authorization) => {
        const response = await call(`/${A.projectId}/subscriptions`, { authorization });
        expect(response.status).toBe(401);
        expect(response.headers.get('www-authenticate')).toMatch(/^Basic /);
      }),
      { numRuns: 120, seed: 5 },
    );
  });
});

describe('JWTs (RS256 from a local JWKS)', () => {
  it('accepts a valid token on its own project, and only there', async () => {
    const valid = await token({});
    expect((await call(`/${A.projectId}/subscriptions`, { authorization: `Bearer ${valid}` })).status).toBe(
      200,
    );
    expect((await call(`/${A.projectId}/subscriptions`, { authorization: `JWT ${valid}` })).status).toBe(200);
    expect((await call(`/${B.projectId}/subscriptions`, { authorization: `Bearer ${valid}` })).status).toBe(
      403,
    );
  });

  it('refuses expired, not-yet-valid, forged, alg none, wrong-audience and wrong-issuer tokens', async () => {
    const now = Math.floor(Date.now() / 1000);
    const cases: [string, string][] = [
      ['expired', await token({ exp: now - 60 })],
      ['not yet valid (nbf)', await token({ nbf: now + 3600 })],
      ['forged (another key, same kid)', await token({}, { key: otherKey })],
      ['unknown kid', await token({}, { kid: 'other' })],
      ['wrong audience', await token({ aud: 'someone-else' })],
      ['wrong issuer', await token({ iss: 'https://evil.example.com/' })],
      ['no project claim', await token({ id_project: undefined })],
      [
        'alg none',
        `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ iss: ISSUER, aud: AUDIENCE, sub: 'x', id_project: A.projectId, exp: now + 300 })}.`,
      ],
      [
        'HS256 signed with the public key (algorithm confusion)',
        await new SignJWT({ id_project: A.projectId })
          .setProtectedHeader({ alg: 'HS256', kid: KID })
          .setIssuer(ISSUER)
          .setAudience(AUDIENCE)
          .setSubject('x')
          .setExpirationTime(now + 300)
          .sign(new TextEncoder().encode(JSON.stringify(publicJwk))),
      ],
    ];
    const valid = await token({});
    const [header, payload] = valid.split('.');
    cases.push(['signature stripped', `${header}.${payload}.`]);
    cases.push([
      'payload swapped',
      `${header}.${b64url({ iss: ISSUER, aud: AUDIENCE, sub: 'x', id_project: B.projectId, exp: now + 300 })}.${valid.split('.')[2]}`,
    ]);
    for (const [name, jwt] of cases) {
      const response = await call(`/${A.projectId}/subscriptions`, { authorization: `Bearer ${jwt}` });
      expect(response.status, name).toBe(401);
      expect(response.headers.get('www-authenticate'), name).toMatch(/^Basic /);
    }
  });
});

/** What a request to each route carries; a route added later gets `{}` and is judged as any other. */
const BODIES: Record<string, unknown> = {
  CreateSubscription: { event: 'lead.create', target: 'https://hooks.example.com/matrix' },
  UpdateSubscription: { status: 'active' },
  RecoverDeliveries: { since: new Date(Date.now() - 60_000).toISOString() },
};

function pathFor(route: Route, projectId: string, subscriptionId: string): string {
  return route.path
    .replace('{projectId}', projectId)
    .replace('{subscriptionId}', subscriptionId)
    .replace(/\{[^}]+\}/g, 'msg_00000000000000000000000000');
}

describe('tenancy matrix: every route x (own project, other project, no credential)', () => {
  const cells = ROUTES.map((route) => [route.id, route] as const);

  it.each(cells)('%s', async (_id, route) => {
    const subscriptionId = await createSubscription();
    const body = ['POST', 'PUT'].includes(route.method) ? (BODIES[route.id] ?? {}) : undefined;

    const own = await call(pathFor(route, A.projectId, subscriptionId), {
      method: route.method,
      authorization: ownKey(),
      body,
    });
    const other = await call(pathFor(route, B.projectId, subscriptionId), {
      method: route.method,
      authorization: ownKey(),
      body,
    });
    const anonymous = await call(pathFor(route, A.projectId, subscriptionId), { method: route.method, body });
    const missing = route.path.includes('{subscriptionId}')
      ? await call(pathFor(route, A.projectId, '000000000000000000000000'), {
          method: route.method,
          authorization: ownKey(),
          body,
        })
      : undefined;

    // Own project: the route's success, or 404 where the route names a delivery that does not exist.
    const ownExpected = route.path.includes('{deliveryId}') ? [404] : [200, 201, 202];
    expect(ownExpected, `own project: ${own.status} ${await own.clone().text()}`).toContain(own.status);
    expect(other.status, 'other project').toBe(403);
    expect(anonymous.status, 'no credential').toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic /);
    if (missing) expect(missing.status, 'own project, missing id').toBe(404);
    // The other project's answer says nothing about A's subscription.
    expect(await other.text()).not.toContain(subscriptionId);
  });

  it('covers every route of ROUTES', () => {
    expect(cells.map(([id]) => id)).toEqual(ROUTES.map((route) => route.id));
    expect(cells.length).toBeGreaterThanOrEqual(7);
  });
});

describe('SSRF corpus through the API', () => {
  const CORPUS = [
    ...IP_LITERAL_TARGETS,
    ...SCHEME_TARGETS,
    'https://localhost/hook',
    'https://LOCALHOST./hook',
    'https://api.localhost/hook',
    'https://user:pass@example.com/hook',
    `https://example.com/${'a'.repeat(LIMITS.maxTargetLength)}`,
  ];

  it('create refuses every target of the corpus with 400, and stores nothing', async () => {
    for (const target of CORPUS) {
      const response = await call(`/${A.projectId}/subscriptions`, {
        method: 'POST',
        authorization: ownKey(),
        body: { event: 'request.close', target },
      });
      expect(response.status, target).toBe(400);
    }
    const listed = (await (
      await call(`/${A.projectId}/subscriptions?limit=1000`, { authorization: ownKey() })
    ).json()) as { event: string }[];
    expect(listed.filter((s) => s.event === 'request.close')).toEqual([]);
  });

  it('update refuses every target of the corpus with 400, and keeps the old target', async () => {
    const id = await createSubscription('https://hooks.example.com/keep');
    for (const target of CORPUS) {
      const response = await call(`/${A.projectId}/subscriptions/${id}`, {
        method: 'PUT',
        authorization: ownKey(),
        body: { target },
      });
      expect(response.status, target).toBe(400);
    }
    const kept = (await (
      await call(`/${A.projectId}/subscriptions/${id}`, { authorization: ownKey() })
    ).json()) as { target: string };
    expect(kept.target).toMatch(/^https:\/\/hooks\.example\.com\/keep/);
  });
});
