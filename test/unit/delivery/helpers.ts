import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll } from 'vitest';
import { DEFAULT_RETRY_SCHEDULE_SECONDS } from '../../../functions/core/config/retry-schedule';
import type { AttemptSettings, DeliverySettings } from '../../../functions/core/config/settings';
import type { Agents } from '../../../functions/core/delivery/http-attempt';
import { deliveryIdFor } from '../../../functions/core/ids';
import type { DeliveryMessage } from '../../../functions/core/model/delivery-message';
import type { Subscription } from '../../../functions/core/model/subscription';

/** What a receiver saw: the raw body bytes as text and the headers, exactly as sent. */
export interface ReceivedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export type Behaviour = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;

/** A real HTTP receiver on a loopback address; each path has its own behaviour. */
export class Receiver {
  readonly requests: ReceivedRequest[] = [];
  readonly server: http.Server;
  private readonly behaviours = new Map<string, Behaviour>();

  constructor(private readonly fallback: Behaviour = (_req, res) => res.writeHead(200).end('ok')) {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const path = req.url ?? '/';
        this.requests.push({ method: req.method ?? '', path, headers: req.headers, body });
        const behaviour = this.behaviours.get(path.split('?')[0] ?? path) ?? this.fallback;
        behaviour(req, res, body);
      });
    });
  }

  on(path: string, behaviour: Behaviour): this {
    this.behaviours.set(path, behaviour);
    return this;
  }

  async listen(host = '127.0.0.1', port = 0): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    return this;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  url(path: string, host = '127.0.0.1'): string {
    return `http://${host}:${this.port}${path}`;
  }

  requestsTo(path: string): ReceivedRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Starts the receiver before the tests of this file (or describe) and closes it and the agents after them. */
export function listenDuringTests(receiver: Receiver, agents: Agents): void {
  beforeAll(async () => {
    await receiver.listen();
  });
  afterAll(async () => {
    destroyAgents(agents);
    await receiver.close();
  });
}

/** Settings of one attempt against the local receiver: http and loopback targets allowed, everything logged. */
export function testAttemptSettings(overrides: Partial<AttemptSettings> = {}): AttemptSettings {
  return {
    tableName: 'webhooks',
    attemptTimeoutMs: 300,
    targets: { allowHttp: true, allowPrivate: true },
    logLevel: 'all',
    logTtlDays: 30,
    userAgent: 'tiledesk-webhooks/test',
    ...overrides,
  };
}

/** Delivery settings as deployed by default, around testAttemptSettings; no operational events bus. */
export function testDeliverySettings(overrides: Partial<DeliverySettings> = {}): DeliverySettings {
  return {
    ...testAttemptSettings(),
    queueUrl: 'https://sqs.local/deliveries',
    retrySchedule: [...DEFAULT_RETRY_SCHEDULE_SECONDS],
    disableAfterMs: 5 * 86_400_000,
    subscriptionCacheTtlMs: 30_000,
    eventBusName: undefined,
    ...overrides,
  };
}

export function freshAgents(): Agents {
  return {
    http: new http.Agent({ keepAlive: true }),
    https: new https.Agent({ keepAlive: true }),
  };
}

export function destroyAgents(agents: Agents): void {
  agents.http.destroy();
  agents.https.destroy();
}

export const SECRET = `whsec_${Buffer.from('current-secret-key-32-bytes-long!').toString('base64')}`;
export const PREVIOUS_SECRET = `whsec_${Buffer.from('previous-secret-key-32-bytes-lng').toString('base64')}`;

export function subscription(overrides: Partial<Subscription> = {}): Subscription {
  return {
    _id: 'sub_1',
    id_project: 'proj_1',
    event: 'request.create',
    target: 'https://example.com/hook',
    status: 'active',
    createdBy: 'user_1',
    createdAt: '2024-01-01T00:00:00.000Z',
    updatedAt: '2024-01-01T00:00:00.000Z',
    secret: SECRET,
    ...overrides,
  };
}

export function message(overrides: Partial<DeliveryMessage> = {}): DeliveryMessage {
  const eventId = overrides.eventId ?? 'evt_1';
  const subscriptionId = overrides.subscriptionId ?? 'sub_1';
  return {
    v: 1,
    deliveryId: deliveryIdFor(eventId, subscriptionId),
    eventId,
    subscriptionId,
    projectId: 'proj_1',
    event: 'request.create',
    timestamp: 1_714_557_600_000,
    payload: { _id: 'req_1', first_text: 'hello', nested: { n: 1, ok: true, list: [1, 'two', null] } },
    ...overrides,
  };
}

let messageCounter = 0;

export function sqsRecord(body: DeliveryMessage | string, receiveCount = 1): SQSRecord {
  messageCounter++;
  return {
    messageId: `m-${messageCounter}`,
    receiptHandle: `rh-${messageCounter}`,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: '1714557600000',
      SenderId: 'AIDA',
      ApproximateFirstReceiveTimestamp: '1714557600000',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:webhook-deliveries',
    awsRegion: 'us-east-1',
  };
}

/** Everything the process writes to stdout and stderr (Powertools Logger and Metrics write there). */
export function captureOutput(): { lines: () => string[]; text: () => string; restore: () => void } {
  const captured: string[] = [];
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  const grab =
    (_original: typeof out) =>
    (chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
      captured.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      callback?.();
      return true;
    };
  process.stdout.write = grab(out) as typeof process.stdout.write;
  process.stderr.write = grab(err) as typeof process.stderr.write;
  return {
    lines: () =>
      captured
        .join('')
        .split('\n')
        .filter((line) => line.trim() !== ''),
    text: () => captured.join(''),
    restore: () => {
      process.stdout.write = out;
      process.stderr.write = err;
    },
  };
}
