import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { handler as createHandler } from '../../../functions/api/create-subscription';
import { handler as deleteHandler } from '../../../functions/api/delete-subscription';
import { handler as getHandler } from '../../../functions/api/get-subscription';
import { handler as deliveriesHandler } from '../../../functions/api/list-deliveries';
import { handler as listHandler } from '../../../functions/api/list-subscriptions';
import { handler as historyHandler } from '../../../functions/api/project-history';
import { handler as updateHandler } from '../../../functions/api/update-subscription';
import { API } from '../../../functions/core/config/api';
import { LIMITS } from '../../../functions/core/config/limits';
import type { Subscription } from '../../../functions/core/model/subscription';
import { logger } from '../../../functions/core/observability';
import { encodeCursor } from '../../../functions/core/schemas';
import { keys } from '../../../functions/core/storage/table';
import { guardKey, subscriptionItem } from '../../../functions/core/subscriptions/repository';
import { fieldsOf, parse, proxyEvent } from './events';
import { storedSubscription, subscriptionKeyOf } from './fixtures';

// Read lazily by the handlers at their first invocation.
process.env.TABLE_NAME = 'webhooks-test';

const ddb = mockClient(DynamoDBDocumentClient);

const stored = storedSubscription();
const idPath = { projectId: 'p1', subscriptionId: stored._id };
const subscriptionKey = subscriptionKeyOf(stored);

function failedCondition() {
  return new ConditionalCheckFailedException({ message: 'failed', $metadata: {} });
}

beforeEach(() => {
  ddb.reset();
});

