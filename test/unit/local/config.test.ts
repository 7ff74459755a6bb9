import { describe, expect, it } from 'vitest';
import { localConfig, parseLocalApiKeys } from '../../../local/config';

describe('local stack configuration', () => {
  it('has defaults that run with no environment', () => {
    const config = localConfig({});

    expect(config.ports).toEqual({ api: 3000, eventBridge: 4010, sqs: 4566, dynamoDb: 4567, receiver: 4000 });
    expect(config.eventSource).toBe('tiledesk');
    expect(config.apiKeys).toBeUndefined();
    expect(config.dataDir).toBeUndefined();
    expect(config.allowPrivateTargets).toBe(true);
    expect(config.allowHttpTargets).toBe(true);
  });

  it('reads ports (0 included), flags and the retry schedule', () => {
    const config = localConfig({
      API_PORT: '0',
      SQS_PORT: '9000',
      ALLOW_PRIVATE_TARGETS: 'false',
      ALLOW_HTTP_TARGETS: 'false',
      RETRY_SCHEDULE: '1,2',
      DATA_DIR: '/tmp/x',
    });

    expect(config.ports.api).toBe(0);
    expect(config.ports.sqs).toBe(9000);
    expect(config.allowPrivateTargets).toBe(false);
    expect(config.allowHttpTargets).toBe(false);
    expect(config.retrySchedule).toBe('1,2');
    expect(config.dataDir).toBe('/tmp/x');
  });

  it('refuses a bad port, flag or schedule at start', () => {
    expect(() => localConfig({ API_PORT: '70000' })).toThrow('API_PORT');
    expect(() => localConfig({ ALLOW_HTTP_TARGETS: 'yes' })).toThrow('ALLOW_HTTP_TARGETS');
    expect(() => localConfig({ RETRY_SCHEDULE: '1,x' })).toThrow('RETRY_SCHEDULE');
  });

  it('parses LOCAL_API_KEYS triples', () => {
    expect(parseLocalApiKeys('a:k1:s1, b:k2:s2')).toEqual([
      { projectId: 'a', keyId: 'k1', secret: 's1' },
      { projectId: 'b', keyId: 'k2', secret: 's2' },
    ]);
    expect(parseLocalApiKeys('')).toBeUndefined();
    expect(() => parseLocalApiKeys('a:k1')).toThrow('LOCAL_API_KEYS');
  });
});
