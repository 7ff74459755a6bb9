import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { LIMITS } from '../config/limits';

/**
 * Moving dead-lettered deliveries back to the delivery queue. On AWS, SQS does it
 * itself (StartMessageMoveTask); where that API is missing (the local fauxqs) the
 * messages are received, re-sent with the same body and attributes (so each starts
 * with a fresh receive count, a fresh set of attempts) and then deleted.
 */
export interface RedriveQueues {
  sourceQueueUrl: string;
  destinationQueueUrl: string;
}

export interface RedriveOutcome {
  moved: number;
  /** Messages that could not be re-sent; they stay in the source queue. */
  failed: number;
}

export interface ReceiveRedriveOptions {
  /** Stop after this many messages (default: until the queue is empty). */
  maxMessages?: number;
  /** How long a received message stays hidden while it is being moved. */
  visibilityTimeoutSeconds?: number;
}

export async function redriveByReceive(
  sqs: SQSClient,
  queues: RedriveQueues,
  options: ReceiveRedriveOptions = {},
): Promise<RedriveOutcome> {
  if (queues.sourceQueueUrl === queues.destinationQueueUrl) {
    throw new Error('source and destination are the same queue');
  }
  const limit = options.maxMessages ?? Number.POSITIVE_INFINITY;
  let moved = 0;
  let failed = 0;
  while (moved + failed < limit) {
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queues.sourceQueueUrl,
        MaxNumberOfMessages: Math.min(LIMITS.sqsBatchEntries, limit - moved - failed),
        WaitTimeSeconds: 1,
        VisibilityTimeout: options.visibilityTimeoutSeconds ?? 60,
        MessageAttributeNames: ['All'],
      }),
    );
    const messages = received.Messages ?? [];
    if (messages.length === 0) break;
    const sent = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queues.destinationQueueUrl,
        Entries: messages.map((message, index) => ({
          Id: String(index),
          MessageBody: message.Body ?? '',
          ...(message.MessageAttributes && Object.keys(message.MessageAttributes).length > 0
            ? { MessageAttributes: message.MessageAttributes }
            : {}),
        })),
      }),
    );
    const sentIds = new Set((sent.Successful ?? []).map((entry) => entry.Id));
    failed += messages.length - sentIds.size;
    const toDelete = messages
      .map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle ?? '' }))
      .filter((entry) => sentIds.has(entry.Id));
    if (toDelete.length > 0) {
      await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queues.sourceQueueUrl, Entries: toDelete }));
    }
    moved += toDelete.length;
    // A batch where nothing could be sent would loop on the same messages: stop.
    if (toDelete.length === 0) break;
  }
  return { moved, failed };
}

export interface MoveTaskStarted {
  taskHandle: string;
  sourceArn: string;
  destinationArn: string | undefined;
}

/** Starts SQS's own redrive; without a destination SQS sends each message back to its source queue. */
export async function startRedriveTask(
  sqs: SQSClient,
  queues: { sourceQueueUrl: string; destinationQueueUrl?: string | undefined },
): Promise<MoveTaskStarted> {
  const sourceArn = await queueArn(sqs, queues.sourceQueueUrl);
  const destinationArn = queues.destinationQueueUrl
    ? await queueArn(sqs, queues.destinationQueueUrl)
    : undefined;
  const started = await sqs.send(
    new StartMessageMoveTaskCommand({
      SourceArn: sourceArn,
      ...(destinationArn ? { DestinationArn: destinationArn } : {}),
    }),
  );
  return { taskHandle: started.TaskHandle ?? '', sourceArn, destinationArn };
}

async function queueArn(sqs: SQSClient, queueUrl: string): Promise<string> {
  const attributes = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  const arn = attributes.Attributes?.QueueArn;
  if (!arn) throw new Error(`no QueueArn for ${queueUrl}`);
  return arn;
}