describe('POST /{projectId}/subscriptions', () => {
  const body = { event: 'request.create', target: 'https://example.com/hook' };

  it('answers 201 with the secret in the body and the x-hook-secret header', async () => {
    ddb.on(PutCommand).resolves({});

    const response = parse(await createHandler(proxyEvent({ body })));

    expect(response.statusCode).toBe(201);
    const created = response.body as Subscription;
    expect(created).toMatchObject({ ...body, id_project: 'p1', status: 'active', createdBy: 'key_test' });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(response.headers['x-hook-secret']).toBe(created.secret);
    expect(created).not.toHaveProperty('pk');
    expect(ddb).toHaveReceivedCommandTimes(PutCommand, 2);
  });

  it('answers 200 with the existing subscription (and its secret) and writes no second one', async () => {
    ddb.on(PutCommand).rejects(failedCondition());
    ddb.on(GetCommand, { Key: guardKey('p1', body.event, body.target) }).resolves({
      Item: { subscriptionId: stored._id, createdAt: stored.createdAt },
    });
    ddb.on(GetCommand, { Key: subscriptionKey }).resolves({ Item: subscriptionItem(stored) });

    const response = parse(await createHandler(proxyEvent({ body })));

    expect(response.statusCode).toBe(200);
    expect(response.body).toEqual(stored);
    expect(response.headers['x-hook-secret']).toBe('whsec_stored');
    expect(ddb).toHaveReceivedCommandTimes(PutCommand, 1);
  });

  it('answers a repeated create after a rotation with the current secret only, never the previous one', async () => {
    const rotated: Subscription = {
      ...stored,
      secret: 'whsec_current',
      previousSecret: 'whsec_previous',
      previousSecretExpiresAt: '2099-01-01T00:00:00.000Z',
    };
    ddb.on(PutCommand).rejects(failedCondition());
    ddb.on(GetCommand, { Key: guardKey('p1', body.event, body.target) }).resolves({
      Item: { subscriptionId: stored._id, createdAt: stored.createdAt },
    });
    ddb.on(GetCommand, { Key: subscriptionKey }).resolves({ Item: subscriptionItem(rotated) });

    const response = parse(await createHandler(proxyEvent({ body })));

    expect(response.statusCode).toBe(200);
    expect(response.body).toEqual({ ...stored, secret: 'whsec_current' });
    expect(JSON.stringify(response)).not.toContain('whsec_previous');
    expect(response.headers['x-hook-secret']).toBe('whsec_current');
  });

  it("answers 403 for another project's path and touches nothing", async () => {
    const event = proxyEvent({ body, pathParameters: { projectId: 'p2' } });

    const response = parse(await createHandler(event));

    expect(response.statusCode).toBe(403);
    expect(response.body).toMatchObject({ success: false });
    expect(fieldsOf(response.body)).toEqual(['projectId']);
    expect(ddb.calls()).toHaveLength(0);
  });

  it('accepts a credential that carries several projects', async () => {
    ddb.on(PutCommand).resolves({});
    const event = proxyEvent({ body, pathParameters: { projectId: 'p2' }, projectIds: 'p1,p2' });

    expect((await createHandler(event)).statusCode).toBe(201);
  });

  it('answers 400 naming each bad field, and writes nothing', async () => {
    const cases: [unknown, string[]][] = [
      [{}, ['event', 'target']],
      [{ event: 'request.nope', target: 'https://example.com/hook' }, ['event']],
      [{ event: 'request.create', target: 'http://example.com/hook' }, ['target']],
      [{ event: 'request.create', target: 'https://10.0.0.1/hook' }, ['target']],
      [{ ...body, status: 'active' }, ['status']],
      [[], ['body']],
    ];
    for (const [input, fields] of cases) {
      const response = parse(await createHandler(proxyEvent({ body: input })));
      expect(response.statusCode, JSON.stringify(input)).toBe(400);
      expect(fieldsOf(response.body)).toEqual(fields);
    }
    expect(ddb.calls()).toHaveLength(0);
  });

  it('answers 413, 415 and 400 for an oversized, non-JSON or malformed body', async () => {
    const big = JSON.stringify({ ...body, pad: 'x'.repeat(LIMITS.maxRequestBodyBytes) });
    expect((await createHandler(proxyEvent({ rawBody: big }))).statusCode).toBe(413);
    const form = proxyEvent({
      rawBody: 'event=x',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    expect((await createHandler(form)).statusCode).toBe(415);
    const broken = parse(await createHandler(proxyEvent({ rawBody: '{"event":"request.create",' })));
    expect(broken.statusCode).toBe(400);
    expect(fieldsOf(broken.body)).toEqual(['body']);
    expect(ddb.calls()).toHaveLength(0);
  });

  it('answers 409 when the (event, target) stays claimed by an unfinished writer', async () => {
    ddb.on(GetCommand).resolves({});
    ddb.on(PutCommand).rejects(failedCondition());
    ddb.on(GetCommand, { Key: guardKey('p1', body.event, body.target) }).resolves({
      Item: { subscriptionId: 'other', createdAt: new Date(Date.now() + 60_000).toISOString() },
    });

    const response = parse(await createHandler(proxyEvent({ body })));

    expect(response.statusCode).toBe(409);
    expect(ddb).toHaveReceivedCommandTimes(PutCommand, 1);
  });

  it('answers a generic 500 when DynamoDB fails', async () => {
    ddb.on(PutCommand).rejects(new Error('service unavailable'));
    const logged = vi.spyOn(logger, 'error').mockImplementation(() => undefined);

    const response = parse(await createHandler(proxyEvent({ body })));
    logged.mockRestore();

    expect(response.statusCode).toBe(500);
    expect(response.body).toEqual({ success: false, msg: 'internal error', errors: [] });
  });
});

describe('GET /{projectId}/subscriptions', () => {
  it('answers a bare array without secrets, and the next cursor in a header', async () => {
    ddb.on(QueryCommand).resolves({ Items: [subscriptionItem(stored)], LastEvaluatedKey: subscriptionKey });

    const response = parse(await listHandler(proxyEvent({ method: 'GET', query: { limit: '1' } })));

    expect(response.statusCode).toBe(200);
    const { secret: _secret, ...visible } = stored;
    expect(response.body).toEqual([visible]);
    expect(response.headers[API.nextCursorHeader]).toBe(encodeCursor(keys.subscriptionSk(stored._id)));
  });

  it('omits the cursor header on the last page', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });

    const response = parse(await listHandler(proxyEvent({ method: 'GET' })));

    expect(response.body).toEqual([]);
    expect(response.headers).not.toHaveProperty(API.nextCursorHeader);
    expect(ddb).toHaveReceivedCommandWith(QueryCommand, { Limit: LIMITS.listDefaultLimit });
  });

  it('answers 400 for a bad cursor, limit or event filter', async () => {
    for (const [query, field] of [
      [{ cursor: 'garbage!' }, 'cursor'],
      [{ limit: '1001' }, 'limit'],
      [{ event: 'bogus' }, 'event'],
    ] as const) {
      const response = parse(await listHandler(proxyEvent({ method: 'GET', query })));
      expect(response.statusCode).toBe(400);
      expect(fieldsOf(response.body)).toEqual([field]);
    }
    expect(ddb.calls()).toHaveLength(0);
  });

  it('answers 403 for another project', async () => {
    const event = proxyEvent({ method: 'GET', pathParameters: { projectId: 'p2' } });
    expect((await listHandler(event)).statusCode).toBe(403);
  });
});

