import type { Node } from 'constructs';
import { parseRetrySchedule } from '../functions/core/config/retry-schedule';
import { DEFAULTS, type DeliveryLogLevel } from '../functions/core/config/settings';

/**
 * The deployment's configuration, from CDK context (`cdk.json` or `-c name=value`).
 * Values from the command line arrive as strings, those from cdk.json as JSON values;
 * both are accepted. Anything malformed fails synthesis instead of deploying a
 * misconfigured service.
 */
export interface JwtConfig {
  issuer: string;
  audience: string;
  jwksUrl: string | undefined;
  /** An existing Secrets Manager secret holding the HS256 key. */
  secretArn: string | undefined;
  projectClaim: string;
}

export interface WebhookConfig {
  stage: string;
  eventBusName: string;
  eventSource: string;
  allowHttpTargets: boolean;
  allowPrivateTargets: boolean;
  /** Seconds before each retry; the redrive policy and the functions use the same list. */
  retrySchedule: number[];
  attemptTimeoutMs: number;
  deliveryLogLevel: DeliveryLogLevel;
  deliveryLogTtlDays: number;
  disableAfterDays: number;
  /** Hours a rotated-out subscription secret keeps signing (SECRET_GRACE_HOURS). */
  secretGraceHours: number;
  /** JWT auth, when configured; API keys work either way. */
  jwt: JwtConfig | undefined;
  alarmEmail: string | undefined;
  tracing: boolean;
}

export const DEFAULT_CONFIG: WebhookConfig = {
  stage: 'dev',
  eventBusName: 'tiledesk-webhooks',
  eventSource: DEFAULTS.eventSource,
  allowHttpTargets: false,
  allowPrivateTargets: false,
  retrySchedule: parseRetrySchedule(undefined),
  attemptTimeoutMs: DEFAULTS.attemptTimeoutMs,
  deliveryLogLevel: DEFAULTS.deliveryLogLevel,
  deliveryLogTtlDays: DEFAULTS.deliveryLogTtlDays,
  disableAfterDays: DEFAULTS.disableAfterDays,
  secretGraceHours: DEFAULTS.secretGraceHours,
  jwt: undefined,
  alarmEmail: undefined,
  tracing: false,
};

type Raw = unknown;

function text(node: Node, name: string): string | undefined {
  const value: Raw = node.tryGetContext(name);
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.map(String).join(',');
  throw new Error(`context ${name} must be a string, got ${JSON.stringify(value)}`);
}

function bool(node: Node, name: string, fallback: boolean): boolean {
  const value = text(node, name);
  if (value === undefined) return fallback;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new Error(`context ${name} must be true or false, got "${value}"`);
}

function positive(node: Node, name: string, fallback: number): number {
  const value = text(node, name);
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) {
    throw new Error(`context ${name} must be a positive number, got "${value}"`);
  }
  return parsed;
}

function pattern(node: Node, name: string, re: RegExp, fallback?: string): string | undefined {
  const value = text(node, name) ?? fallback;
  if (value !== undefined && !re.test(value))
    throw new Error(`context ${name} must match ${re}, got "${value}"`);
  return value;
}

function logLevel(node: Node): DeliveryLogLevel {
  const value = text(node, 'deliveryLogLevel') ?? DEFAULT_CONFIG.deliveryLogLevel;
  if (value !== 'all' && value !== 'failures' && value !== 'off') {
    throw new Error(`context deliveryLogLevel must be all, failures or off, got "${value}"`);
  }
  return value;
}

function jwt(node: Node): JwtConfig | undefined {
  const issuer = text(node, 'jwtIssuer');
  const audience = text(node, 'jwtAudience');
  const jwksUrl = pattern(node, 'jwtJwksUrl', /^https:\/\/\S+$/);
  const secretArn = pattern(
    node,
    'jwtSecretArn',
    /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:\S+$/,
  );
  const projectClaim = text(node, 'jwtProjectClaim') ?? DEFAULTS.jwtProjectClaim;
  if (!issuer && !audience && !jwksUrl && !secretArn) return undefined;
  // A half-configured JWT setup would silently turn JWT auth off (settings.jwtSettings).
  if (!issuer || !audience || (!jwksUrl && !secretArn)) {
    throw new Error('JWT auth needs jwtIssuer, jwtAudience and one of jwtJwksUrl or jwtSecretArn');
  }
  return { issuer, audience, jwksUrl, secretArn, projectClaim };
}

export function configFromContext(node: Node): WebhookConfig {
  return {
    stage: pattern(node, 'stage', /^[a-z][a-z0-9-]{0,20}$/, DEFAULT_CONFIG.stage) ?? DEFAULT_CONFIG.stage,
    eventBusName:
      pattern(node, 'eventBusName', /^[A-Za-z0-9._-]{1,256}$/, DEFAULT_CONFIG.eventBusName) ??
      DEFAULT_CONFIG.eventBusName,
    eventSource: text(node, 'eventSource') ?? DEFAULT_CONFIG.eventSource,
    allowHttpTargets: bool(node, 'allowHttpTargets', DEFAULT_CONFIG.allowHttpTargets),
    allowPrivateTargets: bool(node, 'allowPrivateTargets', DEFAULT_CONFIG.allowPrivateTargets),
    retrySchedule: parseRetrySchedule(text(node, 'retrySchedule')),
    attemptTimeoutMs: positive(node, 'attemptTimeoutMs', DEFAULT_CONFIG.attemptTimeoutMs),
    deliveryLogLevel: logLevel(node),
    deliveryLogTtlDays: positive(node, 'deliveryLogTtlDays', DEFAULT_CONFIG.deliveryLogTtlDays),
    disableAfterDays: positive(node, 'disableAfterDays', DEFAULT_CONFIG.disableAfterDays),
    secretGraceHours: positive(node, 'secretGraceHours', DEFAULT_CONFIG.secretGraceHours),
    jwt: jwt(node),
    alarmEmail: pattern(node, 'alarmEmail', /^[^@\s]+@[^@\s]+\.[^@\s]+$/),
    tracing: bool(node, 'tracing', DEFAULT_CONFIG.tracing),
  };
}
