import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { Webhook } from 'standardwebhooks';
import { type DeliveryMessage, deliveryMessageSchema } from '../../functions/core/model/delivery-message';
import type { LocalStack } from '../../local/stack';
import { captureItems } from '../secret-scan/capture';
import { clientConfig, waitFor } from './support';

/**
 * What the reliability tests share: a seeded PRNG, a receiver that misbehaves on a seeded
 * plan and verifies every signature, and the queue probes that tell when the pipeline is done.
 */

/** mulberry32: a tiny seeded PRNG, uniform in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a of a string, to seed one decision from (seed, webhook-id, attempt). */
export function hashString(value: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < value.length; i++) {
    hash ^= value.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export type Behaviour = 'ok' | 'slow' | '500' | '503' | '429' | 'hang' | 'reset';

/** Cumulative weights of each behaviour; they sum to 1. */
export type BehaviourWeights = Record<Behaviour, number>;

export const CHAOS_WEIGHTS: BehaviourWeights = {
  ok: 0.5,
  slow: 0.1,
  '500': 0.1,
  '503': 0.1,
  '429': 0.1,
  hang: 0.04,
  reset: 0.06,
};

export function pickBehaviour(random: number, weights: BehaviourWeights): Behaviour {
  let acc = 0;
  for (const [behaviour, weight] of Object.entries(weights) as [Behaviour, number][]) {
    acc += weight;
    if (random < acc) return behaviour;
  }
  return 'ok';
}

export interface ChaosRequest {
  webhookId: string;
  subscriptionId: string;
  /** `payload.seq` of the event. */
  seq: number;
  behaviour: Behaviour;
  signatureValid: boolean;
  /** A 2xx was written out completely. */
  answered2xx: boolean;
}

export interface ChaosReceiver {
  url: string;
  requests: ChaosRequest[];
  /** webhook-ids that got a complete 2xx, with how many times. */
  delivered(): Map<string, number>;
  stop(): Promise<void>;
}

export interface ChaosReceiverOptions {
  seed: number;
  weights: BehaviourWeights;
  /** Subscription id -> its signing secret. */
  secrets: Map<string, string>;
  /** Delay of a slow answer: uniform in [min, max] ms (keep it under the attempt timeout). */
  slowMs: [number, number];
  /** Retry-After of a 429, in seconds. */
  retryAfterSeconds: number;
}

/**
 * A receiver whose answer to the n-th request carrying a webhook-id is a function of
 * (seed, webhook-id, n) only: the plan does not depend on the order requests arrive in.
 */
export async function startChaosReceiver(options: ChaosReceiverOptions): Promise<ChaosReceiver> {
  const requests: ChaosRequest[] = [];
  const seen = new Map<string, number>();
  const hung = new Set<ServerResponse>();

  const handle = (request: IncomingMessage, response: ServerResponse, body: string) => {
    const webhookId = String(request.headers['webhook-id'] ?? '');
    const n = seen.get(webhookId) ?? 0;
    seen.set(webhookId, n + 1);
    const random = mulberry32(hashString(`${options.seed}:${webhookId}:${n}`));
    const behaviour = pickBehaviour(random(), options.weights);
    let subscriptionId = '';
    let seq = -1;
    let signatureValid = false;
    try {
      const parsed = JSON.parse(body) as { hook?: { _id?: string }; payload?: { seq?: number } };
      subscriptionId = parsed.hook?._id ?? '';
      seq = parsed.payload?.seq ?? -1;
      const secret = options.secrets.get(subscriptionId);
      if (secret) {
        new Webhook(secret).verify(body, {
          'webhook-id': webhookId,
          'webhook-timestamp': String(request.headers['webhook-timestamp']),
          'webhook-signature': String(request.headers['webhook-signature']),
        });
        signatureValid = true;
      }
    } catch {
      signatureValid = false;
    }
    const record: ChaosRequest = {
      webhookId,
      subscriptionId,
      seq,
      behaviour,
      signatureValid,
      answered2xx: false,
    };
    requests.push(record);
    const answer = (status: number, headers: Record<string, string> = {}) => {
      response.on('finish', () => {
        if (status >= 200 && status < 300) record.answered2xx = true;
      });
      response.writeHead(status, { 'content-type': 'text/plain', ...headers });
      response.end(status < 300 ? 'ok' : 'no');
    };
    switch (behaviour) {
      case 'ok':
        return answer(200);
      case 'slow': {
        const [min, max] = options.slowMs;
        setTimeout(() => answer(200), min + Math.floor(random() * (max - min + 1)));
        return;
      }
      case '500':
        return answer(500);
      case '503':
        return answer(503);
      case '429':
        return answer(429, { 'retry-after': String(options.retryAfterSeconds) });
      case 'hang':
        hung.add(response);
        response.on('close', () => hung.delete(response));
        return;
      case 'reset':
        request.socket.resetAndDestroy();
        return;
    }
  };

  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => handle(request, response, Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    delivered() {
      const counts = new Map<string, number>();
      for (const r of requests)
        if (r.answered2xx) counts.set(r.webhookId, (counts.get(r.webhookId) ?? 0) + 1);
      return counts;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const response of hung) response.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Puts `count` events on the bus, 10 per PutEvents call, each with `payload.seq`. */
export async function emitEvents(
  eventBridge: EventBridgeClient,
  busName: string,
  options: { projectId: string; event: string; count: number; firstSeq?: number },
): Promise<void> {
  const first = options.firstSeq ?? 0;
  for (let start = 0; start < options.count; start += 10) {
    const entries = [];
    for (let i = start; i < Math.min(start + 10, options.count); i++) {
      entries.push({
        EventBusName: busName,
        Source: 'tiledesk',
        DetailType: options.event,
        Detail: JSON.stringify({ id_project: options.projectId, payload: { seq: first + i } }),
      });
    }
    const result = await eventBridge.send(new PutEventsCommand({ Entries: entries }));
    if (result.FailedEntryCount !== 0)
      throw new Error(`PutEvents failed for ${result.FailedEntryCount} entries`);
  }
}

async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  return (
    Number(Attributes.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0) +
    Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0)
  );
}

/** Waits until the queue holds nothing, visible or not, on `stableChecks` polls in a row. */
export async function waitForEmptyQueue(
  sqs: SQSClient,
  queueUrl: string,
  timeoutMs: number,
  stableChecks = 3,
): Promise<void> {
  let emptyInARow = 0;
  await waitFor(
    'the delivery queue to drain',
    async () => {
      emptyInARow = (await queueDepth(sqs, queueUrl)) === 0 ? emptyInARow + 1 : 0;
      return emptyInARow >= stableChecks ? true : undefined;
    },
    timeoutMs,
    250,
  );
}

/** Every message of a DLQ, parsed as delivery messages, deleted as read (so a re-read cannot double count). */
export async function drainDeliveryDlq(sqs: SQSClient, queueUrl: string): Promise<DeliveryMessage[]> {
  const messages: DeliveryMessage[] = [];
  let emptyReceives = 0;
  while (emptyReceives < 2) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (Messages.length === 0) {
      emptyReceives++;
      continue;
    }
    emptyReceives = 0;
    for (const message of Messages) {
      messages.push(deliveryMessageSchema.parse(JSON.parse(message.Body ?? '')));
    }
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })),
      }),
    );
  }
  return messages;
}

