import { isDeepStrictEqual } from 'node:util';
import * as z from 'zod';
import packageJson from '../../../package.json' with { type: 'json' };
import { type ResponseHeaderName, ROUTES, type Route } from '../../api/routes';
import { API } from '../config/api';
import { LIMITS } from '../config/limits';
import { parseRetrySchedule } from '../config/retry-schedule';
import { DEFAULTS, type TargetPolicy, targetPolicy } from '../config/settings';
import { WWW_AUTHENTICATE } from '../http/responses';
import { errorBodySchema, webhookBodySchema } from '../schemas/responses';

/**
 * The OpenAPI 3.1 document of the REST API, generated from the route table and the zod
 * schemas the handlers parse with (z.toJSONSchema, JSON Schema 2020-12, which is what
 * OpenAPI 3.1 schemas are). A zod schema with an `id` in its metadata becomes a named
 * component; everything else is inlined where it is used. `npm run openapi` writes it
 * to docs/openapi.json, and a unit test fails when that file is stale.
 */

type Json = Record<string, unknown>;

/** What the document describes bodies against: a deployment's default (https only, no private addresses). */
export const DOCUMENTED_TARGET_POLICY: TargetPolicy = targetPolicy({});

const SCHEMA_REF = '#/components/schemas/';

/**
 * JSON Schemas of zod schemas, sharing one set of named components. Input side: query
 * strings are documented as the strings clients send, and response objects stay open
 * (a client should ignore fields it does not know).
 */
class SchemaConverter {
  readonly components: Record<string, Json> = {};

  convert(schema: z.ZodType): Json {
    const {
      $schema: _schema,
      $defs,
      ...json
    } = z.toJSONSchema(schema, {
      target: 'draft-2020-12',
      io: 'input',
      unrepresentable: 'any',
    }) as Json;
    for (const [id, definition] of Object.entries(($defs ?? {}) as Record<string, Json>)) {
      const component = retarget(definition) as Json;
      const known = this.components[id];
      if (known && !isDeepStrictEqual(known, component)) {
        throw new Error(`two different schemas are named ${id}`);
      }
      this.components[id] = component;
    }
    return retarget(json) as Json;
  }
}

/**
 * zod writes references into a schema's own `$defs`; in the document they are components.
 * It also bounds every `.int()` by the safe integers, which only adds noise.
 */
