import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DeliveryAttempt } from '../model/delivery-log';
import { type DeliveryLogSettings, deliveryAttemptItem, shouldLog, writeDeliveryAttempt } from './writer';

/**
 * The delivery log items of one SQS batch, written together after its POSTs: one
 * BatchWriteItem for up to 25 items instead of one PutItem each. DynamoDB bills the same
 * write units either way; the saving is the per-call SDK work (serialisation, signing,
 * a round trip), which the benchmark showed to be the largest CPU cost of a delivery.
 * The log is observability: a failed write is reported through `onError`, never thrown.
 */
export const BATCH_WRITE_MAX_ITEMS = 25;
const UNPROCESSED_RETRIES = 3;
const UNPROCESSED_BASE_DELAY_MS = 50;

export type LogWriteFailure = (error: unknown, attempts: readonly DeliveryAttempt[]) => void;

export class DeliveryLogBuffer {
  private readonly attempts: DeliveryAttempt[] = [];

  constructor(private readonly settings: DeliveryLogSettings) {}

  get size(): number {
    return this.attempts.length;
  }

  /** Keeps the attempt when the log level keeps its outcome. */
  add(attempt: DeliveryAttempt): void {
    if (shouldLog(this.settings.logLevel, attempt.outcome)) this.attempts.push(attempt);
  }

  /** Writes every kept item: a single one with PutItem, more with BatchWriteItem (25 per call). */
  async flush(
    db: DynamoDBDocumentClient,
    onError: LogWriteFailure,
    sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  ): Promise<void> {
    const attempts = this.attempts.splice(0);
    if (attempts.length === 1) {
      try {
        await writeDeliveryAttempt(db, this.settings, attempts[0] as DeliveryAttempt);
      } catch (error) {
        onError(error, attempts);
      }
      return;
    }
    const chunks: DeliveryAttempt[][] = [];
    for (let i = 0; i < attempts.length; i += BATCH_WRITE_MAX_ITEMS) {
      chunks.push(attempts.slice(i, i + BATCH_WRITE_MAX_ITEMS));
    }
    await Promise.all(chunks.map((chunk) => this.writeChunk(db, chunk, onError, sleep)));
  }

  private async writeChunk(
    db: DynamoDBDocumentClient,
    chunk: DeliveryAttempt[],
    onError: LogWriteFailure,
    sleep: (ms: number) => Promise<void>,
  ): Promise<void> {
    const table = this.settings.tableName;
    let requests = chunk.map((attempt) => ({
      PutRequest: { Item: deliveryAttemptItem(attempt, this.settings.logTtlDays) },
    }));
    try {
      for (let retry = 0; ; retry++) {
        const result = await db.send(new BatchWriteCommand({ RequestItems: { [table]: requests } }));
        const unprocessed = result.UnprocessedItems?.[table] ?? [];
        if (unprocessed.length === 0) return;
        if (retry >= UNPROCESSED_RETRIES) {
          throw new Error(`${unprocessed.length} delivery log item(s) unprocessed after ${retry} retries`);
        }
        requests = unprocessed.map((request) => ({ PutRequest: { Item: request.PutRequest?.Item ?? {} } }));
        await sleep(UNPROCESSED_BASE_DELAY_MS * 2 ** retry);
      }
    } catch (error) {
      onError(error, chunk);
    }
  }
}
