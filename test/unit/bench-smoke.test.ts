import { describe, expect, it } from 'vitest';
import { type BenchResults, formatTable, runBench } from '../../bench/suite';

/**
 * `npm run bench -- --smoke`: every benchmark at tiny sizes, so the benchmark keeps working.
 * It asserts what the benchmark reports and the exact AWS call counts, never a timing.
 */
describe('the benchmark (smoke sizes)', () => {
  let results: BenchResults;

  it('runs every section and reports its figures', async () => {
    results = await runBench('smoke');

    expect(results.delivery).toMatchObject({
      batchSize: 10,
      failed: 0,
      delivered: results.delivery.deliveriesPerRun * results.delivery.rounds,
    });
    expect(results.delivery.oursDeliveriesPerSecond).toBeGreaterThan(0);
    expect(results.delivery.baselineDeliveriesPerSecond).toBeGreaterThan(0);
    expect(results.delivery.ratio).toBeGreaterThan(0);
    // Warm-up and measured runs of both paths: every POST reached the receiver.
    expect(results.delivery.receiverRequests).toBe(
      2 * results.delivery.deliveriesPerRun * results.delivery.rounds,
    );

    expect(results.endToEnd.delivered).toBe(results.endToEnd.expectedDeliveries);
    expect(results.endToEnd.p99Ms).toBeGreaterThanOrEqual(results.endToEnd.p50Ms);
    expect(Object.values(results.endToEnd.cpuShares).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 1);

    const [delivery] = results.coldStart.entries;
    expect(delivery?.entry).toBe('functions/delivery.ts');
    expect(delivery?.bundleBytes).toBeGreaterThan(delivery?.floorBundleBytes ?? 0);
    expect(delivery?.clients).toEqual(
      expect.arrayContaining(['@aws-sdk/client-dynamodb', '@aws-sdk/client-sqs']),
    );
    expect(delivery?.importMs).toBeGreaterThan(0);

    const table = formatTable(results);
    for (const figure of ['delivery, deliveries/s', 'fan-out N=25', 'end to end', 'cold start delivery.ts']) {
      expect(table).toContain(figure);
    }
  });

  it('a successful delivery costs one AWS write (the log item) and no read or SQS call', () => {
    expect(results.delivery.writesPerDelivery).toBeLessThanOrEqual(1);
    expect(results.delivery.readsPerDelivery).toBe(0);
    expect(results.delivery.sqsCallsPerDelivery).toBe(0);
  });

  it('fan-out makes exactly the minimum AWS calls: one Query page per pattern, ceil(N/10) batches', () => {
    for (const size of results.fanOut.sizes) {
      expect(size.enqueued).toBe(size.subscriptions);
      expect(size.queryPages).toBe(size.minQueryPages);
      expect(size.sendBatchCalls).toBe(size.minSendBatchCalls);
      expect(size.awsCalls).toEqual({ Query: size.minQueryPages, SendMessageBatch: size.minSendBatchCalls });
    }
    expect(results.fanOut.sizes.map((size) => size.minSendBatchCalls)).toEqual([1, 3]);
  });
});
