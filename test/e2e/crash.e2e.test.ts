import { AsyncLocalStorage } from 'node:async_hooks';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SendMessageBatchCommand, SetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalHandlers, LocalStack } from '../../local/stack';
import { registerSecret } from '../secret-scan/capture';
import {
  captureDeliveryLog,
  emitEvents,
  type RecordingReceiver,
  startRecordingReceiver,
  waitForEmptyQueue,
} from './reliability-support';
import { basicAuth, clientConfig, quietHandlers, startTestStack, waitFor } from './support';

/**
 * Crash safety through the local stack, with faults injected around the REAL handlers
 * (startLocalStack's wrapHandlers):
 * - a delivery invocation that throws after posting part of its batch;
 * - a delivery invocation cut off at its timeout while a POST is in flight;
 * - a fan-out that dies after K SendMessageBatch calls (EventBridge retries it).
 * Afterwards every (event, subscription) pair is delivered, every duplicate carries the
 * pair's one webhook-id, and nothing is lost. The delivery queue's visibility timeout is
 * lowered to 2 s so a crashed batch comes back in seconds instead of 6 minutes.
 */
const PROJECT = 'crash';
const KEY = { keyId: 'crash-key', secret: 'crash-secret-0123456789' };
const VISIBILITY_SECONDS = 2;

type Fault =
  | { kind: 'none' }
  | { kind: 'throw-mid-batch'; invocations: number }
  | { kind: 'cut-off'; invocations: number; afterMs: number }
  | { kind: 'fan-out-dies'; afterBatches: number; invocations: number };

let fault: Fault = { kind: 'none' };
const injected = { deliveryThrows: 0, deliveryCutOffs: 0, fanOutDeaths: 0 };

/** The SendMessageBatch budget of the fan-out invocation in this async context, if any. */
const fanOutBudget = new AsyncLocalStorage<{ remaining: number }>();
type Send = (this: unknown, ...args: unknown[]) => Promise<unknown>;
const sqsPrototype = SQSClient.prototype as unknown as { send: Send };
const originalSend = sqsPrototype.send;

function wrapHandlers(real: LocalHandlers): Partial<LocalHandlers> {
  return {
    delivery: async (event, context) => {
      if (fault.kind === 'throw-mid-batch' && fault.invocations > 0) {
        fault.invocations--;
        injected.deliveryThrows++;
        const posted: SQSEvent = { Records: event.Records.slice(0, Math.ceil(event.Records.length / 2)) };
        await real.delivery(posted, context);
        throw new Error('injected crash: the delivery function died half-way through its batch');
      }
      if (fault.kind === 'cut-off' && fault.invocations > 0) {
        fault.invocations--;
        injected.deliveryCutOffs++;
        const afterMs = fault.afterMs;
        // Lambda ends the invocation at its timeout; the poller sees a failed batch.
        return Promise.race([
          real.delivery(event, context),
          new Promise<never>((_, reject) =>
            setTimeout(() => reject(new Error('injected: Task timed out')), afterMs),
          ),
        ]);
      }
      return real.delivery(event, context);
    },
    fanOut: async (event, context) => {
      if (fault.kind === 'fan-out-dies' && fault.invocations > 0) {
        fault.invocations--;
        return fanOutBudget.run({ remaining: fault.afterBatches }, () => real.fanOut(event, context));
      }
      return real.fanOut(event, context);
    },
  };
}

let stack: LocalStack;
let receiver: RecordingReceiver;
let eventBridge: EventBridgeClient;
let sqs: SQSClient;

