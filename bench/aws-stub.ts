import { Readable } from 'node:stream';

/**
 * An in-process AWS endpoint for the benchmarks: an SDK `requestHandler` that answers every
 * call without a network. Unlike a `send` stub (aws-sdk-client-mock), the SDK's whole
 * middleware stack still runs (marshalling, JSON serialisation, SigV4 signing, response
 * parsing), which is CPU a Lambda pays on every call; sinon's per-call bookkeeping, which a
 * Lambda does not pay, is left out. Calls are counted by operation (`x-amz-target`).
 */
export interface StubCall {
  /** `DynamoDB_20120810.PutItem`, `AmazonSQS.SendMessageBatch`, ... */
  target: string;
  /** The operation name alone (`PutItem`). */
  operation: string;
  body: string;
}

/** Return `{ json }` from a RawJson-like object to answer with precomputed JSON text. */
export type StubResponder = (call: StubCall) => unknown;

function isRawJson(value: unknown): value is { json: string } {
  return typeof value === 'object' && value !== null && 'json' in value && typeof value.json === 'string';
}

interface StubHttpRequest {
  headers: Record<string, string>;
  body?: unknown;
}

export class StubAwsTransport {
  readonly counts = new Map<string, number>();
  /** Answers `{}` unless told otherwise; the responder sees the request body (JSON text). */
  constructor(private readonly responder: StubResponder = () => ({})) {}

  /** The SDK's HttpHandler interface (`handle`), enough for every JSON-protocol client. */
  async handle(request: StubHttpRequest): Promise<{ response: unknown }> {
    const target = request.headers['x-amz-target'] ?? 'unknown';
    const operation = target.slice(target.lastIndexOf('.') + 1);
    this.counts.set(operation, (this.counts.get(operation) ?? 0) + 1);
    const body =
      request.body === undefined
        ? ''
        : typeof request.body === 'string'
          ? request.body
          : Buffer.from(request.body as Uint8Array).toString('utf8');
    const reply = this.responder({ target, operation, body });
    const answer = isRawJson(reply) ? reply.json : JSON.stringify(reply);
    return {
      response: {
        statusCode: 200,
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'content-length': String(Buffer.byteLength(answer)),
        },
        body: Readable.from([Buffer.from(answer, 'utf8')]),
      },
    };
  }

  count(operation: string): number {
    return this.counts.get(operation) ?? 0;
  }

  total(operations?: readonly string[]): number {
    let sum = 0;
    for (const [operation, count] of this.counts)
      if (!operations || operations.includes(operation)) sum += count;
    return sum;
  }

  reset(): void {
    this.counts.clear();
  }

  /** Client configuration that routes a client's calls here. */
  clientConfig(): {
    region: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
    requestHandler: StubAwsTransport;
  } {
    return {
      region: 'us-east-1',
      credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
      requestHandler: this,
    };
  }
}
