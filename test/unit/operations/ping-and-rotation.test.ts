import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { Webhook } from 'standardwebhooks';
import { beforeEach, describe, expect, it } from 'vitest';
import type { AttemptSettings } from '../../../functions/core/config/settings';
import { PING_EVENT, pingSubscription } from '../../../functions/core/delivery/test-ping';
import { buildWebhookRequest } from '../../../functions/core/delivery/webhook-request';
import { deliveryIdFor } from '../../../functions/core/ids';
import type { Subscription } from '../../../functions/core/model/subscription';
import { keys } from '../../../functions/core/storage/table';
import { subscriptionItem } from '../../../functions/core/subscriptions/repository';
import { rotateSecret } from '../../../functions/core/subscriptions/secret-rotation';
import {
  freshAgents,
  listenDuringTests,
  message,
  PREVIOUS_SECRET,
  Receiver,
  SECRET,
  subscription,
  testAttemptSettings,
} from '../delivery/helpers';

const db = mockClient(DynamoDBDocumentClient);
const dbClient = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const agents = freshAgents();
const NOW = Date.parse('2025-02-01T08:00:00.000Z');
const HOUR = 3_600_000;

const receiver = new Receiver()
  .on('/ok', (_req, res) => res.writeHead(200).end('ok'))
  .on('/error', (_req, res) => res.writeHead(500).end('boom'))
  .on('/gone', (_req, res) => res.writeHead(410).end('gone'))
  .on('/hang', () => undefined);

const settings = testAttemptSettings;

const subKey = { pk: keys.project('proj_1'), sk: keys.subscriptionSk('sub_1') };

function store(sub: Subscription | undefined): void {
  db.on(GetCommand, { Key: subKey }).resolves(sub ? { Item: subscriptionItem(sub) } : {});
}

function loggedItems() {
  return db.commandCalls(PutCommand).map((call) => call.args[0].input.Item ?? {});
}

listenDuringTests(receiver, agents);

beforeEach(() => {
  db.reset();
  db.on(GetCommand).resolves({});
  db.on(PutCommand).resolves({});
});

