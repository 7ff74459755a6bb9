import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  APIGatewayAuthorizerResult,
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
  APIGatewayRequestAuthorizerEvent,
} from 'aws-lambda';
import type { Route } from '../functions/api/routes';
import { API } from '../functions/core/config/api';
import { GATEWAY_RESPONSES } from '../functions/core/http/responses';
import { LOCAL_DEFAULTS } from './config';
import { BodyTooLargeError, closeServer, listen, readBody } from './http';

/**
 * The API Gateway (REST API, stage v1) stand-in: routes HTTP requests by the route
 * table, runs the same REQUEST authorizer with API Gateway's result cache, and calls
 * the route's function with the proxy event API Gateway builds.
 *
 * Where it departs from API Gateway, on purpose:
 * - an unknown path is a JSON 404 (API Gateway: 403 "Missing Authentication Token");
 * - a known path with another method is a JSON 405 with `Allow` (API Gateway: the same 403);
 * - no stage throttling and no binary media types.
 */
export type ApiHandler = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;
export type AuthorizerHandler = (
  event: APIGatewayRequestAuthorizerEvent,
) => Promise<APIGatewayAuthorizerResult>;

export interface ApiRoute {
  route: Route;
  handler: ApiHandler;
}

export interface LocalApiGatewayOptions {
  port: number;
  region: string;
  routes: readonly ApiRoute[];
  authorizer: AuthorizerHandler;
  /** The authorizer cache's TTL; API.authorizerCacheTtlSeconds unless given (0: no cache). */
  authorizerCacheTtlSeconds?: number;
  /** Largest body API Gateway accepts (10 MB); the functions enforce their own smaller limit. */
  maxBodyBytes?: number;
}

export interface LocalApiGateway {
  /** Base URL including the stage, e.g. http://127.0.0.1:3000/v1 */
  url: string;
  port: number;
  /** How many times the authorizer ran (its cache is observable in tests). */
  authorizerInvocations(): number;
  stop(): Promise<void>;
}

const API_ID = 'local';
const GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;

interface CachedPolicy {
  result: APIGatewayAuthorizerResult;
  expiresAt: number;
}

interface RouteMatch {
  route: ApiRoute;
  pathParameters: Record<string, string>;
}

