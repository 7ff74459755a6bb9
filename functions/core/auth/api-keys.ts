import { timingSafeEqual } from 'node:crypto';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { PROJECT_ID_PATTERN } from '../config/api';
import { newApiKeyId, newApiKeySecret, sha256Hex } from '../ids';
import { keys, TABLE } from '../storage/table';

/**
 * Project API keys. The key item (KEY#{keyId} / KEY) holds the SHA-256 of the secret,
 * never the secret; an index item under the project (PROJECT#{p} / KEY#{keyId}) lists them.
 * Secrets are 32 CSPRNG bytes, so a plain SHA-256 (no slow KDF) is enough.
 */

/** Key ids travel as the Basic user name, so no `:`; the same alphabet as project ids. */
export const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const MIN_SECRET_LENGTH = 16;

export interface ApiKeyInfo {
  keyId: string;
  projectId: string;
  name: string;
  createdAt: string;
  revokedAt?: string;
}

export interface CreatedApiKey extends ApiKeyInfo {
  /** Shown once; only its hash is stored. */
  secret: string;
}

export interface CreateApiKeyInput {
  projectId: string;
  name?: string | undefined;
  /** Fixed id and secret, for the local stack's LOCAL_API_KEYS; generated when absent. */
  keyId?: string | undefined;
  secret?: string | undefined;
  /** Overwrite a key with the same id (the local stack re-creates its fixed keys on start). */
  replace?: boolean | undefined;
}

export class ApiKeyInputError extends Error {
  override name = 'ApiKeyInputError';
}

export async function createApiKey(
  db: DynamoDBDocumentClient,
  tableName: string,
  input: CreateApiKeyInput,
  now: () => number = Date.now,
): Promise<CreatedApiKey> {
  if (!PROJECT_ID_PATTERN.test(input.projectId)) {
    throw new ApiKeyInputError('project id must be 1-64 letters, digits, _ or -');
  }
  const keyId = input.keyId ?? newApiKeyId();
  if (!KEY_ID_PATTERN.test(keyId)) throw new ApiKeyInputError('key id must be 1-64 letters, digits, _ or -');
  const secret = input.secret ?? newApiKeySecret();
  if (secret.length < MIN_SECRET_LENGTH) {
    throw new ApiKeyInputError(`key secret must be at least ${MIN_SECRET_LENGTH} characters`);
  }
  const name = (input.name ?? '').slice(0, 200);
  const createdAt = new Date(now()).toISOString();
  await db.send(
    new PutCommand({
      TableName: tableName,
      Item: {
        [TABLE.partitionKey]: keys.apiKey(keyId),
        [TABLE.sortKey]: keys.apiKeySk,
        keyId,
        projectId: input.projectId,
        name,
        secretHash: sha256Hex(secret),
        createdAt,
      },
      ...(input.replace ? {} : { ConditionExpression: `attribute_not_exists(${TABLE.partitionKey})` }),
    }),
  );
  await db.send(
    new PutCommand({
      TableName: tableName,
      Item: {
        [TABLE.partitionKey]: keys.project(input.projectId),
        [TABLE.sortKey]: keys.projectKeySk(keyId),
        keyId,
        name,
        createdAt,
      },
    }),
  );
  return { keyId, projectId: input.projectId, name, createdAt, secret };
}

/** Every key of a project, revoked ones included (with `revokedAt`). */
export async function listApiKeys(
  db: DynamoDBDocumentClient,
  tableName: string,
  projectId: string,
): Promise<ApiKeyInfo[]> {
  const found: ApiKeyInfo[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const output = await db.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
        ExpressionAttributeNames: { '#pk': TABLE.partitionKey, '#sk': TABLE.sortKey },
        ExpressionAttributeValues: { ':pk': keys.project(projectId), ':prefix': keys.projectKeyPrefix },
        ExclusiveStartKey: start,
      }),
    );
    for (const item of output.Items ?? []) {
      found.push({
        keyId: String(item.keyId),
        projectId,
        name: String(item.name ?? ''),
        createdAt: String(item.createdAt),
        ...(typeof item.revokedAt === 'string' ? { revokedAt: item.revokedAt } : {}),
      });
    }
    start = output.LastEvaluatedKey;
  } while (start);
  return found;
}

