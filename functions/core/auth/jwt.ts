import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from 'jose';
import { PROJECT_ID_PATTERN } from '../config/api';
import type { JwtSettings } from '../config/settings';

/**
 * JWT verification with `jose`: issuer and audience as configured, `exp` required, and
 * only the algorithms of the configured key material (HS256 for a shared secret kept in
 * Secrets Manager, RS/PS/ES for a JWKS). `alg: none` is never accepted.
 */
export const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
];
export const SYMMETRIC_ALGORITHMS = ['HS256'];
/** Allowed clock skew between the token's issuer and us. */
export const CLOCK_TOLERANCE_SECONDS = 5;

export interface JwtPrincipal {
  subject: string;
  projectIds: string[];
}

export type JwtVerifier = (token: string) => Promise<JwtPrincipal>;

export interface JwtVerifierDeps {
  /** For the HS256 secret (SecretString of settings.secretArn). */
  secretsManager?: SecretsManagerClient;
  /** Key set to use instead of fetching settings.jwksUrl (tests pass createLocalJWKSet). */
  jwks?: JWTVerifyGetKey;
}

export class JwtRejected extends Error {
  override name = 'JwtRejected';
}

function projectIdsOf(payload: JWTPayload, claim: string): string[] {
  const value = payload[claim];
  const ids = typeof value === 'string' ? [value] : Array.isArray(value) ? value : [];
  if (
    ids.length === 0 ||
    !ids.every((id): id is string => typeof id === 'string' && PROJECT_ID_PATTERN.test(id))
  ) {
    throw new JwtRejected(`claim ${claim} must be a project id or an array of them`);
  }
  return ids;
}

export function createJwtVerifier(settings: JwtSettings, deps: JwtVerifierDeps = {}): JwtVerifier {
  const jwks = deps.jwks ?? (settings.jwksUrl ? createRemoteJWKSet(new URL(settings.jwksUrl)) : undefined);
  // Fetched once per container; a failed fetch is forgotten so the next request retries.
  let secret: Promise<Uint8Array> | undefined;
  const sharedSecret = (): Promise<Uint8Array> => {
    const { secretArn } = settings;
    const client = deps.secretsManager;
    if (!secretArn || !client) return Promise.reject(new JwtRejected('no HS256 secret configured'));
    secret ??= client.send(new GetSecretValueCommand({ SecretId: secretArn })).then((output) => {
      if (!output.SecretString) throw new Error('the JWT secret has no SecretString');
      return new TextEncoder().encode(output.SecretString);
    });
    secret.catch(() => {
      secret = undefined;
    });
    return secret;
  };

  return async (token) => {
    let alg: string | undefined;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw new JwtRejected('malformed token header');
    }
    const options = {
      issuer: settings.issuer,
      audience: settings.audience,
      requiredClaims: ['exp'],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
    };
    let payload: JWTPayload;
    try {
      if (alg !== undefined && SYMMETRIC_ALGORITHMS.includes(alg) && settings.secretArn) {
        ({ payload } = await jwtVerify(token, await sharedSecret(), {
          ...options,
          algorithms: SYMMETRIC_ALGORITHMS,
        }));
      } else if (alg !== undefined && ASYMMETRIC_ALGORITHMS.includes(alg) && jwks) {
        ({ payload } = await jwtVerify(token, jwks, { ...options, algorithms: ASYMMETRIC_ALGORITHMS }));
      } else {
        throw new JwtRejected(`algorithm ${String(alg).slice(0, 10)} is not accepted`);
      }
    } catch (error) {
      if (error instanceof JwtRejected) throw error;
      // A JWKS that cannot be fetched, or Secrets Manager failing, is an outage, not a bad token.
      if (!(error instanceof errors.JOSEError) || error instanceof errors.JWKSTimeout) throw error;
      // jose's codes name the reason: ERR_JWT_EXPIRED, ERR_JWS_SIGNATURE_VERIFICATION_FAILED, ...
      throw new JwtRejected(error.code);
    }
    // Tiledesk's tokens name the user in `_id` when `sub` is absent.
    const subject = typeof payload.sub === 'string' && payload.sub !== '' ? payload.sub : payload._id;
    if (typeof subject !== 'string' || subject === '') throw new JwtRejected('token has no subject');
    return { subject: subject.slice(0, 200), projectIds: projectIdsOf(payload, settings.projectClaim) };
  };
}
