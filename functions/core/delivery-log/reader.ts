import { type DynamoDBDocumentClient, QueryCommand, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import { LIMITS } from '../config/limits';
import type { DeliveryAttempt } from '../model/delivery-log';
import { encodeCursor } from '../schemas/cursor';
import { withoutStorageAttributes } from '../storage/items';
import { keys, TABLE } from '../storage/table';
import { getSubscription } from '../subscriptions/repository';

/**
 * The two read routes over the delivery log (model/delivery-log.ts), both newest first.
 * Items leave without their key and TTL attributes.
 */

function attempts(output: QueryCommandOutput): DeliveryAttempt[] {
  return (output.Items ?? []).map((item) => withoutStorageAttributes<DeliveryAttempt>(item));
}

/**
 * Page `page` (1 = newest) of the project's log, LIMITS.historyPageSize items a page.
 * DynamoDB has no offset, so the pages before it are read and skipped; that is why pages
 * deeper than LIMITS.historyMaxPage are refused (the schema answers 400) and why the
 * per-subscription route pages with a cursor instead.
 */
export async function projectHistory(
  db: DynamoDBDocumentClient,
  tableName: string,
  projectId: string,
  page: number,
): Promise<DeliveryAttempt[]> {
  const wanted = page * LIMITS.historyPageSize;
  const read: DeliveryAttempt[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const output = await db.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': TABLE.partitionKey },
        ExpressionAttributeValues: { ':pk': keys.projectLog(projectId) },
        ScanIndexForward: false,
        Limit: wanted - read.length,
        ExclusiveStartKey: start,
      }),
    );
    read.push(...attempts(output));
    start = output.LastEvaluatedKey;
  } while (start && read.length < wanted);
  return read.slice((page - 1) * LIMITS.historyPageSize, wanted);
}

export type DeliveriesResult =
  | { kind: 'not-found' }
  | { kind: 'found'; items: DeliveryAttempt[]; nextCursor: string | undefined };

/**
 * A subscription's attempts, newest first, `limit` a page. 404 unless the subscription
 * exists in this project, so another project's subscription id reveals nothing.
 */
export async function listDeliveries(
  db: DynamoDBDocumentClient,
  tableName: string,
  projectId: string,
  subscriptionId: string,
  input: { limit: number; cursor?: string | undefined },
): Promise<DeliveriesResult> {
  const subscription = await getSubscription(db, tableName, projectId, subscriptionId);
  if (!subscription) return { kind: 'not-found' };
  const index = TABLE.deliveryIndex;
  const output = await db.send(
    new QueryCommand({
      TableName: tableName,
      IndexName: index.name,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': index.partitionKey },
      ExpressionAttributeValues: { ':pk': keys.subscriptionLog(subscriptionId) },
      ScanIndexForward: false,
      Limit: input.limit,
      // The cursor is the last item's log sort key; the index key and the table key are rebuilt from it.
      ExclusiveStartKey:
        input.cursor === undefined
          ? undefined
          : {
              [TABLE.partitionKey]: keys.projectLog(projectId),
              [TABLE.sortKey]: input.cursor,
              [index.partitionKey]: keys.subscriptionLog(subscriptionId),
              [index.sortKey]: input.cursor,
            },
    }),
  );
  // Subscription ids are unique across projects; the filter is a second lock on the door.
  const items = attempts(output).filter((attempt) => attempt.id_project === projectId);
  const last = output.LastEvaluatedKey?.[index.sortKey];
  return { kind: 'found', items, nextCursor: typeof last === 'string' ? encodeCursor(last) : undefined };
}