describe('GET /{projectId}/subscriptions/{subscriptionId}', () => {
  it('answers the subscription without its secret', async () => {
    ddb.on(GetCommand).resolves({ Item: subscriptionItem({ ...stored, previousSecret: 'whsec_old' }) });

    const response = parse(await getHandler(proxyEvent({ method: 'GET', pathParameters: idPath })));

    expect(response.statusCode).toBe(200);
    expect(response.body).toMatchObject({ _id: stored._id, event: stored.event });
    expect(JSON.stringify(response.body)).not.toContain('whsec_');
  });

  it('answers 404 when absent (also for another project’s id)', async () => {
    ddb.on(GetCommand).resolves({});

    const response = parse(await getHandler(proxyEvent({ method: 'GET', pathParameters: idPath })));

    expect(response.statusCode).toBe(404);
    expect(fieldsOf(response.body)).toEqual(['subscriptionId']);
    expect(ddb).toHaveReceivedCommandWith(GetCommand, { Key: subscriptionKey });
  });

  it('answers 403 for another project and 400 for a malformed id', async () => {
    const other = proxyEvent({ method: 'GET', pathParameters: { ...idPath, projectId: 'p2' } });
    expect((await getHandler(other)).statusCode).toBe(403);
    const malformed = parse(
      await getHandler(proxyEvent({ method: 'GET', pathParameters: { ...idPath, subscriptionId: 'a#b' } })),
    );
    expect(malformed.statusCode).toBe(400);
    expect(fieldsOf(malformed.body)).toEqual(['subscriptionId']);
  });
});

describe('PUT /{projectId}/subscriptions/{subscriptionId}', () => {
  it('changes the status and answers the subscription without its secret', async () => {
    ddb.on(GetCommand).resolves({ Item: subscriptionItem(stored) });
    ddb.on(UpdateCommand).resolves({ Attributes: subscriptionItem({ ...stored, status: 'disabled' }) });

    const response = parse(
      await updateHandler(
        proxyEvent({ method: 'PUT', pathParameters: idPath, body: { status: 'disabled' } }),
      ),
    );

    expect(response.statusCode).toBe(200);
    expect(response.body).toMatchObject({ status: 'disabled' });
    expect(response.body).not.toHaveProperty('secret');
  });

  it('status active on a disabled subscription resets its failure state', async () => {
    const disabled = {
      ...stored,
      status: 'disabled' as const,
      failingSince: '2024-12-01T00:00:00.000Z',
      disabledReason: 'failing',
    };
    ddb.on(GetCommand).resolves({ Item: subscriptionItem(disabled) });
    ddb.on(UpdateCommand).resolves({ Attributes: subscriptionItem(stored) });

    const response = parse(
      await updateHandler(proxyEvent({ method: 'PUT', pathParameters: idPath, body: { status: 'active' } })),
    );

    expect(response.statusCode).toBe(200);
    const update = ddb.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(update?.UpdateExpression).toMatch(
      /REMOVE .*#failingSince.*#disabledReason|REMOVE .*#disabledReason.*#failingSince/,
    );
    expect(update?.ExpressionAttributeValues).toMatchObject({
      ':status': 'active',
      ':gsi1pk': keys.fanOut('p1', 'request.create'),
    });
  });

  it('refuses fields other than event, target and status, naming them', async () => {
    const response = parse(
      await updateHandler(
        proxyEvent({
          method: 'PUT',
          pathParameters: idPath,
          body: { status: 'active', secret: 'x', id_project: 'p2' },
        }),
      ),
    );

    expect(response.statusCode).toBe(400);
    expect(fieldsOf(response.body)).toEqual(['secret', 'id_project']);
    expect(ddb.calls()).toHaveLength(0);
  });

  it('answers 404 for an absent subscription', async () => {
    ddb.on(GetCommand).resolves({});

    const response = await updateHandler(
      proxyEvent({ method: 'PUT', pathParameters: idPath, body: { status: 'active' } }),
    );

    expect(response.statusCode).toBe(404);
    expect(ddb).not.toHaveReceivedCommand(UpdateCommand);
  });

  it('answers 409 when another subscription already has the new event and target', async () => {
    const target = 'https://example.com/taken';
    ddb.on(GetCommand, { Key: subscriptionKey }).resolves({ Item: subscriptionItem(stored) });
    ddb.on(PutCommand).rejects(failedCondition());
    ddb.on(GetCommand, { Key: guardKey('p1', stored.event, target) }).resolves({
      Item: { subscriptionId: 'sub_other', createdAt: stored.createdAt },
    });
    ddb.on(GetCommand, { Key: { sk: keys.subscriptionSk('sub_other') } }).resolves({
      Item: subscriptionItem({ ...stored, _id: 'sub_other', target }),
    });

    const response = parse(
      await updateHandler(proxyEvent({ method: 'PUT', pathParameters: idPath, body: { target } })),
    );

    expect(response.statusCode).toBe(409);
    expect(fieldsOf(response.body)).toEqual(['target']);
  });

  it('answers 403 for another project and 415 for a form body', async () => {
    const other = proxyEvent({
      method: 'PUT',
      pathParameters: { ...idPath, projectId: 'p2' },
      body: { status: 'active' },
    });
    expect((await updateHandler(other)).statusCode).toBe(403);
    const form = proxyEvent({
      method: 'PUT',
      pathParameters: idPath,
      rawBody: 'status=active',
      headers: { 'Content-Type': 'text/plain' },
    });
    expect((await updateHandler(form)).statusCode).toBe(415);
  });
});

