import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../local/stack';
import { captureItems, registerSecret } from '../secret-scan/capture';
import {
  CHAOS_WEIGHTS,
  type ChaosReceiver,
  deliveryLogItems,
  drainDeliveryDlq,
  emitEvents,
  scanTable,
  startChaosReceiver,
  waitForEmptyQueue,
} from './reliability-support';
import { basicAuth, clientConfig, quietHandlers, startTestStack } from './support';

/**
 * Chaos delivery through the local stack: 500 events x 4 subscriptions to a receiver that
 * answers, on a seeded plan, 200, slow 200, 500, 503, 429 + Retry-After, hangs past the
 * attempt timeout or resets the connection. Every (event, subscription) pair must end
 * delivered at least once or in the delivery DLQ: lost = 0.
 *
 * Timings are shrunk, counts are not: retries 1 s apart ("1,1,1,1": 5 attempts), a 500 ms
 * attempt timeout (a hang costs half a second, not ten), slow answers of 20-150 ms.
 */
const SEED = 20_240_607;
const EVENTS = 500;
const PROJECT = 'chaos';
const KEY = { keyId: 'chaos-key', secret: 'chaos-secret-0123456789' };
const PATTERNS = ['request.create', 'request.*', '*', 'request.create'] as const;
const ATTEMPTS = 5;

let stack: LocalStack;
let receiver: ChaosReceiver;
let eventBridge: EventBridgeClient;
let sqs: SQSClient;
const secrets = new Map<string, string>();
const subscriptionIds: string[] = [];

beforeAll(async () => {
  quietHandlers();
  registerSecret(KEY.secret);
  process.env.ATTEMPT_TIMEOUT_MS = '500';
  receiver = await startChaosReceiver({
    seed: SEED,
    weights: CHAOS_WEIGHTS,
    secrets,
    slowMs: [20, 150],
    retryAfterSeconds: 1,
  });
  stack = await startTestStack({
    apiKeys: [{ projectId: PROJECT, ...KEY }],
    retrySchedule: '1,1,1,1',
    pollerConcurrency: 6,
  });
  eventBridge = new EventBridgeClient({ ...clientConfig(stack), endpoint: stack.eventBridgeEndpoint });
  sqs = new SQSClient({ ...clientConfig(stack), endpoint: stack.sqsEndpoint });

  for (const [index, event] of PATTERNS.entries()) {
    const response = await fetch(`${stack.apiUrl}/${PROJECT}/subscriptions`, {
      method: 'POST',
      headers: { Authorization: basicAuth(KEY.keyId, KEY.secret), 'content-type': 'application/json' },
      body: JSON.stringify({ event, target: `${receiver.url}/r${index}` }),
    });
    expect(response.status).toBe(201);
    const created = (await response.json()) as { _id: string; secret: string };
    secrets.set(created._id, created.secret);
    registerSecret(created.secret);
    subscriptionIds.push(created._id);
  }
});

afterAll(async () => {
  eventBridge?.destroy();
  sqs?.destroy();
  await stack?.stop();
  await receiver?.stop();
});

describe('chaos delivery', () => {
  it('delivers or dead-letters every (event, subscription) pair: nothing is lost', async () => {
    const started = Date.now();
    await emitEvents(eventBridge, stack.busName, {
      projectId: PROJECT,
      event: 'request.create',
      count: EVENTS,
    });
    await stack.eventBridgeIdle();
    await waitForEmptyQueue(sqs, stack.queueUrls.delivery, 240_000);
    const dlq = await drainDeliveryDlq(sqs, stack.queueUrls.deliveryDlq);

    const pairKey = (seq: number, subscriptionId: string) => `${seq}/${subscriptionId}`;
    const delivered = receiver.delivered();
    const idsOfPair = new Map<string, Set<string>>();
    const deliveredPairs = new Set<string>();
    for (const request of receiver.requests) {
      const key = pairKey(request.seq, request.subscriptionId);
      const ids = idsOfPair.get(key) ?? new Set<string>();
      ids.add(request.webhookId);
      idsOfPair.set(key, ids);
      if (delivered.has(request.webhookId)) deliveredPairs.add(key);
    }
    const deadLetteredPairs = new Set(
      dlq.map((message) => pairKey(Number((message.payload as { seq: number }).seq), message.subscriptionId)),
    );
    const lost: string[] = [];
    for (let seq = 0; seq < EVENTS; seq++) {
      for (const subscriptionId of subscriptionIds) {
        const key = pairKey(seq, subscriptionId);
        if (!deliveredPairs.has(key) && !deadLetteredPairs.has(key)) lost.push(key);
      }
    }
    const duplicates = [...delivered.values()].filter((count) => count > 1).length;
    const perAttempt = new Map<string, number>();
    for (const request of receiver.requests)
      perAttempt.set(request.behaviour, (perAttempt.get(request.behaviour) ?? 0) + 1);
    const badSignatures = receiver.requests.filter((request) => !request.signatureValid).length;

    const logItems = deliveryLogItems(await scanTable(stack));
    captureItems(logItems);
    const logOf = new Map<
      string,
      { attempt: number; outcome: string; error?: string; durationMs: number }[]
    >();
    for (const item of logItems) {
      if (typeof item.deliveryId !== 'string' || typeof item.outcome !== 'string') continue;
      const list = logOf.get(item.deliveryId) ?? [];
      list.push({
        attempt: Number(item.attempt),
        outcome: String(item.outcome),
        error: item.error as string | undefined,
        durationMs: Number(item.durationMs),
      });
      logOf.set(item.deliveryId, list);
    }
    console.log(
      `[chaos] seed=${SEED} pairs=${EVENTS * subscriptionIds.length} requests=${receiver.requests.length} ` +
        `delivered=${deliveredPairs.size} duplicates=${duplicates} dead-lettered=${deadLetteredPairs.size} ` +
        `lost=${lost.length} bad-signatures=${badSignatures} seconds=${Math.round((Date.now() - started) / 1000)} ` +
        `behaviours=${JSON.stringify(Object.fromEntries(perAttempt))}`,
    );

    expect(lost).toEqual([]);
    expect(badSignatures).toBe(0);
    // Every request of one pair carried the same webhook-id, and no two pairs shared one.
    for (const ids of idsOfPair.values()) expect(ids.size).toBe(1);
    expect(new Set([...idsOfPair.values()].flatMap((ids) => [...ids])).size).toBe(idsOfPair.size);
    // A pair in the DLQ had its every attempt first.
    for (const message of dlq) {
      expect(logOf.get(message.deliveryId)).toContainEqual(
        expect.objectContaining({ attempt: ATTEMPTS, outcome: 'dead-lettered' }),
      );
    }
    expect(deadLetteredPairs.size).toBe(dlq.length);
    expect(new Set([...deliveredPairs, ...deadLetteredPairs]).size).toBe(EVENTS * subscriptionIds.length);
  }, 300_000);
});
