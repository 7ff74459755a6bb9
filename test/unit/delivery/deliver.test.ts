import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ChangeMessageVisibilityCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LIMITS } from '../../../functions/core/config/limits';
import { DEFAULT_RETRY_SCHEDULE_SECONDS } from '../../../functions/core/config/retry-schedule';
import { type DeliveryDeps, deliverBatch, parseRetryAfter } from '../../../functions/core/delivery/deliver';
import { SubscriptionCache } from '../../../functions/core/delivery/subscription-cache';
import type { DeliveryAttempt } from '../../../functions/core/model/delivery-log';
import type { Subscription } from '../../../functions/core/model/subscription';
import { logger, METRIC, metrics } from '../../../functions/core/observability';
import { keys, TABLE } from '../../../functions/core/storage/table';
import {
  captureOutput,
  freshAgents,
  listenDuringTests,
  message,
  PREVIOUS_SECRET,
  Receiver,
  SECRET,
  sqsRecord,
  subscription,
  testDeliverySettings,
} from './helpers';

const db = mockClient(DynamoDBDocumentClient);
const sqs = mockClient(SQSClient);
const dbClient = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const sqsClient = new SQSClient({});

const NOW = Date.parse('2024-05-01T10:00:00.000Z');
const DAY = 86_400_000;
const HUGE_BODY_BYTES = 50 * 1024 * 1024;
let hugeBytesWritten = 0;

