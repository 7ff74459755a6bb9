import { gunzipSync } from 'node:zlib';
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { LIMITS } from '../../../functions/core/config/limits';
import type { ReplaySettings } from '../../../functions/core/config/settings';
import { deliveryAttemptItem } from '../../../functions/core/delivery-log/writer';
import { deliveryIdFor } from '../../../functions/core/ids';
import type { DeliveryAttempt, DeliveryOutcome } from '../../../functions/core/model/delivery-log';
import type { DeliveryMessage } from '../../../functions/core/model/delivery-message';
import type { Subscription } from '../../../functions/core/model/subscription';
import {
  getPayload,
  payloadItem,
  payloadKey,
  storePayloadOnce,
} from '../../../functions/core/replay/payloads';
import {
  failedDeliveriesSince,
  recoverDeliveries,
  retryDelivery,
} from '../../../functions/core/replay/replay';
import { keys, TABLE } from '../../../functions/core/storage/table';
import { subscriptionItem } from '../../../functions/core/subscriptions/repository';

const db = mockClient(DynamoDBDocumentClient);
const sqs = mockClient(SQSClient);
const dbClient = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const sqsClient = new SQSClient({});

const NOW = Date.parse('2025-03-10T12:00:00.000Z');
const settings: ReplaySettings = {
  tableName: 'webhooks',
  queueUrl: 'https://sqs.local/deliveries',
  logTtlDays: 30,
};

const sub: Subscription = {
  _id: 'sub_1',
  id_project: 'p1',
  event: 'request.create',
  target: 'https://example.com/hook',
  status: 'active',
  createdBy: 'key_1',
  createdAt: '2025-01-01T00:00:00.000Z',
  updatedAt: '2025-01-01T00:00:00.000Z',
  secret: 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMy',
};
const subKey = { pk: keys.project('p1'), sk: keys.subscriptionSk('sub_1') };

function message(eventId: string, overrides: Partial<DeliveryMessage> = {}): DeliveryMessage {
  return {
    v: 1,
    deliveryId: deliveryIdFor(eventId, 'sub_1'),
    eventId,
    subscriptionId: 'sub_1',
    projectId: 'p1',
    event: 'request.create',
    timestamp: NOW - 60_000,
    payload: { text: `payload of ${eventId}` },
    ...overrides,
  };
}

function attempt(
  eventId: string,
  at: string,
  outcome: DeliveryOutcome,
  overrides: Partial<DeliveryAttempt> = {},
): Record<string, unknown> {
  return deliveryAttemptItem(
    {
      deliveryId: deliveryIdFor(eventId, 'sub_1'),
      eventId,
      subscriptionId: 'sub_1',
      id_project: 'p1',
      event: 'request.create',
      target: sub.target,
      attempt: 1,
      outcome,
      durationMs: 5,
      attemptedAt: at,
      ...overrides,
    },
    30,
  );
}

function storeSubscription(value: Subscription | undefined): void {
  db.on(GetCommand, { Key: subKey }).resolves(value ? { Item: subscriptionItem(value) } : {});
}

function storePayloads(...messages: DeliveryMessage[]): void {
  for (const m of messages) {
    db.on(GetCommand, { Key: payloadKey(m.deliveryId) }).resolves({
      Item: payloadItem(m, NOW - 3_600_000, 30),
    });
  }
}

function sentBodies(): DeliveryMessage[] {
  return sqs
    .commandCalls(SendMessageCommand)
    .map((call) => JSON.parse(call.args[0].input.MessageBody ?? '') as DeliveryMessage);
}

beforeEach(() => {
  db.reset();
  sqs.reset();
  db.on(GetCommand).resolves({});
  sqs.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
});

