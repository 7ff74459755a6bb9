import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  ApiKeyInputError,
  createApiKey,
  listApiKeys,
  revokeApiKey,
  verifyApiKey,
} from '../../../functions/core/auth/api-keys';
import { sha256Hex } from '../../../functions/core/ids';
import { keys } from '../../../functions/core/storage/table';

const ddb = mockClient(DynamoDBDocumentClient);
const db = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const TABLE = 'webhooks-test';
const now = () => Date.parse('2025-02-01T00:00:00.000Z');
const SECRET = 'a-long-enough-test-secret';

function keyItem(overrides: Record<string, unknown> = {}) {
  return {
    pk: keys.apiKey('key_a'),
    sk: keys.apiKeySk,
    keyId: 'key_a',
    projectId: 'p1',
    name: 'ci',
    secretHash: sha256Hex(SECRET),
    createdAt: '2025-01-01T00:00:00.000Z',
    ...overrides,
  };
}

beforeEach(() => {
  ddb.reset();
});

describe('createApiKey', () => {
  it('stores only the hash of a generated secret, plus an index item under the project', async () => {
    ddb.on(PutCommand).resolves({});

    const created = await createApiKey(db, TABLE, { projectId: 'p1', name: 'ci' }, now);

    expect(created.keyId).toMatch(/^key_[0-9a-z]{20}$/);
    expect(created.secret.length).toBeGreaterThanOrEqual(43);
    const [keyPut, indexPut] = ddb.commandCalls(PutCommand).map((call) => call.args[0].input);
    expect(keyPut).toMatchObject({
      Item: {
        pk: keys.apiKey(created.keyId),
        sk: keys.apiKeySk,
        projectId: 'p1',
        secretHash: sha256Hex(created.secret),
        createdAt: '2025-02-01T00:00:00.000Z',
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    expect(JSON.stringify(ddb.calls().map((call) => call.args[0].input))).not.toContain(created.secret);
    expect(indexPut?.Item).toEqual({
      pk: keys.project('p1'),
      sk: keys.projectKeySk(created.keyId),
      keyId: created.keyId,
      name: 'ci',
      createdAt: '2025-02-01T00:00:00.000Z',
    });
  });

  it('takes a fixed id and secret (the local stack), replacing when asked', async () => {
    ddb.on(PutCommand).resolves({});

    const created = await createApiKey(db, TABLE, {
      projectId: 'p1',
      keyId: 'local',
      secret: SECRET,
      replace: true,
    });

    expect(created).toMatchObject({ keyId: 'local', secret: SECRET });
    expect(ddb.commandCalls(PutCommand)[0]?.args[0].input.ConditionExpression).toBeUndefined();
  });

  it('refuses a bad project id, key id or a short secret', async () => {
    await expect(createApiKey(db, TABLE, { projectId: 'p 1' })).rejects.toBeInstanceOf(ApiKeyInputError);
    await expect(createApiKey(db, TABLE, { projectId: 'p1', keyId: 'a:b' })).rejects.toBeInstanceOf(
      ApiKeyInputError,
    );
    await expect(createApiKey(db, TABLE, { projectId: 'p1', secret: 'short' })).rejects.toBeInstanceOf(
      ApiKeyInputError,
    );
    expect(ddb.calls()).toHaveLength(0);
  });
});

describe('listApiKeys', () => {
  it("reads every page of the project's key index", async () => {
    ddb
      .on(QueryCommand)
      .resolvesOnce({
        Items: [{ keyId: 'key_a', name: 'a', createdAt: 't1' }],
        LastEvaluatedKey: { pk: 'x', sk: 'y' },
      })
      .resolvesOnce({ Items: [{ keyId: 'key_b', name: 'b', createdAt: 't2', revokedAt: 't3' }] });

    const found = await listApiKeys(db, TABLE, 'p1');

    expect(found).toEqual([
      { keyId: 'key_a', projectId: 'p1', name: 'a', createdAt: 't1' },
      { keyId: 'key_b', projectId: 'p1', name: 'b', createdAt: 't2', revokedAt: 't3' },
    ]);
    expect(ddb).toHaveReceivedCommandWith(QueryCommand, {
      ExpressionAttributeValues: { ':pk': keys.project('p1'), ':prefix': keys.projectKeyPrefix },
    });
  });
});

describe('revokeApiKey', () => {
  it('marks the key and its index item revoked', async () => {
    ddb.on(UpdateCommand).resolves({ Attributes: keyItem({ revokedAt: '2025-02-01T00:00:00.000Z' }) });

    const revoked = await revokeApiKey(db, TABLE, 'key_a', now);

    expect(revoked).toMatchObject({ keyId: 'key_a', projectId: 'p1', revokedAt: '2025-02-01T00:00:00.000Z' });
    expect(ddb).toHaveReceivedNthCommandWith(UpdateCommand, 1, {
      Key: { pk: keys.apiKey('key_a'), sk: keys.apiKeySk },
      ConditionExpression: 'attribute_exists(pk)',
    });
    expect(ddb).toHaveReceivedNthCommandWith(UpdateCommand, 2, {
      Key: { pk: keys.project('p1'), sk: keys.projectKeySk('key_a') },
    });
  });

  it('answers undefined for an unknown key', async () => {
    const { ConditionalCheckFailedException } = await import('@aws-sdk/client-dynamodb');
    ddb.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'no', $metadata: {} }));

    expect(await revokeApiKey(db, TABLE, 'key_nope')).toBeUndefined();
    expect(ddb).toHaveReceivedCommandTimes(UpdateCommand, 1);
  });
});

describe('verifyApiKey', () => {
  it('accepts the right secret and names the project', async () => {
    ddb.on(GetCommand).resolves({ Item: keyItem() });

    expect(await verifyApiKey(db, TABLE, 'key_a', SECRET)).toEqual({
      ok: true,
      keyId: 'key_a',
      projectId: 'p1',
    });
  });

  it('refuses an unknown key, a wrong secret and a revoked key', async () => {
    ddb.on(GetCommand).resolves({});
    expect(await verifyApiKey(db, TABLE, 'key_a', SECRET)).toEqual({ ok: false, reason: 'unknown key' });

    ddb.on(GetCommand).resolves({ Item: keyItem() });
    expect(await verifyApiKey(db, TABLE, 'key_a', `${SECRET}x`)).toEqual({
      ok: false,
      reason: 'wrong secret',
    });

    ddb.on(GetCommand).resolves({ Item: keyItem({ revokedAt: '2025-01-02T00:00:00.000Z' }) });
    expect(await verifyApiKey(db, TABLE, 'key_a', SECRET)).toEqual({ ok: false, reason: 'revoked' });
  });

  it('refuses a key id that cannot exist without reading the table', async () => {
    expect(await verifyApiKey(db, TABLE, 'key#a', SECRET)).toEqual({ ok: false, reason: 'unknown key' });
    expect(ddb.calls()).toHaveLength(0);
  });
});