const receiver = new Receiver()
  .on('/ok', (_req, res) => res.writeHead(200).end('thanks'))
  .on('/no-content', (_req, res) => res.writeHead(204).end())
  .on('/redirect', (_req, res) => res.writeHead(301, { location: '/ok' }).end())
  .on('/bad', (_req, res) => res.writeHead(400).end('bad request'))
  .on('/missing', (_req, res) => res.writeHead(404).end('not found'))
  .on('/gone', (_req, res) => res.writeHead(410).end('gone'))
  .on('/error', (_req, res) => res.writeHead(500).end('boom'))
  .on('/error-with-retry-after', (_req, res) => res.writeHead(500, { 'retry-after': '600' }).end())
  .on('/throttled', (req, res) => {
    const after = new URL(req.url ?? '/', 'http://x').searchParams.get('after') ?? '0';
    res.writeHead(429, { 'retry-after': after }).end();
  })
  .on('/unavailable', (_req, res) =>
    res.writeHead(503, { 'retry-after': new Date(NOW + 600_000).toUTCString() }).end(),
  )
  .on('/hang', () => {
    // never answers
  })
  .on('/reset', (req) => req.socket.resetAndDestroy())
  .on('/echo', (req, res) => res.writeHead(400).end(JSON.stringify(req.headers)))
  .on('/huge', (_req, res) => {
    hugeBytesWritten = 0;
    res.writeHead(200, { 'content-type': 'text/plain' });
    const chunk = Buffer.alloc(64 * 1024, 'a');
    const pump = () => {
      while (hugeBytesWritten < HUGE_BODY_BYTES && !res.destroyed) {
        hugeBytesWritten += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    res.on('error', () => undefined);
    pump();
  });

const agents = freshAgents();

const settings = testDeliverySettings;

let cache: SubscriptionCache;
function deps(overrides: Partial<DeliveryDeps> = {}): DeliveryDeps {
  return {
    db: dbClient,
    sqs: sqsClient,
    settings: settings(),
    cache,
    now: () => NOW,
    random: () => 0.5, // no jitter: the schedule's exact values
    agents,
    ...overrides,
  };
}

function stored(sub: Subscription): Record<string, unknown> {
  return {
    ...sub,
    [TABLE.partitionKey]: keys.project(sub.id_project),
    [TABLE.sortKey]: keys.subscriptionSk(sub._id),
    ...(sub.status === 'active'
      ? {
          [TABLE.fanOutIndex.partitionKey]: keys.fanOut(sub.id_project, sub.event),
          [TABLE.fanOutIndex.sortKey]: keys.subscriptionSk(sub._id),
        }
      : {}),
  };
}

function storeSubscription(sub: Subscription | undefined): void {
  db.on(GetCommand).resolves(sub ? { Item: stored(sub) } : {});
}

function subscriptionAt(path: string, overrides: Partial<Subscription> = {}): Subscription {
  return subscription({ target: receiver.url(path), ...overrides });
}

function visibilities(): Array<number | undefined> {
  return sqs.commandCalls(ChangeMessageVisibilityCommand).map((call) => call.args[0].input.VisibilityTimeout);
}

/** Log items as written: one PutItem for a lone item, BatchWriteItem for a batch's several. */
function logItems(): Array<DeliveryAttempt & Record<string, unknown>> {
  const single = db.commandCalls(PutCommand).map((call) => call.args[0].input.Item);
  const batched = db
    .commandCalls(BatchWriteCommand)
    .flatMap((call) => Object.values(call.args[0].input.RequestItems ?? {}).flat())
    .map((request) => request.PutRequest?.Item);
  return [...single, ...batched] as Array<DeliveryAttempt & Record<string, unknown>>;
}

function updates(): UpdateCommandInput[] {
  return db.commandCalls(UpdateCommand).map((call) => call.args[0].input);
}

async function deliverTo(path: string, receiveCount = 1, overrides: Partial<Subscription> = {}) {
  const sub = subscriptionAt(path, overrides);
  storeSubscription(sub);
  const record = sqsRecord(message(), receiveCount);
  const response = await deliverBatch([record], deps());
  return { response, record, sub };
}

let output: ReturnType<typeof captureOutput>;

listenDuringTests(receiver, agents);

beforeEach(() => {
  db.reset();
  sqs.reset();
  db.on(PutCommand).resolves({});
  db.on(BatchWriteCommand).resolves({});
  db.on(UpdateCommand).resolves({});
  sqs.on(ChangeMessageVisibilityCommand).resolves({});
  cache = new SubscriptionCache({ ttlMs: 30_000 });
  vi.restoreAllMocks();
  output = captureOutput();
});

afterEach(() => {
  output.restore();
});

describe('the retry table against a real receiver', () => {
  const cases: Array<{
    path: string;
    outcome: DeliveryAttempt['outcome'];
    statusCode?: number;
    visibility?: number;
    error?: RegExp;
  }> = [
    { path: '/ok', outcome: 'delivered', statusCode: 200 },
    { path: '/no-content', outcome: 'delivered', statusCode: 204 },
    { path: '/redirect', outcome: 'failed', statusCode: 301, visibility: 5, error: /HTTP 301/ },
    { path: '/bad', outcome: 'failed', statusCode: 400, visibility: 5 },
    { path: '/missing', outcome: 'failed', statusCode: 404, visibility: 5 },
    { path: '/error', outcome: 'failed', statusCode: 500, visibility: 5 },
    { path: '/error-with-retry-after', outcome: 'failed', statusCode: 500, visibility: 5 },
    { path: '/throttled?after=120', outcome: 'failed', statusCode: 429, visibility: 120 },
    {
      path: '/throttled?after=999999',
      outcome: 'failed',
      statusCode: 429,
      visibility: LIMITS.maxVisibilityTimeoutSeconds,
    },
    { path: '/unavailable', outcome: 'failed', statusCode: 503, visibility: 600 },
    { path: '/hang', outcome: 'failed', visibility: 5, error: /timed out after 300 ms/ },
    { path: '/reset', outcome: 'failed', visibility: 5, error: /ECONNRESET/ },
  ];

  it.each(cases)('$path: $outcome', async ({ path, outcome, statusCode, visibility, error }) => {
    const { response, record } = await deliverTo(path);

    const retried = outcome !== 'delivered';
    expect(response.batchItemFailures).toEqual(retried ? [{ itemIdentifier: record.messageId }] : []);
    expect(visibilities()).toEqual(visibility === undefined ? [] : [visibility]);
    if (visibility !== undefined) {
      expect(sqs.commandCalls(ChangeMessageVisibilityCommand)[0]?.args[0].input).toMatchObject({
        QueueUrl: 'https://sqs.local/deliveries',
        ReceiptHandle: record.receiptHandle,
      });
    }
    const [item] = logItems();
    expect(logItems()).toHaveLength(1);
    expect(item).toMatchObject({ outcome, attempt: 1, deliveryId: message().deliveryId });
    expect(item?.statusCode).toBe(statusCode);
    if (error) expect(item?.error).toMatch(error);
    if (retried) expect(item?.nextAttemptAt).toBe(new Date(NOW + (visibility ?? 0) * 1000).toISOString());
    expect(receiver.requestsTo(path)).not.toHaveLength(0);
  });

  it('does not follow a redirect', async () => {
    const before = receiver.requestsTo('/ok').length;

    await deliverTo('/redirect');

    expect(receiver.requestsTo('/ok')).toHaveLength(before);
  });

  it('honours Retry-After only up to the scheduled delay as a floor', async () => {
    await deliverTo('/throttled?after=1', 3);

    expect(visibilities()).toEqual([DEFAULT_RETRY_SCHEDULE_SECONDS[2]]);
  });

  it('reads only a bounded slice of a huge body and keeps 1 KB of it', async () => {
    const { response } = await deliverTo('/huge');

    expect(response.batchItemFailures).toEqual([]);
    const [item] = logItems();
    expect(item?.outcome).toBe('delivered');
    expect(item?.responseBody).toHaveLength(LIMITS.maxLoggedResponseBytes);
    expect(hugeBytesWritten).toBeLessThan(HUGE_BODY_BYTES);
  });

  it('410 Gone removes the subscription and is not retried', async () => {
    const sub = subscriptionAt('/gone');
    storeSubscription(sub);
    db.on(DeleteCommand).resolves({ Attributes: stored(sub) });
    const addMetric = vi.spyOn(metrics, 'addMetric');

    const response = await deliverBatch([sqsRecord(message())], deps());

    expect(response.batchItemFailures).toEqual([]);
    expect(db).toHaveReceivedCommandWith(DeleteCommand, {
      TableName: 'webhooks',
      Key: { pk: keys.project('proj_1'), sk: keys.subscriptionSk('sub_1') },
    });
    expect(visibilities()).toEqual([]);
    expect(logItems()[0]).toMatchObject({ outcome: 'gone', statusCode: 410 });
    expect(addMetric).toHaveBeenCalledWith(METRIC.subscriptionsGone, 'Count', 1);
    expect(output.lines().some((line) => line.includes('subscription removed'))).toBe(true);
  });

  it('410 Gone whose removal fails is retried', async () => {
    storeSubscription(subscriptionAt('/gone'));
    db.on(DeleteCommand).rejects(new Error('InternalServerError'));

    const response = await deliverBatch([sqsRecord(message())], deps());

    expect(response.batchItemFailures).toHaveLength(1);
    expect(logItems()[0]).toMatchObject({ outcome: 'failed', statusCode: 410 });
  });

  it('a refused target is a failed attempt with the reason, retried like a network error', async () => {
    storeSubscription(subscriptionAt('/ok'));
    const before = receiver.requestsTo('/ok').length;

    const response = await deliverBatch(
      [sqsRecord(message())],
      deps({ settings: settings({ targets: { allowHttp: true, allowPrivate: false } }) }),
    );

    expect(response.batchItemFailures).toHaveLength(1);
    expect(visibilities()).toEqual([5]);
    expect(logItems()[0]?.error).toMatch(/^target refused: .*loopback/);
    expect(receiver.requestsTo('/ok')).toHaveLength(before);
  });
});

describe('scheduling and dead-lettering', () => {
  it.each(DEFAULT_RETRY_SCHEDULE_SECONDS.map((delay, index) => [index + 1, delay]))(
    'attempt %i failing schedules the next one in %i s',
    async (attempt, delay) => {
      await deliverTo('/error', attempt);

      expect(visibilities()).toEqual([delay]);
      expect(logItems()[0]).toMatchObject({ outcome: 'failed', attempt });
    },
  );

  it('applies ±20% jitter from the random source', async () => {
    storeSubscription(subscriptionAt('/error'));

    await deliverBatch([sqsRecord(message(), 2)], deps({ random: () => 0 }));
    await deliverBatch([sqsRecord(message(), 2)], deps({ random: () => 0.999999 }));

    expect(visibilities()).toEqual([240, 360]);
  });

  it('the last attempt is dead-lettered: counted, logged, released with visibility 0', async () => {
    const addMetric = vi.spyOn(metrics, 'addMetric');
    const attempts = DEFAULT_RETRY_SCHEDULE_SECONDS.length + 1;

    const { response } = await deliverTo('/error', attempts);

    expect(response.batchItemFailures).toHaveLength(1);
    expect(visibilities()).toEqual([0]);
    expect(logItems()[0]).toMatchObject({ outcome: 'dead-lettered', attempt: attempts });
    expect(logItems()[0]).not.toHaveProperty('nextAttemptAt');
    expect(addMetric).toHaveBeenCalledWith(METRIC.deadLettered, 'Count', 1);
  });

  it('receives beyond the last attempt fail at once without a POST, until SQS redrives them', async () => {
    const attempts = DEFAULT_RETRY_SCHEDULE_SECONDS.length + 1;
    const before = receiver.requestsTo('/ok').length;
    storeSubscription(subscriptionAt('/ok'));
    const records = [sqsRecord(message(), attempts + 1), sqsRecord(message(), attempts + 2)];

    const response = await deliverBatch(records, deps());

    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(records.map((r) => r.messageId));
    expect(visibilities()).toEqual([0, 0]);
    expect(receiver.requestsTo('/ok')).toHaveLength(before);
    expect(logItems()).toEqual([]);
    expect(db).not.toHaveReceivedCommand(GetCommand);
  });

  it('still reports the failure when ChangeMessageVisibility fails', async () => {
    sqs.on(ChangeMessageVisibilityCommand).rejects(new Error('ReceiptHandleIsInvalid'));

    const { response } = await deliverTo('/error');

    expect(response.batchItemFailures).toHaveLength(1);
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('120', NOW)).toBe(120);
    expect(parseRetryAfter(new Date(NOW + 90_000).toUTCString(), NOW)).toBe(90);
    expect(parseRetryAfter(new Date(NOW - 90_000).toUTCString(), NOW)).toBe(0);
    expect(parseRetryAfter('soon', NOW)).toBeUndefined();
    expect(parseRetryAfter(undefined, NOW)).toBeUndefined();
  });
});

describe('skips', () => {
  it('skips a deleted subscription without a POST and without a retry (re-read consistently first)', async () => {
    storeSubscription(undefined);
    const before = receiver.requests.length;

    const response = await deliverBatch([sqsRecord(message())], deps());

    expect(response.batchItemFailures).toEqual([]);
    expect(receiver.requests).toHaveLength(before);
    expect(db.commandCalls(GetCommand).map((c) => c.args[0].input.ConsistentRead)).toEqual([false, true]);
    expect(logItems()[0]).toMatchObject({ outcome: 'skipped', error: 'subscription deleted' });
    expect(visibilities()).toEqual([]);
  });

  it('skips a disabled subscription without a POST', async () => {
    const before = receiver.requests.length;

    const { response } = await deliverTo('/ok', 1, { status: 'disabled' });

    expect(response.batchItemFailures).toEqual([]);
    expect(receiver.requests).toHaveLength(before);
    expect(logItems()[0]).toMatchObject({ outcome: 'skipped', error: 'subscription disabled' });
  });

  it('skips a subscription whose event changed since the fan-out', async () => {
    const before = receiver.requests.length;

    await deliverTo('/ok', 1, { event: 'lead.create' });

    expect(receiver.requests).toHaveLength(before);
    expect(logItems()[0]).toMatchObject({ outcome: 'skipped' });
  });

  it('drops a malformed message without a retry, and counts it', async () => {
    const records = [sqsRecord('not json'), sqsRecord(JSON.stringify({ ...message(), v: 2 }))];

    const response = await deliverBatch(records, deps());

    expect(response.batchItemFailures).toEqual([]);
    expect(db).not.toHaveReceivedCommand(GetCommand);
    const emf = output.lines().filter((line) => line.includes('"_aws"'));
    expect(
      emf.some((line) => line.includes('"outcome":"malformed"') && line.includes('"Deliveries":2')),
    ).toBe(true);
    expect(output.lines().filter((line) => line.includes('malformed delivery message dropped'))).toHaveLength(
      2,
    );
  });
});

describe('auto-disable', () => {
  it('the first failure stamps failingSince, conditionally', async () => {
    await deliverTo('/error');

    expect(updates()).toEqual([
      expect.objectContaining({
        Key: { pk: keys.project('proj_1'), sk: keys.subscriptionSk('sub_1') },
        UpdateExpression: 'SET failingSince = :now',
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(failingSince)',
        ExpressionAttributeValues: { ':now': new Date(NOW).toISOString() },
      }),
    ]);
  });

  it('a failure inside the window writes nothing to the subscription', async () => {
    await deliverTo('/error', 2, { failingSince: new Date(NOW - DAY).toISOString() });

    expect(updates()).toEqual([]);
  });

  it('a failure after the window disables it and takes it out of the fan-out index', async () => {
    const since = new Date(NOW - 5 * DAY - 1).toISOString();
    const addMetric = vi.spyOn(metrics, 'addMetric');

    const { response } = await deliverTo('/error', 3, { failingSince: since });

    expect(response.batchItemFailures).toHaveLength(1);
    const [update] = updates();
    expect(update?.UpdateExpression).toBe(
      'SET #status = :disabled, disabledReason = :reason, updatedAt = :now REMOVE #gsiPk, #gsiSk',
    );
    expect(update?.ExpressionAttributeNames).toEqual({
      '#status': 'status',
      '#gsiPk': 'gsi1pk',
      '#gsiSk': 'gsi1sk',
    });
    expect(update?.ExpressionAttributeValues).toMatchObject({
      ':disabled': 'disabled',
      ':reason': `deliveries failed without success since ${since}`,
      ':since': since,
    });
    expect(addMetric).toHaveBeenCalledWith(METRIC.subscriptionsDisabled, 'Count', 1);
    expect(logItems()[0]?.error).toContain('subscription disabled: deliveries failed without success');
    expect(output.lines().some((line) => line.includes('"message":"subscription disabled"'))).toBe(true);
  });

  it('after disabling, the next message of that subscription is skipped without a POST (cache updated)', async () => {
    const since = new Date(NOW - 6 * DAY).toISOString();
    storeSubscription(subscriptionAt('/error', { failingSince: since }));
    await deliverBatch([sqsRecord(message(), 3)], deps());
    storeSubscription(subscriptionAt('/error', { failingSince: since, status: 'disabled' }));
    const before = receiver.requestsTo('/error').length;

    const response = await deliverBatch([sqsRecord(message({ eventId: 'evt_2' }))], deps());

    expect(response.batchItemFailures).toEqual([]);
    expect(receiver.requestsTo('/error')).toHaveLength(before);
    expect(logItems()[1]).toMatchObject({ outcome: 'skipped', error: 'subscription disabled' });
    // The cached (disabled) copy is confirmed by one consistent read before a skip.
    expect(db.commandCalls(GetCommand).map((c) => c.args[0].input.ConsistentRead)).toEqual([false, true]);
  });

  it('one success resets the run of failures', async () => {
    await deliverTo('/ok', 4, { failingSince: new Date(NOW - 4 * DAY).toISOString() });

    expect(updates()).toEqual([
      expect.objectContaining({
        UpdateExpression: 'SET lastSuccessAt = :now REMOVE failingSince',
        ExpressionAttributeValues: { ':now': new Date(NOW).toISOString() },
      }),
    ]);
  });

  it('failure then success in one warm container: stamp, then reset from the cached state', async () => {
    const sub = subscription({ target: receiver.url('/error') });
    storeSubscription(sub);
    await deliverBatch([sqsRecord(message())], deps());
    // The receiver recovers: same subscription id, target now answers 200.
    const cached = await cache.get('proj_1', 'sub_1', () => Promise.reject(new Error('not cached')));
    expect(cached?.failingSince).toBe(new Date(NOW).toISOString());
    if (cached) cache.set({ ...cached, target: receiver.url('/ok') });

    await deliverBatch([sqsRecord(message({ eventId: 'evt_2' }))], deps());

    expect(updates().map((u) => u.UpdateExpression)).toEqual([
      'SET failingSince = :now',
      'SET lastSuccessAt = :now REMOVE failingSince',
    ]);
  });

  it('a success without a failure run costs exactly one AWS write: the log item', async () => {
    await deliverTo('/ok');

    expect(db).toHaveReceivedCommandTimes(PutCommand, 1);
    expect(db).not.toHaveReceivedCommand(UpdateCommand);
    expect(db).not.toHaveReceivedCommand(DeleteCommand);
    expect(sqs.calls()).toHaveLength(0);
  });
});

describe('the delivery log', () => {
  it('writes one item per attempt with both keys, the TTL and the attempt fields', async () => {
    await deliverTo('/bad', 2);

    const [item] = logItems();
    const sk = keys.logSk(new Date(NOW).toISOString(), message().deliveryId, 2);
    expect(item).toMatchObject({
      pk: keys.projectLog('proj_1'),
      sk,
      gsi2pk: keys.subscriptionLog('sub_1'),
      gsi2sk: sk,
      expiresAt: Math.floor(NOW / 1000) + 30 * 86_400,
      deliveryId: message().deliveryId,
      eventId: 'evt_1',
      subscriptionId: 'sub_1',
      id_project: 'proj_1',
      event: 'request.create',
      target: receiver.url('/bad'),
      attempt: 2,
      outcome: 'failed',
      statusCode: 400,
      responseBody: 'bad request',
      attemptedAt: new Date(NOW).toISOString(),
    });
    expect(typeof item?.durationMs).toBe('number');
    expect(db.commandCalls(PutCommand)[0]?.args[0].input.TableName).toBe('webhooks');
  });

  it('level failures writes no item for a success, but one for a failure', async () => {
    storeSubscription(subscriptionAt('/ok'));
    await deliverBatch([sqsRecord(message())], deps({ settings: settings({ logLevel: 'failures' }) }));
    expect(logItems()).toHaveLength(0);

    storeSubscription(subscriptionAt('/error'));
    cache = new SubscriptionCache({ ttlMs: 30_000 });
    await deliverBatch([sqsRecord(message())], deps({ settings: settings({ logLevel: 'failures' }) }));
    expect(logItems()).toHaveLength(1);
  });

  it('level off writes nothing', async () => {
    storeSubscription(subscriptionAt('/error'));

    await deliverBatch([sqsRecord(message())], deps({ settings: settings({ logLevel: 'off' }) }));

    expect(logItems()).toHaveLength(0);
  });

  it('a failed log write does not turn a delivered webhook into a retry', async () => {
    db.on(PutCommand).rejects(new Error('ProvisionedThroughputExceeded'));

    const { response } = await deliverTo('/ok');

    expect(response.batchItemFailures).toEqual([]);
  });
});

describe('secrets never reach a log line or a log item', () => {
  it('neither the secrets, nor x-hook-secret echoed back, nor URL credentials or their Authorization value', async () => {
    const password = 'pa55-w0rd-hunter2';
    const target = receiver.url('/echo').replace('http://', `http://alice:${password}@`);
    const sub = subscription({
      target,
      previousSecret: PREVIOUS_SECRET,
      previousSecretExpiresAt: '2999-01-01T00:00:00Z',
    });
    storeSubscription(sub);
    const before = receiver.requestsTo('/echo').length;

    await deliverBatch([sqsRecord(message(), 1), sqsRecord(message({ eventId: 'evt_2' }), 8)], deps());

    const echoed = receiver.requestsTo('/echo').slice(before);
    const authorization = echoed[0]?.headers.authorization ?? '';
    expect(authorization).toBe(`Basic ${Buffer.from(`alice:${password}`).toString('base64')}`);
    expect(echoed[0]?.headers['x-hook-secret']).toBe(SECRET);
    const forbidden = [
      SECRET,
      PREVIOUS_SECRET,
      SECRET.slice('whsec_'.length),
      PREVIOUS_SECRET.slice('whsec_'.length),
      password,
      authorization,
      authorization.slice('Basic '.length),
    ];
    const items = JSON.stringify(logItems());
    expect(logItems()).toHaveLength(2);
    expect(items).toContain('[redacted]');
    const lines = output.lines();
    expect(lines.length).toBeGreaterThan(0);
    for (const value of forbidden) {
      expect(items).not.toContain(value);
      for (const line of lines) expect(line).not.toContain(value);
    }
    expect(logItems()[0]?.target).toBe(receiver.url('/echo').replace('http://', 'http://***:***@'));
  });
});

describe('batches, correlation and metrics', () => {
  it('processes the records of a batch concurrently and reads the subscription once', async () => {
    const waiting: Array<() => void> = [];
    let maxOpen = 0;
    receiver.on('/barrier', (_req, res) => {
      waiting.push(() => res.writeHead(200).end());
      maxOpen = Math.max(maxOpen, waiting.length);
      if (waiting.length === 10) for (const release of waiting.splice(0)) release();
    });
    storeSubscription(subscriptionAt('/barrier'));
    const records: SQSRecord[] = Array.from({ length: 10 }, (_, i) =>
      sqsRecord(message({ eventId: `evt_${i}` })),
    );

    const response = await deliverBatch(records, deps({ settings: settings({ attemptTimeoutMs: 5000 }) }));

    expect(response.batchItemFailures).toEqual([]);
    expect(maxOpen).toBe(10);
    expect(db).toHaveReceivedCommandTimes(GetCommand, 1);
  });

  it('reports only the failed records of a mixed batch', async () => {
    const ok = subscriptionAt('/ok', { _id: 'sub_ok' });
    const bad = subscriptionAt('/error', { _id: 'sub_bad' });
    db.on(GetCommand).callsFake((input: { Key: { sk: string } }) =>
      Promise.resolve({ Item: stored(input.Key.sk === keys.subscriptionSk('sub_ok') ? ok : bad) }),
    );
    const records = [
      sqsRecord(message({ subscriptionId: 'sub_ok' })),
      sqsRecord(message({ subscriptionId: 'sub_bad' })),
    ];

    const response = await deliverBatch(records, deps());

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: records[1]?.messageId }]);
  });

  it('logs a success only at DEBUG, with the record keys, and counts Deliveries by outcome', async () => {
    await deliverTo('/ok');
    const atInfo = output.lines().filter((l) => l.includes('"message":"webhook delivered"'));
    const level = logger.getLevelName();
    logger.setLogLevel('DEBUG');
    try {
      await deliverTo('/ok');
    } finally {
      logger.setLogLevel(level);
    }

    expect(atInfo).toEqual([]);
    const line = output.lines().find((l) => l.includes('"message":"webhook delivered"'));
    expect(JSON.parse(line ?? '{}')).toMatchObject({
      eventId: 'evt_1',
      deliveryId: message().deliveryId,
      subscriptionId: 'sub_1',
      projectId: 'proj_1',
      statusCode: 200,
    });
    const emf = output.lines().find((l) => l.includes('"_aws"') && l.includes('"outcome":"delivered"'));
    expect(JSON.parse(emf ?? '{}')).toMatchObject({ outcome: 'delivered', [METRIC.deliveries]: 1 });
  });

  it('an unexpected error (subscription read fails) is retried after the queue visibility timeout', async () => {
    db.on(GetCommand).rejects(new Error('InternalServerError'));

    const response = await deliverBatch([sqsRecord(message())], deps());

    expect(response.batchItemFailures).toHaveLength(1);
    expect(visibilities()).toEqual([]);
  });
});
