import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  SendMessageBatchCommand,
  type SendMessageBatchCommandInput,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { LIMITS } from '../../../functions/core/config/limits';
import type { FanOutSettings } from '../../../functions/core/config/settings';
import { EnqueueError } from '../../../functions/core/fanout/batches';
import {
  type FanOutSummary,
  fanOut,
  type RejectedEventMessage,
} from '../../../functions/core/fanout/fan-out';
import { deliveryIdFor } from '../../../functions/core/ids';
import { type DeliveryMessage, deliveryMessageSchema } from '../../../functions/core/model/delivery-message';
import { METRIC, metrics } from '../../../functions/core/observability';
import { keys, TABLE } from '../../../functions/core/storage/table';

// The mocks replace `send` on the classes, so these real clients never leave the process.
const db = mockClient(DynamoDBDocumentClient);
const sqs = mockClient(SQSClient);
const dbClient = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const sqsClient = new SQSClient({});

const settings: FanOutSettings = {
  tableName: 'webhooks',
  queueUrl: 'https://sqs.local/deliveries',
  rejectedEventsQueueUrl: 'https://sqs.local/rejected',
  eventSource: 'tiledesk',
};

const PROJECT = 'p1';
const noSleep = (_ms: number) => Promise.resolve();

/** A fake of the sparse fan-out GSI: partition key -> subscription ids, served in pages. */
function serveIndex(partitions: Record<string, string[]>, pageSize = 1000) {
  db.on(QueryCommand).callsFake((input: QueryCommandInput) => {
    const pk = String(input.ExpressionAttributeValues?.[':pk']);
    const ids = partitions[pk] ?? [];
    const startSk = input.ExclusiveStartKey?.[TABLE.fanOutIndex.sortKey];
    const start = startSk === undefined ? 0 : ids.indexOf(String(startSk).slice(4)) + 1;
    const page = ids.slice(start, start + pageSize);
    const items = page.map((id) => ({
      [TABLE.fanOutIndex.partitionKey]: pk,
      [TABLE.fanOutIndex.sortKey]: keys.subscriptionSk(id),
    }));
    const more = start + pageSize < ids.length;
    const last = items[items.length - 1];
    return Promise.resolve({
      Items: items,
      ...(more && last ? { LastEvaluatedKey: { ...last, pk: 'x', sk: 'y' } } : {}),
    });
  });
}

function acceptAllBatches() {
  sqs
    .on(SendMessageBatchCommand)
    .callsFake((input: SendMessageBatchCommandInput) =>
      Promise.resolve({ Successful: (input.Entries ?? []).map((e) => ({ Id: e.Id })), Failed: [] }),
    );
}

function busEvent(overrides: Record<string, unknown> = {}, detail: Record<string, unknown> = {}) {
  return {
    version: '0',
    id: 'eb-event-1',
    'detail-type': 'request.create',
    source: 'tiledesk',
    account: '123456789012',
    time: '2024-05-01T10:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail: { id_project: PROJECT, payload: { _id: 'r1', text: 'hello' }, ...detail },
    ...overrides,
  };
}

function sentMessages(): DeliveryMessage[] {
  return sqs
    .commandCalls(SendMessageBatchCommand)
    .flatMap((call) => call.args[0].input.Entries ?? [])
    .map((entry) => deliveryMessageSchema.parse(JSON.parse(entry.MessageBody ?? '')));
}

function queriedPartitions(): string[] {
  return db
    .commandCalls(QueryCommand)
    .map((call) => String(call.args[0].input.ExpressionAttributeValues?.[':pk']));
}