describe('pingSubscription', () => {
  const ping = (sub: Subscription | undefined, more: Partial<AttemptSettings> = {}, at = NOW) => {
    store(sub);
    return pingSubscription(dbClient, settings(more), 'proj_1', 'sub_1', {
      now: () => at,
      newEventId: () => 'fixed',
      agents,
    });
  };

  it('sends a signed webhook of event ping with the body and headers of a real one', async () => {
    const sub = subscription({ target: receiver.url('/ok') });
    const before = receiver.requestsTo('/ok').length;
    // standardwebhooks refuses timestamps far from its own clock: this ping is sent now.
    const sentAt = Date.now();

    const outcome = await ping(sub, {}, sentAt);

    const deliveryId = deliveryIdFor('ping_fixed', 'sub_1');
    expect(outcome).toEqual({
      kind: 'sent',
      result: { ok: true, status: 200, durationMs: expect.any(Number), error: null, deliveryId },
    });
    const request = receiver.requestsTo('/ok')[before];
    expect(request?.method).toBe('POST');
    expect(request?.headers).toMatchObject({
      'content-type': 'application/json',
      'user-agent': 'tiledesk-webhooks/test',
      'x-hook-secret': SECRET,
      'webhook-id': deliveryId,
      'webhook-timestamp': String(Math.floor(sentAt / 1000)),
    });
    const verified = new Webhook(SECRET).verify(request?.body ?? '', {
      'webhook-id': String(request?.headers['webhook-id']),
      'webhook-timestamp': String(request?.headers['webhook-timestamp']),
      'webhook-signature': String(request?.headers['webhook-signature']),
    });
    expect(verified).toMatchObject({ payload: { event: PING_EVENT } });
    const body = JSON.parse(request?.body ?? '{}');
    expect(Object.keys(body).sort()).toEqual(['hook', 'payload', 'timestamp']);
    expect(body.hook).toMatchObject({ _id: 'sub_1', id_project: 'proj_1', event: 'request.create' });
    expect(body.hook).not.toHaveProperty('secret');
    expect(body.payload).toMatchObject({ event: PING_EVENT, subscriptionId: 'sub_1' });
    expect(body.timestamp).toBe(sentAt);
  });

  it('logs the attempt in the delivery log as event ping', async () => {
    await ping(subscription({ target: receiver.url('/ok') }));

    expect(loggedItems()).toEqual([
      expect.objectContaining({
        pk: keys.projectLog('proj_1'),
        gsi2pk: keys.subscriptionLog('sub_1'),
        event: PING_EVENT,
        outcome: 'delivered',
        statusCode: 200,
        attempt: 1,
        deliveryId: deliveryIdFor('ping_fixed', 'sub_1'),
        attemptedAt: new Date(NOW).toISOString(),
      }),
    ]);
  });

  it('reports a failing receiver and logs it as failed, without retry or failure state', async () => {
    const outcome = await ping(subscription({ target: receiver.url('/error') }));

    expect(outcome).toMatchObject({ kind: 'sent', result: { ok: false, status: 500, error: 'HTTP 500' } });
    expect(loggedItems()[0]).toMatchObject({ outcome: 'failed', statusCode: 500, error: 'HTTP 500' });
    expect(loggedItems()[0]).not.toHaveProperty('nextAttemptAt');
    expect(db).not.toHaveReceivedCommand(UpdateCommand);
  });

  it('a 410 answer is reported and does not unsubscribe', async () => {
    const outcome = await ping(subscription({ target: receiver.url('/gone') }));

    expect(outcome).toMatchObject({ result: { ok: false, status: 410 } });
    expect(db).not.toHaveReceivedCommand(DeleteCommand);
    expect(db).not.toHaveReceivedCommand(UpdateCommand);
  });

  it('pings a disabled subscription too', async () => {
    const outcome = await ping(subscription({ target: receiver.url('/ok'), status: 'disabled' }));

    expect(outcome).toMatchObject({ result: { ok: true, status: 200 } });
  });

  it('applies the SSRF rules: a loopback target is refused without a request', async () => {
    const before = receiver.requests.length;

    const outcome = await ping(subscription({ target: receiver.url('/ok') }), {
      targets: { allowHttp: true, allowPrivate: false },
    });

    expect(outcome).toMatchObject({ result: { ok: false, status: null } });
    expect(outcome.kind === 'sent' && outcome.result.error).toMatch(/^target refused: /);
    expect(receiver.requests).toHaveLength(before);
  });

  it('applies the attempt timeout', async () => {
    const outcome = await ping(subscription({ target: receiver.url('/hang') }));

    expect(outcome).toMatchObject({ result: { ok: false, status: null, error: 'timed out after 300 ms' } });
  });

  it('answers not-found for a subscription absent from this project, and sends nothing', async () => {
    const before = receiver.requests.length;

    expect(await ping(undefined)).toEqual({ kind: 'not-found' });
    expect(receiver.requests).toHaveLength(before);
    expect(db).not.toHaveReceivedCommand(PutCommand);
  });

  it('reads the subscription consistently (a secret rotated a moment ago signs the ping)', async () => {
    await ping(subscription({ target: receiver.url('/ok') }));

    expect(db).toHaveReceivedCommandWith(GetCommand, { Key: subKey, ConsistentRead: true });
  });

  it('a failed log write still answers the outcome', async () => {
    db.on(PutCommand).rejects(new Error('throttled'));

    const outcome = await ping(subscription({ target: receiver.url('/ok') }));

    expect(outcome).toMatchObject({ result: { ok: true } });
  });
});

