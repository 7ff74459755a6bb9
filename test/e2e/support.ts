import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { expect } from 'vitest';
import type { LocalStack, LocalStackOptions } from '../../local/stack';

/**
 * What the end-to-end tests share: a local stack on free ports, the SDK settings and API
 * calls that reach it, a real webhook receiver on 127.0.0.1, Basic auth exactly as
 * `curl -u` sends it, and bounded polling.
 */
export interface ReceivedWebhook {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
}

export interface TestReceiver {
  url: string;
  received: ReceivedWebhook[];
  /** Requests to one path, in arrival order. */
  at(path: string): ReceivedWebhook[];
  /** The status each request to `path` gets; called with the number of earlier requests to it. */
  respond(path: string, status: (previous: number) => number): void;
  stop(): Promise<void>;
}

export async function startTestReceiver(): Promise<TestReceiver> {
  const received: ReceivedWebhook[] = [];
  const responders = new Map<string, (previous: number) => number>();
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const path = request.url ?? '/';
      const previous = received.filter((item) => item.path === path).length;
      const status = responders.get(path)?.(previous) ?? 200;
      received.push({ path, headers: request.headers, body: Buffer.concat(chunks).toString('utf8'), status });
      response.writeHead(status, { 'content-type': 'text/plain' });
      response.end(status < 300 ? 'ok' : 'no');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    at: (path) => received.filter((item) => item.path === path),
    respond: (path, status) => responders.set(path, status),
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** `Authorization: Basic base64(keyId:secret)`, as `curl -u keyId:secret` sends it. */
export function basicAuth(keyId: string, secret: string): string {
  return `Basic ${Buffer.from(`${keyId}:${secret}`).toString('base64')}`;
}

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 20_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Quiet handler logs and metrics in test output unless asked for. */
export function quietHandlers(): void {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
}

/**
 * A local stack on free ports, in memory, retrying after 1 s: `options` add to or override
 * that. The stack module is imported only now, so the environment the test set applies.
 */
export async function startTestStack(options: LocalStackOptions): Promise<LocalStack> {
  const { startLocalStack } = await import('../../local/stack');
  return startLocalStack({
    ports: { api: 0, eventBridge: 0, sqs: 0, dynamoDb: 0 },
    retrySchedule: '1,1,1',
    dataDir: undefined,
    ...options,
  });
}

/** Region and (dummy) credentials for SDK clients of the stack; add the stand-in's `endpoint`. */
export function clientConfig(stack: LocalStack) {
  return {
    region: stack.config.region,
    credentials: { accessKeyId: 'e2e', secretAccessKey: 'e2e' },
  };
}

/** A request to the stack's API, with an Authorization header when given and a JSON body when given. */
export function callApi(
  stack: LocalStack,
  path: string,
  init: { method?: string; authorization?: string; body?: unknown } = {},
): Promise<Response> {
  return fetch(`${stack.apiUrl}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      ...(init.authorization !== undefined ? { Authorization: init.authorization } : {}),
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
}

export interface ApiAnswer {
  status: number;
  headers: Headers;
  json: unknown;
}

/** A call to `/{projectId}/subscriptions{path}` with the project's API key; the JSON answer parsed. */
export async function callSubscriptionsApi(
  stack: LocalStack,
  projectId: string,
  key: { keyId: string; secret: string },
  method: string,
  path: string,
  body?: unknown,
): Promise<ApiAnswer> {
  const response = await callApi(stack, `/${projectId}/subscriptions${path}`, {
    method,
    authorization: basicAuth(key.keyId, key.secret),
    body,
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, json: text ? JSON.parse(text) : undefined };
}

/** Puts one platform event (source `tiledesk`) on the stack's bus; the id EventBridge gave it. */
export async function putPlatformEvent(
  eventBridge: EventBridgeClient,
  stack: LocalStack,
  projectId: string,
  event: string,
  payload: unknown,
): Promise<string> {
  const result = await eventBridge.send(
    new PutEventsCommand({
      Entries: [
        {
          EventBusName: stack.busName,
          Source: 'tiledesk',
          DetailType: event,
          Detail: JSON.stringify({ id_project: projectId, payload }),
        },
      ],
    }),
  );
  expect(result.FailedEntryCount).toBe(0);
  return result.Entries?.[0]?.EventId ?? '';
}
