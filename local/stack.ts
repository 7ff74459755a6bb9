import { randomUUID } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type {
  APIGatewayAuthorizerResult,
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
  APIGatewayRequestAuthorizerEvent,
  Context,
  SQSBatchResponse,
  SQSEvent,
} from 'aws-lambda';
import { ROUTES } from '../functions/api/routes';
import { type CreateApiKeyInput, createApiKey } from '../functions/core/auth/api-keys';
import { API } from '../functions/core/config/api';
import { DELIVERY_EVENT_SOURCE, DELIVERY_FUNCTION_TIMEOUT_SECONDS } from '../functions/core/config/queues';
import { parseRetrySchedule } from '../functions/core/config/retry-schedule';
import { ENV } from '../functions/core/config/settings';
import { TABLE } from '../functions/core/storage/table';
import { type ApiRoute, type LocalApiGateway, startApiGateway } from './api-gateway';
import { LOCAL_DEFAULTS, type LocalApiKey, type LocalConfig, localConfig } from './config';
import { localCredentials } from './credentials';
import { type LocalDynamoDb, startDynamoDb } from './dynamodb';
import { type BusEvent, type DeadLetter, type LocalEventBridge, startEventBridge } from './eventbridge';
import { lambdaContext } from './lambda';
import { type LocalQueues, type LocalSqs, startSqs } from './sqs';
import { type SqsPoller, startSqsPoller } from './sqs-poller';

/**
 * The whole service on one machine, in this process: dynalite, fauxqs, the EventBridge
 * endpoint, the SQS poller and the API Gateway stand-in, around the unchanged handlers.
 *
 * The handlers find the local servers only through the SDK's own endpoint variables,
 * which must be set before their modules create their clients: so the environment is
 * set first and the handlers are imported after. Module-scope clients keep the first
 * endpoint they saw, so a second stack in the same process must use the same ports.
 */
export const REPOSITORY_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export type Handler<TEvent, TResult> = (event: TEvent, context: Context) => Promise<TResult>;

export interface LocalHandlers {
  authorizer: Handler<APIGatewayRequestAuthorizerEvent, APIGatewayAuthorizerResult>;
  fanOut: Handler<BusEvent, unknown>;
  delivery: Handler<SQSEvent, SQSBatchResponse | undefined>;
  /** By route id (ROUTES). */
  routes: Record<string, Handler<APIGatewayProxyEvent, APIGatewayProxyResult>>;
}

export interface LocalStackOptions extends Partial<Omit<LocalConfig, 'ports'>> {
  ports?: Partial<LocalConfig['ports']>;
  /** Replace handlers (unit tests of the stand-ins); the real modules are imported otherwise. */
  handlers?: Partial<LocalHandlers>;
  /** Concurrent pollers of the delivery queue (Lambda scales to DELIVERY_EVENT_SOURCE.maxConcurrency). */
  pollerConcurrency?: number;
  /** Delays between the retries of a failed fan-out invocation (Lambda waits 1 and 2 minutes). */
  eventBridgeRetryDelaysMs?: readonly number[];
  /** The authorizer cache's TTL; API.authorizerCacheTtlSeconds by default. */
  authorizerCacheTtlSeconds?: number;
  /**
   * Tests only (fault injection): wraps the loaded handlers, real or replaced, before the
   * stand-ins call them, e.g. a delivery that throws half-way through its batch. Unlike
   * `handlers`, the wrapper gets the real modules, imported after the environment is set.
   */
  wrapHandlers?: (handlers: LocalHandlers) => Partial<LocalHandlers>;
}

