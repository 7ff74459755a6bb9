import { createHash, randomBytes } from 'node:crypto';

/**
 * Identifiers and secrets. Subscription ids sort by creation time (list is oldest
 * first by sort key); delivery ids are derived, so a retried fan-out repeats them.
 */

const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';

function base32(bytes: Uint8Array, length: number): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < length) {
      out += CROCKFORD[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

/** A 24-character id, like Tiledesk's Mongo ObjectIds in length: 10 chars of ms time, then 14 random. */
export function newSubscriptionId(now: number = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  return time + base32(randomBytes(9), 14);
}

/** `whsec_` + base64 of 32 CSPRNG bytes (Standard Webhooks' secret format). */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** `msg_` + 26 chars of SHA-256(eventId, subscriptionId): the same pair always gives the same id. */
export function deliveryIdFor(eventId: string, subscriptionId: string): string {
  const digest = createHash('sha256').update(`${eventId}\u0000${subscriptionId}`).digest();
  return `msg_${base32(digest, 26)}`;
}

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** API key ids and secrets: `key_` + 20 chars, and 32 CSPRNG bytes as base64url. */
export function newApiKeyId(): string {
  return `key_${base32(randomBytes(13), 20)}`;
}

export function newApiKeySecret(): string {
  return randomBytes(32).toString('base64url');
}
