/**
 * The single DynamoDB table: its key schema, indexes and the key builders of every
 * entity. The CDK stack, the local stack (dynalite) and the domain code all read this
 * module, so the deployed and the local table cannot drift.
 *
 * Entities (pk / sk):
 * - subscription     PROJECT#{p} / SUB#{id}            gsi1 (active only): PROJECT#{p}#EVENT#{event} / SUB#{id}
 * - dedup guard      PROJECT#{p} / TARGET#{event}#{sha256(target)}   → subscriptionId
 * - API key          KEY#{keyId} / KEY                  (secret stored as SHA-256 only)
 * - key index item   PROJECT#{p} / KEY#{keyId}          (for `keys list`)
 * - delivery attempt LOG#{p} / {iso time}#{deliveryId}#{attempt}
 *                    gsi2: SUBLOG#{subscriptionId} / {iso time}#{deliveryId}#{attempt}   TTL expiresAt
 * - replay payload   PAYLOAD#{deliveryId} / PAYLOAD      (a failed delivery's message, gzip; TTL = the log's)
 */
export const TABLE = {
  /** Environment variable that carries the table name to every function. */
  envVar: 'TABLE_NAME',
  /** The local stack's table name. */
  localName: 'webhooks',
  partitionKey: 'pk',
  sortKey: 'sk',
  ttlAttribute: 'expiresAt',
  /** Sparse (project, event) index for fan-out; only active subscriptions carry its keys. */
  fanOutIndex: { name: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk', projection: 'KEYS_ONLY' },
  /** Delivery attempts by subscription, newest last. */
  deliveryIndex: { name: 'gsi2', partitionKey: 'gsi2pk', sortKey: 'gsi2sk', projection: 'ALL' },
} as const;

/** Every key attribute of the table and its indexes is a string. */
export const KEY_ATTRIBUTES = [
  TABLE.partitionKey,
  TABLE.sortKey,
  TABLE.fanOutIndex.partitionKey,
  TABLE.fanOutIndex.sortKey,
  TABLE.deliveryIndex.partitionKey,
  TABLE.deliveryIndex.sortKey,
] as const;

export const keys = {
  project: (projectId: string) => `PROJECT#${projectId}`,
  subscriptionSk: (subscriptionId: string) => `SUB#${subscriptionId}`,
  subscriptionPrefix: 'SUB#',
  fanOut: (projectId: string, event: string) => `PROJECT#${projectId}#EVENT#${event}`,
  guardSk: (event: string, targetHash: string) => `TARGET#${event}#${targetHash}`,
  apiKey: (keyId: string) => `KEY#${keyId}`,
  apiKeySk: 'KEY',
  projectKeySk: (keyId: string) => `KEY#${keyId}`,
  projectKeyPrefix: 'KEY#',
  projectLog: (projectId: string) => `LOG#${projectId}`,
  subscriptionLog: (subscriptionId: string) => `SUBLOG#${subscriptionId}`,
  logSk: (isoTime: string, deliveryId: string, attempt: number) =>
    `${isoTime}#${deliveryId}#${String(attempt).padStart(3, '0')}`,
  payload: (deliveryId: string) => `PAYLOAD#${deliveryId}`,
  payloadSk: 'PAYLOAD',
} as const;

/** The CreateTable input for dynalite and the shape the CDK construct mirrors. */
export function createTableInput(tableName: string) {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions: KEY_ATTRIBUTES.map((name) => ({
      AttributeName: name,
      AttributeType: 'S' as const,
    })),
    KeySchema: [
      { AttributeName: TABLE.partitionKey, KeyType: 'HASH' as const },
      { AttributeName: TABLE.sortKey, KeyType: 'RANGE' as const },
    ],
    GlobalSecondaryIndexes: [TABLE.fanOutIndex, TABLE.deliveryIndex].map((index) => ({
      IndexName: index.name,
      KeySchema: [
        { AttributeName: index.partitionKey, KeyType: 'HASH' as const },
        { AttributeName: index.sortKey, KeyType: 'RANGE' as const },
      ],
      Projection: { ProjectionType: index.projection },
    })),
  };
}