describe('payload items', () => {
  it('keeps the message gzipped under PAYLOAD#{deliveryId}, without the event token, expiring with the log', () => {
    const m = message('evt_1', { token: 'platform-jwt.eyJhbGciOi' });

    const item = payloadItem(m, NOW, 30);

    expect(item).toMatchObject({
      pk: `PAYLOAD#${m.deliveryId}`,
      sk: 'PAYLOAD',
      projectId: 'p1',
      subscriptionId: 'sub_1',
      deliveryId: m.deliveryId,
      expiresAt: Math.floor(NOW / 1000) + 30 * 86_400,
    });
    const stored = JSON.parse(gunzipSync(item.message as Uint8Array).toString('utf8'));
    const { token: _token, ...withoutToken } = m;
    expect(stored).toEqual(withoutToken);
    expect(JSON.stringify(item)).not.toContain('platform-jwt');
  });

  it('is written with a condition, and a second write is no error', async () => {
    db.on(PutCommand)
      .resolvesOnce({})
      .rejects(new ConditionalCheckFailedException({ message: 'exists', $metadata: {} }));

    expect(await storePayloadOnce(dbClient, settings, message('evt_1'), NOW)).toBe(true);
    expect(await storePayloadOnce(dbClient, settings, message('evt_1'), NOW)).toBe(false);

    expect(db).toHaveReceivedCommandWith(PutCommand, {
      TableName: 'webhooks',
      ConditionExpression: 'attribute_not_exists(pk)',
    });
  });

  it('rethrows other write errors (the caller counts them)', async () => {
    db.on(PutCommand).rejects(new Error('ProvisionedThroughputExceededException'));

    await expect(storePayloadOnce(dbClient, settings, message('evt_1'), NOW)).rejects.toThrow('Provisioned');
  });

  it('reads back what was stored, and nothing once past its TTL or unreadable', async () => {
    const m = message('evt_1');
    storePayloads(m);

    expect(await getPayload(dbClient, 'webhooks', m.deliveryId, NOW)).toEqual({
      projectId: 'p1',
      subscriptionId: 'sub_1',
      message: m,
    });
    expect(await getPayload(dbClient, 'webhooks', m.deliveryId, NOW + 31 * 86_400_000)).toBeUndefined();
    db.on(GetCommand, { Key: payloadKey(m.deliveryId) }).resolves({
      Item: { ...payloadItem(m, NOW, 30), message: Buffer.from('not gzip') },
    });
    expect(await getPayload(dbClient, 'webhooks', m.deliveryId, NOW)).toBeUndefined();
  });
});

describe('retryDelivery', () => {
  const m = message('evt_1');
  const input = { projectId: 'p1', subscriptionId: 'sub_1', deliveryId: m.deliveryId };

  it('queues the stored message unchanged, so it keeps its deliveryId (webhook-id)', async () => {
    storeSubscription(sub);
    storePayloads(m);

    const result = await retryDelivery(dbClient, sqsClient, settings, input, { now: () => NOW });

    expect(result).toEqual({ kind: 'queued', deliveryId: m.deliveryId });
    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, { QueueUrl: settings.queueUrl });
    expect(sentBodies()).toEqual([m]);
  });

  it('is not found without the subscription in this project', async () => {
    storeSubscription(undefined);
    storePayloads(m);

    expect(await retryDelivery(dbClient, sqsClient, settings, input)).toEqual({
      kind: 'subscription-not-found',
    });
    expect(sqs).not.toHaveReceivedCommand(SendMessageCommand);
  });

  it('is not found without a stored payload, or when the payload belongs to another subscription or project', async () => {
    storeSubscription(sub);
    expect(await retryDelivery(dbClient, sqsClient, settings, input, { now: () => NOW })).toEqual({
      kind: 'delivery-not-found',
    });

    const other = message('evt_1', { subscriptionId: 'sub_2', deliveryId: m.deliveryId });
    storePayloads(other);
    expect(await retryDelivery(dbClient, sqsClient, settings, input, { now: () => NOW })).toEqual({
      kind: 'delivery-not-found',
    });

    storePayloads(message('evt_1', { projectId: 'p2', deliveryId: m.deliveryId }));
    expect(await retryDelivery(dbClient, sqsClient, settings, input, { now: () => NOW })).toEqual({
      kind: 'delivery-not-found',
    });
    expect(sqs).not.toHaveReceivedCommand(SendMessageCommand);
  });

  it('refuses a disabled subscription (the delivery would be skipped)', async () => {
    storeSubscription({ ...sub, status: 'disabled' });
    storePayloads(m);

    expect(await retryDelivery(dbClient, sqsClient, settings, input, { now: () => NOW })).toEqual({
      kind: 'disabled',
    });
    expect(sqs).not.toHaveReceivedCommand(SendMessageCommand);
  });
});

