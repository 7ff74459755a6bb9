import { App, Stack } from 'aws-cdk-lib';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_SCHEDULE_SECONDS } from '../../functions/core/config/retry-schedule';
import { configFromContext, DEFAULT_CONFIG, type WebhookConfig } from '../../lib/context';
import { Delivery } from '../../lib/delivery';
import { oldestMessageAgeThresholdSeconds } from '../../lib/monitoring';
import { Storage } from '../../lib/storage';
import { secretResourceArns } from '../../lib/subscription-api';

const config = (context: Record<string, unknown>) => configFromContext(new App({ context }).node);

describe('configFromContext', () => {
  it('defaults every value to a safe deployment', () => {
    expect(config({})).toEqual(DEFAULT_CONFIG);
    expect(DEFAULT_CONFIG).toMatchObject({
      stage: 'dev',
      eventBusName: 'tiledesk-webhooks',
      eventSource: 'tiledesk',
      allowHttpTargets: false,
      allowPrivateTargets: false,
      retrySchedule: [...DEFAULT_RETRY_SCHEDULE_SECONDS],
      attemptTimeoutMs: 10_000,
      deliveryLogLevel: 'all',
      deliveryLogTtlDays: 30,
      disableAfterDays: 5,
      jwt: undefined,
      alarmEmail: undefined,
      tracing: false,
    });
  });

  it('reads strings from the command line and JSON values from cdk.json alike', () => {
    const fromCli = config({ allowHttpTargets: 'true', retrySchedule: '1,2,3', attemptTimeoutMs: '2500' });
    const fromJson = config({ allowHttpTargets: true, retrySchedule: [1, 2, 3], attemptTimeoutMs: 2500 });
    expect(fromCli).toEqual(fromJson);
    expect(fromCli).toMatchObject({
      allowHttpTargets: true,
      retrySchedule: [1, 2, 3],
      attemptTimeoutMs: 2500,
    });
  });

  it('configures JWT auth only when it is complete', () => {
    expect(
      config({
        jwtIssuer: 'https://issuer/',
        jwtAudience: 'aud',
        jwtJwksUrl: 'https://issuer/.well-known/jwks.json',
      }).jwt,
    ).toEqual({
      issuer: 'https://issuer/',
      audience: 'aud',
      jwksUrl: 'https://issuer/.well-known/jwks.json',
      secretArn: undefined,
      projectClaim: 'id_project',
    });
    expect(() => config({ jwtIssuer: 'https://issuer/' })).toThrow(/jwtAudience/);
    expect(() => config({ jwtIssuer: 'https://issuer/', jwtAudience: 'aud' })).toThrow(
      /jwtJwksUrl or jwtSecretArn/,
    );
  });

  it.each([
    ['allowHttpTargets', 'yes'],
    ['tracing', '1'],
    ['retrySchedule', '5,abc'],
    ['retrySchedule', '50000'],
    ['attemptTimeoutMs', '-1'],
    ['deliveryLogLevel', 'verbose'],
    ['deliveryLogTtlDays', '0'],
    ['stage', 'Prod Stage'],
    ['eventBusName', 'bad/name'],
    ['jwtJwksUrl', 'http://insecure/jwks'],
    ['jwtSecretArn', 'my-secret'],
    ['alarmEmail', 'not-an-address'],
  ])('refuses %s=%s', (name, value) => {
    expect(() => config({ [name]: value })).toThrow();
  });
});

describe('Delivery timing checks', () => {
  const build = (overrides: Partial<WebhookConfig>) => {
    const stack = new Stack(new App());
    const { table } = new Storage(stack, 'Storage');
    const eventBus = new EventBus(stack, 'Bus');
    return () =>
      new Delivery(stack, 'Delivery', { table, eventBus, config: { ...DEFAULT_CONFIG, ...overrides } });
  };

  it('refuses an attempt timeout that does not fit in the delivery function timeout', () => {
    expect(build({ attemptTimeoutMs: 60_000 })).toThrow(/attemptTimeoutMs/);
  });

  it('refuses a schedule whose retries outlive the queue retention', () => {
    expect(build({ retrySchedule: Array(10).fill(43_200) })).toThrow(/retention/);
  });
});

describe('helpers', () => {
  it('grants the secret ARN as given and with the -?????? suffix pattern of a partial ARN', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:webhooks/jwt';
    expect(secretResourceArns(arn)).toEqual([arn, `${arn}-??????`]);
  });

  it('sets the oldest-message alarm above the wait before a third attempt', () => {
    expect(oldestMessageAgeThresholdSeconds(DEFAULT_RETRY_SCHEDULE_SECONDS)).toBe(Math.ceil(305 * 1.2) + 900);
    expect(oldestMessageAgeThresholdSeconds([5])).toBe(906);
  });
});
