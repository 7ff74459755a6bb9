import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../../functions/core/ids';
import type { Subscription } from '../../../functions/core/model/subscription';
import { decodeCursor, SUBSCRIPTION_SORT_KEY } from '../../../functions/core/schemas';
import { keys } from '../../../functions/core/storage/table';
import {
  deleteSubscription,
  getSubscription,
  subscriptionItem,
} from '../../../functions/core/subscriptions/repository';
import {
  createSubscription,
  listSubscriptions,
  STALE_GUARD_MS,
  type UseCaseDeps,
  updateSubscription,
} from '../../../functions/core/subscriptions/use-cases';

const ddb = mockClient(DynamoDBDocumentClient);
const db = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const TABLE = 'webhooks-test';
const NOW = Date.parse('2025-01-01T12:00:00.000Z');

function failedCondition() {
  return new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
}

function subscription(overrides: Partial<Subscription> = {}): Subscription {
  return {
    _id: 'sub_existing',
    id_project: 'p1',
    event: 'request.create',
    target: 'https://example.com/hook',
    status: 'active',
    createdBy: 'key_a',
    createdAt: '2025-01-01T00:00:00.000Z',
    updatedAt: '2025-01-01T00:00:00.000Z',
    secret: 'whsec_existing',
    ...overrides,
  };
}

const guardKey = (event: string, target: string) => ({
  pk: keys.project('p1'),
  sk: keys.guardSk(event, sha256Hex(target)),
});
const subscriptionKey = (id: string, project = 'p1') => ({
  pk: keys.project(project),
  sk: keys.subscriptionSk(id),
});

function testDeps(sleeps: number[] = []): UseCaseDeps {
  return {
    now: () => NOW,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    newId: () => 'sub_new',
    newSecret: () => 'whsec_new',
  };
}

const input = {
  projectId: 'p1',
  event: 'request.create',
  target: 'https://example.com/hook',
  createdBy: 'key_a',
};

beforeEach(() => {
  ddb.reset();
});

