import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { type FauxqsServer, startFauxqs } from 'fauxqs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type SqsPoller, type SqsPollerOptions, startSqsPoller } from '../../../local/sqs-poller';

/** The event source mapping stand-in against fauxqs: record shape and partial batch failures. */
let server: FauxqsServer;
let sqs: SQSClient;
let poller: SqsPoller | undefined;
let counter = 0;

function newQueue(visibilityTimeout = '1') {
  const name = `q${++counter}`;
  const queue = server.createQueue(name, { attributes: { VisibilityTimeout: visibilityTimeout } });
  return { name, url: queue.queueUrl, arn: queue.queueArn };
}

/** The poller as these tests run it on `queue`: a single poller, batches of 10, 1 s long polls. */
function pollerOn(
  queue: ReturnType<typeof newQueue>,
  options: Pick<SqsPollerOptions, 'handler' | 'onError'>,
): SqsPoller {
  return startSqsPoller({
    sqs,
    queueUrl: queue.url,
    queueArn: queue.arn,
    region: 'us-east-1',
    batchSize: 10,
    concurrency: 1,
    waitTimeSeconds: 1,
    ...options,
  });
}

async function waitUntil(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

beforeAll(async () => {
  server = await startFauxqs({ port: 0, logger: false });
  sqs = new SQSClient({
    endpoint: `http://127.0.0.1:${server.port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
  });
});

afterEach(async () => {
  await poller?.stop();
  poller = undefined;
});

afterAll(async () => {
  sqs.destroy();
  await server.stop();
});

describe('SQS poller', () => {
  it('hands the function records shaped as Lambda builds them', async () => {
    const queue = newQueue();
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queue.url,
        MessageBody: '{"hello":1}',
        MessageAttributes: { kind: { DataType: 'String', StringValue: 'test' } },
      }),
    );
    const events: SQSEvent[] = [];

    poller = pollerOn(queue, {
      handler: async (event) => {
        events.push(event);
        return { batchItemFailures: [] };
      },
    });
    await waitUntil(() => events.length > 0);

    const record = events[0]?.Records[0];
    expect(record).toMatchObject({
      body: '{"hello":1}',
      eventSource: 'aws:sqs',
      eventSourceARN: queue.arn,
      awsRegion: 'us-east-1',
      md5OfBody: expect.stringMatching(/^[0-9a-f]{32}$/),
      messageAttributes: {
        kind: { stringValue: 'test', stringListValues: [], binaryListValues: [], dataType: 'String' },
      },
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: expect.stringMatching(/^\d+$/),
        ApproximateFirstReceiveTimestamp: expect.stringMatching(/^\d+$/),
        SenderId: expect.any(String),
      },
    });
    expect(record?.messageId).toEqual(expect.any(String));
    expect(record?.receiptHandle).toEqual(expect.any(String));
  });

  it('deletes the records not in batchItemFailures and redelivers the failed ones', async () => {
    const queue = newQueue('1');
    for (const body of ['ok', 'retry'])
      await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: body }));
    const seen: { body: string; receiveCount: string }[] = [];

    poller = pollerOn(queue, {
      handler: async (event) => {
        for (const r of event.Records)
          seen.push({ body: r.body, receiveCount: r.attributes.ApproximateReceiveCount });
        const failed = event.Records.filter(
          (r) => r.body === 'retry' && r.attributes.ApproximateReceiveCount === '1',
        );
        return { batchItemFailures: failed.map((r) => ({ itemIdentifier: r.messageId })) };
      },
    });
    await waitUntil(() => seen.some((item) => item.body === 'retry' && item.receiveCount === '2'));
    await poller.stop();
    poller = undefined;

    expect(seen.filter((item) => item.body === 'ok')).toEqual([{ body: 'ok', receiveCount: '1' }]);
    const left = server.inspectQueue(queue.name);
    expect(left?.messages.ready.length).toBe(0);
    expect(left?.messages.inflight.length).toBe(0);
  });

  it('deletes nothing when the function throws', async () => {
    const queue = newQueue('30');
    await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'boom' }));
    let calls = 0;
    const errors: unknown[] = [];

    poller = pollerOn(queue, {
      onError: (error) => errors.push(error),
      handler: async () => {
        calls++;
        throw new Error('function crashed');
      },
    });
    await waitUntil(() => errors.length > 0);
    await poller.stop();
    poller = undefined;

    expect(calls).toBe(1);
    expect(server.inspectQueue(queue.name)?.messages.inflight.length).toBe(1);
  });
});