/**
 * Marks a key revoked (kept, so the listing shows when). Undefined when no such key.
 * Authorizer results are cached, so a revoked key keeps working for up to
 * API.authorizerCacheTtlSeconds.
 */
export async function revokeApiKey(
  db: DynamoDBDocumentClient,
  tableName: string,
  keyId: string,
  now: () => number = Date.now,
): Promise<ApiKeyInfo | undefined> {
  if (!KEY_ID_PATTERN.test(keyId)) return undefined;
  const revokedAt = new Date(now()).toISOString();
  let attributes: Record<string, unknown> | undefined;
  try {
    const output = await db.send(
      new UpdateCommand({
        TableName: tableName,
        Key: { [TABLE.partitionKey]: keys.apiKey(keyId), [TABLE.sortKey]: keys.apiKeySk },
        UpdateExpression: 'SET revokedAt = if_not_exists(revokedAt, :revokedAt)',
        ConditionExpression: `attribute_exists(${TABLE.partitionKey})`,
        ExpressionAttributeValues: { ':revokedAt': revokedAt },
        ReturnValues: 'ALL_NEW',
      }),
    );
    attributes = output.Attributes;
  } catch (error) {
    if (error instanceof Error && error.name === 'ConditionalCheckFailedException') return undefined;
    throw error;
  }
  if (!attributes) return undefined;
  const info: ApiKeyInfo = {
    keyId,
    projectId: String(attributes.projectId),
    name: String(attributes.name ?? ''),
    createdAt: String(attributes.createdAt),
    revokedAt: String(attributes.revokedAt),
  };
  await db.send(
    new UpdateCommand({
      TableName: tableName,
      Key: { [TABLE.partitionKey]: keys.project(info.projectId), [TABLE.sortKey]: keys.projectKeySk(keyId) },
      UpdateExpression: 'SET revokedAt = :revokedAt',
      ExpressionAttributeValues: { ':revokedAt': info.revokedAt },
    }),
  );
  return info;
}

/** Compared against when the key id is unknown, so both paths hash and compare. */
const ABSENT_HASH = Buffer.alloc(32);

export type KeyVerdict =
  | { ok: true; keyId: string; projectId: string }
  | { ok: false; reason: 'unknown key' | 'wrong secret' | 'revoked' };

/** Checks a key id and secret against the stored hash (constant-time comparison). */
export async function verifyApiKey(
  db: DynamoDBDocumentClient,
  tableName: string,
  keyId: string,
  secret: string,
): Promise<KeyVerdict> {
  const presented = Buffer.from(sha256Hex(secret), 'hex');
  if (!KEY_ID_PATTERN.test(keyId)) {
    timingSafeEqual(presented, ABSENT_HASH);
    return { ok: false, reason: 'unknown key' };
  }
  const output = await db.send(
    new GetCommand({
      TableName: tableName,
      Key: { [TABLE.partitionKey]: keys.apiKey(keyId), [TABLE.sortKey]: keys.apiKeySk },
    }),
  );
  const item = output.Item;
  const storedHex = typeof item?.secretHash === 'string' ? item.secretHash : '';
  const stored = /^[0-9a-f]{64}$/.test(storedHex) ? Buffer.from(storedHex, 'hex') : ABSENT_HASH;
  const matches = timingSafeEqual(presented, stored);
  if (!item || stored === ABSENT_HASH) return { ok: false, reason: 'unknown key' };
  if (!matches) return { ok: false, reason: 'wrong secret' };
  if (item.revokedAt !== undefined) return { ok: false, reason: 'revoked' };
  const projectId = String(item.projectId);
  if (!PROJECT_ID_PATTERN.test(projectId)) return { ok: false, reason: 'unknown key' };
  return { ok: true, keyId, projectId };
}
