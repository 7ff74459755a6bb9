import { parseRetrySchedule } from '../functions/core/config/retry-schedule';
import { booleanFromEnv, DEFAULTS } from '../functions/core/config/settings';

/**
 * The local stack's configuration, read from the environment in one place. Every
 * value has a default that makes `npm start` work with no setup.
 */
type Env = Record<string, string | undefined>;

export const LOCAL_ENV = {
  apiPort: 'API_PORT',
  eventBridgePort: 'EVENTBRIDGE_PORT',
  sqsPort: 'SQS_PORT',
  dynamoDbPort: 'DYNAMODB_PORT',
  receiverPort: 'RECEIVER_PORT',
  eventBusName: 'EVENT_BUS_NAME',
  eventSource: 'EVENT_SOURCE',
  apiKeys: 'LOCAL_API_KEYS',
  retrySchedule: 'RETRY_SCHEDULE',
  dataDir: 'DATA_DIR',
  allowPrivateTargets: 'ALLOW_PRIVATE_TARGETS',
  allowHttpTargets: 'ALLOW_HTTP_TARGETS',
  region: 'AWS_REGION',
} as const;

export const LOCAL_DEFAULTS = {
  apiPort: 3000,
  eventBridgePort: 4010,
  sqsPort: 4566,
  dynamoDbPort: 4567,
  receiverPort: 4000,
  eventBusName: 'tiledesk-webhooks-local',
  eventSource: DEFAULTS.eventSource,
  /** Fast enough to watch retries, slow enough to read the log between them. */
  retrySchedule: '5,10,30',
  region: 'us-east-1',
  /** The project of the key generated when LOCAL_API_KEYS is unset. */
  demoProject: 'demo',
  /** The account id every local ARN carries (the one fauxqs uses). */
  accountId: '000000000000',
} as const;

export interface LocalApiKey {
  projectId: string;
  keyId: string;
  secret: string;
}

export interface LocalPorts {
  api: number;
  eventBridge: number;
  sqs: number;
  dynamoDb: number;
  /** The sample webhook receiver `npm start` runs; 0 picks a free port. */
  receiver: number;
}

export interface LocalConfig {
  ports: LocalPorts;
  eventBusName: string;
  eventSource: string;
  /** Keys to create at start; undefined: generate one for the demo project. */
  apiKeys: LocalApiKey[] | undefined;
  /** RETRY_SCHEDULE as the functions read it (validated here, so a typo fails at start). */
  retrySchedule: string;
  dataDir: string | undefined;
  allowPrivateTargets: boolean;
  allowHttpTargets: boolean;
  region: string;
}

function port(env: Env, name: string, fallback: number): number {
  const value = env[name];
  if (value === undefined || value.trim() === '') return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65535) {
    throw new Error(`${name} must be a port number between 0 and 65535, got "${value}"`);
  }
  return parsed;
}

const KEY_PART = /^[A-Za-z0-9_-]{1,128}$/;

/** `projectId:keyId:secret` triples, comma-separated. */
export function parseLocalApiKeys(value: string | undefined): LocalApiKey[] | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  return value.split(',').map((triple) => {
    const parts = triple.trim().split(':');
    const [projectId, keyId, secret] = parts;
    if (parts.length !== 3 || !projectId || !keyId || !secret || !parts.every((p) => KEY_PART.test(p))) {
      throw new Error(
        `${LOCAL_ENV.apiKeys} must be comma-separated projectId:keyId:secret triples of [A-Za-z0-9_-], got "${triple}"`,
      );
    }
    return { projectId, keyId, secret };
  });
}

export function localConfig(env: Env = process.env): LocalConfig {
  const retrySchedule = env[LOCAL_ENV.retrySchedule]?.trim() || LOCAL_DEFAULTS.retrySchedule;
  parseRetrySchedule(retrySchedule);
  return {
    ports: {
      api: port(env, LOCAL_ENV.apiPort, LOCAL_DEFAULTS.apiPort),
      eventBridge: port(env, LOCAL_ENV.eventBridgePort, LOCAL_DEFAULTS.eventBridgePort),
      sqs: port(env, LOCAL_ENV.sqsPort, LOCAL_DEFAULTS.sqsPort),
      dynamoDb: port(env, LOCAL_ENV.dynamoDbPort, LOCAL_DEFAULTS.dynamoDbPort),
      receiver: port(env, LOCAL_ENV.receiverPort, LOCAL_DEFAULTS.receiverPort),
    },
    eventBusName: env[LOCAL_ENV.eventBusName] || LOCAL_DEFAULTS.eventBusName,
    eventSource: env[LOCAL_ENV.eventSource] || LOCAL_DEFAULTS.eventSource,
    apiKeys: parseLocalApiKeys(env[LOCAL_ENV.apiKeys]),
    retrySchedule,
    dataDir: env[LOCAL_ENV.dataDir] || undefined,
    allowPrivateTargets: booleanFromEnv(env, LOCAL_ENV.allowPrivateTargets, true),
    allowHttpTargets: booleanFromEnv(env, LOCAL_ENV.allowHttpTargets, true),
    region: env[LOCAL_ENV.region] || LOCAL_DEFAULTS.region,
  };
}
