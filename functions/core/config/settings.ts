import { parseRetrySchedule } from './retry-schedule';

/**
 * The functions' configuration, read from environment variables. The CDK stack sets
 * them from context (see ENV), the local stack from its own environment. Each value
 * has a default that is safe for a deployment.
 */
export const ENV = {
  tableName: 'TABLE_NAME',
  deliveryQueueUrl: 'DELIVERY_QUEUE_URL',
  rejectedEventsQueueUrl: 'REJECTED_EVENTS_QUEUE_URL',
  eventBusName: 'EVENT_BUS_NAME',
  eventSource: 'EVENT_SOURCE',
  retrySchedule: 'RETRY_SCHEDULE',
  attemptTimeoutMs: 'ATTEMPT_TIMEOUT_MS',
  allowHttpTargets: 'ALLOW_HTTP_TARGETS',
  allowPrivateTargets: 'ALLOW_PRIVATE_TARGETS',
  deliveryLogLevel: 'DELIVERY_LOG_LEVEL',
  deliveryLogTtlDays: 'DELIVERY_LOG_TTL_DAYS',
  disableAfterDays: 'DISABLE_AFTER_DAYS',
  subscriptionCacheTtlMs: 'SUBSCRIPTION_CACHE_TTL_MS',
  secretGraceHours: 'SECRET_GRACE_HOURS',
  jwtIssuer: 'JWT_ISSUER',
  jwtAudience: 'JWT_AUDIENCE',
  jwtJwksUrl: 'JWT_JWKS_URL',
  jwtSecretArn: 'JWT_SECRET_ARN',
  jwtProjectClaim: 'JWT_PROJECT_CLAIM',
  userAgent: 'WEBHOOK_USER_AGENT',
} as const;

export type DeliveryLogLevel = 'all' | 'failures' | 'off';

export const DEFAULTS = {
  eventSource: 'tiledesk',
  attemptTimeoutMs: 10_000,
  deliveryLogLevel: 'all' as DeliveryLogLevel,
  deliveryLogTtlDays: 30,
  disableAfterDays: 5,
  subscriptionCacheTtlMs: 30_000,
  secretGraceHours: 24,
  jwtProjectClaim: 'id_project',
  userAgent: 'tiledesk-webhooks/1.0 (+https://github.com/tiledesk)',
  /** Source of the service's own operational events; the ingest rule never matches it. */
  operationalEventSource: 'webhooks',
} as const;

type Env = Record<string, string | undefined>;

/** A true/false (or 1/0) variable; unset or empty gives `fallback`, anything else throws. */
export function booleanFromEnv(env: Env, name: string, fallback: boolean): boolean {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new Error(`${name} must be true or false, got "${value}"`);
}

function positiveNumber(env: Env, name: string, fallback: number): number {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0)
    throw new Error(`${name} must be a positive number, got "${value}"`);
  return parsed;
}

