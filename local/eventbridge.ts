import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EventBridgeEvent } from 'aws-lambda';
import { LOCAL_DEFAULTS } from './config';
import { closeServer, listen, readBody } from './http';

/**
 * The local EventBridge: answers the PutEvents calls of an unmodified
 * `@aws-sdk/client-eventbridge` (AWS JSON 1.1), wraps each entry in the envelope
 * EventBridge delivers, and invokes the target of the stack's one rule
 * (`source` = the configured event source) asynchronously. A failed invocation is
 * retried as Lambda retries an asynchronous invocation (the stack's fan-out: 2 retries,
 * FAN_OUT_ASYNC_RETRY_ATTEMPTS in lib/ingest.ts), then handed to `deadLetter` (the
 * stack: the function's on-failure destination, the ingest DLQ).
 */
export type BusEvent = EventBridgeEvent<string, unknown>;

export interface DeadLetter {
  event: BusEvent;
  error: unknown;
  /** Invocations made, the first included. */
  attempts: number;
  ruleArn: string;
}

export interface LocalEventBridgeOptions {
  port: number;
  region: string;
  busName: string;
  /** The rule's pattern: `{"source": [ruleSource]}`. */
  ruleSource: string;
  /** The rule's target (the fan-out function). */
  target: (event: BusEvent) => Promise<unknown>;
  /** Where an event goes when every invocation failed. */
  deadLetter: (letter: DeadLetter) => Promise<void>;
  /** Delays before each retry; its length is the number of retries. */
  retryDelaysMs?: readonly number[];
}

export interface LocalEventBridge {
  endpoint: string;
  port: number;
  busName: string;
  busArn: string;
  ruleArn: string;
  /** Resolves when every invocation started so far (retries included) has finished. */
  idle(): Promise<void>;
  /**
   * Every event the bus accepted, oldest first, whatever its source (the last
   * PUBLISHED_EVENTS_KEPT): where the service's own operational events (source `webhooks`,
   * which no rule matches) can be watched, as a bus archive or a catch-all rule would on AWS.
   */
  published(source?: string): BusEvent[];
  stop(): Promise<void>;
}

/** How many accepted events `published()` keeps. */
export const PUBLISHED_EVENTS_KEPT = 10_000;

/** EventBridge's limits on PutEvents. */
export const PUT_EVENTS_LIMITS = {
  maxEntries: 10,
  /** Total size of the entries of one request, computed as AWS documents it. */
  maxRequestEntriesBytes: 256 * 1024,
  maxDetailTypeLength: 128,
} as const;

/** Two retries, like the stack's fan-out; seconds here where Lambda waits minutes. */
const DEFAULT_RETRY_DELAYS_MS = [1000, 2000] as const;

interface PutEventsRequestEntry {
  Source?: unknown;
  DetailType?: unknown;
  Detail?: unknown;
  EventBusName?: unknown;
  Resources?: unknown;
  Time?: unknown;
}

type PutEventsResultEntry = { EventId: string } | { ErrorCode: string; ErrorMessage: string };

class AwsJsonError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly statusCode = 400,
  ) {
    super(message);
  }
}

export async function startEventBridge(options: LocalEventBridgeOptions): Promise<LocalEventBridge> {
  const busArn = `arn:aws:events:${options.region}:${LOCAL_DEFAULTS.accountId}:event-bus/${options.busName}`;
  const ruleArn = `arn:aws:events:${options.region}:${LOCAL_DEFAULTS.accountId}:rule/${options.busName}/ingest`;
  const retryDelays = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
  const inFlight = new Set<Promise<void>>();
  const accepted: BusEvent[] = [];
  let stopping = false;

  const knownBus = (name: unknown): boolean => {
    const bus = name === undefined || name === null || name === '' ? 'default' : name;
    return bus === options.busName || bus === busArn;
  };

  async function invokeWithRetries(event: BusEvent): Promise<void> {
    let lastError: unknown;
    for (let attempt = 1; attempt <= retryDelays.length + 1; attempt++) {
      if (attempt > 1) await delay(retryDelays[attempt - 2] ?? 0);
      try {
        await options.target(event);
        return;
      } catch (error) {
        lastError = error;
      }
    }
    await options.deadLetter({ event, error: lastError, attempts: retryDelays.length + 1, ruleArn });
  }

  function dispatch(event: BusEvent): void {
    if (event.source !== options.ruleSource || stopping) return;
    const run = invokeWithRetries(event)
      .catch((error: unknown) => {
        // The dead-letter write itself failed: say so loudly, as nothing else will.
        console.error(`[eventbridge] event ${event.id} was lost: ${String(error)}`);
      })
      .finally(() => inFlight.delete(run));
    inFlight.add(run);
  }

  function putEvents(body: unknown): { FailedEntryCount: number; Entries: PutEventsResultEntry[] } {
    const entries = (body as { Entries?: unknown } | null)?.Entries;
    if (!Array.isArray(entries) || entries.length === 0) {
      throw new AwsJsonError(
        'ValidationException',
        "1 validation error detected: Value null at 'entries' failed to satisfy constraint: Member must not be null",
      );
    }
    if (entries.length > PUT_EVENTS_LIMITS.maxEntries) {
      throw new AwsJsonError(
        'ValidationException',
        `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length less than or equal to ${PUT_EVENTS_LIMITS.maxEntries}`,
      );
    }
    const typed = entries as PutEventsRequestEntry[];
    if (typed.reduce((sum, entry) => sum + entrySize(entry), 0) > PUT_EVENTS_LIMITS.maxRequestEntriesBytes) {
      throw new AwsJsonError(
        'ValidationException',
        'Total size of the entries in the request is over the limit.',
      );
    }
    const results = typed.map((entry): PutEventsResultEntry => {
      const failure = validateEntry(entry, knownBus);
      if (failure) return failure;
      const event = envelope(entry, options.region);
      accepted.push(event);
      if (accepted.length > PUBLISHED_EVENTS_KEPT) accepted.shift();
      dispatch(event);
      return { EventId: event.id };
    });
    return {
      FailedEntryCount: results.filter((result) => 'ErrorCode' in result).length,
      Entries: results,
    };
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    try {
      const target = request.headers['x-amz-target'];
      if (request.method !== 'POST' || target !== 'AWSEvents.PutEvents') {
        throw new AwsJsonError(
          'UnknownOperationException',
          `Operation ${String(target)} is not supported here`,
        );
      }
      const raw = await readBody(request, 1024 * 1024);
      let body: unknown;
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        throw new AwsJsonError('SerializationException', 'Request body is not valid JSON');
      }
      send(response, 200, requestId, putEvents(body));
    } catch (error) {
      const failure =
        error instanceof AwsJsonError ? error : new AwsJsonError('InternalException', String(error), 500);
      send(
        response,
        failure.statusCode,
        requestId,
        { __type: failure.type, message: failure.message },
        failure.type,
      );
    }
  }

  const server: Server = createServer((request, response) => {
    void handle(request, response);
  });
  await listen(server, options.port);
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    busName: options.busName,
    busArn,
    ruleArn,
    async idle() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
    published: (source) => accepted.filter((event) => source === undefined || event.source === source),
    async stop() {
      stopping = true;
      await closeServer(server);
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
  };
}