function retarget(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(retarget);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(
        ([key, inner]) =>
          !(key === 'minimum' && inner === Number.MIN_SAFE_INTEGER) &&
          !(key === 'maximum' && inner === Number.MAX_SAFE_INTEGER),
      )
      .map(([key, inner]) =>
        key === '$ref' && typeof inner === 'string'
          ? [key, inner.replace(/^#\/\$defs\//, SCHEMA_REF)]
          : [key, retarget(inner)],
      ),
  );
}

const HEADERS: Record<ResponseHeaderName, Json> = {
  'x-hook-secret': {
    description:
      "The subscription's signing secret (Tiledesk's header); the same value as `secret` in the body",
    schema: { type: 'string' },
  },
  'x-next-cursor': {
    description: 'The next page: pass it as `?cursor=`; absent on the last page',
    schema: { type: 'string' },
  },
};

function errorResponse(description: string, headers?: Json): Json {
  return {
    description,
    ...(headers ? { headers } : {}),
    content: { 'application/json': { schema: { $ref: `${SCHEMA_REF}Error` } } },
  };
}

/** Error answers any route may give, as components.responses. */
const COMMON_ERRORS = {
  '400': [
    'BadRequest',
    errorResponse('Bad input: a path or query parameter, the JSON or a body field; `errors` names each'),
  ],
  '401': [
    'Unauthorized',
    errorResponse('No credentials, or credentials that are not valid', {
      'WWW-Authenticate': { description: `Always \`${WWW_AUTHENTICATE}\``, schema: { type: 'string' } },
    }),
  ],
  '403': ['Forbidden', errorResponse('The credentials belong to another project')],
  '413': ['PayloadTooLarge', errorResponse(`The body is larger than ${LIMITS.maxRequestBodyBytes} bytes`)],
  '415': [
    'UnsupportedMediaType',
    errorResponse('The body is not `application/json` (a missing content-type is read as JSON)'),
  ],
  '429': [
    'TooManyRequests',
    errorResponse(
      `Throttled (stage limits ${API.throttleRateLimit} requests/s, burst ${API.throttleBurstLimit}); retry with backoff`,
    ),
  ],
  '500': ['InternalError', errorResponse('A fault of the service, never of the request; retry later')],
} as const satisfies Record<string, readonly [string, Json]>;

type CommonStatus = keyof typeof COMMON_ERRORS;

function parameters(converter: SchemaConverter, schema: z.ZodType | undefined, location: 'path' | 'query') {
  if (!schema) return [];
  const json = converter.convert(schema);
  const properties = (json.properties ?? {}) as Record<string, Json>;
  const required = new Set((json.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => {
    const { description, ...propertySchema } = property;
    return {
      name,
      in: location,
      required: location === 'path' || required.has(name),
      ...(typeof description === 'string' ? { description } : {}),
      schema: propertySchema,
    };
  });
}

function operation(route: Route, converter: SchemaConverter, policy: TargetPolicy): Json {
  const responses: Json = {};
  for (const response of route.responses ?? []) {
    responses[String(response.status)] = {
      description: response.description,
      ...(response.headers?.length
        ? {
            headers: Object.fromEntries(
              response.headers.map((name) => [name, { $ref: `#/components/headers/${name}` }]),
            ),
          }
        : {}),
      ...(response.schema
        ? { content: { 'application/json': { schema: converter.convert(response.schema) } } }
        : {}),
    };
  }
  const common: CommonStatus[] = [
    '400',
    '401',
    '403',
    ...(route.bodySchema ? (['413', '415'] as const) : []),
  ];
  for (const status of common)
    responses[status] = { $ref: `#/components/responses/${COMMON_ERRORS[status][0]}` };
  for (const error of route.errors ?? []) {
    const status = String(error.status);
    const known = responses[status] as Json | undefined;
    // Two errors of one status (e.g. two kinds of 409) share one entry.
    const description = known ? `${String(known.description)}; or: ${error.description}` : error.description;
    responses[status] = errorResponse(description);
  }
  for (const status of ['429', '500'] as const) {
    responses[status] = { $ref: `#/components/responses/${COMMON_ERRORS[status][0]}` };
  }
  return {
    operationId: route.id,
    summary: route.summary,
    tags: [tagOf(route)],
    parameters: [
      ...parameters(converter, route.pathSchema, 'path'),
      ...parameters(converter, route.querySchema, 'query'),
    ],
    ...(route.bodySchema
      ? {
          requestBody: {
            required: !route.bodyOptional,
            content: { 'application/json': { schema: converter.convert(route.bodySchema(policy)) } },
          },
        }
      : {}),
    responses: sortByStatus(responses),
  };
}

function sortByStatus(responses: Json): Json {
  return Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b)));
}

function tagOf(route: Route): string {
  return /\/(deliveries|history|recover)\b/.test(route.path) ? 'Deliveries' : 'Subscriptions';
}

