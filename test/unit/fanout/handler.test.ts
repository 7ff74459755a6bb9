import { SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { EventBridgeEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ENV } from '../../../functions/core/config/settings';
import { metrics } from '../../../functions/core/observability';
import { keys } from '../../../functions/core/storage/table';
import { handler } from '../../../functions/fan-out';

const db = mockClient(DynamoDBDocumentClient);
const sqs = mockClient(SQSClient);

function event(detail: unknown): EventBridgeEvent<string, unknown> {
  return {
    version: '0',
    id: 'eb-1',
    'detail-type': 'request.create',
    source: 'tiledesk',
    account: '123456789012',
    time: '2024-05-01T10:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail,
  };
}

beforeAll(() => {
  process.env[ENV.tableName] = 'webhooks-test';
  process.env[ENV.deliveryQueueUrl] = 'https://sqs.local/deliveries';
  process.env[ENV.rejectedEventsQueueUrl] = 'https://sqs.local/rejected';
});

beforeEach(() => {
  db.reset();
  sqs.reset();
});

describe('fan-out handler', () => {
  it('fans an EventBridge event out with settings from the environment and flushes metrics', async () => {
    db.on(QueryCommand).resolves({ Items: [{ gsi1sk: keys.subscriptionSk('sub_1') }] });
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const publish = vi.spyOn(metrics, 'publishStoredMetrics');

    const result = await handler(event({ id_project: 'p1', payload: {} }));

    expect(result).toMatchObject({ outcome: 'enqueued', matched: 1, queryPages: 3 });
    expect(db.commandCalls(QueryCommand)[0]?.args[0].input.TableName).toBe('webhooks-test');
    expect(sqs.commandCalls(SendMessageBatchCommand)[0]?.args[0].input.QueueUrl).toBe(
      'https://sqs.local/deliveries',
    );
    expect(publish).toHaveBeenCalledTimes(1);
  });

  it('sends a bad event to the rejected-events queue and succeeds', async () => {
    sqs.on(SendMessageCommand).resolves({});

    const result = await handler(event({ payload: {} }));

    expect(result).toMatchObject({ outcome: 'rejected', reason: 'bad-detail' });
    expect(sqs.commandCalls(SendMessageCommand)[0]?.args[0].input.QueueUrl).toBe(
      'https://sqs.local/rejected',
    );
  });
});
