import { createHmac } from 'node:crypto';
import type { Subscription } from '../model/subscription';

/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com/): `v1,` + base64
 * HMAC-SHA256 of `${id}.${timestamp}.${body}`, keyed with the base64-decoded part of
 * `whsec_<base64>`. Several signatures are space-separated; a receiver accepts the
 * request when any one verifies, which is what lets a secret rotate without downtime.
 */

const SECRET_PREFIX = 'whsec_';

export interface SignatureHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** The HMAC key of a `whsec_` secret (a secret without the prefix is read as base64 too, as the libraries do). */
export function secretKey(secret: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  return Buffer.from(encoded, 'base64');
}

export function sign(secret: string, id: string, timestampSeconds: number, body: string): string {
  const digest = createHmac('sha256', secretKey(secret))
    .update(`${id}.${timestampSeconds}.${body}`)
    .digest('base64');
  return `v1,${digest}`;
}

/** The three Standard Webhooks headers, one signature per secret, in the order given. */
export function signatureHeaders(
  id: string,
  timestampSeconds: number,
  body: string,
  secrets: readonly string[],
): SignatureHeaders {
  if (secrets.length === 0) throw new Error('at least one signing secret is required');
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': secrets.map((secret) => sign(secret, id, timestampSeconds, body)).join(' '),
  };
}

/** The current secret first, then the previous one while its grace period lasts (secret rotation). */
export function signingSecrets(subscription: Subscription, now: number = Date.now()): string[] {
  const secrets = [subscription.secret];
  const expiresAt = subscription.previousSecretExpiresAt
    ? Date.parse(subscription.previousSecretExpiresAt)
    : Number.NaN;
  if (subscription.previousSecret && Number.isFinite(expiresAt) && expiresAt > now) {
    secrets.push(subscription.previousSecret);
  }
  return secrets;
}
