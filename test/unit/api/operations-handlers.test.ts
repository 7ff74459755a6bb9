import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handler as recoverHandler } from '../../../functions/api/recover-deliveries';
import { handler as retryHandler } from '../../../functions/api/retry-delivery';
import { handler as rotateHandler } from '../../../functions/api/rotate-secret';
import { handler as testHandler } from '../../../functions/api/test-subscription';
import { deliveryAttemptItem } from '../../../functions/core/delivery-log/writer';
import { deliveryIdFor } from '../../../functions/core/ids';
import type { DeliveryMessage } from '../../../functions/core/model/delivery-message';
import type { Subscription } from '../../../functions/core/model/subscription';
import { payloadItem, payloadKey } from '../../../functions/core/replay/payloads';
import { subscriptionItem } from '../../../functions/core/subscriptions/repository';
import { Receiver } from '../delivery/helpers';
import { fieldsOf, parse, proxyEvent } from './events';
import { storedSubscription, subscriptionKeyOf } from './fixtures';

// Read lazily by the handlers at their first invocation.
Object.assign(process.env, {
  TABLE_NAME: 'webhooks-test',
  DELIVERY_QUEUE_URL: 'https://sqs.local/deliveries',
  DELIVERY_LOG_TTL_DAYS: '30',
  SECRET_GRACE_HOURS: '6',
  ATTEMPT_TIMEOUT_MS: '2000',
  ALLOW_HTTP_TARGETS: 'true',
  ALLOW_PRIVATE_TARGETS: 'true',
});

const ddb = mockClient(DynamoDBDocumentClient);
const sqs = mockClient(SQSClient);
const receiver = new Receiver()
  .on('/ok', (_req, res) => res.writeHead(200).end('ok'))
  .on('/error', (_req, res) => res.writeHead(503).end('down'));

const SECRET = `whsec_${Buffer.from('stored-secret-of-thirty-two-byte').toString('base64')}`;
const stored = storedSubscription({ secret: SECRET });
const subscriptionKey = subscriptionKeyOf(stored);
const idPath = { projectId: 'p1', subscriptionId: stored._id };
const otherProject = { projectId: 'p2', subscriptionId: stored._id };

function storeSubscription(value: Subscription | undefined): void {
  ddb.on(GetCommand, { Key: subscriptionKey }).resolves(value ? { Item: subscriptionItem(value) } : {});
}

function failedMessage(eventId: string): DeliveryMessage {
  return {
    v: 1,
    deliveryId: deliveryIdFor(eventId, stored._id),
    eventId,
    subscriptionId: stored._id,
    projectId: 'p1',
    event: 'request.create',
    timestamp: Date.now() - 60_000,
    payload: { n: eventId },
  };
}

function storePayload(message: DeliveryMessage): void {
  ddb.on(GetCommand, { Key: payloadKey(message.deliveryId) }).resolves({
    Item: payloadItem(message, Date.now() - 60_000, 30),
  });
}

beforeAll(async () => {
  await receiver.listen();
});

afterAll(async () => {
  await receiver.close();
});

beforeEach(() => {
  ddb.reset();
  sqs.reset();
  ddb.on(GetCommand).resolves({});
  ddb.on(PutCommand).resolves({});
  sqs.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
});