function webhookOperation(converter: SchemaConverter): Json {
  const schedule = parseRetrySchedule(undefined);
  const header = (name: string, description: string, example: string) => ({
    name,
    in: 'header',
    required: true,
    description,
    schema: { type: 'string' },
    example,
  });
  return {
    operationId: 'ReceiveWebhook',
    summary: "The POST the service sends to a subscription's target, once per matching event",
    description: [
      'Standard Webhooks: verify with the `standardwebhooks` or `svix` packages and the subscription secret.',
      `Answer 2xx within ${DEFAULTS.attemptTimeoutMs / 1000} s. \`410 Gone\` removes the subscription.`,
      'Anything else, a timeout or a network error is retried (by default after',
      `${schedule.map((seconds) => `${seconds} s`).join(', ')}, with jitter; \`Retry-After\` is respected within bounds),`,
      'then dead-lettered. Redirects are not followed. Deliveries are at-least-once: drop duplicates by `webhook-id`.',
    ].join(' '),
    parameters: [
      header(
        'webhook-id',
        'The delivery id: the same on every attempt of one delivery (deduplicate on it)',
        'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W',
      ),
      header('webhook-timestamp', 'Time of sending, seconds since the epoch', '1735689600'),
      header(
        'webhook-signature',
        '`v1,<base64 HMAC-SHA256 of id.timestamp.body>`; during a secret rotation two, space-separated (current secret first)',
        'v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=',
      ),
      header(
        'x-hook-secret',
        "The subscription's current secret (Tiledesk's header)",
        'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      ),
      header('user-agent', 'The service', DEFAULTS.userAgent),
    ],
    requestBody: {
      required: true,
      content: { 'application/json': { schema: converter.convert(webhookBodySchema) } },
    },
    responses: {
      '2XX': { description: 'Delivered' },
      '410': { description: 'Gone: the service removes the subscription' },
      default: { description: 'Not delivered: retried on the schedule, then dead-lettered' },
    },
  };
}

/** The whole document; the same input always gives the same document (key order included). */
export function buildOpenApiDocument(
  routes: readonly Route[] = ROUTES,
  policy: TargetPolicy = DOCUMENTED_TARGET_POLICY,
): Json {
  const converter = new SchemaConverter();
  const paths: Record<string, Json> = {};
  for (const route of routes) {
    const item = paths[route.path] ?? {};
    item[route.method.toLowerCase()] = operation(route, converter, policy);
    paths[route.path] = item;
  }
  const webhooks = { subscriptionEvent: { post: webhookOperation(converter) } };
  // Referenced by name from every error response.
  converter.convert(errorBodySchema);
  return {
    openapi: '3.1.0',
    info: {
      title: 'Tiledesk webhooks',
      version: packageJson.version,
      description: [
        'Tiledesk-compatible RESTHooks subscriptions and signed webhook deliveries.',
        `Every path is below the stage \`/${API.stageName}\`. Errors are \`{"success": false, "msg", "errors": [{field, message}]}\`.`,
        'Generated from the route table and the zod schemas (npm run openapi); do not edit by hand.',
      ].join(' '),
      license: { name: packageJson.license, identifier: packageJson.license },
    },
    servers: [
      {
        url: `https://{restApiId}.execute-api.{region}.amazonaws.com/${API.stageName}`,
        description: 'A deployment (the stack output ApiUrl)',
        variables: {
          restApiId: { default: 'abc123defg', description: 'The REST API id' },
          region: { default: 'eu-west-1', description: 'The AWS region' },
        },
      },
      { url: `http://localhost:3000/${API.stageName}`, description: 'The local stack (npm start)' },
    ],
    security: [{ apiKey: [] }, { bearerJwt: [] }],
    tags: [
      { name: 'Subscriptions', description: 'Subscribe, read, change, test, rotate the secret, unsubscribe' },
      { name: 'Deliveries', description: 'The delivery log, redelivery and recovery' },
    ],
    paths,
    webhooks,
    components: {
      schemas: Object.fromEntries(
        Object.entries(converter.components).sort(([a], [b]) => a.localeCompare(b)),
      ),
      responses: Object.fromEntries(Object.values(COMMON_ERRORS).map(([name, response]) => [name, response])),
      headers: HEADERS,
      securitySchemes: {
        apiKey: {
          type: 'http',
          scheme: 'basic',
          description:
            'A project API key (`npm run keys create`): the key id as the user name and the key secret as the password',
        },
        bearerJwt: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: `A JWT of the configured issuer and audience with the project id in the \`${DEFAULTS.jwtProjectClaim}\` claim (configurable); \`Authorization: JWT <token>\` (Tiledesk's form) works too`,
        },
      },
    },
  };
}

/** The committed form: two-space JSON with a final newline. */
export function serializeOpenApiDocument(document: Json): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}
