import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../functions/core/storage/table';
import type { BusEvent } from '../../local/eventbridge';
import type { LocalStack } from '../../local/stack';
import {
  type ApiAnswer,
  callSubscriptionsApi,
  clientConfig,
  putPlatformEvent,
  quietHandlers,
  type ReceivedWebhook,
  startTestReceiver,
  startTestStack,
  type TestReceiver,
  waitFor,
} from './support';

/**
 * Issue 5's integrator tools through the local stack, over HTTP and the AWS SDK only:
 * test ping, secret rotation, retry and recover of dead-lettered deliveries (a ~250 KB one
 * too), operational events on the bus, and re-enabling an auto-disabled subscription.
 */
const PROJECT = 'ops';
const KEY = { keyId: 'ops-key', secret: 'ops-secret-0123456789' };
const OPERATIONAL_SOURCE = 'webhooks';

let stack: LocalStack;
let receiver: TestReceiver;
let eventBridge: EventBridgeClient;
let db: DynamoDBDocumentClient;
/** Paths whose receiver answers 200; every other path of the tests answers 500 (or 410). */
const healthy = new Set<string>();

function api(method: string, path: string, body?: unknown): Promise<ApiAnswer> {
  return callSubscriptionsApi(stack, PROJECT, KEY, method, path, body);
}

interface Created {
  _id: string;
  secret: string;
}

/** A subscription whose receiver path fails with 500 until the path is marked healthy. */
async function subscribe(event: string, path: string): Promise<Created> {
  receiver.respond(path, () => (healthy.has(path) ? 200 : 500));
  const created = await api('POST', '', { event, target: `${receiver.url}${path}` });
  expect(created.status).toBe(201);
  return created.json as Created;
}

async function emit(event: string, payload: unknown): Promise<void> {
  await putPlatformEvent(eventBridge, stack, PROJECT, event, payload);
}

interface Attempt {
  deliveryId: string;
  event: string;
  attempt: number;
  outcome: string;
  statusCode?: number;
}

async function deliveriesOf(subscriptionId: string): Promise<Attempt[]> {
  const answer = await api('GET', `/${subscriptionId}/deliveries`);
  expect(answer.status).toBe(200);
  return answer.json as Attempt[];
}

/** The delivery ids of the subscription that reached the DLQ, once there are `count` of them. */
async function deadLettered(subscriptionId: string, count: number): Promise<string[]> {
  return waitFor(`${count} dead-lettered deliveries`, async () => {
    const ids = [
      ...new Set(
        (await deliveriesOf(subscriptionId))
          .filter((a) => a.outcome === 'dead-lettered')
          .map((a) => a.deliveryId),
      ),
    ];
    return ids.length >= count ? ids : undefined;
  });
}

function verify(secret: string, webhook: ReceivedWebhook | undefined): unknown {
  return new Webhook(secret).verify(webhook?.body ?? '', {
    'webhook-id': String(webhook?.headers['webhook-id']),
    'webhook-timestamp': String(webhook?.headers['webhook-timestamp']),
    'webhook-signature': String(webhook?.headers['webhook-signature']),
  });
}

function verifies(secret: string, webhook: ReceivedWebhook | undefined): boolean {
  try {
    verify(secret, webhook);
    return true;
  } catch {
    return false;
  }
}

function delivered(path: string): ReceivedWebhook[] {
  return receiver.at(path).filter((webhook) => webhook.status === 200);
}

function operationalEvents(type: string, subscriptionId: string): BusEvent[] {
  return stack.busEvents(OPERATIONAL_SOURCE).filter((event) => {
    const detail = event.detail as { payload?: { subscription?: { _id?: string } } };
    return event['detail-type'] === type && detail.payload?.subscription?._id === subscriptionId;
  });
}

beforeAll(async () => {
  quietHandlers();
  receiver = await startTestReceiver();
  stack = await startTestStack({ apiKeys: [{ projectId: PROJECT, ...KEY }] });
  eventBridge = new EventBridgeClient({ ...clientConfig(stack), endpoint: stack.eventBridgeEndpoint });
  db = DynamoDBDocumentClient.from(
    new DynamoDBClient({ ...clientConfig(stack), endpoint: stack.dynamoDbEndpoint }),
  );
});

afterAll(async () => {
  eventBridge?.destroy();
  db?.destroy();
  await stack?.stop();
  await receiver?.stop();
});