describe('POST /{projectId}/subscriptions/{subscriptionId}/test', () => {
  it('answers 200 with ok, status, durationMs, error and the ping’s deliveryId', async () => {
    storeSubscription({ ...stored, target: receiver.url('/ok') });

    const response = parse(await testHandler(proxyEvent({ pathParameters: idPath })));

    expect(response.statusCode).toBe(200);
    expect(response.body).toEqual({
      ok: true,
      status: 200,
      durationMs: expect.any(Number),
      error: null,
      deliveryId: expect.stringMatching(/^msg_/),
    });
    expect(ddb).toHaveReceivedCommandWith(PutCommand, { Item: expect.objectContaining({ event: 'ping' }) });
  });

  it('answers 200 with ok false when the receiver fails (the test ran; the target did not pass)', async () => {
    storeSubscription({ ...stored, target: receiver.url('/error') });

    const response = parse(await testHandler(proxyEvent({ pathParameters: idPath })));

    expect(response).toMatchObject({ statusCode: 200, body: { ok: false, status: 503, error: 'HTTP 503' } });
  });

  it('accepts an empty JSON object as the body and refuses any field', async () => {
    storeSubscription({ ...stored, target: receiver.url('/ok') });
    expect((await testHandler(proxyEvent({ pathParameters: idPath, body: {} }))).statusCode).toBe(200);

    const refused = parse(await testHandler(proxyEvent({ pathParameters: idPath, body: { event: 'x' } })));
    expect(refused.statusCode).toBe(400);
    expect(fieldsOf(refused.body)).toEqual(['event']);
  });

  it('404 for an unknown subscription, 400 for a malformed id, 403 for another project', async () => {
    const before = receiver.requests.length;
    storeSubscription(undefined);
    expect((await testHandler(proxyEvent({ pathParameters: idPath }))).statusCode).toBe(404);

    const malformed = parse(
      await testHandler(proxyEvent({ pathParameters: { projectId: 'p1', subscriptionId: 'bad id!' } })),
    );
    expect(malformed.statusCode).toBe(400);
    expect(fieldsOf(malformed.body)).toEqual(['subscriptionId']);

    expect((await testHandler(proxyEvent({ pathParameters: otherProject }))).statusCode).toBe(403);
    expect(receiver.requests).toHaveLength(before);
    expect(ddb).not.toHaveReceivedCommand(PutCommand);
  });
});

describe('POST /{projectId}/subscriptions/{subscriptionId}/secret', () => {
  it('answers 200 with the new secret in the body and x-hook-secret, and when the old one ends', async () => {
    storeSubscription(stored);
    ddb.on(UpdateCommand).callsFake((input: { ExpressionAttributeValues: Record<string, string> }) => ({
      Attributes: subscriptionItem({
        ...stored,
        secret: input.ExpressionAttributeValues[':secret'] ?? '',
        previousSecret: SECRET,
        previousSecretExpiresAt: input.ExpressionAttributeValues[':expires'],
      }),
    }));
    const before = Date.now();

    const response = parse(await rotateHandler(proxyEvent({ pathParameters: idPath })));

    expect(response.statusCode).toBe(200);
    const body = response.body as Subscription;
    expect(body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(body.secret).not.toBe(SECRET);
    expect(response.headers['x-hook-secret']).toBe(body.secret);
    expect(JSON.stringify(body)).not.toContain(SECRET);
    // SECRET_GRACE_HOURS=6
    const expires = Date.parse(body.previousSecretExpiresAt ?? '');
    expect(expires - before).toBeGreaterThanOrEqual(6 * 3_600_000);
    expect(expires - before).toBeLessThan(6 * 3_600_000 + 60_000);
  });

  it('404 for an unknown subscription, 403 for another project, 409 when rotations race', async () => {
    storeSubscription(undefined);
    expect((await rotateHandler(proxyEvent({ pathParameters: idPath }))).statusCode).toBe(404);

    expect((await rotateHandler(proxyEvent({ pathParameters: otherProject }))).statusCode).toBe(403);

    storeSubscription(stored);
    ddb.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'x', $metadata: {} }));
    expect((await rotateHandler(proxyEvent({ pathParameters: idPath }))).statusCode).toBe(409);
  });

  it('400 for a body with fields', async () => {
    const response = parse(
      await rotateHandler(proxyEvent({ pathParameters: idPath, body: { secret: 'mine' } })),
    );

    expect(response.statusCode).toBe(400);
    expect(fieldsOf(response.body)).toEqual(['secret']);
    expect(ddb).not.toHaveReceivedCommand(UpdateCommand);
  });
});