async function subscribe(event: string, path: string): Promise<string> {
  const response = await fetch(`${stack.apiUrl}/${PROJECT}/subscriptions`, {
    method: 'POST',
    headers: { Authorization: basicAuth(KEY.keyId, KEY.secret), 'content-type': 'application/json' },
    body: JSON.stringify({ event, target: `${receiver.url}${path}` }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { _id: string })._id;
}

/** Every (seq, subscription) pair got at least one webhook, and each pair only ever one webhook-id. */
function checkPairs(paths: string, seqs: number[], subscriptionIds: string[]) {
  const mine = receiver.received.filter((r) => r.path.startsWith(paths));
  const idsOfPair = new Map<string, Set<string>>();
  for (const r of mine) {
    const key = `${r.seq}/${r.subscriptionId}`;
    idsOfPair.set(key, (idsOfPair.get(key) ?? new Set()).add(r.webhookId));
  }
  const lost = seqs.flatMap((seq) =>
    subscriptionIds.filter((id) => !idsOfPair.has(`${seq}/${id}`)).map((id) => `${seq}/${id}`),
  );
  const duplicates = mine.length - idsOfPair.size;
  return { lost, duplicates, idsOfPair, received: mine.length };
}

async function settle(): Promise<void> {
  await stack.eventBridgeIdle();
  await waitForEmptyQueue(sqs, stack.queueUrls.delivery, 60_000);
}

beforeAll(async () => {
  quietHandlers();
  registerSecret(KEY.secret);
  receiver = await startRecordingReceiver((path) => (path.startsWith('/slow') ? 1500 : 0));
  sqsPrototype.send = function (this: unknown, ...args: unknown[]) {
    const budget = fanOutBudget.getStore();
    if (budget && args[0] instanceof SendMessageBatchCommand) {
      if (budget.remaining <= 0) {
        injected.fanOutDeaths++;
        return Promise.reject(new Error('injected crash: the fan-out died mid-way'));
      }
      budget.remaining--;
    }
    return originalSend.apply(this, args);
  };
  stack = await startTestStack({
    apiKeys: [{ projectId: PROJECT, ...KEY }],
    eventBridgeRetryDelaysMs: [200, 500],
    wrapHandlers,
  });
  eventBridge = new EventBridgeClient({ ...clientConfig(stack), endpoint: stack.eventBridgeEndpoint });
  sqs = new SQSClient({ ...clientConfig(stack), endpoint: stack.sqsEndpoint });
  await sqs.send(
    new SetQueueAttributesCommand({
      QueueUrl: stack.queueUrls.delivery,
      Attributes: { VisibilityTimeout: String(VISIBILITY_SECONDS) },
    }),
  );
});

afterAll(async () => {
  sqsPrototype.send = originalSend;
  if (stack) await captureDeliveryLog(stack);
  eventBridge?.destroy();
  sqs?.destroy();
  await stack?.stop();
  await receiver?.stop();
});

describe('crash safety', () => {
  it('a delivery invocation that throws half-way through its batch loses nothing', async () => {
    const subscriptions = [];
    for (let i = 0; i < 5; i++) subscriptions.push(await subscribe('request.close', `/throw/${i}`));
    fault = { kind: 'throw-mid-batch', invocations: 3 };

    await emitEvents(eventBridge, stack.busName, { projectId: PROJECT, event: 'request.close', count: 10 });
    await waitFor('the injected crashes', () =>
      fault.kind === 'throw-mid-batch' && fault.invocations === 0 ? true : undefined,
    );
    await settle();
    fault = { kind: 'none' };

    const outcome = checkPairs('/throw/', [...Array(10).keys()], subscriptions);
    console.log(
      `[crash] delivery throws=${injected.deliveryThrows} received=${outcome.received} duplicates=${outcome.duplicates} lost=${outcome.lost.length}`,
    );
    expect(injected.deliveryThrows).toBe(3);
    expect(outcome.lost).toEqual([]);
    for (const ids of outcome.idsOfPair.values()) expect(ids.size).toBe(1);
    // The records posted before each crash come back: they are the duplicates.
    expect(outcome.duplicates).toBeGreaterThanOrEqual(3);
  });

  it('a delivery invocation cut off at its timeout, a POST in flight, loses nothing', async () => {
    const subscriptions = [
      await subscribe('message.create', '/cut/fast'),
      await subscribe('message.create', '/slow/cut'),
    ];
    fault = { kind: 'cut-off', invocations: 2, afterMs: 400 };

    await emitEvents(eventBridge, stack.busName, {
      projectId: PROJECT,
      event: 'message.create',
      count: 3,
      firstSeq: 100,
    });
    await waitFor('the injected cut-offs', () =>
      fault.kind === 'cut-off' && fault.invocations === 0 ? true : undefined,
    );
    await settle();
    fault = { kind: 'none' };

    const fast = checkPairs('/cut/', [100, 101, 102], subscriptions.slice(0, 1));
    const slow = checkPairs('/slow/', [100, 101, 102], subscriptions.slice(1));
    console.log(
      `[crash] delivery cut-offs=${injected.deliveryCutOffs} received=${fast.received + slow.received} duplicates=${fast.duplicates + slow.duplicates} lost=${fast.lost.length + slow.lost.length}`,
    );
    expect(injected.deliveryCutOffs).toBe(2);
    expect([...fast.lost, ...slow.lost]).toEqual([]);
    for (const ids of [...fast.idsOfPair.values(), ...slow.idsOfPair.values()]) expect(ids.size).toBe(1);
    expect(fast.duplicates + slow.duplicates).toBeGreaterThanOrEqual(1);
  });

  it('a fan-out that dies after enqueuing part of its messages is retried, and loses nothing', async () => {
    const subscriptions = [];
    for (let i = 0; i < 25; i++) subscriptions.push(await subscribe('lead.create', `/fan/${i}`));
    // 25 messages = 3 SendMessageBatch calls; the first invocation of each event dies after one.
    fault = { kind: 'fan-out-dies', afterBatches: 1, invocations: 4 };

    await emitEvents(eventBridge, stack.busName, {
      projectId: PROJECT,
      event: 'lead.create',
      count: 4,
      firstSeq: 200,
    });
    await settle();
    fault = { kind: 'none' };

    const outcome = checkPairs('/fan/', [200, 201, 202, 203], subscriptions);
    console.log(
      `[crash] fan-out deaths=${injected.fanOutDeaths} received=${outcome.received} duplicates=${outcome.duplicates} lost=${outcome.lost.length}`,
    );
    expect(injected.fanOutDeaths).toBeGreaterThanOrEqual(4);
    expect(outcome.lost).toEqual([]);
    for (const ids of outcome.idsOfPair.values()) expect(ids.size).toBe(1);
    // The batch each dead invocation had sent was sent again by its retry, with the same ids.
    expect(outcome.duplicates).toBeGreaterThanOrEqual(4 * 10);
  });
});
