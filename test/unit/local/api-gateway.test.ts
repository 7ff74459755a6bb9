import type {
  APIGatewayAuthorizerResult,
  APIGatewayProxyEvent,
  APIGatewayRequestAuthorizerEvent,
} from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ROUTES } from '../../../functions/api/routes';
import { GATEWAY_RESPONSES } from '../../../functions/core/http/responses';
import { type LocalApiGateway, matchRoute, startApiGateway } from '../../../local/api-gateway';

/** The API Gateway stand-in with test handlers: the proxy event, the authorizer and its cache. */
let gateway: LocalApiGateway;
let events: APIGatewayProxyEvent[];
let authorizerEvents: APIGatewayRequestAuthorizerEvent[];

function policy(effect: 'Allow' | 'Deny', project: string): APIGatewayAuthorizerResult {
  return {
    principalId: `user-of-${project}`,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [
        {
          Action: 'execute-api:Invoke',
          Effect: effect,
          Resource: [
            `arn:aws:execute-api:eu-west-1:000000000000:local/v1/*/${project}/subscriptions`,
            `arn:aws:execute-api:eu-west-1:000000000000:local/v1/*/${project}/subscriptions/*`,
          ],
        },
      ],
    },
    context: { projectIds: project, principal: 'k1', count: 3, admin: false },
  };
}

const routes = ROUTES.map((route) => ({
  route,
  handler: async (event: APIGatewayProxyEvent) => {
    events.push(event);
    if (event.queryStringParameters?.crash) throw new Error('handler crashed');
    return { statusCode: 200, headers: { 'x-route': route.id }, body: JSON.stringify({ route: route.id }) };
  },
}));

beforeAll(async () => {
  gateway = await startApiGateway({
    port: 0,
    region: 'eu-west-1',
    routes,
    authorizer: async (event) => {
      authorizerEvents.push(event);
      const value = event.headers?.Authorization ?? '';
      if (value === 'bad') throw new Error('Unauthorized');
      if (value === 'deny') return policy('Deny', 'p1');
      return policy('Allow', value.replace('token-', ''));
    },
  });
});

afterAll(() => gateway.stop());

beforeEach(() => {
  events = [];
  authorizerEvents = [];
});

describe('API Gateway stand-in', () => {
  it('builds the REST API proxy event', async () => {
    const response = await fetch(`${gateway.url}/p1/subscriptions/sub%201?limit=5&tag=a&tag=b`, {
      method: 'PUT',
      headers: { Authorization: 'token-p1', 'X-Custom': 'v', 'content-type': 'application/json' },
      body: '{"status":"disabled"}',
    });

    expect(response.status).toBe(200);
    expect(response.headers.get('x-route')).toBe('UpdateSubscription');
    const event = events[0];
    expect(event).toMatchObject({
      resource: '/{projectId}/subscriptions/{subscriptionId}',
      path: '/p1/subscriptions/sub%201',
      httpMethod: 'PUT',
      pathParameters: { projectId: 'p1', subscriptionId: 'sub 1' },
      queryStringParameters: { limit: '5', tag: 'b' },
      multiValueQueryStringParameters: { limit: ['5'], tag: ['a', 'b'] },
      stageVariables: null,
      body: '{"status":"disabled"}',
      isBase64Encoded: false,
      requestContext: {
        stage: 'v1',
        resourcePath: '/{projectId}/subscriptions/{subscriptionId}',
        httpMethod: 'PUT',
        path: '/v1/p1/subscriptions/sub%201',
        identity: { sourceIp: '127.0.0.1' },
        authorizer: {
          projectIds: 'p1',
          principal: 'k1',
          count: '3',
          admin: 'false',
          principalId: 'user-of-p1',
        },
      },
    });
    expect(event?.headers['X-Custom']).toBe('v');
    expect(event?.multiValueHeaders.Authorization).toEqual(['token-p1']);
    expect(event?.requestContext.requestId).toEqual(expect.any(String));
    expect(authorizerEvents[0]).toMatchObject({
      type: 'REQUEST',
      methodArn: 'arn:aws:execute-api:eu-west-1:000000000000:local/v1/PUT/p1/subscriptions/sub%201',
      resource: '/{projectId}/subscriptions/{subscriptionId}',
    });
  });

  it("caches the policy by Authorization header and evaluates it for each path, denying another project's", async () => {
    const before = gateway.authorizerInvocations();
    const headers = { Authorization: 'token-cached' };

    const first = await fetch(`${gateway.url}/cached/subscriptions`, { headers });
    const second = await fetch(`${gateway.url}/cached/subscriptions/history`, { headers });
    const other = await fetch(`${gateway.url}/someone-else/subscriptions`, { headers });

    expect([first.status, second.status, other.status]).toEqual([200, 200, 403]);
    expect(await other.json()).toEqual(GATEWAY_RESPONSES.forbidden.body);
    expect(gateway.authorizerInvocations() - before).toBe(1);
  });

  it('answers 401 without calling the authorizer when there is no Authorization header', async () => {
    const response = await fetch(`${gateway.url}/p1/subscriptions`);

    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Basic realm="tiledesk-webhooks"/);
    expect(authorizerEvents).toEqual([]);
  });

  it("answers 401 when the authorizer throws 'Unauthorized', and 403 for a Deny", async () => {
    const unauthorized = await fetch(`${gateway.url}/p1/subscriptions`, {
      headers: { Authorization: 'bad' },
    });
    const denied = await fetch(`${gateway.url}/p1/subscriptions`, { headers: { Authorization: 'deny' } });

    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers.get('www-authenticate')).toContain('Basic');
    expect(denied.status).toBe(403);
    expect(events).toEqual([]);
  });

  it('answers 502 when the function throws', async () => {
    const response = await fetch(`${gateway.url}/p1/subscriptions?crash=1`, {
      headers: { Authorization: 'token-p1' },
    });

    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({ success: false });
  });
});

describe('matchRoute', () => {
  it('prefers a static segment to a path parameter', () => {
    const history = matchRoute(routes, 'GET', '/p/subscriptions/history');
    const byId = matchRoute(routes, 'GET', '/p/subscriptions/abc');

    expect(history !== 'not-found' && 'route' in history && history.route.route.id).toBe('ProjectHistory');
    expect(byId !== 'not-found' && 'route' in byId && byId.route.route.id).toBe('GetSubscription');
  });

  it('tells an unknown path from a wrong method', () => {
    expect(matchRoute(routes, 'GET', '/p/other')).toBe('not-found');
    expect(matchRoute(routes, 'POST', '/p/subscriptions/history')).toEqual({ allow: ['GET'] });
  });
});