describe('POST /{projectId}/subscriptions/{subscriptionId}/deliveries/{deliveryId}/retry', () => {
  const message = failedMessage('evt_1');
  const path = { ...idPath, deliveryId: message.deliveryId };

  it('answers 202 and queues the stored message with its deliveryId', async () => {
    storeSubscription(stored);
    storePayload(message);

    const response = parse(await retryHandler(proxyEvent({ pathParameters: path })));

    expect(response).toMatchObject({
      statusCode: 202,
      body: { deliveryId: message.deliveryId, queued: true },
    });
    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, {
      QueueUrl: 'https://sqs.local/deliveries',
      MessageBody: JSON.stringify(message),
    });
  });

  it('404 naming deliveryId when no payload is kept; 404 naming subscriptionId when the subscription is unknown', async () => {
    storeSubscription(stored);
    const noPayload = parse(await retryHandler(proxyEvent({ pathParameters: path })));
    expect(noPayload.statusCode).toBe(404);
    expect(fieldsOf(noPayload.body)).toEqual(['deliveryId']);

    storeSubscription(undefined);
    storePayload(message);
    const noSubscription = parse(await retryHandler(proxyEvent({ pathParameters: path })));
    expect(noSubscription.statusCode).toBe(404);
    expect(fieldsOf(noSubscription.body)).toEqual(['subscriptionId']);
    expect(sqs).not.toHaveReceivedCommand(SendMessageCommand);
  });

  it('403 for another project, 400 for a malformed delivery id, 409 while disabled', async () => {
    expect(
      (
        await retryHandler(
          proxyEvent({ pathParameters: { ...otherProject, deliveryId: message.deliveryId } }),
        )
      ).statusCode,
    ).toBe(403);

    const malformed = parse(
      await retryHandler(proxyEvent({ pathParameters: { ...path, deliveryId: 'a/b' } })),
    );
    expect(malformed.statusCode).toBe(400);
    expect(fieldsOf(malformed.body)).toEqual(['deliveryId']);

    storeSubscription({ ...stored, status: 'disabled' });
    storePayload(message);
    expect((await retryHandler(proxyEvent({ pathParameters: path }))).statusCode).toBe(409);
    expect(sqs).not.toHaveReceivedCommand(SendMessageCommand);
  });
});

describe('POST /{projectId}/subscriptions/{subscriptionId}/recover', () => {
  const since = () => new Date(Date.now() - 3_600_000).toISOString();

  it('answers 202 with how many were queued and whether the cap cut it short', async () => {
    storeSubscription(stored);
    const message = failedMessage('evt_failed');
    storePayload(message);
    ddb.on(QueryCommand).resolves({
      Items: [
        deliveryAttemptItem(
          {
            deliveryId: message.deliveryId,
            eventId: message.eventId,
            subscriptionId: stored._id,
            id_project: 'p1',
            event: 'request.create',
            target: stored.target,
            attempt: 1,
            outcome: 'failed',
            durationMs: 3,
            attemptedAt: new Date(Date.now() - 60_000).toISOString(),
          },
          30,
        ),
      ],
    });

    const response = parse(
      await recoverHandler(proxyEvent({ pathParameters: idPath, body: { since: since() } })),
    );

    expect(response).toEqual(
      expect.objectContaining({ statusCode: 202, body: { queued: 1, truncated: false } }),
    );
    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, { MessageBody: JSON.stringify(message) });
  });

  it.each([
    ['missing', {}],
    ['not a date', { since: 'yesterday' }],
    ['without a time zone', { since: '2025-01-01T00:00:00' }],
    ['in the future', { since: new Date(Date.now() + 3_600_000).toISOString() }],
    ['older than the log retention', { since: new Date(Date.now() - 31 * 86_400_000).toISOString() }],
  ])('400 naming since when it is %s', async (_case, body) => {
    const response = parse(await recoverHandler(proxyEvent({ pathParameters: idPath, body })));

    expect(response.statusCode).toBe(400);
    expect(fieldsOf(response.body)).toEqual(['since']);
    expect(ddb).not.toHaveReceivedCommand(QueryCommand);
  });

  it('400 for an unknown field or no body', async () => {
    const extra = parse(
      await recoverHandler(proxyEvent({ pathParameters: idPath, body: { since: since(), until: 'x' } })),
    );
    expect(fieldsOf(extra.body)).toEqual(['until']);
    expect((await recoverHandler(proxyEvent({ pathParameters: idPath }))).statusCode).toBe(400);
  });

  it('404 for an unknown subscription, 403 for another project, 409 while disabled', async () => {
    storeSubscription(undefined);
    expect(
      (await recoverHandler(proxyEvent({ pathParameters: idPath, body: { since: since() } }))).statusCode,
    ).toBe(404);
    expect(
      (await recoverHandler(proxyEvent({ pathParameters: otherProject, body: { since: since() } })))
        .statusCode,
    ).toBe(403);
    storeSubscription({ ...stored, status: 'disabled' });
    expect(
      (await recoverHandler(proxyEvent({ pathParameters: idPath, body: { since: since() } }))).statusCode,
    ).toBe(409);
    expect(sqs).not.toHaveReceivedCommand(SendMessageCommand);
  });
});
