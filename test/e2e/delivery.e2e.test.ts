import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../local/stack';
import {
  type ApiAnswer,
  callSubscriptionsApi,
  clientConfig,
  putPlatformEvent,
  quietHandlers,
  startTestReceiver,
  startTestStack,
  type TestReceiver,
  waitFor,
} from './support';

/**
 * The pipeline through the local stack, over HTTP and the AWS SDK only: subscribe,
 * put an event on the bus, and watch what the receiver gets and the log shows.
 */
const PROJECT = 'acme';
const KEY = { keyId: 'acme-key', secret: 'acme-secret-0123456789' };

let stack: LocalStack;
let receiver: TestReceiver;
let eventBridge: EventBridgeClient;
let sqs: SQSClient;

function api(method: string, path: string, body?: unknown): Promise<ApiAnswer> {
  return callSubscriptionsApi(stack, PROJECT, KEY, method, path, body);
}

async function subscribe(event: string, path: string): Promise<{ _id: string; secret: string }> {
  const created = await api('POST', '', { event, target: `${receiver.url}${path}` });
  expect(created.status).toBe(201);
  return created.json as { _id: string; secret: string };
}

function emit(event: string, payload: unknown): Promise<string> {
  return putPlatformEvent(eventBridge, stack, PROJECT, event, payload);
}

interface Attempt {
  attempt: number;
  outcome: string;
  statusCode?: number;
}

async function deliveriesOf(subscriptionId: string): Promise<Attempt[]> {
  const answer = await api('GET', `/${subscriptionId}/deliveries`);
  expect(answer.status).toBe(200);
  return answer.json as Attempt[];
}

async function dlqDepth(queueUrl = stack.queueUrls.deliveryDlq): Promise<number> {
  const attributes = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages'],
    }),
  );
  return Number(attributes.Attributes?.ApproximateNumberOfMessages ?? '0');
}

beforeAll(async () => {
  quietHandlers();
  receiver = await startTestReceiver();
  stack = await startTestStack({ apiKeys: [{ projectId: PROJECT, ...KEY }] });
  eventBridge = new EventBridgeClient({ ...clientConfig(stack), endpoint: stack.eventBridgeEndpoint });
  sqs = new SQSClient({ ...clientConfig(stack), endpoint: stack.sqsEndpoint });
});

afterAll(async () => {
  eventBridge?.destroy();
  sqs?.destroy();
  await stack?.stop();
  await receiver?.stop();
});

describe('delivery through the local stack', () => {
  it('delivers a signed webhook that standardwebhooks verifies', async () => {
    const subscription = await subscribe('request.create', '/signed');
    const eventId = await emit('request.create', { text: 'hello' });

    const [webhook] = await waitFor('the webhook', () =>
      receiver.at('/signed').length > 0 ? receiver.at('/signed') : undefined,
    );

    const verified = new Webhook(subscription.secret).verify(webhook?.body ?? '', {
      'webhook-id': String(webhook?.headers['webhook-id']),
      'webhook-timestamp': String(webhook?.headers['webhook-timestamp']),
      'webhook-signature': String(webhook?.headers['webhook-signature']),
    }) as { hook: { _id: string; event: string }; payload: unknown };
    expect(verified.hook._id).toBe(subscription._id);
    expect(verified.hook.event).toBe('request.create');
    expect(verified.payload).toEqual({ text: 'hello' });
    expect(webhook?.headers['x-hook-secret']).toBe(subscription.secret);
    expect(eventId).not.toBe('');
  });

  it('retries a failing receiver and logs every attempt', async () => {
    receiver.respond('/flaky', (previous) => (previous < 2 ? 500 : 200));
    const subscription = await subscribe('request.update', '/flaky');

    await emit('request.update', { n: 1 });

    const attempts = await waitFor('three logged attempts', async () => {
      const logged = await deliveriesOf(subscription._id);
      return logged.length >= 3 && logged.some((a) => a.outcome === 'delivered') ? logged : undefined;
    });
    expect(receiver.at('/flaky').map((item) => item.status)).toEqual([500, 500, 200]);
    expect(attempts.map((a) => [a.attempt, a.outcome, a.statusCode]).sort()).toEqual([
      [1, 'failed', 500],
      [2, 'failed', 500],
      [3, 'delivered', 200],
    ]);
    const ids = new Set(receiver.at('/flaky').map((item) => item.headers['webhook-id']));
    expect(ids.size).toBe(1);
  });

  it('removes the subscription when the receiver answers 410', async () => {
    receiver.respond('/gone', () => 410);
    const subscription = await subscribe('lead.create', '/gone');

    await emit('lead.create', { lead: 1 });

    await waitFor('the subscription to be removed', async () =>
      (await api('GET', `/${subscription._id}`)).status === 404 ? true : undefined,
    );
    expect(receiver.at('/gone')).toHaveLength(1);
  });

  it('dead-letters after the last attempt, and the redrive delivers it', async () => {
    let healthy = false;
    receiver.respond('/down', () => (healthy ? 200 : 503));
    const subscription = await subscribe('message.create', '/down');
    const before = await dlqDepth();

    await emit('message.create', { text: 'persistent' });

    await waitFor(
      'the message in the DLQ',
      async () => ((await dlqDepth()) > before ? true : undefined),
      30_000,
    );
    // Every scheduled attempt was made: the first plus one per retry of "1,1,1".
    expect(receiver.at('/down')).toHaveLength(4);
    const logged = await deliveriesOf(subscription._id);
    expect(logged.some((a) => a.outcome === 'dead-lettered')).toBe(true);

    healthy = true;
    const { redriveByReceive } = await import('../../functions/core/operations/redrive');
    const outcome = await redriveByReceive(sqs, {
      sourceQueueUrl: stack.queueUrls.deliveryDlq,
      destinationQueueUrl: stack.queueUrls.delivery,
    });

    expect(outcome.moved).toBeGreaterThanOrEqual(1);
    await waitFor('the redriven delivery', () =>
      receiver.at('/down').some((item) => item.status === 200) ? true : undefined,
    );
    expect(await dlqDepth()).toBe(0);
  });

  it('puts an event without id_project in the ingest DLQ instead of dropping it', async () => {
    const before = await dlqDepth(stack.queueUrls.ingestDlq);

    const result = await eventBridge.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: stack.busName,
            Source: 'tiledesk',
            DetailType: 'request.create',
            Detail: '{"payload":{}}',
          },
        ],
      }),
    );

    expect(result.FailedEntryCount).toBe(0);
    await waitFor('the rejected event', async () =>
      (await dlqDepth(stack.queueUrls.ingestDlq)) > before ? true : undefined,
    );
  });
});