describe('createSubscription', () => {
  it('claims the guard, then writes an active subscription with its fan-out index keys', async () => {
    ddb.on(PutCommand).resolves({});

    const result = await createSubscription(db, TABLE, input, testDeps());

    expect(result).toEqual({
      kind: 'created',
      subscription: expect.objectContaining({ _id: 'sub_new', secret: 'whsec_new' }),
    });
    expect(ddb).toHaveReceivedNthCommandWith(PutCommand, 1, {
      TableName: TABLE,
      Item: {
        ...guardKey(input.event, input.target),
        subscriptionId: 'sub_new',
        createdAt: '2025-01-01T12:00:00.000Z',
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    expect(ddb).toHaveReceivedNthCommandWith(PutCommand, 2, {
      Item: expect.objectContaining({
        ...subscriptionKey('sub_new'),
        gsi1pk: keys.fanOut('p1', 'request.create'),
        gsi1sk: keys.subscriptionSk('sub_new'),
        _id: 'sub_new',
        id_project: 'p1',
        status: 'active',
        createdBy: 'key_a',
        secret: 'whsec_new',
      }),
    });
  });

  it('answers an existing (event, target) with that subscription, secret included, and writes nothing else', async () => {
    ddb.on(PutCommand).rejects(failedCondition());
    ddb.on(GetCommand, { Key: guardKey(input.event, input.target) }).resolves({
      Item: {
        ...guardKey(input.event, input.target),
        subscriptionId: 'sub_existing',
        createdAt: '2025-01-01T00:00:00.000Z',
      },
    });
    ddb
      .on(GetCommand, { Key: subscriptionKey('sub_existing') })
      .resolves({ Item: subscriptionItem(subscription()) });

    const result = await createSubscription(db, TABLE, input, testDeps());

    expect(result).toEqual({ kind: 'existing', subscription: subscription() });
    expect(ddb).toHaveReceivedCommandTimes(PutCommand, 1);
    expect(ddb).toHaveReceivedCommandWith(GetCommand, {
      Key: subscriptionKey('sub_existing'),
      ConsistentRead: true,
    });
  });

  it('waits for a racing writer that holds the guard but has not written its subscription yet', async () => {
    const sleeps: number[] = [];
    ddb.on(PutCommand).rejects(failedCondition());
    ddb.on(GetCommand, { Key: guardKey(input.event, input.target) }).resolves({
      Item: { subscriptionId: 'sub_racer', createdAt: new Date(NOW).toISOString() },
    });
    ddb
      .on(GetCommand, { Key: subscriptionKey('sub_racer') })
      .resolvesOnce({})
      .resolves({ Item: subscriptionItem(subscription({ _id: 'sub_racer' })) });

    const result = await createSubscription(db, TABLE, input, testDeps(sleeps));

    expect(result.kind).toBe('existing');
    expect(result.kind === 'existing' && result.subscription._id).toBe('sub_racer');
    expect(sleeps).toHaveLength(1);
    expect(ddb).toHaveReceivedCommandTimes(PutCommand, 1);
    expect(ddb).not.toHaveReceivedCommand(UpdateCommand);
  });

  it('takes over a stale guard whose subscription was never written', async () => {
    ddb
      .on(PutCommand, { Item: { sk: keys.guardSk(input.event, sha256Hex(input.target)) } })
      .rejects(failedCondition());
    ddb.on(PutCommand, { Item: { sk: keys.subscriptionSk('sub_new') } }).resolves({});
    ddb.on(GetCommand, { Key: guardKey(input.event, input.target) }).resolves({
      Item: { subscriptionId: 'sub_crashed', createdAt: new Date(NOW - STALE_GUARD_MS - 1).toISOString() },
    });
    ddb.on(GetCommand, { Key: subscriptionKey('sub_crashed') }).resolves({});
    ddb.on(UpdateCommand).resolves({});

    const result = await createSubscription(db, TABLE, input, testDeps());

    expect(result.kind).toBe('created');
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      Key: guardKey(input.event, input.target),
      ConditionExpression: 'subscriptionId = :stale',
      ExpressionAttributeValues: {
        ':next': 'sub_new',
        ':stale': 'sub_crashed',
        ':createdAt': new Date(NOW).toISOString(),
      },
    });
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({ _id: 'sub_new', secret: 'whsec_new' }),
    });
  });

  it('takes over an old guard that names a subscription since moved to another target', async () => {
    ddb
      .on(PutCommand, { Item: { sk: keys.guardSk(input.event, sha256Hex(input.target)) } })
      .rejects(failedCondition());
    ddb.on(PutCommand, { Item: { sk: keys.subscriptionSk('sub_new') } }).resolves({});
    ddb.on(GetCommand, { Key: guardKey(input.event, input.target) }).resolves({
      Item: { subscriptionId: 'sub_moved', createdAt: new Date(NOW - STALE_GUARD_MS - 1).toISOString() },
    });
    ddb.on(GetCommand, { Key: subscriptionKey('sub_moved') }).resolves({
      Item: subscriptionItem(subscription({ _id: 'sub_moved', target: 'https://example.com/elsewhere' })),
    });
    ddb.on(UpdateCommand).resolves({});

    expect((await createSubscription(db, TABLE, input, testDeps())).kind).toBe('created');
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      ExpressionAttributeValues: expect.objectContaining({ ':stale': 'sub_moved' }),
    });
  });

  it('answers busy (not a second subscription) while a young guard stays unresolved', async () => {
    const sleeps: number[] = [];
    ddb.on(PutCommand).rejects(failedCondition());
    ddb.on(GetCommand, { Key: guardKey(input.event, input.target) }).resolves({
      Item: { subscriptionId: 'sub_slow', createdAt: new Date(NOW).toISOString() },
    });
    ddb.on(GetCommand, { Key: subscriptionKey('sub_slow') }).resolves({});

    expect((await createSubscription(db, TABLE, input, testDeps(sleeps))).kind).toBe('busy');
    expect(sleeps.length).toBeGreaterThan(0);
    expect(ddb).not.toHaveReceivedCommand(UpdateCommand);
    expect(ddb).toHaveReceivedCommandTimes(PutCommand, 1);
  });
});

