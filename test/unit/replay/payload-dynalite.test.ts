import { randomBytes } from 'node:crypto';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveryIdFor } from '../../../functions/core/ids';
import type { DeliveryMessage } from '../../../functions/core/model/delivery-message';
import { getPayload, payloadKey, storePayloadOnce } from '../../../functions/core/replay/payloads';
import { type LocalDynamoDb, startDynamoDb } from '../../../local/dynamodb';

/**
 * The payload item against dynalite (real DynamoDB item rules: 400 KB per item), with a
 * payload near EventBridge's and SQS's 256 KB: random bytes, so gzip cannot shrink it much.
 */
const TABLE_NAME = 'webhooks';
let dynamo: LocalDynamoDb;
let db: DynamoDBDocumentClient;

beforeAll(async () => {
  dynamo = await startDynamoDb({ port: 0, tableName: TABLE_NAME, region: 'us-east-1' });
  db = DynamoDBDocumentClient.from(dynamo.client);
});

afterAll(async () => {
  await dynamo?.stop();
});

function largeMessage(eventId: string, payloadChars: number): DeliveryMessage {
  return {
    v: 1,
    deliveryId: deliveryIdFor(eventId, 'sub_big'),
    eventId,
    subscriptionId: 'sub_big',
    projectId: 'p1',
    event: 'message.create',
    timestamp: Date.now(),
    payload: { text: randomBytes(payloadChars).toString('base64').slice(0, payloadChars), n: 1 },
  };
}

describe('payload items in DynamoDB (dynalite)', () => {
  it('stores and reads back a ~250 KB incompressible payload byte for byte', async () => {
    const message = largeMessage('evt_big', 250 * 1024);
    expect(Buffer.byteLength(JSON.stringify(message))).toBeGreaterThan(250 * 1024);
    const now = Date.now();

    expect(await storePayloadOnce(db, { tableName: TABLE_NAME, logTtlDays: 30 }, message, now)).toBe(true);

    expect(await getPayload(db, TABLE_NAME, message.deliveryId, now)).toEqual({
      projectId: 'p1',
      subscriptionId: 'sub_big',
      message,
    });
    const raw = await db.send(new GetCommand({ TableName: TABLE_NAME, Key: payloadKey(message.deliveryId) }));
    const stored = raw.Item?.message as Uint8Array;
    // Base64 text gzips to about 3/4 of its size: still well under the 400 KB item limit.
    expect(stored.byteLength).toBeLessThan(400 * 1024);
    expect(stored.byteLength).toBeLessThan(Buffer.byteLength(JSON.stringify(message)));
  });

  it('a second store neither fails nor replaces the first', async () => {
    const first = largeMessage('evt_twice', 1024);
    const settings = { tableName: TABLE_NAME, logTtlDays: 30 };
    await storePayloadOnce(db, settings, first, Date.now());

    const again = await storePayloadOnce(db, settings, { ...first, payload: { changed: true } }, Date.now());

    expect(again).toBe(false);
    expect((await getPayload(db, TABLE_NAME, first.deliveryId))?.message).toEqual(first);
  });
});