export interface RecordedWebhook {
  path: string;
  webhookId: string;
  subscriptionId: string;
  seq: number;
}

export interface RecordingReceiver {
  url: string;
  received: RecordedWebhook[];
  stop(): Promise<void>;
}

/** Answers 200 to everything, after `delayMs(path)`, and records who got what. */
export async function startRecordingReceiver(
  delayMs: (path: string) => number = () => 0,
): Promise<RecordingReceiver> {
  const received: RecordedWebhook[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const path = request.url ?? '/';
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        hook: { _id: string };
        payload: { seq: number };
      };
      setTimeout(() => {
        received.push({
          path,
          webhookId: String(request.headers['webhook-id']),
          subscriptionId: body.hook._id,
          seq: body.payload.seq,
        });
        response.writeHead(200, { 'content-type': 'text/plain' });
        response.end('ok');
      }, delayMs(path));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Every item of the stack's table. */
export async function scanTable(stack: LocalStack): Promise<Record<string, unknown>[]> {
  const db = DynamoDBDocumentClient.from(
    new DynamoDBClient({ ...clientConfig(stack), endpoint: stack.dynamoDbEndpoint }),
  );
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  try {
    do {
      const page = await db.send(new ScanCommand({ TableName: stack.tableName, ExclusiveStartKey: start }));
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
  } finally {
    db.destroy();
  }
  return items;
}

/** Delivery-log items: the ones with an attempt outcome. */
export function deliveryLogItems(items: readonly Record<string, unknown>[]): Record<string, unknown>[] {
  return items.filter((item) => typeof item.deliveryId === 'string' && typeof item.outcome === 'string');
}

/** Hands the stack's delivery-log items to the suite-wide secret scan. */
export async function captureDeliveryLog(stack: LocalStack): Promise<number> {
  const items = deliveryLogItems(await scanTable(stack));
  captureItems(items);
  return items.length;
}
