import { gunzipSync } from 'node:zlib';
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { ChangeMessageVisibilityCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  type PutCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { attemptsFor, DEFAULT_RETRY_SCHEDULE_SECONDS } from '../../../functions/core/config/retry-schedule';
import type { DeliverySettings } from '../../../functions/core/config/settings';
import { type DeliveryDeps, deliverBatch } from '../../../functions/core/delivery/deliver';
import { SubscriptionCache } from '../../../functions/core/delivery/subscription-cache';
import type { Subscription } from '../../../functions/core/model/subscription';
import { METRIC, metrics } from '../../../functions/core/observability';
import { OPERATIONAL_EVENT } from '../../../functions/core/operations/operational-events';
import { keys } from '../../../functions/core/storage/table';
import { subscriptionItem } from '../../../functions/core/subscriptions/repository';
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

/**
 * What issue 5 adds to the delivery function: the payload of a failed delivery is kept for
 * replay (and a success costs nothing more), and disabled / removed / dead-lettered
 * subscriptions are announced on the bus, best effort and without secrets.
 */
const db = mockClient(DynamoDBDocumentClient);
const sqs = mockClient(SQSClient);
const events = mockClient(EventBridgeClient);
const dbClient = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const sqsClient = new SQSClient({});
const eventBridge = new EventBridgeClient({});

const NOW = Date.parse('2024-05-01T10:00:00.000Z');
const DAY = 86_400_000;
const LAST_ATTEMPT = attemptsFor(DEFAULT_RETRY_SCHEDULE_SECONDS);
const agents = freshAgents();
const receiver = new Receiver()
  .on('/ok', (_req, res) => res.writeHead(200).end('ok'))
  .on('/gone', (_req, res) => res.writeHead(410).end('gone'))
  .on('/error', (_req, res) => res.writeHead(500).end('boom'));

function settings(overrides: Partial<DeliverySettings> = {}): DeliverySettings {
  return testDeliverySettings({ attemptTimeoutMs: 2000, eventBusName: 'platform-bus', ...overrides });
}

let cache: SubscriptionCache;
function deps(overrides: Partial<DeliveryDeps> = {}): DeliveryDeps {
  return {
    db: dbClient,
    sqs: sqsClient,
    settings: settings(),
    cache,
    now: () => NOW,
    random: () => 0.5,
    agents,
    eventBridge,
    keepFailedPayloads: true,
    ...overrides,
  };
}

function storeSubscription(sub: Subscription): void {
  db.on(GetCommand).resolves({ Item: subscriptionItem(sub) });
}

function puts(): PutCommandInput[] {
  return db.commandCalls(PutCommand).map((call) => call.args[0].input);
}

function payloadPuts(): PutCommandInput[] {
  return puts().filter((input) => String(input.Item?.pk).startsWith('PAYLOAD#'));
}

function putEvents() {
  return events.commandCalls(PutEventsCommand).flatMap((call) => call.args[0].input.Entries ?? []);
}

async function deliver(path: string, receiveCount = 1, overrides: Partial<Subscription> = {}, more = {}) {
  const sub = subscription({
    target: receiver.url(path),
    previousSecret: PREVIOUS_SECRET,
    previousSecretExpiresAt: new Date(NOW + DAY).toISOString(),
    ...overrides,
  });
  storeSubscription(sub);
  const record = sqsRecord(message({ token: 'platform-token-abc' }), receiveCount);
  const response = await deliverBatch([record], deps(more));
  return { sub, record, response };
}

let output: ReturnType<typeof captureOutput>;

listenDuringTests(receiver, agents);

beforeEach(() => {
  db.reset();
  sqs.reset();
  events.reset();
  db.on(PutCommand).resolves({});
  db.on(UpdateCommand).resolves({});
  sqs.on(ChangeMessageVisibilityCommand).resolves({});
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
  cache = new SubscriptionCache({ ttlMs: 30_000 });
  vi.restoreAllMocks();
  output = captureOutput();
});

afterEach(() => {
  output.restore();
});

describe('payloads kept for replay', () => {
  it('the first failed attempt stores the message once, conditionally, expiring with the log', async () => {
    await deliver('/error', 1);

    const [put] = payloadPuts();
    expect(payloadPuts()).toHaveLength(1);
    expect(put).toMatchObject({
      TableName: 'webhooks',
      ConditionExpression: 'attribute_not_exists(pk)',
      Item: {
        pk: keys.payload(message().deliveryId),
        sk: keys.payloadSk,
        projectId: 'proj_1',
        subscriptionId: 'sub_1',
        expiresAt: Math.floor(NOW / 1000) + 30 * 86_400,
      },
    });
    const stored = JSON.parse(gunzipSync(put?.Item?.message as Uint8Array).toString('utf8'));
    const { token: _token, ...expected } = message({ token: 'platform-token-abc' });
    expect(stored).toEqual(expected);
  });

  it('a success writes nothing but its log item', async () => {
    await deliver('/ok', 1);

    expect(puts()).toHaveLength(1);
    expect(puts()[0]?.Item).toMatchObject({ outcome: 'delivered' });
  });

  it('middle attempts do not write the payload again; the last one does, as a fallback', async () => {
    await deliver('/error', 3);
    expect(payloadPuts()).toHaveLength(0);

    db.resetHistory();
    await deliver('/error', LAST_ATTEMPT);
    expect(payloadPuts()).toHaveLength(1);
  });

  it('a payload already stored, or a failed write, changes nothing about the delivery', async () => {
    db.on(PutCommand, { Item: { pk: keys.payload(message().deliveryId) } }).rejects(
      new ConditionalCheckFailedException({ message: 'exists', $metadata: {} }),
    );
    const first = await deliver('/error', 1);
    expect(first.response.batchItemFailures).toEqual([{ itemIdentifier: first.record.messageId }]);

    db.on(PutCommand, { Item: { pk: keys.payload(message().deliveryId) } }).rejects(new Error('throttled'));
    const addMetric = vi.spyOn(metrics, 'addMetric');
    const second = await deliver('/error', 1);
    expect(second.response.batchItemFailures).toEqual([{ itemIdentifier: second.record.messageId }]);
    expect(addMetric).toHaveBeenCalledWith(METRIC.payloadStoreFailures, 'Count', 1);
    expect(puts().some((input) => input.Item?.outcome === 'failed')).toBe(true);
  });

  it('without keepFailedPayloads nothing is stored', async () => {
    await deliver('/error', 1, {}, { keepFailedPayloads: false });

    expect(payloadPuts()).toHaveLength(0);
  });
});

describe('operational events', () => {
  function detailOf(type: string) {
    const entry = putEvents().find((e) => e.DetailType === type);
    expect(entry, type).toBeDefined();
    expect(entry).toMatchObject({ EventBusName: 'platform-bus', Source: 'webhooks' });
    return JSON.parse(entry?.Detail ?? '{}') as {
      id_project: string;
      payload: { subscription: Record<string, unknown>; reason: string; deliveryId?: string; event?: string };
    };
  }

  it('a dead-lettered delivery is announced with its id, event and the reason', async () => {
    await deliver('/error', LAST_ATTEMPT);

    const detail = detailOf(OPERATIONAL_EVENT.deliveryDeadLettered);
    expect(detail).toMatchObject({
      id_project: 'proj_1',
      payload: {
        subscription: { _id: 'sub_1', id_project: 'proj_1', status: 'active' },
        reason: 'HTTP 500',
        deliveryId: message().deliveryId,
        event: 'request.create',
      },
    });
    expect(putEvents()).toHaveLength(1);
  });

  it('an ordinary failure announces nothing', async () => {
    await deliver('/error', 2);

    expect(events).not.toHaveReceivedCommand(PutEventsCommand);
  });

  it('a 410 removal is announced', async () => {
    const sub = subscription({ target: receiver.url('/gone') });
    db.on(DeleteCommand).resolves({ Attributes: subscriptionItem(sub) });

    await deliver('/gone', 1);

    expect(detailOf(OPERATIONAL_EVENT.subscriptionRemoved).payload).toMatchObject({
      subscription: { _id: 'sub_1' },
      reason: 'the receiver answered 410 Gone',
      deliveryId: message().deliveryId,
    });
  });

  it('an auto-disable is announced with the disabled subscription', async () => {
    const failingSince = new Date(NOW - 6 * DAY).toISOString();

    await deliver('/error', 2, { failingSince });

    const detail = detailOf(OPERATIONAL_EVENT.subscriptionDisabled);
    expect(detail.payload.subscription).toMatchObject({ _id: 'sub_1', status: 'disabled', failingSince });
    expect(detail.payload.reason).toBe(`deliveries failed without success since ${failingSince}`);
    expect(detail.payload.subscription.disabledReason).toBe(detail.payload.reason);
  });

  it('never carries a secret or the event token', async () => {
    await deliver('/error', LAST_ATTEMPT, { failingSince: new Date(NOW - 6 * DAY).toISOString() });

    const text = JSON.stringify(putEvents());
    expect(putEvents()).toHaveLength(2);
    for (const secret of [SECRET, PREVIOUS_SECRET, 'platform-token-abc']) expect(text).not.toContain(secret);
    expect(text).not.toContain('previousSecretExpiresAt');
  });

  it('a bus failure or a rejected entry is logged and counted, never a failed delivery', async () => {
    db.on(DeleteCommand).resolves({ Attributes: subscriptionItem(subscription()) });
    const addMetric = vi.spyOn(metrics, 'addMetric');
    events.on(PutEventsCommand).rejects(new Error('ThrottlingException'));
    const thrown = await deliver('/gone', 1);
    expect(thrown.response.batchItemFailures).toEqual([]);

    events
      .on(PutEventsCommand)
      .resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'x' }] });
    const rejected = await deliver('/gone', 1);
    expect(rejected.response.batchItemFailures).toEqual([]);

    expect(addMetric.mock.calls.filter(([name]) => name === METRIC.operationalEventFailures)).toHaveLength(2);
    expect(output.text()).toContain('could not put the operational event on the bus');
  });

  it('without a bus name nothing is put', async () => {
    await deliver('/error', LAST_ATTEMPT, {}, { settings: settings({ eventBusName: undefined }) });

    expect(events).not.toHaveReceivedCommand(PutEventsCommand);
  });
});

describe('re-enable while the delivery function holds a disabled copy', () => {
  it('a cached disabled subscription is read again before a skip, so a re-enabled one gets its delivery', async () => {
    const sub = subscription({ target: receiver.url('/ok') });
    cache.set({ ...sub, status: 'disabled', disabledReason: 'failing for days' });
    storeSubscription(sub); // re-enabled in the table meanwhile
    const before = receiver.requestsTo('/ok').length;

    const response = await deliverBatch([sqsRecord(message())], deps());

    expect(response.batchItemFailures).toEqual([]);
    expect(receiver.requestsTo('/ok')).toHaveLength(before + 1);
    expect(db).toHaveReceivedCommandWith(GetCommand, { ConsistentRead: true });
    expect(puts()[0]?.Item).toMatchObject({ outcome: 'delivered' });
  });
});
