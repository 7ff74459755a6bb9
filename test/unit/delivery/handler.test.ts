import { ChangeMessageVisibilityCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ENV } from '../../../functions/core/config/settings';
import { metrics } from '../../../functions/core/observability';
import { keys } from '../../../functions/core/storage/table';
import { handler } from '../../../functions/delivery';
import { message, Receiver, sqsRecord, subscription } from './helpers';

const db = mockClient(DynamoDBDocumentClient);
const sqs = mockClient(SQSClient);
const receiver = new Receiver();

beforeAll(async () => {
  await receiver.listen();
  // Read at the first invocation, not at import: set after the handler module was loaded.
  process.env[ENV.tableName] = 'webhooks-test';
  process.env[ENV.deliveryQueueUrl] = 'https://sqs.local/deliveries';
  process.env[ENV.allowHttpTargets] = 'true';
  process.env[ENV.allowPrivateTargets] = 'true';
});

afterAll(async () => {
  await receiver.close();
});

beforeEach(() => {
  db.reset();
  sqs.reset();
  db.on(PutCommand).resolves({});
  sqs.on(ChangeMessageVisibilityCommand).resolves({});
});

describe('delivery handler', () => {
  it('delivers an SQS batch with settings from the environment and flushes metrics', async () => {
    const sub = subscription({ target: receiver.url('/hook') });
    db.on(GetCommand).resolves({
      Item: { ...sub, pk: keys.project(sub.id_project), sk: keys.subscriptionSk(sub._id) },
    });
    const publish = vi.spyOn(metrics, 'publishStoredMetrics');
    const event: SQSEvent = { Records: [sqsRecord(message())] };

    const response = await handler(event);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(receiver.requestsTo('/hook')).toHaveLength(1);
    expect(db.commandCalls(GetCommand)[0]?.args[0].input.TableName).toBe('webhooks-test');
    expect(db.commandCalls(PutCommand)[0]?.args[0].input.Item).toMatchObject({ outcome: 'delivered' });
    expect(publish).toHaveBeenCalledTimes(1);
  });
});