export async function startApiGateway(options: LocalApiGatewayOptions): Promise<LocalApiGateway> {
  const ttlMs = (options.authorizerCacheTtlSeconds ?? API.authorizerCacheTtlSeconds) * 1000;
  const maxBodyBytes = options.maxBodyBytes ?? GATEWAY_MAX_BODY_BYTES;
  const cache = new Map<string, CachedPolicy>();
  let invocations = 0;
  let port = options.port;

  async function authorize(
    identity: string,
    event: APIGatewayRequestAuthorizerEvent,
  ): Promise<APIGatewayAuthorizerResult> {
    const cached = cache.get(identity);
    if (cached && cached.expiresAt > Date.now()) return cached.result;
    invocations++;
    const result = await options.authorizer(event);
    if (ttlMs > 0) cache.set(identity, { result, expiresAt: Date.now() + ttlMs });
    return result;
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    const reply = (statusCode: number, body: unknown, headers: Record<string, string> = {}) =>
      writeJson(response, requestId, statusCode, body, headers);
    const url = new URL(request.url ?? '/', 'http://local');
    const method = request.method ?? 'GET';
    const stagePrefix = `/${API.stageName}`;
    if (!url.pathname.startsWith(`${stagePrefix}/`)) {
      return reply(404, notFoundBody(url.pathname));
    }
    const path = url.pathname.slice(stagePrefix.length);
    const matched = matchRoute(options.routes, method, path);
    if (matched === 'not-found') return reply(404, notFoundBody(url.pathname));
    if ('allow' in matched) {
      return reply(
        405,
        { success: false, msg: `Method ${method} is not allowed on this resource`, errors: [] },
        { allow: matched.allow.join(', ') },
      );
    }
    let body: Buffer;
    try {
      body = await readBody(request, maxBodyBytes);
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        return reply(413, { success: false, msg: 'Request Entity Too Large', errors: [] });
      }
      throw error;
    }

    const { headers, multiValueHeaders } = eventHeaders(request, port);
    const { queryStringParameters, multiValueQueryStringParameters } = eventQuery(url);
    const resourcePath = matched.route.route.path;
    const now = new Date();
    const identity = {
      accessKey: null,
      accountId: null,
      apiKey: null,
      apiKeyId: null,
      caller: null,
      clientCert: null,
      cognitoAuthenticationProvider: null,
      cognitoAuthenticationType: null,
      cognitoIdentityId: null,
      cognitoIdentityPoolId: null,
      principalOrgId: null,
      sourceIp: request.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1',
      user: null,
      userAgent: request.headers['user-agent'] ?? null,
      userArn: null,
    };
    const requestContextBase = {
      accountId: LOCAL_DEFAULTS.accountId,
      apiId: API_ID,
      domainName: `127.0.0.1:${port}`,
      domainPrefix: '127',
      extendedRequestId: requestId,
      httpMethod: method,
      identity,
      path: url.pathname,
      protocol: `HTTP/${request.httpVersion}`,
      requestId,
      requestTime: apiGatewayTime(now),
      requestTimeEpoch: now.getTime(),
      resourceId: matched.route.route.id,
      resourcePath,
      stage: API.stageName,
    };
    const pathParameters = Object.keys(matched.pathParameters).length > 0 ? matched.pathParameters : null;

    // Authorization: the identity source is the Authorization header; without it
    // API Gateway answers 401 and never calls the authorizer.
    const identityValue = headerValue(headers, API.authorizerIdentityHeader);
    if (!identityValue) return sendGateway(response, requestId, GATEWAY_RESPONSES.unauthorized);
    const methodArn = `arn:aws:execute-api:${options.region}:${LOCAL_DEFAULTS.accountId}:${API_ID}/${API.stageName}/${method}${path}`;
    let policy: APIGatewayAuthorizerResult;
    try {
      policy = await authorize(identityValue, {
        type: 'REQUEST',
        methodArn,
        resource: resourcePath,
        path,
        httpMethod: method,
        headers,
        multiValueHeaders,
        pathParameters,
        queryStringParameters,
        multiValueQueryStringParameters,
        stageVariables: null,
        requestContext: { ...requestContextBase, authorizer: undefined },
      });
    } catch (error) {
      if (error instanceof Error && error.message === 'Unauthorized') {
        return sendGateway(response, requestId, GATEWAY_RESPONSES.unauthorized);
      }
      console.error('[api-gateway] authorizer failed:', error);
      return reply(500, { success: false, msg: 'Internal server error', errors: [] });
    }
    if (!isAllowed(policy, methodArn)) return sendGateway(response, requestId, GATEWAY_RESPONSES.forbidden);

    const event: APIGatewayProxyEvent = {
      resource: resourcePath,
      path,
      httpMethod: method,
      headers,
      multiValueHeaders,
      queryStringParameters,
      multiValueQueryStringParameters,
      pathParameters,
      stageVariables: null,
      requestContext: { ...requestContextBase, authorizer: authorizerContext(policy) },
      body: body.length > 0 ? body.toString('utf8') : null,
      isBase64Encoded: false,
    };
    let result: APIGatewayProxyResult;
    try {
      result = await matched.route.handler(event);
    } catch (error) {
      console.error(`[api-gateway] ${matched.route.route.id} failed:`, error);
      return reply(502, { success: false, msg: 'Internal server error', errors: [] });
    }
    if (!result || typeof result.statusCode !== 'number') {
      console.error(`[api-gateway] ${matched.route.route.id} returned a malformed proxy response`);
      return reply(502, { success: false, msg: 'Internal server error', errors: [] });
    }
    writeProxyResult(response, requestId, result);
  }

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      console.error('[api-gateway]', error);
      if (!response.headersSent)
        writeJson(response, '', 500, { success: false, msg: 'Internal server error' });
      else response.destroy();
    });
  });
  await listen(server, options.port);
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/${API.stageName}`,
    port,
    authorizerInvocations: () => invocations,
    stop: () => closeServer(server),
  };
}

function notFoundBody(path: string) {
  return { success: false, msg: `No route for ${path}`, errors: [] };
}

/**
 * Route matching as API Gateway does it: a static segment takes precedence over a
 * `{param}` at the same position (`/subscriptions/history` before `/{subscriptionId}`).
 */
export function matchRoute(
  routes: readonly ApiRoute[],
  method: string,
  path: string,
): RouteMatch | { allow: string[] } | 'not-found' {
  const segments = splitPath(path);
  const candidates: { route: ApiRoute; params: Record<string, string>; rank: string }[] = [];
  for (const route of routes) {
    const pattern = splitPath(route.route.path);
    if (pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    let rank = '';
    let ok = true;
    for (let i = 0; i < pattern.length && ok; i++) {
      const part = pattern[i] ?? '';
      const actual = segments[i] ?? '';
      const param = /^\{(.+)\}$/.exec(part);
      if (param?.[1]) {
        params[param[1]] = safeDecode(actual);
        rank += '1';
      } else if (part === actual) {
        rank += '0';
      } else {
        ok = false;
      }
    }
    if (ok) candidates.push({ route, params, rank });
  }
  if (candidates.length === 0) return 'not-found';
  // The resource API Gateway picks: the most static one, leftmost segments first.
  const best = candidates.reduce((a, b) => (b.rank < a.rank ? b : a)).rank;
  const resource = candidates.filter((candidate) => candidate.rank === best);
  const chosen = resource.find((candidate) => candidate.route.route.method === method);
  if (!chosen) return { allow: resource.map((candidate) => candidate.route.route.method).sort() };
  return { route: chosen.route, pathParameters: chosen.params };
}

function splitPath(path: string): string[] {
  const trimmed = path.replace(/^\/+/, '').replace(/\/+$/, '');
  return trimmed === '' ? [] : trimmed.split('/');
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** IAM-style evaluation of the authorizer's policy for one methodArn: an explicit Deny wins. */
export function isAllowed(result: APIGatewayAuthorizerResult, methodArn: string): boolean {
  const statements = result?.policyDocument?.Statement;
  if (!Array.isArray(statements)) return false;
  let allowed = false;
  for (const statement of statements) {
    const actions = toList('Action' in statement ? statement.Action : undefined);
    const resources = toList('Resource' in statement ? statement.Resource : undefined);
    const actionMatches = actions.some((action) => globMatch(action, 'execute-api:Invoke'));
    const resourceMatches = resources.some((resource) => globMatch(resource, methodArn));
    if (!actionMatches || !resourceMatches) continue;
    if (statement.Effect === 'Deny') return false;
    if (statement.Effect === 'Allow') allowed = true;
  }
  return allowed;
}

function toList(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

/** IAM wildcards: `*` any run of characters (including `/`), `?` one character. */
function globMatch(pattern: string, value: string): boolean {
  const regex = pattern
    .split('')
    .map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${regex}$`).test(value);
}

