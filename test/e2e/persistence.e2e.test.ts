import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack, LocalStackOptions } from '../../local/stack';
import { basicAuth, quietHandlers } from './support';

/**
 * DATA_DIR: the subscriptions survive a restart. The handlers' module-scope clients
 * keep the endpoints they first saw, so the restarted stack reuses the same ports.
 */
const KEY = { projectId: 'keeper', keyId: 'keeper-key', secret: 'keeper-secret-0123456789' };

let dataDir: string;
let stack: LocalStack | undefined;

beforeAll(() => {
  quietHandlers();
  dataDir = mkdtempSync(join(tmpdir(), 'webhooks-e2e-'));
});

afterAll(async () => {
  await stack?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('a local stack with DATA_DIR', () => {
  it('keeps subscriptions across a restart', async () => {
    const { startLocalStack } = await import('../../local/stack');
    const options: LocalStackOptions = { apiKeys: [KEY], dataDir, retrySchedule: '1,1,1' };
    stack = await startLocalStack({ ...options, ports: { api: 0, eventBridge: 0, sqs: 0, dynamoDb: 0 } });
    const ports = stack.ports;
    const authorization = basicAuth(KEY.keyId, KEY.secret);
    const created = await fetch(`${stack.apiUrl}/${KEY.projectId}/subscriptions`, {
      method: 'POST',
      headers: { Authorization: authorization, 'content-type': 'application/json' },
      body: JSON.stringify({ event: 'request.close', target: 'http://127.0.0.1:9/hook' }),
    });
    expect(created.status).toBe(201);
    const { _id: id } = (await created.json()) as { _id: string };

    await stack.stop();
    stack = await startLocalStack({ ...options, ports });
    const read = await fetch(`${stack.apiUrl}/${KEY.projectId}/subscriptions/${id}`, {
      headers: { Authorization: authorization },
    });

    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({ _id: id, event: 'request.close', status: 'active' });
  });
});