describe('failedDeliveriesSince', () => {
  it('reads the subscription index forward from since, page by page', async () => {
    db.on(QueryCommand)
      .resolvesOnce({
        Items: [attempt('a', '2025-03-10T10:00:00.000Z', 'failed')],
        LastEvaluatedKey: { pk: 'x', sk: 'y' },
      })
      .resolvesOnce({ Items: [attempt('b', '2025-03-10T10:05:00.000Z', 'dead-lettered')] });

    const found = await failedDeliveriesSince(
      dbClient,
      'webhooks',
      'p1',
      'sub_1',
      '2025-03-10T09:00:00.000Z',
    );

    expect(found.failed.map((s) => s.deliveryId)).toEqual([
      deliveryIdFor('a', 'sub_1'),
      deliveryIdFor('b', 'sub_1'),
    ]);
    expect(found.complete).toBe(true);
    const queries = db.commandCalls(QueryCommand).map((call) => call.args[0].input);
    expect(queries[0]).toMatchObject({
      IndexName: TABLE.deliveryIndex.name,
      KeyConditionExpression: '#pk = :pk AND #sk >= :since',
      ExpressionAttributeValues: {
        ':pk': keys.subscriptionLog('sub_1'),
        ':since': '2025-03-10T09:00:00.000Z',
      },
      ScanIndexForward: true,
    });
    expect(queries[1]?.ExclusiveStartKey).toEqual({ pk: 'x', sk: 'y' });
  });

  it('keeps deliveries whose newest attempt failed; drops delivered ones, pings and other projects', async () => {
    db.on(QueryCommand).resolves({
      Items: [
        attempt('failed-then-ok', '2025-03-10T10:00:00.000Z', 'failed'),
        attempt('still-failing', '2025-03-10T10:01:00.000Z', 'failed'),
        attempt('ping', '2025-03-10T10:02:00.000Z', 'failed', { event: 'ping' }),
        attempt('elsewhere', '2025-03-10T10:03:00.000Z', 'failed', { id_project: 'p2' }),
        attempt('failed-then-ok', '2025-03-10T10:04:00.000Z', 'delivered', { attempt: 2 }),
        attempt('ok-then-failed', '2025-03-10T10:05:00.000Z', 'delivered'),
        attempt('ok-then-failed', '2025-03-10T10:06:00.000Z', 'failed'),
        attempt('still-failing', '2025-03-10T10:07:00.000Z', 'dead-lettered', { attempt: 2 }),
        attempt('never-failed', '2025-03-10T10:08:00.000Z', 'delivered'),
      ],
    });

    const found = await failedDeliveriesSince(
      dbClient,
      'webhooks',
      'p1',
      'sub_1',
      '2025-03-10T09:00:00.000Z',
    );

    expect(found.failed).toEqual([
      {
        deliveryId: deliveryIdFor('still-failing', 'sub_1'),
        firstFailedAt: '2025-03-10T10:01:00.000Z',
        failedLast: true,
      },
      {
        deliveryId: deliveryIdFor('ok-then-failed', 'sub_1'),
        firstFailedAt: '2025-03-10T10:06:00.000Z',
        failedLast: true,
      },
    ]);
  });

  it('stops at the read bound and says it is incomplete', async () => {
    db.on(QueryCommand).resolves({
      Items: [
        attempt('a', '2025-03-10T10:00:00.000Z', 'failed'),
        attempt('b', '2025-03-10T10:01:00.000Z', 'failed'),
      ],
      LastEvaluatedKey: { pk: 'x', sk: 'y' },
    });

    const found = await failedDeliveriesSince(
      dbClient,
      'webhooks',
      'p1',
      'sub_1',
      '2025-03-10T09:00:00.000Z',
      2,
    );

    expect(db).toHaveReceivedCommandTimes(QueryCommand, 1);
    expect(db.commandCalls(QueryCommand)[0]?.args[0].input.Limit).toBe(2);
    expect(found).toMatchObject({ complete: false, lastReadAt: '2025-03-10T10:01:00.000Z' });
  });
});