describe('test ping', () => {
  it('sends a signed ping to the receiver at once and logs it as event ping', async () => {
    healthy.add('/ping');
    const subscription = await subscribe('request.create', '/ping');

    const answer = await api('POST', `/${subscription._id}/test`);

    expect(answer.status).toBe(200);
    const result = answer.json as {
      ok: boolean;
      status: number;
      durationMs: number;
      error: null;
      deliveryId: string;
    };
    expect(result).toMatchObject({ ok: true, status: 200, error: null });
    expect(typeof result.durationMs).toBe('number');
    const [ping] = receiver.at('/ping');
    expect(ping?.headers['webhook-id']).toBe(result.deliveryId);
    expect(ping?.headers['x-hook-secret']).toBe(subscription.secret);
    expect(verify(subscription.secret, ping)).toMatchObject({
      hook: { _id: subscription._id, event: 'request.create' },
      payload: { event: 'ping' },
    });
    const log = await deliveriesOf(subscription._id);
    expect(log).toEqual([
      expect.objectContaining({ deliveryId: result.deliveryId, event: 'ping', outcome: 'delivered' }),
    ]);
  });

  it('reports a failing receiver in the answer', async () => {
    const subscription = await subscribe('request.close', '/ping-fails');

    const answer = await api('POST', `/${subscription._id}/test`);

    expect(answer).toMatchObject({ status: 200, json: { ok: false, status: 500, error: 'HTTP 500' } });
  });
});

