import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { describe, expect, it } from 'vitest';
import { postWebhook } from '../../../functions/core/delivery/http-attempt';
import { sign, signatureHeaders, signingSecrets } from '../../../functions/core/delivery/signing';
import { buildWebhookRequest } from '../../../functions/core/delivery/webhook-request';
import { toPublic } from '../../../functions/core/model/subscription';
import {
  freshAgents,
  listenDuringTests,
  message,
  PREVIOUS_SECRET,
  type ReceivedRequest,
  Receiver,
  SECRET,
  subscription,
} from './helpers';

const receiver = new Receiver();
const agents = freshAgents();
const targets = { allowHttp: true, allowPrivate: true };

listenDuringTests(receiver, agents);

/** Sends one real webhook to the local receiver and returns what the receiver got. */
async function deliverOnce(sub = subscription(), msg = message()): Promise<ReceivedRequest> {
  const path = `/hook-${receiver.requests.length}`;
  const target = receiver.url(path);
  const request = buildWebhookRequest({ ...sub, target }, msg, { userAgent: 'tiledesk-webhooks/test' });
  const result = await postWebhook(target, request, { timeoutMs: 5000, targets, agents });
  expect(result).toMatchObject({ kind: 'response', statusCode: 200 });
  const [received] = receiver.requestsTo(path);
  if (!received) throw new Error('the receiver got nothing');
  return received;
}

/** The headers as a receiver framework hands them over: lower-case names, string values. */
function headerRecord(received: ReceivedRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(received.headers)) {
    if (typeof value === 'string') out[name] = value;
  }
  return out;
}

describe('the webhook request as the receiver sees it', () => {
  it('carries Tiledesk body {hook, timestamp, payload} with the public subscription and no secret', async () => {
    const sub = subscription({
      previousSecret: PREVIOUS_SECRET,
      previousSecretExpiresAt: '2999-01-01T00:00:00Z',
    });
    const msg = message();

    const received = await deliverOnce(sub, msg);

    const body = JSON.parse(received.body);
    const target = receiver.url(received.path);
    expect(Object.keys(body)).toEqual(['hook', 'timestamp', 'payload']);
    expect(body).toEqual({
      hook: toPublic({ ...sub, target }),
      timestamp: msg.timestamp,
      payload: msg.payload,
    });
    expect(received.body).not.toContain(SECRET);
    expect(received.body).not.toContain(PREVIOUS_SECRET);
    expect(body.hook).not.toHaveProperty('secret');
    expect(body.hook).not.toHaveProperty('previousSecret');
  });

  it('adds the token when the event carried one', async () => {
    const received = await deliverOnce(subscription(), message({ token: 'event-jwt' }));

    expect(JSON.parse(received.body)).toMatchObject({ token: 'event-jwt' });
  });

  it('sends content-type, user-agent, x-hook-secret and the Standard Webhooks headers', async () => {
    const msg = message();
    const before = Math.floor(Date.now() / 1000);

    const received = await deliverOnce(subscription(), msg);

    expect(received.method).toBe('POST');
    expect(received.headers['content-type']).toBe('application/json');
    expect(received.headers['user-agent']).toBe('tiledesk-webhooks/test');
    expect(received.headers['x-hook-secret']).toBe(SECRET);
    expect(received.headers['webhook-id']).toBe(msg.deliveryId);
    const timestamp = Number(received.headers['webhook-timestamp']);
    expect(timestamp).toBeGreaterThanOrEqual(before);
    expect(timestamp).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    expect(received.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(received.headers['content-length']).toBe(String(Buffer.byteLength(received.body)));
  });
});

describe('signatures verified by the receivers libraries', () => {
  it('verifies with standardwebhooks exactly as a receiver uses it', async () => {
    const received = await deliverOnce();

    const payload = new StandardWebhook(SECRET).verify(received.body, headerRecord(received));

    expect(payload).toEqual(JSON.parse(received.body));
  });

  it('verifies with svix, with the webhook-* headers and renamed to svix-*', async () => {
    const received = await deliverOnce();
    const headers = headerRecord(received);
    const svixHeaders = {
      'svix-id': headers['webhook-id'] ?? '',
      'svix-timestamp': headers['webhook-timestamp'] ?? '',
      'svix-signature': headers['webhook-signature'] ?? '',
    };

    expect(new SvixWebhook(SECRET).verify(received.body, headers)).toEqual(JSON.parse(received.body));
    expect(new SvixWebhook(SECRET).verify(received.body, svixHeaders)).toEqual(JSON.parse(received.body));
  });

  it('fails verification with another secret or a changed body', async () => {
    const received = await deliverOnce();
    const headers = headerRecord(received);

    expect(() => new StandardWebhook(PREVIOUS_SECRET).verify(received.body, headers)).toThrow();
    expect(() => new SvixWebhook(SECRET).verify(`${received.body} `, headers)).toThrow();
  });

  it('during a rotation sends both signatures, and both the new and the old secret verify', async () => {
    const sub = subscription({
      previousSecret: PREVIOUS_SECRET,
      previousSecretExpiresAt: '2999-01-01T00:00:00Z',
    });

    const received = await deliverOnce(sub);
    const headers = headerRecord(received);

    expect(headers['webhook-signature']?.split(' ')).toHaveLength(2);
    expect(headers['x-hook-secret']).toBe(SECRET);
    for (const secret of [SECRET, PREVIOUS_SECRET]) {
      expect(new StandardWebhook(secret).verify(received.body, headers)).toBeTruthy();
      expect(new SvixWebhook(secret).verify(received.body, headers)).toBeTruthy();
    }
  });

  it('after the grace period signs with the current secret only', async () => {
    const sub = subscription({
      previousSecret: PREVIOUS_SECRET,
      previousSecretExpiresAt: '2020-01-01T00:00:00Z',
    });

    const received = await deliverOnce(sub);
    const headers = headerRecord(received);

    expect(headers['webhook-signature']?.split(' ')).toHaveLength(1);
    expect(() => new StandardWebhook(PREVIOUS_SECRET).verify(received.body, headers)).toThrow();
    expect(new StandardWebhook(SECRET).verify(received.body, headers)).toBeTruthy();
  });
});

describe('signing primitives', () => {
  it('matches the Standard Webhooks reference signature', () => {
    // The example from the Standard Webhooks specification's test vectors (also used by svix).
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const id = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
    const timestamp = 1614265330;
    const body = '{"test": 2432232314}';

    expect(sign(secret, id, timestamp, body)).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('orders current then previous, space-separated', () => {
    const headers = signatureHeaders('msg_1', 100, '{}', [SECRET, PREVIOUS_SECRET]);

    expect(headers['webhook-signature']).toBe(
      `${sign(SECRET, 'msg_1', 100, '{}')} ${sign(PREVIOUS_SECRET, 'msg_1', 100, '{}')}`,
    );
    expect(headers['webhook-timestamp']).toBe('100');
  });

  it('keeps the previous secret exactly while previousSecretExpiresAt is in the future', () => {
    const sub = subscription({
      previousSecret: PREVIOUS_SECRET,
      previousSecretExpiresAt: '2024-01-01T00:00:00.000Z',
    });
    const expiry = Date.parse('2024-01-01T00:00:00.000Z');

    expect(signingSecrets(sub, expiry - 1)).toEqual([SECRET, PREVIOUS_SECRET]);
    expect(signingSecrets(sub, expiry)).toEqual([SECRET]);
    expect(signingSecrets(subscription(), expiry)).toEqual([SECRET]);
  });
});
