import {
  DeleteMessageBatchCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';

/**
 * Plays the Lambda event source mapping of an SQS queue: several pollers long-poll
 * the queue, hand each batch to the function as the SQSEvent Lambda builds, and
 * delete the records the function did not report in `batchItemFailures`. A function
 * that throws fails the whole batch: nothing is deleted, and the messages come back
 * after their visibility timeout (and go to the DLQ after maxReceiveCount), as on AWS.
 */
export interface SqsPollerOptions {
  sqs: SQSClient;
  queueUrl: string;
  queueArn: string;
  region: string;
  batchSize: number;
  /** Concurrent pollers, each with at most one batch in the function at a time. */
  concurrency: number;
  /** Long-poll wait of each ReceiveMessage (seconds). */
  waitTimeSeconds?: number;
  handler: (event: SQSEvent) => Promise<SQSBatchResponse | undefined>;
  /** Called when a batch or a poll fails; the poller keeps going. */
  onError?: (error: unknown) => void;
}

export interface SqsPoller {
  stop(): Promise<void>;
}

/** Pause after a failed ReceiveMessage, so a broken endpoint is not hammered. */
const POLL_ERROR_BACKOFF_MS = 500;

export function startSqsPoller(options: SqsPollerOptions): SqsPoller {
  const abort = new AbortController();
  const onError = options.onError ?? ((error: unknown) => console.error('[sqs-poller]', error));

  async function pollOnce(): Promise<void> {
    const received = await options.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: options.queueUrl,
        MaxNumberOfMessages: options.batchSize,
        WaitTimeSeconds: options.waitTimeSeconds ?? 20,
        AttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
      { abortSignal: abort.signal },
    );
    const messages = received.Messages ?? [];
    if (messages.length === 0) return;
    const event: SQSEvent = { Records: messages.map((message) => toRecord(message, options)) };
    let failedIds: Set<string>;
    try {
      const result = await options.handler(event);
      failedIds = new Set((result?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier));
    } catch (error) {
      onError(error);
      return;
    }
    const done = event.Records.filter((record) => !failedIds.has(record.messageId));
    if (done.length === 0) return;
    const deleted = await options.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: options.queueUrl,
        Entries: done.map((record, index) => ({ Id: String(index), ReceiptHandle: record.receiptHandle })),
      }),
    );
    if (deleted.Failed && deleted.Failed.length > 0) {
      onError(new Error(`DeleteMessageBatch failed for ${deleted.Failed.length} message(s)`));
    }
  }

  async function loop(): Promise<void> {
    while (!abort.signal.aborted) {
      try {
        await pollOnce();
      } catch (error) {
        if (abort.signal.aborted) return;
        onError(error);
        await new Promise((resolve) => setTimeout(resolve, POLL_ERROR_BACKOFF_MS));
      }
    }
  }

  const loops = Array.from({ length: Math.max(1, options.concurrency) }, () => loop());
  return {
    async stop() {
      abort.abort();
      await Promise.allSettled(loops);
    },
  };
}

/** One record as Lambda builds it from a received message. */
export function toRecord(message: Message, source: { queueArn: string; region: string }): SQSRecord {
  const system = message.Attributes ?? {};
  const attributes: SQSRecord['attributes'] = {
    ApproximateReceiveCount: system.ApproximateReceiveCount ?? '1',
    SentTimestamp: system.SentTimestamp ?? '',
    SenderId: system.SenderId ?? '',
    ApproximateFirstReceiveTimestamp: system.ApproximateFirstReceiveTimestamp ?? '',
  };
  if (system.AWSTraceHeader) attributes.AWSTraceHeader = system.AWSTraceHeader;
  const record: SQSRecord = {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes,
    messageAttributes: toRecordAttributes(message.MessageAttributes ?? {}),
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: source.queueArn,
    awsRegion: source.region,
  };
  if (message.MD5OfMessageAttributes) record.md5OfMessageAttributes = message.MD5OfMessageAttributes;
  return record;
}

/** Lambda's camel-cased message attributes; binary values are base64, as in the Lambda event. */
function toRecordAttributes(attributes: Record<string, MessageAttributeValue>): SQSMessageAttributes {
  const out: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(attributes)) {
    out[name] = {
      dataType: value.DataType ?? 'String',
      stringListValues: [],
      binaryListValues: [],
      ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined
        ? { binaryValue: Buffer.from(value.BinaryValue).toString('base64') }
        : {}),
    };
  }
  return out;
}