describe('secret rotation', () => {
  it('returns the new secret once; deliveries verify with only the old and with only the new secret', async () => {
    healthy.add('/rotate');
    const subscription = await subscribe('request.update', '/rotate');

    const rotated = await api('POST', `/${subscription._id}/secret`);

    expect(rotated.status).toBe(200);
    const body = rotated.json as { secret: string; previousSecretExpiresAt: string };
    expect(body.secret).toMatch(/^whsec_/);
    expect(body.secret).not.toBe(subscription.secret);
    expect(rotated.headers.get('x-hook-secret')).toBe(body.secret);
    expect(Date.parse(body.previousSecretExpiresAt) - Date.now()).toBeGreaterThan(23 * 3_600_000);
    const read = await api('GET', `/${subscription._id}`);
    expect(JSON.stringify(read.json)).not.toContain(body.secret);
    expect(JSON.stringify(read.json)).not.toContain(subscription.secret);

    await emit('request.update', { after: 'rotation' });
    const [webhook] = await waitFor('the webhook after rotation', () =>
      delivered('/rotate').length > 0 ? delivered('/rotate') : undefined,
    );

    expect(verifies(subscription.secret, webhook)).toBe(true);
    expect(verifies(body.secret, webhook)).toBe(true);
    expect(String(webhook?.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(webhook?.headers['x-hook-secret']).toBe(body.secret);
  });
});

describe('redelivery', () => {
  it('retries a dead-lettered delivery with the same webhook-id, and 404s an unknown one', async () => {
    const subscription = await subscribe('lead.create', '/replay');
    await emit('lead.create', { lead: 'l-1' });
    const [deliveryId] = await deadLettered(subscription._id, 1);
    const failed = receiver.at('/replay');
    expect(failed.length).toBeGreaterThanOrEqual(4);
    expect(new Set(failed.map((w) => w.headers['webhook-id']))).toEqual(new Set([deliveryId]));

    healthy.add('/replay');
    const answer = await api('POST', `/${subscription._id}/deliveries/${deliveryId}/retry`);

    expect(answer).toMatchObject({ status: 202, json: { deliveryId, queued: true } });
    const [replayed] = await waitFor('the replayed webhook', () =>
      delivered('/replay').length > 0 ? delivered('/replay') : undefined,
    );
    expect(replayed?.headers['webhook-id']).toBe(deliveryId);
    expect(verify(subscription.secret, replayed)).toMatchObject({ payload: { lead: 'l-1' } });

    const unknown = await api('POST', `/${subscription._id}/deliveries/msg_00000000000000000000000000/retry`);
    expect(unknown.status).toBe(404);
  });

  it('recovers every failed delivery since a time, then nothing once they are delivered', async () => {
    const since = new Date(Date.now() - 1000).toISOString();
    const subscription = await subscribe('faq.create', '/recover');
    await emit('faq.create', { faq: 1 });
    await emit('faq.create', { faq: 2 });
    const failedIds = await deadLettered(subscription._id, 2);

    healthy.add('/recover');
    const answer = await api('POST', `/${subscription._id}/recover`, { since });

    expect(answer).toMatchObject({ status: 202, json: { queued: 2, truncated: false } });
    const replayed = await waitFor('both recovered webhooks', () =>
      delivered('/recover').length >= 2 ? delivered('/recover') : undefined,
    );
    expect(new Set(replayed.map((w) => w.headers['webhook-id']))).toEqual(new Set(failedIds));
    await waitFor('the recovered deliveries in the log', async () => {
      const log = await deliveriesOf(subscription._id);
      return log.filter((a) => a.outcome === 'delivered').length >= 2 ? log : undefined;
    });

    const again = await api('POST', `/${subscription._id}/recover`, { since });
    expect(again).toMatchObject({ status: 202, json: { queued: 0, truncated: false } });

    const future = await api('POST', `/${subscription._id}/recover`, {
      since: new Date(Date.now() + 3_600_000).toISOString(),
    });
    expect(future.status).toBe(400);
  });

  it('replays a ~250 KB payload byte for byte', async () => {
    const subscription = await subscribe('message.create', '/large');
    const text = randomBytes(187_500).toString('base64'); // 250,000 characters that gzip cannot fold
    await emit('message.create', { text });
    const [deliveryId] = await deadLettered(subscription._id, 1);

    healthy.add('/large');
    const answer = await api('POST', `/${subscription._id}/deliveries/${deliveryId}/retry`);

    expect(answer.status).toBe(202);
    const [replayed] = await waitFor('the large replayed webhook', () =>
      delivered('/large').length > 0 ? delivered('/large') : undefined,
    );
    expect(replayed?.headers['webhook-id']).toBe(deliveryId);
    const body = verify(subscription.secret, replayed) as { payload: { text: string } };
    expect(body.payload.text).toBe(text);
  });
});

describe('operational events on the bus', () => {
  it('a dead-lettered delivery is announced with source webhooks', async () => {
    const subscription = await subscribe('project.update', '/dead');
    await emit('project.update', { p: 1 });
    const [deliveryId] = await deadLettered(subscription._id, 1);

    const [event] = await waitFor('the dead-lettered event', () => {
      const found = operationalEvents('webhook.delivery.dead_lettered', subscription._id);
      return found.length > 0 ? found : undefined;
    });

    expect(event).toMatchObject({
      source: OPERATIONAL_SOURCE,
      detail: {
        id_project: PROJECT,
        payload: {
          deliveryId,
          event: 'project.update',
          reason: 'HTTP 500',
          subscription: { _id: subscription._id },
        },
      },
    });
    expect(JSON.stringify(event)).not.toContain(subscription.secret);
  });

  it('a subscription removed by 410 Gone is announced', async () => {
    const created = await api('POST', '', { event: 'group.create', target: `${receiver.url}/gone` });
    const subscription = created.json as Created;
    receiver.respond('/gone', () => 410);
    await emit('group.create', { g: 1 });

    const [event] = await waitFor('the removed event', () => {
      const found = operationalEvents('webhook.subscription.removed', subscription._id);
      return found.length > 0 ? found : undefined;
    });

    expect(event?.detail).toMatchObject({
      id_project: PROJECT,
      payload: { reason: 'the receiver answered 410 Gone', event: 'group.create' },
    });
    expect((await api('GET', `/${subscription._id}`)).status).toBe(404);
  });
});

describe('auto-disable and re-enable', () => {
  it('announces the disable; a disabled subscription can be pinged; re-enabled, it receives deliveries again', async () => {
    const subscription = await subscribe('department.create', '/disable');
    // Failing for six days already (DISABLE_AFTER_DAYS is 5): the next failure disables it.
    await db.send(
      new UpdateCommand({
        TableName: stack.tableName,
        Key: { pk: keys.project(PROJECT), sk: keys.subscriptionSk(subscription._id) },
        UpdateExpression: 'SET failingSince = :since',
        ExpressionAttributeValues: { ':since': new Date(Date.now() - 6 * 86_400_000).toISOString() },
      }),
    );
    await emit('department.create', { n: 'before' });

    const [event] = await waitFor('the disabled event', () => {
      const found = operationalEvents('webhook.subscription.disabled', subscription._id);
      return found.length > 0 ? found : undefined;
    });
    expect(event?.detail).toMatchObject({
      payload: {
        subscription: { status: 'disabled' },
        reason: expect.stringContaining('failed without success'),
      },
    });
    const disabled = await api('GET', `/${subscription._id}`);
    expect(disabled.json).toMatchObject({ status: 'disabled', disabledReason: expect.any(String) });

    healthy.add('/disable');
    const ping = await api('POST', `/${subscription._id}/test`);
    expect(ping).toMatchObject({ status: 200, json: { ok: true } });
    expect(
      (await api('POST', `/${subscription._id}/recover`, { since: new Date().toISOString() })).status,
    ).toBe(409);

    const enabled = await api('PUT', `/${subscription._id}`, { status: 'active' });
    expect(enabled.status).toBe(200);
    expect(enabled.json).toMatchObject({ status: 'active' });
    expect(enabled.json).not.toHaveProperty('failingSince');
    expect(enabled.json).not.toHaveProperty('disabledReason');

    await emit('department.create', { n: 'after' });
    const webhook = await waitFor('a delivery after re-enabling', () =>
      delivered('/disable').find((w) => w.body.includes('"after"')),
    );
    expect(verify(subscription.secret, webhook)).toMatchObject({ payload: { n: 'after' } });
  });
});