describe('DELETE /{projectId}/subscriptions/{subscriptionId}', () => {
  it('answers 200 with the removed subscription, without its secret', async () => {
    ddb.on(DeleteCommand).resolves({});
    ddb.on(DeleteCommand, { Key: subscriptionKey }).resolves({ Attributes: subscriptionItem(stored) });

    const response = parse(await deleteHandler(proxyEvent({ method: 'DELETE', pathParameters: idPath })));

    expect(response.statusCode).toBe(200);
    expect(response.body).toMatchObject({ _id: stored._id, target: stored.target });
    expect(response.body).not.toHaveProperty('secret');
    expect(ddb).toHaveReceivedCommandTimes(DeleteCommand, 2);
  });

  it('answers 404 for an absent subscription', async () => {
    ddb.on(DeleteCommand).resolves({});

    expect((await deleteHandler(proxyEvent({ method: 'DELETE', pathParameters: idPath }))).statusCode).toBe(
      404,
    );
  });

  it('answers 403 for another project and deletes nothing', async () => {
    const event = proxyEvent({ method: 'DELETE', pathParameters: { ...idPath, projectId: 'p2' } });
    expect((await deleteHandler(event)).statusCode).toBe(403);
    expect(ddb.calls()).toHaveLength(0);
  });
});

function logItem(index: number) {
  const attemptedAt = new Date(Date.UTC(2025, 0, 1, 0, 0, index)).toISOString();
  const sk = keys.logSk(attemptedAt, `msg_${index}`, 1);
  return {
    pk: keys.projectLog('p1'),
    sk,
    gsi2pk: keys.subscriptionLog(stored._id),
    gsi2sk: sk,
    expiresAt: 1_800_000_000,
    deliveryId: `msg_${index}`,
    subscriptionId: stored._id,
    id_project: 'p1',
    outcome: 'delivered',
    attemptedAt,
  };
}