/** The authorizer's context as the function sees it: every value a string, plus principalId. */
function authorizerContext(result: APIGatewayAuthorizerResult): Record<string, string> {
  const context: Record<string, string> = {};
  for (const [key, value] of Object.entries(result.context ?? {})) {
    if (value !== undefined && value !== null) context[key] = String(value);
  }
  context.principalId = result.principalId;
  return context;
}

function headerValue(headers: Record<string, string>, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === wanted) return value;
  return undefined;
}

/** Headers with the client's own spelling (REST APIs keep it), and the ones API Gateway adds. */
function eventHeaders(
  request: IncomingMessage,
  port: number,
): { headers: Record<string, string>; multiValueHeaders: Record<string, string[]> } {
  const multiValueHeaders: Record<string, string[]> = {};
  const raw = request.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? '';
    const value = raw[i + 1] ?? '';
    const existing = Object.keys(multiValueHeaders).find((key) => key.toLowerCase() === name.toLowerCase());
    const list = multiValueHeaders[existing ?? name] ?? [];
    list.push(value);
    multiValueHeaders[existing ?? name] = list;
  }
  const sourceIp = request.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1';
  multiValueHeaders['X-Forwarded-For'] = [sourceIp];
  multiValueHeaders['X-Forwarded-Port'] = [String(port)];
  multiValueHeaders['X-Forwarded-Proto'] = ['http'];
  const headers: Record<string, string> = {};
  for (const [name, values] of Object.entries(multiValueHeaders))
    headers[name] = values[values.length - 1] ?? '';
  return { headers, multiValueHeaders };
}

function eventQuery(url: URL): {
  queryStringParameters: Record<string, string> | null;
  multiValueQueryStringParameters: Record<string, string[]> | null;
} {
  const multi: Record<string, string[]> = {};
  for (const [name, value] of url.searchParams) multi[name] = [...(multi[name] ?? []), value];
  if (Object.keys(multi).length === 0) {
    return { queryStringParameters: null, multiValueQueryStringParameters: null };
  }
  const single: Record<string, string> = {};
  for (const [name, values] of Object.entries(multi)) single[name] = values[values.length - 1] ?? '';
  return { queryStringParameters: single, multiValueQueryStringParameters: multi };
}

/** `03/Dec/2026:14:48:36 +0000`, API Gateway's requestTime format. */
function apiGatewayTime(date: Date): string {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(date.getUTCDate())}/${months[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

function sendGateway(
  response: ServerResponse,
  requestId: string,
  gateway: { statusCode: number; headers: Record<string, string>; body: unknown },
): void {
  writeJson(response, requestId, gateway.statusCode, gateway.body, gateway.headers);
}

function writeJson(
  response: ServerResponse,
  requestId: string,
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  response.writeHead(statusCode, {
    'content-type': 'application/json',
    'x-amzn-requestid': requestId,
    ...headers,
  });
  response.end(JSON.stringify(body));
}

function writeProxyResult(response: ServerResponse, requestId: string, result: APIGatewayProxyResult): void {
  const headers: Record<string, string | string[]> = { 'x-amzn-requestid': requestId };
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) {
    headers[name] = values.map(String);
  }
  const body = result.isBase64Encoded
    ? Buffer.from(result.body ?? '', 'base64')
    : Buffer.from(result.body ?? '', 'utf8');
  response.writeHead(result.statusCode, headers);
  response.end(body);
}