describe('getSubscription and deleteSubscription', () => {
  it('reads by project and id, strongly when asked, without key attributes', async () => {
    ddb.on(GetCommand).resolves({ Item: subscriptionItem(subscription()) });

    const found = await getSubscription(db, TABLE, 'p1', 'sub_existing', { consistent: true });

    expect(found).toEqual(subscription());
    expect(found).not.toHaveProperty('pk');
    expect(found).not.toHaveProperty('gsi1pk');
    expect(ddb).toHaveReceivedCommandWith(GetCommand, {
      Key: subscriptionKey('sub_existing'),
      ConsistentRead: true,
    });
  });

  it("keys another project's lookup by that project, so it finds nothing", async () => {
    ddb
      .on(GetCommand, { Key: subscriptionKey('sub_existing', 'p1') })
      .resolves({ Item: subscriptionItem(subscription()) });
    ddb.on(GetCommand, { Key: subscriptionKey('sub_existing', 'p2') }).resolves({});

    expect(await getSubscription(db, TABLE, 'p2', 'sub_existing')).toBeUndefined();
  });

  it('deletes the item, then its guard only while it still names it', async () => {
    ddb.on(DeleteCommand).resolves({});
    ddb
      .on(DeleteCommand, { Key: subscriptionKey('sub_existing') })
      .resolves({ Attributes: subscriptionItem(subscription()) });

    const removed = await deleteSubscription(db, TABLE, 'p1', 'sub_existing');

    expect(removed).toEqual(subscription());
    expect(ddb).toHaveReceivedNthCommandWith(DeleteCommand, 1, {
      Key: subscriptionKey('sub_existing'),
      ReturnValues: 'ALL_OLD',
    });
    expect(ddb).toHaveReceivedNthCommandWith(DeleteCommand, 2, {
      Key: guardKey('request.create', 'https://example.com/hook'),
      ConditionExpression: 'subscriptionId = :id',
      ExpressionAttributeValues: { ':id': 'sub_existing' },
    });
  });

  it('leaves a guard that another subscription took over', async () => {
    ddb
      .on(DeleteCommand, { Key: subscriptionKey('sub_existing') })
      .resolves({ Attributes: subscriptionItem(subscription()) });
    ddb.on(DeleteCommand, { ConditionExpression: 'subscriptionId = :id' }).rejects(failedCondition());

    expect(await deleteSubscription(db, TABLE, 'p1', 'sub_existing')).toEqual(subscription());
  });

  it('answers undefined for an absent subscription and touches no guard', async () => {
    ddb.on(DeleteCommand).resolves({});

    expect(await deleteSubscription(db, TABLE, 'p1', 'nope')).toBeUndefined();
    expect(ddb).toHaveReceivedCommandTimes(DeleteCommand, 1);
  });
});

