import { readFileSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../../functions/authorizer';
import { type AuthorizerDeps, authorize } from '../../../functions/core/auth/authorizer';
import { createJwtVerifier } from '../../../functions/core/auth/jwt';
import { sha256Hex } from '../../../functions/core/ids';
import { keys } from '../../../functions/core/storage/table';

process.env.TABLE_NAME = 'webhooks-test';

const ddb = mockClient(DynamoDBDocumentClient);
const db = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const SECRET = 'a-long-enough-test-secret';
const fixture = JSON.parse(
  readFileSync(new URL('../../fixtures/api/authorizer-event.json', import.meta.url), 'utf8'),
) as APIGatewayRequestAuthorizerEvent;
const ARN_PREFIX = 'arn:aws:execute-api:eu-west-1:123456789012:abc123/v1';

function event(authorization?: string, headerName = 'Authorization'): APIGatewayRequestAuthorizerEvent {
  const copy = structuredClone(fixture);
  copy.headers = { ...copy.headers, ...(authorization === undefined ? {} : { [headerName]: authorization }) };
  return copy;
}

const basic = (keyId: string, secret: string) =>
  `Basic ${Buffer.from(`${keyId}:${secret}`).toString('base64')}`;

function keyItem(overrides: Record<string, unknown> = {}) {
  return {
    pk: keys.apiKey('key_a'),
    sk: keys.apiKeySk,
    keyId: 'key_a',
    projectId: 'p1',
    secretHash: sha256Hex(SECRET),
    ...overrides,
  };
}

/** IAM's execute-api ARN matching: `*` spans any characters, `/` included. */
function allows(result: APIGatewayAuthorizerResult, arn: string): boolean {
  return result.policyDocument.Statement.some((statement) => {
    if (!('Resource' in statement) || statement.Effect !== 'Allow') return false;
    const resources = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
    return resources.some((resource) => {
      if (resource === undefined) return false;
      const pattern = resource
        .split('*')
        .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*');
      return new RegExp(`^${pattern}$`).test(arn);
    });
  });
}

const deps: AuthorizerDeps = { db, tableName: 'webhooks-test' };

beforeEach(() => {
  ddb.reset();
});

describe('authorize with API keys', () => {
  it('allows a valid key for its own project only, with the context the functions read', async () => {
    ddb.on(GetCommand).resolves({ Item: keyItem() });

    const result = await authorize(event(basic('key_a', SECRET)), deps);

    expect(result.principalId).toBe('key_a');
    expect(result.context).toEqual({ projectIds: 'p1', principal: 'key_a', authType: 'apiKey' });
    expect(ddb).toHaveReceivedCommandWith(GetCommand, {
      Key: { pk: keys.apiKey('key_a'), sk: keys.apiKeySk },
    });
    for (const arn of [
      `${ARN_PREFIX}/GET/p1/subscriptions`,
      `${ARN_PREFIX}/POST/p1/subscriptions`,
      `${ARN_PREFIX}/GET/p1/subscriptions/history`,
      `${ARN_PREFIX}/PUT/p1/subscriptions/01jabc`,
      `${ARN_PREFIX}/DELETE/p1/subscriptions/01jabc`,
      `${ARN_PREFIX}/GET/p1/subscriptions/01jabc/deliveries`,
    ]) {
      expect(allows(result, arn), arn).toBe(true);
    }
  });

  it("denies another project's paths even when the cached policy is reused for them", async () => {
    ddb.on(GetCommand).resolves({ Item: keyItem() });

    // API Gateway caches this result by the Authorization header alone and applies it to every path.
    const result = await authorize(event(basic('key_a', SECRET)), deps);

    for (const arn of [
      `${ARN_PREFIX}/GET/p2/subscriptions`,
      `${ARN_PREFIX}/POST/p2/subscriptions`,
      `${ARN_PREFIX}/GET/p10/subscriptions`,
      `${ARN_PREFIX}/GET/p1x/subscriptions/01jabc`,
      `${ARN_PREFIX}/DELETE/p2/subscriptions/01jabc`,
      'arn:aws:execute-api:eu-west-1:123456789012:otherapi/v1/GET/p1/subscriptions',
      `arn:aws:execute-api:eu-west-1:123456789012:abc123/v2/GET/p1/subscriptions`,
    ]) {
      expect(allows(result, arn), arn).toBe(false);
    }
  });

  it('reads the header whatever its case', async () => {
    ddb.on(GetCommand).resolves({ Item: keyItem() });

    await expect(authorize(event(basic('key_a', SECRET), 'authorization'), deps)).resolves.toMatchObject({
      principalId: 'key_a',
    });
  });

  const refusals: [string, string | undefined, Record<string, unknown> | undefined][] = [
    ['a missing header', undefined, keyItem()],
    ['an empty header', '', keyItem()],
    ['Basic that is not base64', 'Basic !!!', keyItem()],
    ['Basic without a colon', `Basic ${Buffer.from('key_a').toString('base64')}`, keyItem()],
    ['Basic with an empty secret', `Basic ${Buffer.from('key_a:').toString('base64')}`, keyItem()],
    ['an unknown scheme', 'Digest abc', keyItem()],
    ['an unknown key', basic('key_a', SECRET), undefined],
    ['a wrong secret', basic('key_a', `${SECRET}!`), keyItem()],
    ['a revoked key', basic('key_a', SECRET), keyItem({ revokedAt: '2025-01-01T00:00:00.000Z' })],
  ];

  for (const [name, header, item] of refusals) {
    it(`answers Unauthorized for ${name}`, async () => {
      ddb.on(GetCommand).resolves(item ? { Item: item } : {});

      await expect(authorize(event(header), deps)).rejects.toThrow(/^Unauthorized$/);
    });
  }

  it('lets a DynamoDB failure surface as an error, not as Unauthorized', async () => {
    ddb.on(GetCommand).rejects(new Error('throttled'));

    await expect(authorize(event(basic('key_a', SECRET)), deps)).rejects.toThrow('throttled');
  });
});

describe('authorize with JWTs', () => {
  const issuer = 'https://tiledesk.example.com';
  const audience = 'webhooks';

  async function setup() {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
    const jwt = createJwtVerifier(
      {
        issuer,
        audience,
        jwksUrl: 'https://unused.example.com/jwks',
        secretArn: undefined,
        projectClaim: 'id_project',
      },
      { jwks: createLocalJWKSet({ keys: [jwk] }) },
    );
    const sign = (claims: Record<string, unknown>, expires: string | number = '10m') =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setSubject('user_1')
        .setIssuer(issuer)
        .setAudience(audience)
        .setExpirationTime(expires)
        .sign(privateKey);
    return { jwt, sign };
  }

  it('allows Bearer and Tiledesk’s JWT scheme for every project in the claim', async () => {
    const { jwt, sign } = await setup();
    const token = await sign({ id_project: ['p1', 'p2'] });

    for (const header of [`Bearer ${token}`, `JWT ${token}`]) {
      const result = await authorize(event(header), { ...deps, jwt });
      expect(result.context).toEqual({ projectIds: 'p1,p2', principal: 'user_1', authType: 'jwt' });
      expect(allows(result, `${ARN_PREFIX}/GET/p2/subscriptions/x`)).toBe(true);
      expect(allows(result, `${ARN_PREFIX}/GET/p3/subscriptions/x`)).toBe(false);
    }
    expect(ddb.calls()).toHaveLength(0);
  });

  it('answers Unauthorized for a bad token, and for any token when JWT auth is off', async () => {
    const { jwt, sign } = await setup();
    const expired = await sign({ id_project: 'p1' }, Math.floor(Date.now() / 1000) - 3600);
    await expect(authorize(event(`Bearer ${expired}`), { ...deps, jwt })).rejects.toThrow(/^Unauthorized$/);
    await expect(authorize(event('Bearer not-a-jwt'), { ...deps, jwt })).rejects.toThrow(/^Unauthorized$/);
    const valid = await sign({ id_project: 'p1' });
    await expect(authorize(event(`Bearer ${valid}`), deps)).rejects.toThrow(/^Unauthorized$/);
  });
});

describe('authorizer handler', () => {
  it('authorizes with the table from TABLE_NAME', async () => {
    ddb.on(GetCommand).resolves({ Item: keyItem() });

    const result = await handler(event(basic('key_a', SECRET)));

    expect(result.context).toMatchObject({ projectIds: 'p1' });
    expect(ddb).toHaveReceivedCommandWith(GetCommand, { TableName: 'webhooks-test' });
  });

  it('throws Unauthorized for missing credentials', async () => {
    await expect(handler(event())).rejects.toThrow(/^Unauthorized$/);
  });
});
