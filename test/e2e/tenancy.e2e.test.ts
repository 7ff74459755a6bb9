import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GATEWAY_RESPONSES } from '../../functions/core/http/responses';
import type { LocalStack } from '../../local/stack';
import {
  basicAuth,
  callApi,
  clientConfig,
  putPlatformEvent,
  quietHandlers,
  startTestReceiver,
  startTestStack,
  type TestReceiver,
  waitFor,
} from './support';

/** Credentials, the gateway's answers, and project isolation through the local stack. */
const A = { projectId: 'project-a', keyId: 'key-a', secret: 'secret-a-0123456789' };
const B = { projectId: 'project-b', keyId: 'key-b', secret: 'secret-b-0123456789' };

let stack: LocalStack;
let receiver: TestReceiver;
let eventBridge: EventBridgeClient;

function call(path: string, init: { method?: string; authorization?: string; body?: unknown } = {}) {
  return callApi(stack, path, init);
}

async function emit(projectId: string, marker: string): Promise<void> {
  await putPlatformEvent(eventBridge, stack, projectId, 'request.create', { marker });
}

beforeAll(async () => {
  quietHandlers();
  receiver = await startTestReceiver();
  stack = await startTestStack({ apiKeys: [A, B] });
  eventBridge = new EventBridgeClient({ ...clientConfig(stack), endpoint: stack.eventBridgeEndpoint });
});

afterAll(async () => {
  eventBridge?.destroy();
  await stack?.stop();
  await receiver?.stop();
});

describe('the API gateway stand-in', () => {
  it('answers 401 with a Basic challenge when there are no credentials', async () => {
    const response = await call(`/${A.projectId}/subscriptions`);

    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Basic realm="tiledesk-webhooks"');
    expect(await response.json()).toEqual(GATEWAY_RESPONSES.unauthorized.body);
  });

  it('answers 401 for a wrong secret', async () => {
    const response = await call(`/${A.projectId}/subscriptions`, {
      authorization: basicAuth(A.keyId, 'not-the-secret-at-all'),
    });

    expect(response.status).toBe(401);
  });

  it("answers 403 to a credential on another project's path", async () => {
    const own = await call(`/${A.projectId}/subscriptions`, { authorization: basicAuth(A.keyId, A.secret) });
    const other = await call(`/${B.projectId}/subscriptions`, {
      authorization: basicAuth(A.keyId, A.secret),
    });

    expect(own.status).toBe(200);
    expect(other.status).toBe(403);
    expect(await other.json()).toEqual(GATEWAY_RESPONSES.forbidden.body);
  });

  it('routes /subscriptions/history before /subscriptions/{id}', async () => {
    const response = await call(`/${A.projectId}/subscriptions/history`, {
      authorization: basicAuth(A.keyId, A.secret),
    });

    expect(response.status).toBe(200);
    expect(Array.isArray(await response.json())).toBe(true);
  });

  it('answers JSON 404 for an unknown path and 405 for a wrong method', async () => {
    const unknown = await call('/nothing/here', { authorization: basicAuth(A.keyId, A.secret) });
    const wrongMethod = await call(`/${A.projectId}/subscriptions`, {
      method: 'PATCH',
      authorization: basicAuth(A.keyId, A.secret),
    });

    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ success: false });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET, POST');
  });
});

describe('project isolation', () => {
  it("never delivers project B's events to project A's subscribers", async () => {
    for (const key of [A, B]) {
      const created = await call(`/${key.projectId}/subscriptions`, {
        method: 'POST',
        authorization: basicAuth(key.keyId, key.secret),
        body: { event: 'request.create', target: `${receiver.url}/${key.projectId}` },
      });
      expect(created.status).toBe(201);
    }

    await emit(B.projectId, 'for-b');
    await waitFor("B's webhook", () => (receiver.at(`/${B.projectId}`).length > 0 ? true : undefined));
    await emit(A.projectId, 'for-a');
    await waitFor("A's webhook", () => (receiver.at(`/${A.projectId}`).length > 0 ? true : undefined));

    const markers = (projectId: string) =>
      receiver
        .at(`/${projectId}`)
        .map((item) => (JSON.parse(item.body) as { payload: { marker: string } }).payload.marker);
    expect(markers(A.projectId)).toEqual(['for-a']);
    expect(markers(B.projectId)).toEqual(['for-b']);
  });
});