describe('updateSubscription', () => {
  it('answers not-found for an absent subscription and writes nothing', async () => {
    ddb.on(GetCommand).resolves({});

    expect(await updateSubscription(db, TABLE, 'p1', 'nope', { status: 'disabled' }, testDeps())).toEqual({
      kind: 'not-found',
    });
    expect(ddb).not.toHaveReceivedCommand(UpdateCommand);
  });

  it('re-enabling a disabled subscription clears its failure state and restores the index keys', async () => {
    const disabled = subscription({
      status: 'disabled',
      failingSince: '2024-12-20T00:00:00.000Z',
      disabledReason: 'failing for 5 days',
    });
    ddb.on(GetCommand).resolves({ Item: subscriptionItem(disabled) });
    ddb.on(UpdateCommand).resolves({
      Attributes: subscriptionItem({ ...subscription(), updatedAt: new Date(NOW).toISOString() }),
    });

    const result = await updateSubscription(
      db,
      TABLE,
      'p1',
      'sub_existing',
      { status: 'active' },
      testDeps(),
    );

    expect(result.kind).toBe('updated');
    expect(result.kind === 'updated' && result.subscription).not.toHaveProperty('secret');
    const update = ddb.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(update?.UpdateExpression).toMatch(/SET .*#gsi1pk = :gsi1pk, #gsi1sk = :gsi1sk/);
    expect(update?.UpdateExpression).toMatch(/REMOVE .*#failingSince/);
    expect(update?.UpdateExpression).toMatch(/REMOVE .*#disabledReason/);
    expect(update?.ExpressionAttributeValues).toMatchObject({
      ':status': 'active',
      ':currentStatus': 'disabled',
      ':gsi1pk': keys.fanOut('p1', 'request.create'),
      ':updatedAt': new Date(NOW).toISOString(),
    });
  });

  it('disabling removes the fan-out index keys', async () => {
    ddb.on(GetCommand).resolves({ Item: subscriptionItem(subscription()) });
    ddb.on(UpdateCommand).resolves({ Attributes: subscriptionItem(subscription({ status: 'disabled' })) });

    await updateSubscription(db, TABLE, 'p1', 'sub_existing', { status: 'disabled' }, testDeps());

    const update = ddb.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(update?.UpdateExpression).toMatch(/REMOVE #gsi1pk, #gsi1sk/);
    expect(update?.ExpressionAttributeValues).not.toHaveProperty(':gsi1pk');
  });

  it('moving (event, target) claims the new guard, writes, then drops the old guard', async () => {
    const target = 'https://example.com/new';
    ddb.on(GetCommand).resolves({ Item: subscriptionItem(subscription()) });
    ddb.on(PutCommand).resolves({});
    ddb.on(UpdateCommand).resolves({ Attributes: subscriptionItem(subscription({ target })) });
    ddb.on(DeleteCommand).resolves({});

    const result = await updateSubscription(db, TABLE, 'p1', 'sub_existing', { target }, testDeps());

    expect(result.kind === 'updated' && result.subscription.target).toBe(target);
    const writes = ddb.calls().filter((call) => !(call.args[0] instanceof GetCommand));
    expect(writes.map((call) => call.args[0].constructor.name)).toEqual([
      'PutCommand',
      'UpdateCommand',
      'DeleteCommand',
    ]);
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({
        ...guardKey('request.create', target),
        subscriptionId: 'sub_existing',
      }),
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    expect(ddb).toHaveReceivedCommandWith(DeleteCommand, {
      Key: guardKey('request.create', 'https://example.com/hook'),
      ExpressionAttributeValues: { ':id': 'sub_existing' },
    });
  });

  it('refuses to move onto an (event, target) another subscription has', async () => {
    const target = 'https://example.com/taken';
    ddb
      .on(GetCommand, { Key: subscriptionKey('sub_existing') })
      .resolves({ Item: subscriptionItem(subscription()) });
    ddb.on(PutCommand).rejects(failedCondition());
    ddb.on(GetCommand, { Key: guardKey('request.create', target) }).resolves({
      Item: { subscriptionId: 'sub_other', createdAt: '2025-01-01T00:00:00.000Z' },
    });
    ddb.on(GetCommand, { Key: subscriptionKey('sub_other') }).resolves({
      Item: subscriptionItem(subscription({ _id: 'sub_other', target })),
    });

    expect(await updateSubscription(db, TABLE, 'p1', 'sub_existing', { target }, testDeps())).toEqual({
      kind: 'conflict',
      subscriptionId: 'sub_other',
    });
    expect(ddb).not.toHaveReceivedCommand(UpdateCommand);
  });

  it('re-reads after a concurrent change and releases the guard it claimed', async () => {
    const target = 'https://example.com/new';
    ddb
      .on(GetCommand)
      .resolvesOnce({ Item: subscriptionItem(subscription()) })
      .resolves({});
    ddb.on(PutCommand).resolves({});
    ddb.on(UpdateCommand).rejects(failedCondition());
    ddb.on(DeleteCommand).resolves({});

    expect(await updateSubscription(db, TABLE, 'p1', 'sub_existing', { target }, testDeps())).toEqual({
      kind: 'not-found',
    });
    expect(ddb).toHaveReceivedCommandWith(DeleteCommand, {
      Key: guardKey('request.create', target),
      ExpressionAttributeValues: { ':id': 'sub_existing' },
    });
  });
});

describe('listSubscriptions', () => {
  it('reads oldest first from the cursor and returns the next cursor', async () => {
    ddb.on(QueryCommand).resolves({
      Items: [subscriptionItem(subscription({ _id: 'sub_b' }))],
      LastEvaluatedKey: subscriptionKey('sub_b'),
    });

    const page = await listSubscriptions(db, TABLE, 'p1', { limit: 1, cursor: 'SUB#sub_a' });

    expect(page.items).toEqual([expect.not.objectContaining({ secret: expect.anything() })]);
    expect(page.items[0]?._id).toBe('sub_b');
    expect(decodeCursor(page.nextCursor ?? '', SUBSCRIPTION_SORT_KEY)).toBe('SUB#sub_b');
    expect(ddb).toHaveReceivedCommandWith(QueryCommand, {
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
      ExpressionAttributeValues: { ':pk': keys.project('p1'), ':prefix': 'SUB#' },
      ExclusiveStartKey: subscriptionKey('sub_a'),
      ScanIndexForward: true,
      Limit: 1,
    });
  });

  it('keeps reading pages until an event filter has filled the limit', async () => {
    ddb
      .on(QueryCommand)
      .resolvesOnce({ Items: [], LastEvaluatedKey: subscriptionKey('sub_a') })
      .resolvesOnce({
        Items: [subscriptionItem(subscription({ _id: 'sub_b', event: 'request.close' }))],
        LastEvaluatedKey: undefined,
      });

    const page = await listSubscriptions(db, TABLE, 'p1', { limit: 5, event: 'request.close' });

    expect(page.items.map((item) => item._id)).toEqual(['sub_b']);
    expect(page.nextCursor).toBeUndefined();
    expect(ddb).toHaveReceivedCommandTimes(QueryCommand, 2);
    expect(ddb).toHaveReceivedNthCommandWith(QueryCommand, 2, {
      FilterExpression: '#event = :event',
      ExclusiveStartKey: subscriptionKey('sub_a'),
    });
  });

  it('cuts a filtered page at the limit and continues after the last item returned', async () => {
    ddb.on(QueryCommand).resolves({
      Items: ['sub_a', 'sub_b', 'sub_c'].map((id) => subscriptionItem(subscription({ _id: id }))),
      LastEvaluatedKey: subscriptionKey('sub_z'),
    });

    const page = await listSubscriptions(db, TABLE, 'p1', { limit: 2, event: 'request.create' });

    expect(page.items.map((item) => item._id)).toEqual(['sub_a', 'sub_b']);
    expect(decodeCursor(page.nextCursor ?? '', SUBSCRIPTION_SORT_KEY)).toBe('SUB#sub_b');
  });
});
