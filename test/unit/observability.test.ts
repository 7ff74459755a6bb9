import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { metrics, publishMetrics } from '../../functions/core/observability';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('publishMetrics', () => {
  it('writes nothing, not even a warning, for an invocation that stored no metric', () => {
    const publish = vi.spyOn(metrics, 'publishStoredMetrics');

    publishMetrics();

    expect(publish).not.toHaveBeenCalled();
  });

  it('flushes the stored metrics as one EMF line', () => {
    const publish = vi.spyOn(metrics, 'publishStoredMetrics').mockImplementation(() => metrics);
    metrics.addMetric('Probe', MetricUnit.Count, 1);

    publishMetrics();

    expect(publish).toHaveBeenCalledTimes(1);
    metrics.clearMetrics();
  });
});
