import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ChangeMessageVisibilityCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  BatchWriteCommand,
  type BatchWriteCommandInput,
  DynamoDBDocumentClient,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { deliverySettings, ENV } from '../../../functions/core/config/settings';
import { deliverBatch } from '../../../functions/core/delivery/deliver';
import { SubscriptionCache } from '../../../functions/core/delivery/subscription-cache';
import { BATCH_WRITE_MAX_ITEMS, DeliveryLogBuffer } from '../../../functions/core/delivery-log/batch';
import { deliveryIdFor } from '../../../functions/core/ids';
import type { DeliveryAttempt } from '../../../functions/core/model/delivery-log';
import type { Subscription } from '../../../functions/core/model/subscription';
import { freshAgents, listenDuringTests, Receiver } from './helpers';

/** The delivery log of a batch: written together, one BatchWriteItem per 25 items. */
const db = mockClient(DynamoDBDocumentClient);
const sqs = mockClient(SQSClient);
const TABLE_NAME = 'webhooks';
const logSettings = { tableName: TABLE_NAME, logLevel: 'all' as const, logTtlDays: 30 };
const noSleep = async () => undefined;
const docClient = () => DynamoDBDocumentClient.from(new DynamoDBClient({}));

function attempt(n: number, outcome: DeliveryAttempt['outcome'] = 'delivered'): DeliveryAttempt {
  return {
    deliveryId: `msg_${n}`,
    eventId: `evt_${n}`,
    subscriptionId: 'sub_1',
    id_project: 'proj_1',
    event: 'request.create',
    target: 'https://alice:pw@example.com/hook',
    attempt: 1,
    attemptedAt: new Date(1_700_000_000_000 + n).toISOString(),
    outcome,
    durationMs: 3,
  };
}

function batchedItems(): Record<string, unknown>[] {
  return db
    .commandCalls(BatchWriteCommand)
    .flatMap((call) => call.args[0].input.RequestItems?.[TABLE_NAME] ?? [])
    .map((request) => request.PutRequest?.Item ?? {});
}

beforeEach(() => {
  db.reset();
  sqs.reset();
});

describe('DeliveryLogBuffer', () => {
  it('writes a lone item with PutItem, as a single delivery always did', async () => {
    const buffer = new DeliveryLogBuffer(logSettings);
    buffer.add(attempt(1));

    await buffer.flush(docClient(), () => undefined, noSleep);

    expect(db).toHaveReceivedCommandTimes(PutCommand, 1);
    expect(db).not.toHaveReceivedCommand(BatchWriteCommand);
  });

  it('writes 30 items in two BatchWriteItem calls (25 + 5), with masked targets and keys', async () => {
    db.on(BatchWriteCommand).resolves({});
    const buffer = new DeliveryLogBuffer(logSettings);
    for (let n = 0; n < 30; n++) buffer.add(attempt(n));

    await buffer.flush(docClient(), () => undefined, noSleep);

    const sizes = db
      .commandCalls(BatchWriteCommand)
      .map((call) => call.args[0].input.RequestItems?.[TABLE_NAME]?.length);
    expect(sizes.sort()).toEqual([BATCH_WRITE_MAX_ITEMS, 5].sort());
    expect(db).not.toHaveReceivedCommand(PutCommand);
    const items = batchedItems();
    expect(items).toHaveLength(30);
    expect(items[0]).toMatchObject({
      pk: 'LOG#proj_1',
      gsi2pk: 'SUBLOG#sub_1',
      target: 'https://***:***@example.com/hook',
    });
    expect(buffer.size).toBe(0);
  });

  it('keeps only what the log level keeps', () => {
    const buffer = new DeliveryLogBuffer({ ...logSettings, logLevel: 'failures' });
    buffer.add(attempt(1, 'delivered'));
    buffer.add(attempt(2, 'failed'));
    expect(buffer.size).toBe(1);
  });

  it('retries unprocessed items, then reports the rest without throwing', async () => {
    const unprocessed = (input: BatchWriteCommandInput) => ({
      UnprocessedItems: { [TABLE_NAME]: (input.RequestItems?.[TABLE_NAME] ?? []).slice(0, 1) },
    });
    db.on(BatchWriteCommand).callsFakeOnce(unprocessed).resolves({});
    const buffer = new DeliveryLogBuffer(logSettings);
    buffer.add(attempt(1));
    buffer.add(attempt(2));
    const failures: unknown[] = [];

    await buffer.flush(docClient(), (error) => failures.push(error), noSleep);

    const calls = db
      .commandCalls(BatchWriteCommand)
      .map((call) => call.args[0].input.RequestItems?.[TABLE_NAME]?.length);
    expect(calls).toEqual([2, 1]);
    expect(failures).toEqual([]);

    db.reset();
    db.on(BatchWriteCommand).rejects(new Error('ProvisionedThroughputExceeded'));
    buffer.add(attempt(3));
    buffer.add(attempt(4));
    await buffer.flush(docClient(), (error) => failures.push(error), noSleep);
    expect(failures).toHaveLength(1);
  });
});

describe('deliverBatch', () => {
  const receiver = new Receiver();
  const agents = freshAgents();
  listenDuringTests(receiver, agents);

  it('a batch of 10 successes costs one AWS write: one BatchWriteItem of 10 log items', async () => {
    db.on(BatchWriteCommand).resolves({});
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    const settings = deliverySettings({
      [ENV.tableName]: TABLE_NAME,
      [ENV.deliveryQueueUrl]: 'https://sqs.us-east-1.amazonaws.com/0/q',
      [ENV.allowHttpTargets]: 'true',
      [ENV.allowPrivateTargets]: 'true',
    });
    const subscription: Subscription = {
      _id: 'sub_1',
      id_project: 'proj_1',
      event: 'request.create',
      target: receiver.url('/ok'),
      status: 'active',
      createdBy: 'test',
      createdAt: '2024-01-01T00:00:00.000Z',
      updatedAt: '2024-01-01T00:00:00.000Z',
      secret: `whsec_${Buffer.alloc(32, 1).toString('base64')}`,
    };
    const cache = new SubscriptionCache({ ttlMs: 60_000 });
    cache.set(subscription);
    const records: SQSRecord[] = Array.from({ length: 10 }, (_, n) => ({
      messageId: `m${n}`,
      receiptHandle: `r${n}`,
      body: JSON.stringify({
        v: 1,
        deliveryId: deliveryIdFor(`evt_${n}`, 'sub_1'),
        eventId: `evt_${n}`,
        subscriptionId: 'sub_1',
        projectId: 'proj_1',
        event: 'request.create',
        timestamp: 1_700_000_000_000,
        payload: { n },
      }),
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: '0',
        SenderId: 'x',
        ApproximateFirstReceiveTimestamp: '0',
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:0:q',
      awsRegion: 'us-east-1',
    }));

    const response = await deliverBatch(records, {
      db: docClient(),
      sqs: new SQSClient({}),
      settings,
      cache,
      agents,
    });

    expect(response.batchItemFailures).toEqual([]);
    expect(receiver.requestsTo('/ok')).toHaveLength(10);
    expect(db.calls()).toHaveLength(1);
    expect(db).toHaveReceivedCommandTimes(BatchWriteCommand, 1);
    expect(db).not.toHaveReceivedCommand(UpdateCommand);
    expect(batchedItems().map((item) => item.outcome)).toEqual(Array(10).fill('delivered'));
    expect(sqs.calls()).toHaveLength(0);
  });
});