function required(env: Env, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

function logLevel(env: Env): DeliveryLogLevel {
  const value = env[ENV.deliveryLogLevel] ?? DEFAULTS.deliveryLogLevel;
  if (value !== 'all' && value !== 'failures' && value !== 'off') {
    throw new Error(`${ENV.deliveryLogLevel} must be all, failures or off, got "${value}"`);
  }
  return value;
}

/** Rules for webhook targets, shared by the API's validation and the delivery-time guard. */
export interface TargetPolicy {
  allowHttp: boolean;
  allowPrivate: boolean;
}

export function targetPolicy(env: Env = process.env): TargetPolicy {
  return {
    allowHttp: booleanFromEnv(env, ENV.allowHttpTargets, false),
    allowPrivate: booleanFromEnv(env, ENV.allowPrivateTargets, false),
  };
}

export function tableName(env: Env = process.env): string {
  return required(env, ENV.tableName);
}

export interface DeliverySettings {
  tableName: string;
  queueUrl: string;
  retrySchedule: number[];
  attemptTimeoutMs: number;
  targets: TargetPolicy;
  logLevel: DeliveryLogLevel;
  logTtlDays: number;
  disableAfterMs: number;
  subscriptionCacheTtlMs: number;
  userAgent: string;
  eventBusName: string | undefined;
}

export function deliverySettings(env: Env = process.env): DeliverySettings {
  return {
    tableName: tableName(env),
    queueUrl: required(env, ENV.deliveryQueueUrl),
    retrySchedule: parseRetrySchedule(env[ENV.retrySchedule]),
    attemptTimeoutMs: positiveNumber(env, ENV.attemptTimeoutMs, DEFAULTS.attemptTimeoutMs),
    targets: targetPolicy(env),
    logLevel: logLevel(env),
    logTtlDays: positiveNumber(env, ENV.deliveryLogTtlDays, DEFAULTS.deliveryLogTtlDays),
    disableAfterMs: positiveNumber(env, ENV.disableAfterDays, DEFAULTS.disableAfterDays) * 86_400_000,
    subscriptionCacheTtlMs: positiveNumber(env, ENV.subscriptionCacheTtlMs, DEFAULTS.subscriptionCacheTtlMs),
    userAgent: env[ENV.userAgent] || DEFAULTS.userAgent,
    eventBusName: env[ENV.eventBusName] || undefined,
  };
}

export interface FanOutSettings {
  tableName: string;
  queueUrl: string;
  /** Where events that can never be fanned out (bad shape, unknown name, wrong source) go, with the reason. */
  rejectedEventsQueueUrl: string;
  eventSource: string;
}

export function fanOutSettings(env: Env = process.env): FanOutSettings {
  return {
    tableName: tableName(env),
    queueUrl: required(env, ENV.deliveryQueueUrl),
    rejectedEventsQueueUrl: required(env, ENV.rejectedEventsQueueUrl),
    eventSource: env[ENV.eventSource] || DEFAULTS.eventSource,
  };
}

export interface JwtSettings {
  issuer: string;
  audience: string;
  jwksUrl: string | undefined;
  secretArn: string | undefined;
  projectClaim: string;
}

/** JWT auth is on when an issuer and audience are configured with a JWKS URL or a secret. */
export function jwtSettings(env: Env = process.env): JwtSettings | undefined {
  const issuer = env[ENV.jwtIssuer];
  const audience = env[ENV.jwtAudience];
  const jwksUrl = env[ENV.jwtJwksUrl] || undefined;
  const secretArn = env[ENV.jwtSecretArn] || undefined;
  if (!issuer || !audience || (!jwksUrl && !secretArn)) return undefined;
  return {
    issuer,
    audience,
    jwksUrl,
    secretArn,
    projectClaim: env[ENV.jwtProjectClaim] || DEFAULTS.jwtProjectClaim,
  };
}

/** Hours a rotated-out secret keeps signing (SECRET_GRACE_HOURS, default 24). */
export function secretGraceHours(env: Env = process.env): number {
  return positiveNumber(env, ENV.secretGraceHours, DEFAULTS.secretGraceHours);
}

/**
 * What a function that makes one webhook attempt outside the queue needs (the test ping):
 * the delivery function's attempt and log settings, without its queue.
 */
export interface AttemptSettings {
  tableName: string;
  attemptTimeoutMs: number;
  targets: TargetPolicy;
  logLevel: DeliveryLogLevel;
  logTtlDays: number;
  userAgent: string;
}

export function attemptSettings(env: Env = process.env): AttemptSettings {
  return {
    tableName: tableName(env),
    attemptTimeoutMs: positiveNumber(env, ENV.attemptTimeoutMs, DEFAULTS.attemptTimeoutMs),
    targets: targetPolicy(env),
    logLevel: logLevel(env),
    logTtlDays: positiveNumber(env, ENV.deliveryLogTtlDays, DEFAULTS.deliveryLogTtlDays),
    userAgent: env[ENV.userAgent] || DEFAULTS.userAgent,
  };
}

/** The redelivery routes (retry, recover): the table, the delivery queue and the log's retention. */
export interface ReplaySettings {
  tableName: string;
  queueUrl: string;
  logTtlDays: number;
}

export function replaySettings(env: Env = process.env): ReplaySettings {
  return {
    tableName: tableName(env),
    queueUrl: required(env, ENV.deliveryQueueUrl),
    logTtlDays: positiveNumber(env, ENV.deliveryLogTtlDays, DEFAULTS.deliveryLogTtlDays),
  };
}
