import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError, jsonResponse } from '../../../functions/core/http';
import { API_ERROR_DIMENSION, httpHandler } from '../../../functions/core/http/handler';
import { logger, METRIC, METRICS_NAMESPACE, SERVICE_NAME } from '../../../functions/core/observability';
import { captureOutput } from '../delivery/helpers';
import { proxyEvent } from './events';

type Output = ReturnType<typeof captureOutput>;

function emfLines(output: Output): Record<string, unknown>[] {
  return output
    .lines()
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function logLine(output: Output, message: string): Record<string, unknown> {
  const line = output.lines().find((l) => l.includes(`"message":"${message}"`));
  if (!line) throw new Error(`no log line "${message}"`);
  return JSON.parse(line) as Record<string, unknown>;
}

const pathParameters = { projectId: 'p1', subscriptionId: 'sub_1' };

describe('httpHandler observability', () => {
  let output: Output;

  beforeEach(() => {
    output = captureOutput();
  });

  afterEach(() => {
    output.restore();
  });

  it('counts a client error as ApiErrors with statusClass 4xx, in the service namespace', async () => {
    const handler = httpHandler(async () => {
      throw new ApiError(404, 'gone', [{ field: 'subscriptionId', message: 'gone' }]);
    });

    await handler(proxyEvent({ pathParameters }));

    const [emf, ...more] = emfLines(output);
    expect(more).toEqual([]);
    expect(emf).toMatchObject({ [METRIC.apiErrors]: 1, [API_ERROR_DIMENSION]: '4xx', service: SERVICE_NAME });
    const aws = (emf?._aws ?? {}) as { CloudWatchMetrics?: Array<Record<string, unknown>> };
    const directive = aws.CloudWatchMetrics?.[0];
    expect(directive).toMatchObject({
      Namespace: METRICS_NAMESPACE,
      Dimensions: [expect.arrayContaining(['service', API_ERROR_DIMENSION])],
      Metrics: [{ Name: METRIC.apiErrors, Unit: 'Count' }],
    });
  });

  it('counts an unexpected error (the generic 500) with statusClass 5xx', async () => {
    const handler = httpHandler(async () => {
      throw new Error('DynamoDB exploded');
    });

    const response = await handler(proxyEvent({ pathParameters }));

    expect(response.statusCode).toBe(500);
    expect(emfLines(output)).toEqual([
      expect.objectContaining({ [METRIC.apiErrors]: 1, [API_ERROR_DIMENSION]: '5xx' }),
    ]);
  });

  it('publishes no metric for a success answer', async () => {
    const handler = httpHandler(async () => jsonResponse(200, { ok: true }));

    await handler(proxyEvent({ pathParameters }));

    expect(emfLines(output)).toEqual([]);
  });

  it("logs with the request's projectId, subscriptionId and request id, and drops them afterwards", async () => {
    const handler = httpHandler(async () => {
      logger.info('inside the request');
      return jsonResponse(200, {});
    });

    await handler(proxyEvent({ pathParameters }));
    logger.info('after the request');

    expect(logLine(output, 'inside the request')).toMatchObject({
      projectId: 'p1',
      subscriptionId: 'sub_1',
      requestId: 'req-1',
    });
    const after = logLine(output, 'after the request');
    expect(after).not.toHaveProperty('projectId');
    expect(after).not.toHaveProperty('subscriptionId');
  });
});
