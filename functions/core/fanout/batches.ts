import {
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { LIMITS } from '../config/limits';

/** One queued message: `id` is unique within the fan-out (the deliveryId) and names the batch entry. */
export interface OutgoingMessage {
  id: string;
  body: string;
}

/**
 * Groups messages into SendMessageBatch entries: at most LIMITS.sqsBatchEntries per batch and
 * at most LIMITS.sqsBatchBytes of bodies, so a batch of large payloads is split rather than refused.
 */
export class BatchBuilder {
  private current: OutgoingMessage[] = [];
  private currentBytes = 0;

  constructor(
    private readonly maxEntries: number = LIMITS.sqsBatchEntries,
    private readonly maxBytes: number = LIMITS.sqsBatchBytes,
  ) {}

  /** Adds a message; returns the batches it completed (none, or one; two only when maxEntries is 1). */
  add(message: OutgoingMessage): OutgoingMessage[][] {
    const bytes = Buffer.byteLength(message.body, 'utf8');
    const completed: OutgoingMessage[][] = [];
    if (this.current.length > 0 && this.currentBytes + bytes > this.maxBytes) completed.push(this.take());
    this.current.push(message);
    this.currentBytes += bytes;
    if (this.current.length >= this.maxEntries) completed.push(this.take());
    return completed;
  }

  /** The last, partial batch. */
  flush(): OutgoingMessage[] | undefined {
    return this.current.length > 0 ? this.take() : undefined;
  }

  private take(): OutgoingMessage[] {
    const batch = this.current;
    this.current = [];
    this.currentBytes = 0;
    return batch;
  }
}

export interface SendOptions {
  queueUrl: string;
  concurrency: number;
  /** Retries of entries SQS reports in `Failed`, after the first call. */
  maxEntryRetries: number;
  /** Backoff before retry k (1-based): baseDelayMs * 2^(k-1). */
  baseDelayMs: number;
  sleep: (ms: number) => Promise<void>;
}

/** Thrown when some messages could not be enqueued after every retry. */
export class EnqueueError extends Error {
  constructor(
    readonly failedIds: string[],
    readonly details: string[],
  ) {
    super(`could not enqueue ${failedIds.length} message(s): ${details.slice(0, 3).join('; ')}`);
    this.name = 'EnqueueError';
  }
}

/**
 * Sends batches with at most `concurrency` SendMessageBatch calls in flight; `submit` waits
 * for a free slot, so a producer (the Query pages) is paced by the queue rather than buffering
 * every message. The first failure stops further submits; `drain` waits for what is in flight
 * and throws it.
 */
export class BatchSender {
  calls = 0;
  enqueued = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private failure: unknown;

  constructor(
    private readonly sqs: SQSClient,
    private readonly options: SendOptions,
  ) {}

  async submit(batch: OutgoingMessage[]): Promise<void> {
    while (this.inFlight.size >= this.options.concurrency) await Promise.race(this.inFlight);
    if (this.failure !== undefined) await this.drain();
    const sending: Promise<void> = this.sendWithRetries(batch)
      .catch((error: unknown) => {
        this.failure ??= error;
      })
      .finally(() => {
        this.inFlight.delete(sending);
      });
    this.inFlight.add(sending);
  }

  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
    if (this.failure !== undefined) throw this.failure;
  }

  private async sendWithRetries(batch: OutgoingMessage[]): Promise<void> {
    let pending = batch;
    let details: string[] = [];
    for (let attempt = 0; attempt <= this.options.maxEntryRetries; attempt++) {
      if (attempt > 0) await this.options.sleep(this.options.baseDelayMs * 2 ** (attempt - 1));
      const entries: SendMessageBatchRequestEntry[] = pending.map((message) => ({
        Id: message.id,
        MessageBody: message.body,
      }));
      this.calls++;
      // A thrown error (throttling after the SDK's own retries, network) fails the invocation as is.
      const result = await this.sqs.send(
        new SendMessageBatchCommand({ QueueUrl: this.options.queueUrl, Entries: entries }),
      );
      const failed = new Set((result.Failed ?? []).map((entry) => entry.Id));
      this.enqueued += pending.length - failed.size;
      if (failed.size === 0) return;
      details = (result.Failed ?? []).map(
        (entry) => `${entry.Id}: ${entry.Code ?? 'unknown'}${entry.SenderFault ? ' (sender fault)' : ''}`,
      );
      pending = pending.filter((message) => failed.has(message.id));
    }
    throw new EnqueueError(
      pending.map((message) => message.id),
      details,
    );
  }
}