function send(
  response: ServerResponse,
  status: number,
  requestId: string,
  body: unknown,
  errorType?: string,
): void {
  const headers: Record<string, string> = {
    'content-type': 'application/x-amz-json-1.1',
    'x-amzn-requestid': requestId,
  };
  if (errorType) headers['x-amzn-errortype'] = errorType;
  response.writeHead(status, headers);
  response.end(JSON.stringify(body));
}

function invalidArgument(field: string): PutEventsResultEntry {
  return {
    ErrorCode: 'InvalidArgument',
    ErrorMessage: `Parameter ${field} is not valid. Reason: ${field} is a required argument.`,
  };
}

function validateEntry(
  entry: PutEventsRequestEntry,
  knownBus: (name: unknown) => boolean,
): PutEventsResultEntry | undefined {
  if (!knownBus(entry.EventBusName)) {
    const name =
      typeof entry.EventBusName === 'string' && entry.EventBusName ? entry.EventBusName : 'default';
    return { ErrorCode: 'ResourceNotFoundException', ErrorMessage: `Event bus ${name} does not exist.` };
  }
  if (typeof entry.Source !== 'string' || entry.Source === '') return invalidArgument('Source');
  if (typeof entry.DetailType !== 'string' || entry.DetailType === '') return invalidArgument('DetailType');
  if (entry.DetailType.length > PUT_EVENTS_LIMITS.maxDetailTypeLength) {
    return {
      ErrorCode: 'InvalidArgument',
      ErrorMessage: `Parameter DetailType is not valid. Reason: DetailType length must be at most ${PUT_EVENTS_LIMITS.maxDetailTypeLength}.`,
    };
  }
  if (typeof entry.Detail !== 'string' || entry.Detail === '') return invalidArgument('Detail');
  if (!isJsonObject(entry.Detail))
    return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
  return undefined;
}

function isJsonObject(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}

/** Entry size as AWS documents it: 14 bytes for Time, then the UTF-8 bytes of the strings. */
function entrySize(entry: PutEventsRequestEntry): number {
  const bytes = (value: unknown) => (typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : 0);
  const resources = Array.isArray(entry.Resources) ? entry.Resources : [];
  return (
    (entry.Time !== undefined && entry.Time !== null ? 14 : 0) +
    bytes(entry.Source) +
    bytes(entry.DetailType) +
    bytes(entry.Detail) +
    resources.reduce((sum: number, resource: unknown) => sum + bytes(resource), 0)
  );
}

/** The event as EventBridge hands it to a target: time in whole seconds, account and region of the bus. */
function envelope(entry: PutEventsRequestEntry, region: string): BusEvent {
  const time =
    typeof entry.Time === 'number' && Number.isFinite(entry.Time) ? new Date(entry.Time * 1000) : new Date();
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': String(entry.DetailType),
    source: String(entry.Source),
    account: LOCAL_DEFAULTS.accountId,
    time: `${time.toISOString().slice(0, 19)}Z`,
    region,
    resources: Array.isArray(entry.Resources) ? entry.Resources.map(String) : [],
    detail: JSON.parse(String(entry.Detail)) as unknown,
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
