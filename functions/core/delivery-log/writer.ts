import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DeliveryLogLevel } from '../config/settings';
import type { DeliveryAttempt } from '../model/delivery-log';
import { keys, TABLE } from '../storage/table';

/**
 * Writes one DeliveryAttempt item per attempt (model/delivery-log.ts), keyed for the
 * project's history and the subscription's deliveries, expiring after `ttlDays`.
 * The caller never passes request headers or secrets; a target's user:password is masked here.
 */
export interface DeliveryLogSettings {
  tableName: string;
  logLevel: DeliveryLogLevel;
  logTtlDays: number;
}

/** Whether `level` keeps an attempt with this outcome: `failures` keeps everything but successes. */
export function shouldLog(level: DeliveryLogLevel, outcome: DeliveryAttempt['outcome']): boolean {
  if (level === 'off') return false;
  if (level === 'failures') return outcome !== 'delivered';
  return true;
}

/** A URL with credentials (`https://user:pass@host/`) keeps its shape but not its credentials. */
export function maskTargetCredentials(target: string): string {
  // Credentials need an `@` in the authority: without one there is nothing to mask (and no URL to parse).
  if (!target.includes('@')) return target;
  try {
    const url = new URL(target);
    if (url.username === '' && url.password === '') return target;
    url.username = '***';
    if (url.password !== '') url.password = '***';
    return url.toString();
  } catch {
    return target;
  }
}

export function deliveryAttemptItem(attempt: DeliveryAttempt, ttlDays: number): Record<string, unknown> {
  const sortKey = keys.logSk(attempt.attemptedAt, attempt.deliveryId, attempt.attempt);
  const attemptedAtSeconds = Math.floor(Date.parse(attempt.attemptedAt) / 1000);
  // One item per delivery: a plain loop, not entries/filter/fromEntries (the benchmark's hot path).
  const fields: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(attempt)) if (value !== undefined) fields[name] = value;
  return {
    ...fields,
    target: maskTargetCredentials(attempt.target),
    [TABLE.partitionKey]: keys.projectLog(attempt.id_project),
    [TABLE.sortKey]: sortKey,
    [TABLE.deliveryIndex.partitionKey]: keys.subscriptionLog(attempt.subscriptionId),
    [TABLE.deliveryIndex.sortKey]: sortKey,
    [TABLE.ttlAttribute]: attemptedAtSeconds + Math.round(ttlDays * 86_400),
  };
}

/** Writes the item when the level keeps it; returns whether it wrote. */
export async function writeDeliveryAttempt(
  db: DynamoDBDocumentClient,
  settings: DeliveryLogSettings,
  attempt: DeliveryAttempt,
): Promise<boolean> {
  if (!shouldLog(settings.logLevel, attempt.outcome)) return false;
  await db.send(
    new PutCommand({
      TableName: settings.tableName,
      Item: deliveryAttemptItem(attempt, settings.logTtlDays),
    }),
  );
  return true;
}