function ids(prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(6, '0')}`);
}

beforeEach(() => {
  db.reset();
  sqs.reset();
  vi.restoreAllMocks();
});

describe('fanOut matching', () => {
  it('queries the exact name, each prefix wildcard and *, and delivers to each match once', async () => {
    serveIndex({
      [keys.fanOut(PROJECT, 'request.create')]: ['exact'],
      [keys.fanOut(PROJECT, 'request.*')]: ['prefix'],
      [keys.fanOut(PROJECT, '*')]: ['all'],
      [keys.fanOut(PROJECT, 'request.update')]: ['other-event'],
      [keys.fanOut('p2', 'request.create')]: ['other-project'],
    });
    acceptAllBatches();

    const result = await fanOut(busEvent(), { db: dbClient, sqs: sqsClient, settings, sleep: noSleep });

    expect(queriedPartitions()).toEqual([
      keys.fanOut(PROJECT, 'request.create'),
      keys.fanOut(PROJECT, 'request.*'),
      keys.fanOut(PROJECT, '*'),
    ]);
    for (const call of db.commandCalls(QueryCommand)) {
      expect(call.args[0].input.IndexName).toBe(TABLE.fanOutIndex.name);
      expect(call.args[0].input.TableName).toBe('webhooks');
    }
    expect(sentMessages().map((m) => m.subscriptionId)).toEqual(['exact', 'prefix', 'all']);
    expect(result).toMatchObject({
      outcome: 'enqueued',
      matched: 3,
      enqueued: 3,
      queryPages: 3,
      sendBatchCalls: 1,
    });
  });

  it('matches channel events through every ancestor wildcard but not the bare parent event', async () => {
    const event = 'message.create.channel.telegram';
    serveIndex({
      [keys.fanOut(PROJECT, event)]: ['exact'],
      [keys.fanOut(PROJECT, 'message.create.channel.*')]: ['channel-any'],
      [keys.fanOut(PROJECT, 'message.create.*')]: ['create-any'],
      [keys.fanOut(PROJECT, 'message.*')]: ['message-any'],
      [keys.fanOut(PROJECT, '*')]: ['all'],
      [keys.fanOut(PROJECT, 'message.create')]: ['bare-parent'],
      [keys.fanOut(PROJECT, 'message.create.channel.whatsapp')]: ['other-channel'],
    });
    acceptAllBatches();

    await fanOut(busEvent({ 'detail-type': event }), {
      db: dbClient,
      sqs: sqsClient,
      settings,
      sleep: noSleep,
    });

    expect(queriedPartitions()).toEqual(
      [event, 'message.create.channel.*', 'message.create.*', 'message.*', '*'].map((p) =>
        keys.fanOut(PROJECT, p),
      ),
    );
    expect(sentMessages().map((m) => m.subscriptionId)).toEqual([
      'exact',
      'channel-any',
      'create-any',
      'message-any',
      'all',
    ]);
  });

  it('pages through every LastEvaluatedKey of every pattern', async () => {
    serveIndex(
      {
        [keys.fanOut(PROJECT, 'request.create')]: ids('a', 5),
        [keys.fanOut(PROJECT, '*')]: ids('b', 3),
      },
      2,
    );
    acceptAllBatches();

    const result = await fanOut(busEvent(), { db: dbClient, sqs: sqsClient, settings, sleep: noSleep });

    // request.create: 3 pages (2+2+1); request.*: 1 empty page; *: 2 pages (2+1).
    expect(db).toHaveReceivedCommandTimes(QueryCommand, 6);
    expect(result).toMatchObject({ matched: 8, enqueued: 8, queryPages: 6 });
    expect(new Set(sentMessages().map((m) => m.subscriptionId))).toEqual(
      new Set([...ids('a', 5), ...ids('b', 3)]),
    );
    const starts = db.commandCalls(QueryCommand).map((c) => c.args[0].input.ExclusiveStartKey !== undefined);
    expect(starts).toEqual([false, true, true, false, false, true]);
  });

  it('sends one message per subscription even if an id shows up under two patterns', async () => {
    serveIndex({
      [keys.fanOut(PROJECT, 'request.create')]: ['s1', 's2'],
      [keys.fanOut(PROJECT, '*')]: ['s2', 's3'],
    });
    acceptAllBatches();

    const result = await fanOut(busEvent(), { db: dbClient, sqs: sqsClient, settings, sleep: noSleep });

    expect(sentMessages().map((m) => m.subscriptionId)).toEqual(['s1', 's2', 's3']);
    expect(result).toMatchObject({ matched: 3, enqueued: 3 });
  });

  it('sends nothing when no subscription matches', async () => {
    serveIndex({});
    acceptAllBatches();

    const result = await fanOut(busEvent(), { db: dbClient, sqs: sqsClient, settings, sleep: noSleep });

    expect(sqs).not.toHaveReceivedCommand(SendMessageBatchCommand);
    expect(result).toMatchObject({ matched: 0, enqueued: 0, queryPages: 3, sendBatchCalls: 0 });
  });
});

describe('fanOut delivery messages', () => {
  it('builds the DESIGN §2.3 message with a derived deliveryId, ms timestamp, payload and token, and no secret', async () => {
    serveIndex({ [keys.fanOut(PROJECT, 'request.create')]: ['sub1'] });
    acceptAllBatches();

    await fanOut(busEvent({}, { id: 'platform-evt-9', token: 'jwt-of-the-event' }), {
      db: dbClient,
      sqs: sqsClient,
      settings,
      sleep: noSleep,
    });

    const [entry] = sqs.commandCalls(SendMessageBatchCommand)[0]?.args[0].input.Entries ?? [];
    const body = JSON.parse(entry?.MessageBody ?? '{}');
    expect(body).toEqual({
      v: 1,
      deliveryId: deliveryIdFor('platform-evt-9', 'sub1'),
      eventId: 'platform-evt-9',
      subscriptionId: 'sub1',
      projectId: PROJECT,
      event: 'request.create',
      timestamp: Date.parse('2024-05-01T10:00:00Z'),
      payload: { _id: 'r1', text: 'hello' },
      token: 'jwt-of-the-event',
    });
    expect(entry?.Id).toBe(body.deliveryId);
    expect(sqs.commandCalls(SendMessageBatchCommand)[0]?.args[0].input.QueueUrl).toBe(settings.queueUrl);
    expect(entry?.MessageBody).not.toMatch(/secret/i);
  });

  it('uses the EventBridge id without a detail.id, and a retried fan-out repeats the same deliveryIds', async () => {
    serveIndex({ [keys.fanOut(PROJECT, 'request.create')]: ['sub1', 'sub2'] });
    acceptAllBatches();

    await fanOut(busEvent(), { db: dbClient, sqs: sqsClient, settings, sleep: noSleep });
    await fanOut(busEvent(), { db: dbClient, sqs: sqsClient, settings, sleep: noSleep });

    const messages = sentMessages();
    expect(messages.map((m) => m.deliveryId)).toEqual([
      deliveryIdFor('eb-event-1', 'sub1'),
      deliveryIdFor('eb-event-1', 'sub2'),
      deliveryIdFor('eb-event-1', 'sub1'),
      deliveryIdFor('eb-event-1', 'sub2'),
    ]);
    expect(messages[0]).not.toHaveProperty('token');
  });

  it('counts the fan-out size metric', async () => {
    const addMetric = vi.spyOn(metrics, 'addMetric');
    serveIndex({ [keys.fanOut(PROJECT, 'request.create')]: ids('s', 7) });
    acceptAllBatches();

    await fanOut(busEvent(), { db: dbClient, sqs: sqsClient, settings, sleep: noSleep });

    expect(addMetric).toHaveBeenCalledWith(METRIC.fanOutSize, 'Count', 7);
  });
});

describe('fanOut AWS call counts', () => {
  it.each([1, 9, 10, 11, 25, 100])('%i subscriptions take ceil(N/10) SendMessageBatch calls', async (n) => {
    serveIndex({ [keys.fanOut(PROJECT, 'request.create')]: ids('s', n) });
    acceptAllBatches();

    const result = await fanOut(busEvent(), { db: dbClient, sqs: sqsClient, settings, sleep: noSleep });

    expect(sqs).toHaveReceivedCommandTimes(SendMessageBatchCommand, Math.ceil(n / 10));
    expect(result).toMatchObject({ matched: n, enqueued: n, sendBatchCalls: Math.ceil(n / 10) });
    for (const call of sqs.commandCalls(SendMessageBatchCommand)) {
      expect(call.args[0].input.Entries?.length).toBeLessThanOrEqual(LIMITS.sqsBatchEntries);
    }
  });

  it('fans out 10,000 subscriptions with 1000 SendMessageBatch calls and one Query per page', async () => {
    const subscriptionIds = ids('s', 10_000);
    // 1000 keys a page; 10 pages for the exact name, one empty page each for request.* and *.
    serveIndex({ [keys.fanOut(PROJECT, 'request.create')]: subscriptionIds }, 1000);
    acceptAllBatches();

    const result = (await fanOut(busEvent(), {
      db: dbClient,
      sqs: sqsClient,
      settings,
      sleep: noSleep,
    })) as FanOutSummary;

    expect(sqs).toHaveReceivedCommandTimes(SendMessageBatchCommand, Math.ceil(10_000 / 10));
    expect(db).toHaveReceivedCommandTimes(QueryCommand, 12);
    expect(result).toEqual({
      outcome: 'enqueued',
      eventId: 'eb-event-1',
      event: 'request.create',
      projectId: PROJECT,
      matched: 10_000,
      enqueued: 10_000,
      queryPages: 12,
      sendBatchCalls: 1000,
    });
    const deliveryIds = new Set(sentMessages().map((m) => m.deliveryId));
    expect(deliveryIds.size).toBe(10_000);
  });

  it('starts sending before the last Query page is read (streaming)', async () => {
    const order: string[] = [];
    db.on(QueryCommand).callsFake((input: QueryCommandInput) => {
      order.push('query');
      const pk = String(input.ExpressionAttributeValues?.[':pk']);
      const all = pk === keys.fanOut(PROJECT, 'request.create') ? ids('s', 50) : [];
      const startSk = input.ExclusiveStartKey?.[TABLE.fanOutIndex.sortKey];
      const start = startSk === undefined ? 0 : all.indexOf(String(startSk).slice(4)) + 1;
      const page = all
        .slice(start, start + 10)
        .map((id) => ({ [TABLE.fanOutIndex.sortKey]: keys.subscriptionSk(id) }));
      const last = page[page.length - 1];
      return Promise.resolve({
        Items: page,
        ...(start + 10 < all.length && last ? { LastEvaluatedKey: last } : {}),
      });
    });
    sqs.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => {
      order.push('send');
      return Promise.resolve({ Successful: (input.Entries ?? []).map((e) => ({ Id: e.Id })), Failed: [] });
    });

    await fanOut(busEvent(), { db: dbClient, sqs: sqsClient, settings, sleep: noSleep });

    expect(order.indexOf('send')).toBeLessThan(order.lastIndexOf('query'));
    expect(order.filter((o) => o === 'send')).toHaveLength(5);
  });

  it(`keeps at most ${LIMITS.fanOutSendConcurrency} SendMessageBatch calls in flight`, async () => {
    serveIndex({ [keys.fanOut(PROJECT, 'request.create')]: ids('s', 500) });
    let inFlight = 0;
    let maxInFlight = 0;
    sqs.on(SendMessageBatchCommand).callsFake(async (input: SendMessageBatchCommandInput) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
      return { Successful: (input.Entries ?? []).map((e) => ({ Id: e.Id })), Failed: [] };
    });

    await fanOut(busEvent(), { db: dbClient, sqs: sqsClient, settings, sleep: noSleep });

    expect(maxInFlight).toBe(LIMITS.fanOutSendConcurrency);
    expect(sqs).toHaveReceivedCommandTimes(SendMessageBatchCommand, 50);
  });

  it('splits batches by bytes so each call stays under the batch payload limit', async () => {
    serveIndex({ [keys.fanOut(PROJECT, 'request.create')]: ids('s', 10) });
    acceptAllBatches();
    const payload = { blob: 'x'.repeat(300 * 1024) };

    const result = await fanOut(busEvent({}, { payload }), {
      db: dbClient,
      sqs: sqsClient,
      settings,
      sleep: noSleep,
    });

    // ~300 KiB each: three fit under ~1008 KiB, so 10 messages need 4 calls.
    expect(sqs).toHaveReceivedCommandTimes(SendMessageBatchCommand, 4);
    for (const call of sqs.commandCalls(SendMessageBatchCommand)) {
      const bytes = (call.args[0].input.Entries ?? []).reduce(
        (sum, e) => sum + Buffer.byteLength(e.MessageBody ?? ''),
        0,
      );
      expect(bytes).toBeLessThanOrEqual(LIMITS.sqsBatchBytes);
    }
    expect(result).toMatchObject({ enqueued: 10 });
  });
});

describe('fanOut failed entries', () => {
  it('retries only the entries SQS reports in Failed, then succeeds', async () => {
    serveIndex({ [keys.fanOut(PROJECT, 'request.create')]: ids('s', 25) });
    const failedOnce = new Set<string>([
      deliveryIdFor('eb-event-1', 's000003'),
      deliveryIdFor('eb-event-1', 's000021'),
    ]);
    sqs.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => {
      const entries = input.Entries ?? [];
      const failed = entries.filter((e) => e.Id !== undefined && failedOnce.delete(e.Id));
      return Promise.resolve({
        Successful: entries.filter((e) => !failed.includes(e)).map((e) => ({ Id: e.Id })),
        Failed: failed.map((e) => ({ Id: e.Id, Code: 'InternalError', SenderFault: false })),
      });
    });
    const sleep = vi.fn(noSleep);

    const result = await fanOut(busEvent(), { db: dbClient, sqs: sqsClient, settings, sleep });

    // 3 batches, and one retry call for each of the two batches that had a failed entry.
    expect(sqs).toHaveReceivedCommandTimes(SendMessageBatchCommand, 5);
    const retried = sqs
      .commandCalls(SendMessageBatchCommand)
      .filter((c) => c.args[0].input.Entries?.length === 1);
    expect(retried.map((c) => c.args[0].input.Entries?.[0]?.Id).sort()).toEqual(
      [deliveryIdFor('eb-event-1', 's000003'), deliveryIdFor('eb-event-1', 's000021')].sort(),
    );
    expect(result).toMatchObject({ matched: 25, enqueued: 25, sendBatchCalls: 5 });
    expect(sleep).toHaveBeenCalledTimes(2);
  });

  it('fails the invocation when an entry still fails after every retry', async () => {
    serveIndex({ [keys.fanOut(PROJECT, 'request.create')]: ids('s', 10) });
    const stuck = deliveryIdFor('eb-event-1', 's000004');
    sqs.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => {
      const entries = input.Entries ?? [];
      return Promise.resolve({
        Successful: entries.filter((e) => e.Id !== stuck).map((e) => ({ Id: e.Id })),
        Failed: entries.filter((e) => e.Id === stuck).map((e) => ({ Id: e.Id, Code: 'InternalError' })),
      });
    });
    const sleep = vi.fn(noSleep);

    const run = fanOut(busEvent(), { db: dbClient, sqs: sqsClient, settings, sleep });

    await expect(run).rejects.toBeInstanceOf(EnqueueError);
    await expect(run).rejects.toThrow(/could not enqueue 1 message/);
    // The first call plus three retries of the stuck entry, with growing backoff.
    expect(sqs).toHaveReceivedCommandTimes(SendMessageBatchCommand, 4);
    expect(sleep.mock.calls.map((c) => c[0])).toEqual([100, 200, 400]);
  });

  it('fails the invocation when SendMessageBatch itself throws', async () => {
    serveIndex({ [keys.fanOut(PROJECT, 'request.create')]: ids('s', 30) });
    sqs.on(SendMessageBatchCommand).rejects(new Error('ServiceUnavailable'));

    await expect(
      fanOut(busEvent(), { db: dbClient, sqs: sqsClient, settings, sleep: noSleep }),
    ).rejects.toThrow('ServiceUnavailable');
  });

  it('fails the invocation when a Query fails', async () => {
    db.on(QueryCommand).rejects(new Error('ProvisionedThroughputExceeded'));
    acceptAllBatches();

    await expect(
      fanOut(busEvent(), { db: dbClient, sqs: sqsClient, settings, sleep: noSleep }),
    ).rejects.toThrow('ProvisionedThroughputExceeded');
  });
});

describe('fanOut rejected events', () => {
  const cases: Array<[string, unknown, string]> = [
    ['no id_project', busEvent({ detail: { payload: { a: 1 } } }), 'bad-detail'],
    ['no payload', busEvent({ detail: { id_project: PROJECT } }), 'bad-detail'],
    ['detail not an object', busEvent({ detail: 'text' }), 'bad-detail'],
    ['empty id_project', busEvent({ detail: { id_project: '', payload: {} } }), 'bad-detail'],
    ['unknown event', busEvent({ 'detail-type': 'request.created' }), 'unknown-event'],
    ['wildcard as an event', busEvent({ 'detail-type': 'request.*' }), 'unknown-event'],
    ['wrong source', busEvent({ source: 'someone-else' }), 'wrong-source'],
    ['no detail-type', { ...busEvent(), 'detail-type': undefined }, 'bad-envelope'],
    ['not an object', 'garbage', 'bad-envelope'],
    ['bad time', busEvent({ time: 'yesterday' }), 'bad-time'],
  ];

  it.each(cases)(
    '%s: sent to the rejected-events queue with the reason, nothing fanned out',
    async (_name, event, reason) => {
      sqs.on(SendMessageCommand).resolves({ MessageId: 'm1' });
      const addMetric = vi.spyOn(metrics, 'addMetric');

      const result = await fanOut(event, { db: dbClient, sqs: sqsClient, settings, sleep: noSleep });

      expect(result).toMatchObject({ outcome: 'rejected', reason });
      expect(sqs).toHaveReceivedCommandTimes(SendMessageCommand, 1);
      const input = sqs.commandCalls(SendMessageCommand)[0]?.args[0].input;
      expect(input?.QueueUrl).toBe(settings.rejectedEventsQueueUrl);
      const body = JSON.parse(input?.MessageBody ?? '{}') as RejectedEventMessage;
      expect(body.reason).toBe(reason);
      expect(body.errors.length).toBeGreaterThan(0);
      expect(body.event).toEqual(event);
      expect(db).not.toHaveReceivedCommand(QueryCommand);
      expect(sqs).not.toHaveReceivedCommand(SendMessageBatchCommand);
      expect(addMetric).toHaveBeenCalledWith(METRIC.rejectedEvents, 'Count', 1);
    },
  );

  it('names the missing field and redacts a token in the kept event', async () => {
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm1' });

    await fanOut(busEvent({ detail: { payload: {}, token: 'eyJhbGciOi.secret-jwt' } }), {
      db: dbClient,
      sqs: sqsClient,
      settings,
      sleep: noSleep,
    });

    const raw = sqs.commandCalls(SendMessageCommand)[0]?.args[0].input.MessageBody ?? '';
    const body = JSON.parse(raw) as RejectedEventMessage;
    expect(body.errors.join(' ')).toContain('id_project');
    expect(raw).not.toContain('secret-jwt');
    expect(body.event).toMatchObject({ detail: { token: '[redacted]' } });
  });

  it('fails the invocation when the rejected event cannot be kept, so EventBridge retries it', async () => {
    sqs.on(SendMessageCommand).rejects(new Error('AccessDenied'));

    await expect(
      fanOut(busEvent({ source: 'other' }), { db: dbClient, sqs: sqsClient, settings, sleep: noSleep }),
    ).rejects.toThrow('AccessDenied');
  });
});