describe('GET /{projectId}/subscriptions/history', () => {
  it("answers the project's log newest first, without key attributes", async () => {
    ddb.on(QueryCommand).resolves({ Items: [logItem(2), logItem(1)] });

    const response = parse(await historyHandler(proxyEvent({ method: 'GET' })));

    expect(response.statusCode).toBe(200);
    expect(response.body).toEqual([
      expect.objectContaining({ deliveryId: 'msg_2' }),
      expect.objectContaining({ deliveryId: 'msg_1' }),
    ]);
    for (const item of response.body as object[]) {
      for (const key of ['pk', 'sk', 'gsi2pk', 'gsi2sk', 'expiresAt']) expect(item).not.toHaveProperty(key);
    }
    expect(ddb).toHaveReceivedCommandWith(QueryCommand, {
      ExpressionAttributeValues: { ':pk': keys.projectLog('p1') },
      ScanIndexForward: false,
      Limit: LIMITS.historyPageSize,
    });
  });

  it('serves page N by skipping the pages before it', async () => {
    const items = Array.from({ length: LIMITS.historyPageSize * 2 }, (_, index) => logItem(index));
    ddb.on(QueryCommand).resolves({ Items: items });

    const response = parse(await historyHandler(proxyEvent({ method: 'GET', query: { page: '2' } })));

    expect((response.body as unknown[]).length).toBe(LIMITS.historyPageSize);
    expect(response.body).toContainEqual(
      expect.objectContaining({ deliveryId: `msg_${LIMITS.historyPageSize}` }),
    );
    expect(ddb).toHaveReceivedCommandWith(QueryCommand, { Limit: LIMITS.historyPageSize * 2 });
  });

  it('answers 400 for a page beyond the deepest served', async () => {
    const response = parse(
      await historyHandler(proxyEvent({ method: 'GET', query: { page: String(LIMITS.historyMaxPage + 1) } })),
    );
    expect(response.statusCode).toBe(400);
    expect(fieldsOf(response.body)).toEqual(['page']);
    expect(ddb.calls()).toHaveLength(0);
  });
});

describe('GET /{projectId}/subscriptions/{subscriptionId}/deliveries', () => {
  it('answers the attempts newest first with the next cursor', async () => {
    ddb.on(GetCommand).resolves({ Item: subscriptionItem(stored) });
    const last = logItem(1);
    ddb.on(QueryCommand).resolves({
      Items: [logItem(2), last],
      LastEvaluatedKey: { pk: last.pk, sk: last.sk, gsi2pk: last.gsi2pk, gsi2sk: last.gsi2sk },
    });

    const response = parse(
      await deliveriesHandler(proxyEvent({ method: 'GET', pathParameters: idPath, query: { limit: '2' } })),
    );

    expect(response.statusCode).toBe(200);
    expect((response.body as { deliveryId: string }[]).map((item) => item.deliveryId)).toEqual([
      'msg_2',
      'msg_1',
    ]);
    expect(response.headers[API.nextCursorHeader]).toBe(encodeCursor(last.sk));
    expect(ddb).toHaveReceivedCommandWith(QueryCommand, {
      IndexName: 'gsi2',
      ExpressionAttributeValues: { ':pk': keys.subscriptionLog(stored._id) },
      ScanIndexForward: false,
      Limit: 2,
    });
  });

  it('continues from a cursor', async () => {
    ddb.on(GetCommand).resolves({ Item: subscriptionItem(stored) });
    ddb.on(QueryCommand).resolves({ Items: [] });
    const sk = logItem(1).sk;

    await deliveriesHandler(
      proxyEvent({ method: 'GET', pathParameters: idPath, query: { cursor: encodeCursor(sk) } }),
    );

    expect(ddb).toHaveReceivedCommandWith(QueryCommand, {
      ExclusiveStartKey: {
        pk: keys.projectLog('p1'),
        sk,
        gsi2pk: keys.subscriptionLog(stored._id),
        gsi2sk: sk,
      },
    });
  });

  it('answers 404 when the subscription is not in this project', async () => {
    ddb.on(GetCommand).resolves({});

    const response = await deliveriesHandler(proxyEvent({ method: 'GET', pathParameters: idPath }));

    expect(response.statusCode).toBe(404);
    expect(ddb).not.toHaveReceivedCommand(QueryCommand);
  });

  it('answers 400 for a bad cursor and 403 for another project', async () => {
    const bad = parse(
      await deliveriesHandler(
        proxyEvent({ method: 'GET', pathParameters: idPath, query: { cursor: encodeCursor('SUB#x') } }),
      ),
    );
    expect(bad.statusCode).toBe(400);
    expect(fieldsOf(bad.body)).toEqual(['cursor']);
    const other = proxyEvent({ method: 'GET', pathParameters: { ...idPath, projectId: 'p2' } });
    expect((await deliveriesHandler(other)).statusCode).toBe(403);
  });
});
