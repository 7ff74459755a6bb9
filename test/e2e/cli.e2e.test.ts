import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../local/stack';
import {
  basicAuth,
  callApi,
  callSubscriptionsApi,
  quietHandlers,
  startTestReceiver,
  startTestStack,
  type TestReceiver,
  waitFor,
} from './support';

/**
 * The operator and integrator commands as a user runs them (`npm run keys`, `npm run emit`):
 * each in its own process, reaching the local stack only through the environment the README
 * documents.
 */
const run = promisify(execFile);
const PROJECT = 'cli-project';

let stack: LocalStack;
let receiver: TestReceiver;

function cli(script: string, args: string[]) {
  return run('npx', ['tsx', script, ...args], {
    cwd: process.cwd(),
    env: {
      ...process.env,
      TABLE_NAME: stack.tableName,
      AWS_ENDPOINT_URL_DYNAMODB: stack.dynamoDbEndpoint,
      AWS_REGION: stack.config.region,
      AWS_ACCESS_KEY_ID: 'cli',
      AWS_SECRET_ACCESS_KEY: 'cli',
      EVENTBRIDGE_PORT: String(stack.ports.eventBridge),
      EVENT_BUS_NAME: stack.busName,
    },
  });
}

/** `keys create`, with the key id and secret read from what it prints (once). */
async function createKey(...extra: string[]): Promise<{ keyId: string; secret: string; stdout: string }> {
  const { stdout } = await cli('bin/keys.ts', ['create', '--project', PROJECT, ...extra]);
  const [, keyId, secret] = /(key_[0-9a-z]+):([A-Za-z0-9_-]+)/.exec(stdout) ?? [];
  if (!keyId || !secret) throw new Error(`keys create printed no key:\n${stdout}`);
  return { keyId, secret, stdout };
}

beforeAll(async () => {
  quietHandlers();
  receiver = await startTestReceiver();
  stack = await startTestStack({});
});

afterAll(async () => {
  await stack?.stop();
  await receiver?.stop();
});

describe('npm run keys', () => {
  it('creates a key that the API accepts, lists it without its secret, and revokes it', async () => {
    const key = await createKey('--name', 'ci');

    expect((await callSubscriptionsApi(stack, PROJECT, key, 'GET', '')).status).toBe(200);
    const listed = await cli('bin/keys.ts', ['list', '--project', PROJECT]);
    expect(listed.stdout).toContain(key.keyId);
    expect(listed.stdout).not.toContain(key.secret);

    await cli('bin/keys.ts', ['revoke', key.keyId]);
    expect((await cli('bin/keys.ts', ['list', '--project', PROJECT])).stdout).toMatch(/revoked/i);
  });

  it('revokes a key so that the authorizer refuses it (once no cached answer stands for it)', async () => {
    const { keyId, secret } = await createKey();

    await cli('bin/keys.ts', ['revoke', keyId]);

    // Never used before, so no cached Allow: the authorizer reads the revoked key. A key used
    // within the cache TTL (300 s) keeps working until then, as the README says.
    const refused = await callApi(stack, `/${PROJECT}/subscriptions?limit=1`, {
      authorization: basicAuth(keyId, secret),
    });
    expect(refused.status).toBe(401);
  });

  it('answers a usage error with exit code 2', async () => {
    await expect(cli('bin/keys.ts', ['create'])).rejects.toMatchObject({ code: 2 });
  });
});

describe('npm run emit', () => {
  it('puts an event with a payload from a file and the subscriber receives it', async () => {
    const key = await createKey();
    const subscribed = await callSubscriptionsApi(stack, PROJECT, key, 'POST', '', {
      event: 'lead.create',
      target: `${receiver.url}/cli`,
    });
    expect(subscribed.status).toBe(201);
    const file = join(tmpdir(), `emit-${process.pid}.json`);
    await writeFile(file, JSON.stringify({ lead: 'from-a-file' }));

    const emitted = await cli('bin/emit.ts', ['lead.create', '--project', PROJECT, '--payload', `@${file}`]);

    expect(emitted.stdout).toMatch(/EventId [0-9a-f-]{36}/);
    const webhook = await waitFor('the emitted webhook', () =>
      receiver.received.find((request) => request.path === '/cli'),
    );
    expect(JSON.parse(webhook.body)).toMatchObject({ payload: { lead: 'from-a-file' } });
  });

  it('refuses a payload that is not JSON with a clear error and a non-zero exit', async () => {
    await expect(
      cli('bin/emit.ts', ['lead.create', '--project', PROJECT, '--payload', '{not json']),
    ).rejects.toMatchObject({ stderr: expect.stringMatching(/--payload is not valid JSON/) });
  });
});
