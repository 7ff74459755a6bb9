import type { webcrypto } from 'node:crypto';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { createLocalJWKSet, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createJwtVerifier, JwtRejected } from '../../../functions/core/auth/jwt';
import type { JwtSettings } from '../../../functions/core/config/settings';

const secretsManager = mockClient(SecretsManagerClient);
const client = new SecretsManagerClient({});
const HS_SECRET = 'a-shared-hs256-secret-of-32-bytes!!';
const settings: JwtSettings = {
  issuer: 'https://tiledesk.example.com',
  audience: 'webhooks',
  jwksUrl: 'https://tiledesk.example.com/.well-known/jwks.json',
  secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:jwt',
  projectClaim: 'id_project',
};

let rsaPrivate: webcrypto.CryptoKey;
let otherPrivate: webcrypto.CryptoKey;
let jwk: JWK;

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  rsaPrivate = pair.privateKey;
  otherPrivate = (await generateKeyPair('RS256')).privateKey;
  jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
});

beforeEach(() => {
  secretsManager.reset();
  secretsManager.on(GetSecretValueCommand).resolves({ SecretString: HS_SECRET });
});

const nowSeconds = () => Math.floor(Date.now() / 1000);

interface TokenOptions {
  claims?: Record<string, unknown>;
  issuer?: string;
  audience?: string;
  expiresAt?: number;
  notBefore?: number;
}

function builder(options: TokenOptions) {
  const jwt = new SignJWT({ id_project: 'p1', ...options.claims })
    .setSubject('user_1')
    .setIssuer(options.issuer ?? settings.issuer)
    .setAudience(options.audience ?? settings.audience)
    .setIssuedAt()
    .setExpirationTime(options.expiresAt ?? nowSeconds() + 600);
  if (options.notBefore !== undefined) jwt.setNotBefore(options.notBefore);
  return jwt;
}

const rs256 = (options: TokenOptions = {}, key: webcrypto.CryptoKey = rsaPrivate) =>
  builder(options).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).sign(key);
const hs256 = (options: TokenOptions = {}, secret = HS_SECRET) =>
  builder(options).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(secret));

function verifier(overrides: Partial<JwtSettings> = {}) {
  return createJwtVerifier(
    { ...settings, ...overrides },
    { secretsManager: client, jwks: createLocalJWKSet({ keys: [jwk] }) },
  );
}

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

describe('JWT verification', () => {
  it('accepts a valid RS256 token from the JWKS', async () => {
    expect(await verifier()(await rs256())).toEqual({ subject: 'user_1', projectIds: ['p1'] });
  });

  it('accepts a valid HS256 token, fetching the secret from Secrets Manager once', async () => {
    const verify = verifier();

    expect(await verify(await hs256())).toEqual({ subject: 'user_1', projectIds: ['p1'] });
    await verify(await hs256({ claims: { id_project: ['p1', 'p2'] } }));

    expect(secretsManager).toHaveReceivedCommandTimes(GetSecretValueCommand, 1);
    expect(secretsManager).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: settings.secretArn });
  });

  it('reads several projects from an array claim, and a configurable claim name', async () => {
    const token = await rs256({ claims: { projects: ['p1', 'p2'] } });
    expect(await verifier({ projectClaim: 'projects' })(token)).toEqual({
      subject: 'user_1',
      projectIds: ['p1', 'p2'],
    });
  });

  const refusals: [string, () => Promise<string>][] = [
    [
      'alg none',
      async () =>
        `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ sub: 'u', id_project: 'p1', iss: settings.issuer, aud: settings.audience, exp: nowSeconds() + 600 })}.`,
    ],
    ['expired', () => rs256({ expiresAt: nowSeconds() - 3600 })],
    ['not yet valid', () => rs256({ notBefore: nowSeconds() + 3600 })],
    ['wrong audience', () => rs256({ audience: 'someone-else' })],
    ['wrong issuer', () => rs256({ issuer: 'https://evil.example.com' })],
    ['forged RS256 signature', () => rs256({}, otherPrivate)],
    ['forged HS256 signature', () => hs256({}, 'not-the-secret-not-the-secret-!!')],
    ['no project claim', () => rs256({ claims: { id_project: undefined } })],
    ['a malformed project id', () => rs256({ claims: { id_project: 'p1/../p2' } })],
    ['a non-string project', () => rs256({ claims: { id_project: [1] } })],
  ];

  for (const [name, token] of refusals) {
    it(`refuses a token with ${name}`, async () => {
      await expect(verifier()(await token())).rejects.toBeInstanceOf(JwtRejected);
    });
  }

  it('refuses a token without exp', async () => {
    const token = await new SignJWT({ id_project: 'p1' })
      .setSubject('u')
      .setIssuer(settings.issuer)
      .setAudience(settings.audience)
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(HS_SECRET));
    await expect(verifier()(token)).rejects.toBeInstanceOf(JwtRejected);
  });

  it('refuses HS256 when only a JWKS is configured (no algorithm confusion)', async () => {
    await expect(verifier({ secretArn: undefined })(await hs256())).rejects.toBeInstanceOf(JwtRejected);
    expect(secretsManager).not.toHaveReceivedCommand(GetSecretValueCommand);
  });

  it('treats a Secrets Manager failure as an outage, not a bad token, and retries it next time', async () => {
    secretsManager
      .on(GetSecretValueCommand)
      .rejectsOnce(new Error('throttled'))
      .resolves({ SecretString: HS_SECRET });
    const verify = verifier();

    await expect(verify(await hs256())).rejects.not.toBeInstanceOf(JwtRejected);
    expect(await verify(await hs256())).toMatchObject({ projectIds: ['p1'] });
  });
});
