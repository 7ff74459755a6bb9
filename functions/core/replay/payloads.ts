import { gunzipSync, gzipSync } from 'node:zlib';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { type DeliveryMessage, deliveryMessageSchema } from '../model/delivery-message';
import { keys, TABLE } from '../storage/table';
import { conditionalWrite } from '../subscriptions/repository';

/**
 * Payloads kept for replay (docs/payload-retention.md): the DeliveryMessage of a delivery
 * that failed at least once, so `retry` and `recover` can queue it again while the delivery
 * log still shows it. One DynamoDB item per delivery, written once:
 *
 *   pk PAYLOAD#{deliveryId}, sk PAYLOAD, projectId, subscriptionId, message (gzip of the JSON),
 *   expiresAt = the log's TTL.
 *
 * The message is stored gzipped as a binary attribute: a 256 KB payload stays under the
 * 400 KB item limit whatever its shape (a map would add DynamoDB's per-attribute overhead and
 * its 32-level nesting limit), and JSON compresses several times, so it costs fewer write
 * units. A message holds no subscription secret (DESIGN §2.3); the event's `token` (a
 * platform credential, when the event carried one) is left out too, so a replay is sent
 * without `token` rather than keeping a credential for the log's whole retention.
 */
export interface StoredPayload {
  projectId: string;
  subscriptionId: string;
  message: DeliveryMessage;
}

export interface PayloadStoreSettings {
  tableName: string;
  /** The delivery log's retention; the payload lives as long as the log items that name it. */
  logTtlDays: number;
}

export function payloadKey(deliveryId: string) {
  return { [TABLE.partitionKey]: keys.payload(deliveryId), [TABLE.sortKey]: keys.payloadSk };
}

export function payloadItem(
  message: DeliveryMessage,
  storedAt: number,
  ttlDays: number,
): Record<string, unknown> {
  const { token: _token, ...kept } = message;
  return {
    ...payloadKey(message.deliveryId),
    projectId: message.projectId,
    subscriptionId: message.subscriptionId,
    deliveryId: message.deliveryId,
    storedAt: new Date(storedAt).toISOString(),
    message: gzipSync(JSON.stringify(kept)),
    [TABLE.ttlAttribute]: Math.floor(storedAt / 1000) + Math.round(ttlDays * 86_400),
  };
}

/**
 * Writes the payload unless it is stored already (a conditional put, so a second failure
 * neither rewrites 256 KB nor moves the TTL). Returns false when it was there.
 */
export async function storePayloadOnce(
  db: DynamoDBDocumentClient,
  settings: PayloadStoreSettings,
  message: DeliveryMessage,
  now: number,
): Promise<boolean> {
  const written = await conditionalWrite(() =>
    db.send(
      new PutCommand({
        TableName: settings.tableName,
        Item: payloadItem(message, now, settings.logTtlDays),
        ConditionExpression: `attribute_not_exists(${TABLE.partitionKey})`,
      }),
    ),
  );
  return written !== false;
}

function asBytes(value: unknown): Uint8Array | undefined {
  return value instanceof Uint8Array ? value : undefined;
}

/**
 * The stored payload of a delivery, or undefined when none is kept (never failed, expired,
 * or the item is unreadable). An item past its TTL that DynamoDB has not removed yet counts
 * as gone, so replay honours the retention exactly.
 */
export async function getPayload(
  db: DynamoDBDocumentClient,
  tableName: string,
  deliveryId: string,
  now: number = Date.now(),
): Promise<StoredPayload | undefined> {
  const result = await db.send(new GetCommand({ TableName: tableName, Key: payloadKey(deliveryId) }));
  const item = result.Item;
  if (!item) return undefined;
  const expiresAt = item[TABLE.ttlAttribute];
  if (typeof expiresAt === 'number' && expiresAt * 1000 <= now) return undefined;
  const bytes = asBytes(item.message);
  if (!bytes) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(gunzipSync(bytes).toString('utf8'));
  } catch {
    return undefined;
  }
  const parsed = deliveryMessageSchema.safeParse(json);
  if (!parsed.success) return undefined;
  return {
    projectId: String(item.projectId),
    subscriptionId: String(item.subscriptionId),
    message: parsed.data,
  };
}