describe('recoverDeliveries', () => {
  const input = { projectId: 'p1', subscriptionId: 'sub_1', since: '2025-03-10T09:00:00.000Z' };

  it('queues every failed delivery with a kept payload, oldest first failure first', async () => {
    storeSubscription(sub);
    const [a, b] = [message('a'), message('b')];
    storePayloads(a, b); // c's payload is gone: passed over, not counted
    db.on(QueryCommand).resolves({
      Items: [
        attempt('a', '2025-03-10T10:00:00.000Z', 'failed'),
        attempt('b', '2025-03-10T10:01:00.000Z', 'dead-lettered'),
        attempt('c', '2025-03-10T10:02:00.000Z', 'failed'),
      ],
    });

    const result = await recoverDeliveries(dbClient, sqsClient, settings, input, { now: () => NOW });

    expect(result).toEqual({ kind: 'queued', queued: 2, truncated: false });
    expect(sentBodies().sort((x, y) => x.eventId.localeCompare(y.eventId))).toEqual([a, b]);
  });

  it(`caps a call at LIMITS.maxRecoverDeliveries (${LIMITS.maxRecoverDeliveries}) and says where to continue`, async () => {
    storeSubscription(sub);
    const ids = ['a', 'b', 'c'];
    storePayloads(...ids.map((id) => message(id)));
    db.on(QueryCommand).resolves({
      Items: ids.map((id, i) => attempt(id, `2025-03-10T10:0${i}:00.000Z`, 'failed')),
    });

    const result = await recoverDeliveries(dbClient, sqsClient, settings, input, {
      now: () => NOW,
      maxDeliveries: 2,
    });

    expect(result).toEqual({
      kind: 'queued',
      queued: 2,
      truncated: true,
      nextSince: '2025-03-10T10:02:00.000Z',
    });
    expect(
      sentBodies()
        .map((m) => m.eventId)
        .sort(),
    ).toEqual(['a', 'b']);
  });

  it('defaults its cap to LIMITS.maxRecoverDeliveries', async () => {
    storeSubscription(sub);
    db.on(QueryCommand).resolves({
      Items: Array.from({ length: LIMITS.maxRecoverDeliveries + 1 }, (_, i) =>
        attempt(`e${i}`, new Date(NOW - 3_600_000 + i).toISOString(), 'failed'),
      ),
    });

    const result = await recoverDeliveries(dbClient, sqsClient, settings, input, { now: () => NOW });

    // No payloads are stored here, so nothing is sent; the cap still decides `truncated`.
    expect(result).toMatchObject({ kind: 'queued', queued: 0, truncated: true });
    expect(db).toHaveReceivedCommandTimes(GetCommand, 1 + LIMITS.maxRecoverDeliveries);
  });

  it('is not found without the subscription, and refuses a disabled one, before reading the log', async () => {
    storeSubscription(undefined);
    expect(await recoverDeliveries(dbClient, sqsClient, settings, input)).toEqual({ kind: 'not-found' });
    storeSubscription({ ...sub, status: 'disabled' });
    expect(await recoverDeliveries(dbClient, sqsClient, settings, input)).toEqual({ kind: 'disabled' });
    expect(db).not.toHaveReceivedCommand(QueryCommand);
  });

  it('fails loudly when the queue refuses (the caller may call again; duplicates keep their webhook-id)', async () => {
    storeSubscription(sub);
    storePayloads(message('a'));
    db.on(QueryCommand).resolves({ Items: [attempt('a', '2025-03-10T10:00:00.000Z', 'failed')] });
    sqs.on(SendMessageCommand).rejects(new Error('QueueDoesNotExist'));

    await expect(recoverDeliveries(dbClient, sqsClient, settings, input, { now: () => NOW })).rejects.toThrow(
      'QueueDoesNotExist',
    );
  });
});