describe('rotateSecret', () => {
  const NEW_SECRET = `whsec_${Buffer.from('the-new-secret-key-of-32-bytes!!').toString('base64')}`;
  const current = subscription({ secret: SECRET });

  function updateInput(): UpdateCommandInput | undefined {
    return db.commandCalls(UpdateCommand)[0]?.args[0].input;
  }

  const rotate = () =>
    rotateSecret(
      dbClient,
      'webhooks',
      'proj_1',
      'sub_1',
      { graceMs: 24 * HOUR },
      {
        now: () => NOW,
        newSecret: () => NEW_SECRET,
      },
    );

  it('makes a new secret current and keeps the old one until the grace period ends', async () => {
    store(current);
    const expiresAt = new Date(NOW + 24 * HOUR).toISOString();
    db.on(UpdateCommand).resolves({
      Attributes: subscriptionItem({
        ...current,
        secret: NEW_SECRET,
        previousSecret: SECRET,
        previousSecretExpiresAt: expiresAt,
        updatedAt: new Date(NOW).toISOString(),
      }),
    });

    const result = await rotate();

    expect(result.kind).toBe('rotated');
    const rotated = result.kind === 'rotated' ? result.subscription : undefined;
    expect(rotated).toMatchObject({ _id: 'sub_1', secret: NEW_SECRET, previousSecretExpiresAt: expiresAt });
    expect(rotated).not.toHaveProperty('previousSecret');
    expect(rotated).not.toHaveProperty('pk');
    expect(updateInput()).toMatchObject({
      Key: subKey,
      ConditionExpression: 'attribute_exists(#pk) AND #secret = :previous',
      ExpressionAttributeValues: {
        ':secret': NEW_SECRET,
        ':previous': SECRET,
        ':expires': expiresAt,
        ':now': new Date(NOW).toISOString(),
      },
    });
  });

  it('is not found for a subscription absent from this project', async () => {
    store(undefined);

    expect(await rotate()).toEqual({ kind: 'not-found' });
    expect(db).not.toHaveReceivedCommand(UpdateCommand);
  });

  it('reads again when a concurrent rotation won, and gives up after a second loss', async () => {
    store(current);
    db.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'changed', $metadata: {} }));

    expect(await rotate()).toEqual({ kind: 'busy' });
    expect(db).toHaveReceivedCommandTimes(UpdateCommand, 2);
  });

  it('answers not-found when the subscription was deleted meanwhile', async () => {
    db.on(GetCommand, { Key: subKey })
      .resolvesOnce({ Item: subscriptionItem(current) })
      .resolves({});
    db.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'gone', $metadata: {} }));

    expect(await rotate()).toEqual({ kind: 'not-found' });
  });
});

describe('receivers during a rotation (standardwebhooks, unchanged)', () => {
  const OLD = PREVIOUS_SECRET;
  const NEW = SECRET;
  const now = Date.now();
  const rotated = subscription({
    secret: NEW,
    previousSecret: OLD,
    previousSecretExpiresAt: new Date(now + 24 * HOUR).toISOString(),
  });

  function verifies(secret: string, sub: Subscription, at: number): boolean {
    const request = buildWebhookRequest(sub, message(), { userAgent: 'test', now: at });
    try {
      new Webhook(secret).verify(request.body, request.headers);
      return true;
    } catch {
      return false;
    }
  }

  it('a receiver verifying with ONLY the old secret keeps working during the grace period', () => {
    expect(verifies(OLD, rotated, now)).toBe(true);
  });

  it('a receiver verifying with ONLY the new secret works at once', () => {
    expect(verifies(NEW, rotated, now)).toBe(true);
  });

  it('after the grace period only the new secret verifies', () => {
    // The receiver's clock must be near the signature's, so the grace period is what moves.
    const expired = { ...rotated, previousSecretExpiresAt: new Date(now - HOUR).toISOString() };
    expect(verifies(OLD, expired, now)).toBe(false);
    expect(verifies(NEW, expired, now)).toBe(true);
  });

  it('a delivery function still holding the pre-rotation subscription (cache TTL) signs with the old secret only', () => {
    const cachedBefore = subscription({ secret: OLD });
    expect(verifies(OLD, cachedBefore, now)).toBe(true);
    expect(verifies(NEW, cachedBefore, now)).toBe(false);
  });
});