export interface LocalStack {
  apiUrl: string;
  eventBridgeEndpoint: string;
  busName: string;
  busArn: string;
  sqsEndpoint: string;
  dynamoDbEndpoint: string;
  tableName: string;
  queueUrls: { delivery: string; deliveryDlq: string; ingestDlq: string };
  queues: LocalQueues;
  ports: { api: number; eventBridge: number; sqs: number; dynamoDb: number };
  keys: LocalApiKey[];
  config: LocalConfig;
  /** Resolves when EventBridge has no fan-out invocation in flight. */
  eventBridgeIdle(): Promise<void>;
  /** Events the local bus accepted, e.g. the service's operational events (source `webhooks`). */
  busEvents(source?: string): BusEvent[];
  stop(): Promise<void>;
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const base = localConfig();
  const { ports: portOverrides, handlers: handlerOverrides, wrapHandlers, ...overrides } = options;
  const config: LocalConfig = {
    ...base,
    ...Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined)),
    ports: { ...base.ports, ...portOverrides },
  };
  const schedule = parseRetrySchedule(config.retrySchedule);
  const tableName = TABLE.localName;

  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) {
      try {
        await stop();
      } catch (error) {
        console.error('[local] stop failed:', error);
      }
    }
    stops.length = 0;
  };

  try {
    const dynamo: LocalDynamoDb = await startDynamoDb({
      port: config.ports.dynamoDb,
      tableName,
      region: config.region,
      dataDir: config.dataDir,
    });
    stops.push(() => dynamo.stop());
    const sqsServer: LocalSqs = await startSqs({
      port: config.ports.sqs,
      region: config.region,
      retrySchedule: schedule,
    });
    stops.push(() => sqsServer.stop());
    const { queues } = sqsServer;

    // The handlers' configuration, and the SDK's endpoints, before any handler module loads.
    Object.assign(process.env, {
      [ENV.tableName]: tableName,
      [ENV.deliveryQueueUrl]: queues.delivery.url,
      [ENV.rejectedEventsQueueUrl]: queues.ingestDlq.url,
      [ENV.eventBusName]: config.eventBusName,
      [ENV.eventSource]: config.eventSource,
      [ENV.retrySchedule]: config.retrySchedule,
      [ENV.allowHttpTargets]: String(config.allowHttpTargets),
      [ENV.allowPrivateTargets]: String(config.allowPrivateTargets),
      AWS_REGION: config.region,
      AWS_ACCESS_KEY_ID: localCredentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: localCredentials.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      // The queue URLs' own origin, as on AWS (sqs.<region>.amazonaws.com serves its queue URLs),
      // so the SDK does not switch endpoints per call (and warn about it).
      AWS_ENDPOINT_URL_SQS: new URL(queues.delivery.url).origin,
    });
    // Not a real session: a token left over from the user's shell would only confuse.
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;

    const sqs = new SQSClient({
      endpoint: sqsServer.endpoint,
      region: config.region,
      credentials: localCredentials,
    });
    stops.push(async () => sqs.destroy());

    // EventBridge needs its port before the handlers load (their EventBridge clients).
    let fanOut: LocalHandlers['fanOut'] | undefined;
    const eventBridge: LocalEventBridge = await startEventBridge({
      port: config.ports.eventBridge,
      region: config.region,
      busName: config.eventBusName,
      ruleSource: config.eventSource,
      retryDelaysMs: options.eventBridgeRetryDelaysMs,
      target: async (event) => {
        if (!fanOut) throw new Error('the fan-out function is not loaded yet');
        return fanOut(event, lambdaContext('fan-out', config.region, 30_000));
      },
      deadLetter: (letter) => sendToIngestDlq(sqs, queues.ingestDlq.url, letter, config.region),
    });
    stops.push(() => eventBridge.stop());
    process.env.AWS_ENDPOINT_URL_EVENTBRIDGE = eventBridge.endpoint;

    const loaded = await loadHandlers(handlerOverrides ?? {});
    const handlers: LocalHandlers = { ...loaded, ...wrapHandlers?.(loaded) };
    fanOut = handlers.fanOut;

    const poller: SqsPoller = startSqsPoller({
      sqs,
      queueUrl: queues.delivery.url,
      queueArn: queues.delivery.arn,
      region: config.region,
      batchSize: DELIVERY_EVENT_SOURCE.batchSize,
      concurrency: options.pollerConcurrency ?? 4,
      waitTimeSeconds: 20,
      handler: (event) =>
        handlers.delivery(
          event,
          lambdaContext('delivery', config.region, DELIVERY_FUNCTION_TIMEOUT_SECONDS * 1000),
        ),
    });
    stops.push(() => poller.stop());

    const db = DynamoDBDocumentClient.from(dynamo.client);
    const keys: LocalApiKey[] = [];
    const wanted: CreateApiKeyInput[] = config.apiKeys ?? [{ projectId: LOCAL_DEFAULTS.demoProject }];
    for (const key of wanted) {
      const created = await createApiKey(db, tableName, {
        ...key,
        name: config.apiKeys ? 'LOCAL_API_KEYS' : 'local demo key',
        replace: true,
      });
      keys.push({ projectId: created.projectId, keyId: created.keyId, secret: created.secret });
    }

    const routes: ApiRoute[] = ROUTES.map((route) => {
      const handler = handlers.routes[route.id];
      if (!handler) throw new Error(`no handler for route ${route.id} (${route.entry})`);
      return { route, handler: (event) => handler(event, lambdaContext(route.id, config.region, 29_000)) };
    });
    const api: LocalApiGateway = await startApiGateway({
      port: config.ports.api,
      region: config.region,
      routes,
      authorizer: (event) => handlers.authorizer(event, lambdaContext('authorizer', config.region, 10_000)),
      authorizerCacheTtlSeconds: options.authorizerCacheTtlSeconds ?? API.authorizerCacheTtlSeconds,
    });
    stops.push(() => api.stop());

    return {
      apiUrl: api.url,
      eventBridgeEndpoint: eventBridge.endpoint,
      busName: eventBridge.busName,
      busArn: eventBridge.busArn,
      sqsEndpoint: sqsServer.endpoint,
      dynamoDbEndpoint: dynamo.endpoint,
      tableName,
      queueUrls: {
        delivery: queues.delivery.url,
        deliveryDlq: queues.deliveryDlq.url,
        ingestDlq: queues.ingestDlq.url,
      },
      queues,
      ports: { api: api.port, eventBridge: eventBridge.port, sqs: sqsServer.port, dynamoDb: dynamo.port },
      keys,
      config,
      eventBridgeIdle: () => eventBridge.idle(),
      busEvents: (source) => eventBridge.published(source),
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

async function importHandler<T>(entry: string): Promise<T> {
  const module = (await import(pathToFileURL(resolve(REPOSITORY_ROOT, entry)).href)) as { handler?: unknown };
  if (typeof module.handler !== 'function') throw new Error(`${entry} does not export a handler function`);
  return module.handler as T;
}

async function loadHandlers(overrides: Partial<LocalHandlers>): Promise<LocalHandlers> {
  const routes: LocalHandlers['routes'] = { ...overrides.routes };
  for (const route of ROUTES) routes[route.id] ??= await importHandler(route.entry);
  return {
    authorizer: overrides.authorizer ?? (await importHandler('functions/authorizer.ts')),
    fanOut: overrides.fanOut ?? (await importHandler('functions/fan-out.ts')),
    delivery: overrides.delivery ?? (await importHandler('functions/delivery.ts')),
    routes,
  };
}

/**
 * What lands in the ingest DLQ when the fan-out failed every attempt: the record the
 * function's on-failure destination (lib/ingest.ts) sends, with the event as requestPayload.
 */
async function sendToIngestDlq(
  sqs: SQSClient,
  queueUrl: string,
  letter: DeadLetter,
  region: string,
): Promise<void> {
  const error = letter.error instanceof Error ? letter.error : new Error(String(letter.error));
  const record = {
    version: '1.0',
    timestamp: new Date().toISOString(),
    requestContext: {
      requestId: randomUUID(),
      functionArn: `arn:aws:lambda:${region}:${LOCAL_DEFAULTS.accountId}:function:fan-out:$LATEST`,
      condition: 'RetriesExhausted',
      approximateInvokeCount: letter.attempts,
    },
    requestPayload: letter.event,
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    responsePayload: { errorType: error.name, errorMessage: error.message.slice(0, 1000) },
  };
  await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(record) }));
  console.error(
    `[local] fan-out of event ${letter.event.id} failed ${letter.attempts} times; sent to the ingest DLQ: ${error.message}`,
  );
}
