import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { sha256Hex } from '../ids';
import type { Subscription } from '../model/subscription';
import { withoutStorageAttributes } from '../storage/items';
import { keys, TABLE } from '../storage/table';

/**
 * DynamoDB access for subscriptions and their dedup guards (storage/table.ts).
 * No transactions (dynalite has none): every multi-item change is a sequence of
 * conditional writes that the use cases (use-cases.ts) order so a crash leaves at
 * worst a stale guard, which the next create or update detects and takes over.
 */

export interface GuardItem {
  subscriptionId: string;
  createdAt: string;
}

/** The name DynamoDB gives a failed condition; the SDK throws an error with this `name`. */
export function isConditionalCheckFailed(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

/**
 * Runs one conditional write: its result, or false when its condition failed. Any other
 * error is thrown. (Every SDK command output is an object, so false is unambiguous.)
 */
export async function conditionalWrite<T extends object>(write: () => Promise<T>): Promise<T | false> {
  try {
    return await write();
  } catch (error) {
    if (isConditionalCheckFailed(error)) return false;
    throw error;
  }
}

export function guardKey(projectId: string, event: string, target: string) {
  return {
    [TABLE.partitionKey]: keys.project(projectId),
    [TABLE.sortKey]: keys.guardSk(event, sha256Hex(target)),
  };
}

function subscriptionKey(projectId: string, subscriptionId: string) {
  return {
    [TABLE.partitionKey]: keys.project(projectId),
    [TABLE.sortKey]: keys.subscriptionSk(subscriptionId),
  };
}

/** The stored item: the subscription, its keys, and the sparse fan-out index keys while active. */
export function subscriptionItem(subscription: Subscription): Record<string, unknown> {
  const item: Record<string, unknown> = {
    ...subscription,
    ...subscriptionKey(subscription.id_project, subscription._id),
  };
  if (subscription.status === 'active') {
    item[TABLE.fanOutIndex.partitionKey] = keys.fanOut(subscription.id_project, subscription.event);
    item[TABLE.fanOutIndex.sortKey] = keys.subscriptionSk(subscription._id);
  }
  return item;
}

export function fromSubscriptionItem(item: Record<string, unknown>): Subscription {
  return withoutStorageAttributes<Subscription>(item);
}

/** One subscription of a project, or undefined. Another project's id is simply absent (keys are per project). */
export async function getSubscription(
  db: DynamoDBDocumentClient,
  tableName: string,
  projectId: string,
  subscriptionId: string,
  options: { consistent?: boolean } = {},
): Promise<Subscription | undefined> {
  const result = await db.send(
    new GetCommand({
      TableName: tableName,
      Key: subscriptionKey(projectId, subscriptionId),
      ConsistentRead: options.consistent ?? false,
    }),
  );
  return result.Item ? fromSubscriptionItem(result.Item) : undefined;
}

/**
 * Removes a subscription and then its dedup guard, and returns what was removed
 * (undefined when it did not exist). The guard is deleted only while it still names
 * this subscription, so a newer subscription of the same (event, target) keeps its guard.
 */
export async function deleteSubscription(
  db: DynamoDBDocumentClient,
  tableName: string,
  projectId: string,
  subscriptionId: string,
): Promise<Subscription | undefined> {
  const result = await db.send(
    new DeleteCommand({
      TableName: tableName,
      Key: subscriptionKey(projectId, subscriptionId),
      ReturnValues: 'ALL_OLD',
    }),
  );
  if (!result.Attributes) return undefined;
  const removed = fromSubscriptionItem(result.Attributes);
  await deleteGuardIfOwned(db, tableName, removed.id_project, removed.event, removed.target, removed._id);
  return removed;
}

/** Deletes a guard only while it names `subscriptionId`; a guard already gone or taken over is left alone. */
export async function deleteGuardIfOwned(
  db: DynamoDBDocumentClient,
  tableName: string,
  projectId: string,
  event: string,
  target: string,
  subscriptionId: string,
): Promise<void> {
  await conditionalWrite(() =>
    db.send(
      new DeleteCommand({
        TableName: tableName,
        Key: guardKey(projectId, event, target),
        ConditionExpression: 'subscriptionId = :id',
        ExpressionAttributeValues: { ':id': subscriptionId },
      }),
    ),
  );
}

/** Claims (event, target) for a subscription; false when a guard exists already. */
export async function putGuardIfAbsent(
  db: DynamoDBDocumentClient,
  tableName: string,
  projectId: string,
  event: string,
  target: string,
  guard: GuardItem,
): Promise<boolean> {
  const written = await conditionalWrite(() =>
    db.send(
      new PutCommand({
        TableName: tableName,
        Item: { ...guardKey(projectId, event, target), ...guard },
        ConditionExpression: `attribute_not_exists(${TABLE.partitionKey})`,
      }),
    ),
  );
  return written !== false;
}

export async function getGuard(
  db: DynamoDBDocumentClient,
  tableName: string,
  projectId: string,
  event: string,
  target: string,
): Promise<GuardItem | undefined> {
  const result = await db.send(
    new GetCommand({ TableName: tableName, Key: guardKey(projectId, event, target), ConsistentRead: true }),
  );
  if (!result.Item) return undefined;
  return { subscriptionId: String(result.Item.subscriptionId), createdAt: String(result.Item.createdAt) };
}

/**
 * Replaces a stale guard (one whose writer crashed) with one for `next`, only while it
 * still names `staleSubscriptionId`; false when someone else changed it first.
 */
export async function takeOverGuard(
  db: DynamoDBDocumentClient,
  tableName: string,
  projectId: string,
  event: string,
  target: string,
  staleSubscriptionId: string,
  next: GuardItem,
): Promise<boolean> {
  const written = await conditionalWrite(() =>
    db.send(
      new UpdateCommand({
        TableName: tableName,
        Key: guardKey(projectId, event, target),
        UpdateExpression: 'SET subscriptionId = :next, createdAt = :createdAt',
        ConditionExpression: 'subscriptionId = :stale',
        ExpressionAttributeValues: {
          ':next': next.subscriptionId,
          ':createdAt': next.createdAt,
          ':stale': staleSubscriptionId,
        },
      }),
    ),
  );
  return written !== false;
}

/** Writes a new subscription; the id is fresh, so the condition only guards against an id collision. */
export async function putNewSubscription(
  db: DynamoDBDocumentClient,
  tableName: string,
  subscription: Subscription,
): Promise<void> {
  await db.send(
    new PutCommand({
      TableName: tableName,
      Item: subscriptionItem(subscription),
      ConditionExpression: `attribute_not_exists(${TABLE.partitionKey})`,
    }),
  );
}

export interface SubscriptionPage {
  items: Subscription[];
  /** The sort key of the last item read, when more may follow. */
  lastSortKey: string | undefined;
}

/** One Query page of a project's subscriptions, oldest first (ids sort by creation time). */
export async function querySubscriptions(
  db: DynamoDBDocumentClient,
  tableName: string,
  projectId: string,
  options: { limit: number; afterSortKey?: string | undefined; event?: string | undefined },
): Promise<SubscriptionPage> {
  const values: Record<string, string> = {
    ':pk': keys.project(projectId),
    ':prefix': keys.subscriptionPrefix,
  };
  if (options.event !== undefined) values[':event'] = options.event;
  const result = await db.send(
    new QueryCommand({
      TableName: tableName,
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
      ExpressionAttributeNames: {
        '#pk': TABLE.partitionKey,
        '#sk': TABLE.sortKey,
        ...(options.event !== undefined ? { '#event': 'event' } : {}),
      },
      ExpressionAttributeValues: values,
      ...(options.event !== undefined ? { FilterExpression: '#event = :event' } : {}),
      Limit: options.limit,
      ScanIndexForward: true,
      ...(options.afterSortKey !== undefined
        ? {
            ExclusiveStartKey: {
              [TABLE.partitionKey]: keys.project(projectId),
              [TABLE.sortKey]: options.afterSortKey,
            },
          }
        : {}),
    }),
  );
  const items = (result.Items ?? []).map(fromSubscriptionItem);
  const last = result.LastEvaluatedKey?.[TABLE.sortKey];
  return { items, lastSortKey: typeof last === 'string' ? last : undefined };
}

/**
 * Writes a change of event, target or status, only while the stored item still has the
 * event, target and status it was read with (so the sparse index keys written here match
 * what is stored, and a concurrent auto-disable or move is not undone). False when that
 * condition fails: the subscription was deleted or changed meanwhile.
 */
export async function updateSubscriptionIfUnchanged(
  db: DynamoDBDocumentClient,
  tableName: string,
  current: Subscription,
  next: Subscription,
): Promise<Subscription | false> {
  const names: Record<string, string> = {
    '#pk': TABLE.partitionKey,
    '#event': 'event',
    '#target': 'target',
    '#status': 'status',
    '#updatedAt': 'updatedAt',
    '#gsi1pk': TABLE.fanOutIndex.partitionKey,
    '#gsi1sk': TABLE.fanOutIndex.sortKey,
  };
  const values: Record<string, string> = {
    ':event': next.event,
    ':target': next.target,
    ':status': next.status,
    ':updatedAt': next.updatedAt,
    ':currentEvent': current.event,
    ':currentTarget': current.target,
    ':currentStatus': current.status,
  };
  const set = ['#event = :event', '#target = :target', '#status = :status', '#updatedAt = :updatedAt'];
  const remove: string[] = [];
  if (next.status === 'active') {
    set.push('#gsi1pk = :gsi1pk', '#gsi1sk = :gsi1sk');
    values[':gsi1pk'] = keys.fanOut(next.id_project, next.event);
    values[':gsi1sk'] = keys.subscriptionSk(next._id);
  } else {
    remove.push('#gsi1pk', '#gsi1sk');
  }
  for (const optional of ['failingSince', 'disabledReason'] as const) {
    const value = next[optional];
    names[`#${optional}`] = optional;
    if (value === undefined) remove.push(`#${optional}`);
    else {
      set.push(`#${optional} = :${optional}`);
      values[`:${optional}`] = value;
    }
  }
  const result = await conditionalWrite(() =>
    db.send(
      new UpdateCommand({
        TableName: tableName,
        Key: subscriptionKey(current.id_project, current._id),
        UpdateExpression: `SET ${set.join(', ')}${remove.length > 0 ? ` REMOVE ${remove.join(', ')}` : ''}`,
        ConditionExpression:
          'attribute_exists(#pk) AND #event = :currentEvent AND #target = :currentTarget AND #status = :currentStatus',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      }),
    ),
  );
  if (result === false) return false;
  return result.Attributes ? fromSubscriptionItem(result.Attributes) : next;
}
