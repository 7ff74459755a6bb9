import { GetQueueAttributesCommand, SQSClient, StartMessageMoveTaskCommand } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { redriveByReceive, startRedriveTask } from '../../../functions/core/operations/redrive';

/** The AWS side of the redrive (StartMessageMoveTask); the receive-and-send side runs in the e2e suite. */
const sqsMock = mockClient(SQSClient);

beforeEach(() => {
  sqsMock.reset();
});

describe('startRedriveTask', () => {
  it('starts a move task from the DLQ ARN to the destination ARN', async () => {
    sqsMock
      .on(GetQueueAttributesCommand, { QueueUrl: 'https://sqs/dlq' })
      .resolves({ Attributes: { QueueArn: 'arn:dlq' } })
      .on(GetQueueAttributesCommand, { QueueUrl: 'https://sqs/main' })
      .resolves({ Attributes: { QueueArn: 'arn:main' } });
    sqsMock.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 'task-1' });

    const started = await startRedriveTask(new SQSClient({}), {
      sourceQueueUrl: 'https://sqs/dlq',
      destinationQueueUrl: 'https://sqs/main',
    });

    expect(started).toEqual({ taskHandle: 'task-1', sourceArn: 'arn:dlq', destinationArn: 'arn:main' });
    expect(sqsMock).toHaveReceivedCommandWith(StartMessageMoveTaskCommand, {
      SourceArn: 'arn:dlq',
      DestinationArn: 'arn:main',
    });
  });

  it('lets SQS send messages back to their source queue when no destination is given', async () => {
    sqsMock.on(GetQueueAttributesCommand).resolves({ Attributes: { QueueArn: 'arn:dlq' } });
    sqsMock.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 'task-2' });

    await startRedriveTask(new SQSClient({}), { sourceQueueUrl: 'https://sqs/dlq' });

    expect(sqsMock.commandCalls(StartMessageMoveTaskCommand)[0]?.args[0].input).toEqual({
      SourceArn: 'arn:dlq',
    });
  });
});

describe('redriveByReceive', () => {
  it('refuses to move a queue onto itself', async () => {
    await expect(
      redriveByReceive(new SQSClient({}), { sourceQueueUrl: 'q', destinationQueueUrl: 'q' }),
    ).rejects.toThrow('same queue');
  });
});
