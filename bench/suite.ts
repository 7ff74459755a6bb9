import { COLD_START_BENCH_SIZES, type ColdStartBenchResult } from './cold-start';
import { DELIVERY_BENCH_SIZES, type DeliveryBenchResult } from './delivery';
import { END_TO_END_BENCH_SIZES, type EndToEndBenchResult } from './e2e';
import { FAN_OUT_BENCH_SIZES, type FanOutBenchResult } from './fanout';
import { runSection } from './sections';

/** Every benchmark, each in its own process, and the table `npm run bench` prints. */
export type BenchSize = 'full' | 'smoke';

export interface BenchResults {
  size: BenchSize;
  startedAt: string;
  node: string;
  cpus: number;
  seconds: number;
  delivery: DeliveryBenchResult;
  fanOut: FanOutBenchResult;
  endToEnd: EndToEndBenchResult;
  coldStart: ColdStartBenchResult;
}

export const TARGETS = {
  deliveryRatio: 0.8,
  writesPerDelivery: 1,
  coldStartRatio: 1.5,
} as const;

export async function runBench(size: BenchSize, progress: (line: string) => void = () => undefined) {
  const started = performance.now();
  const startedAt = new Date().toISOString();
  progress('delivery overhead ...');
  const delivery = await runSection<DeliveryBenchResult>('delivery', DELIVERY_BENCH_SIZES[size]);
  progress('fan-out cost ...');
  const fanOut = await runSection<FanOutBenchResult>('fanout', FAN_OUT_BENCH_SIZES[size]);
  progress('end to end through the local stack ...');
  const endToEnd = await runSection<EndToEndBenchResult>('e2e', END_TO_END_BENCH_SIZES[size]);
  progress('cold start ...');
  const coldStart = await runSection<ColdStartBenchResult>('cold-start', COLD_START_BENCH_SIZES[size]);
  const results: BenchResults = {
    size,
    startedAt,
    node: process.version,
    cpus: (await import('node:os')).availableParallelism(),
    seconds: Math.round((performance.now() - started) / 100) / 10,
    delivery,
    fanOut,
    endToEnd,
    coldStart,
  };
  return results;
}

const verdict = (holds: boolean) => (holds ? 'yes' : 'NO');

/** A Markdown table: figure, ours, the reference it is compared with, the ratio, the target. */
export function formatTable(results: BenchResults): string {
  const rows: string[][] = [['figure', 'ours', 'reference', 'ratio', 'target', 'holds']];
  const d = results.delivery;
  rows.push([
    `delivery, deliveries/s (batches of ${d.batchSize}, ${d.concurrentBatches} in flight)`,
    String(d.oursDeliveriesPerSecond),
    `${d.baselineDeliveriesPerSecond} plain keep-alive POSTs`,
    d.ratio.toFixed(2),
    `>= ${TARGETS.deliveryRatio}`,
    verdict(d.ratio >= TARGETS.deliveryRatio),
  ]);
  rows.push([
    'delivery, CPU ms per delivery',
    d.oursCpuMsPerDelivery.toFixed(3),
    `${d.baselineCpuMsPerDelivery.toFixed(3)} plain POST`,
    (d.oursCpuMsPerDelivery / d.baselineCpuMsPerDelivery).toFixed(1),
    '',
    '',
  ]);
  rows.push([
    'delivery, AWS calls per successful delivery',
    `${d.awsCallsPerDelivery} (writes ${d.writesPerDelivery}, reads ${d.readsPerDelivery}, SQS ${d.sqsCallsPerDelivery})`,
    Object.entries(d.awsCalls)
      .map(([op, n]) => `${op} ${n}`)
      .join(', '),
    '',
    `writes <= ${TARGETS.writesPerDelivery}`,
    verdict(d.writesPerDelivery <= TARGETS.writesPerDelivery && d.failed === 0),
  ]);
  for (const s of results.fanOut.sizes) {
    rows.push([
      `fan-out N=${s.subscriptions}: Query pages / SendMessageBatch calls`,
      `${s.queryPages} / ${s.sendBatchCalls}`,
      `minimum ${s.minQueryPages} / ${s.minSendBatchCalls}`,
      '',
      'equal',
      verdict(s.queryPages === s.minQueryPages && s.sendBatchCalls === s.minSendBatchCalls),
    ]);
    rows.push([
      `fan-out N=${s.subscriptions}: CPU ms per 1000 subscriptions`,
      String(s.cpuMsPer1000Subscriptions),
      `${s.cpuMsPerEvent} ms per event, ${s.wallMsPerEvent} ms wall`,
      '',
      '',
      '',
    ]);
  }
  const e = results.endToEnd;
  const shares = Object.entries(e.cpuShares)
    .map(([group, share]) => `${group} ${(share * 100).toFixed(0)}%`)
    .join(', ');
  rows.push([
    `end to end, ${e.events} events x ${e.subscriptions} subscriptions: deliveries/s`,
    String(e.deliveriesPerSecond),
    `${e.delivered}/${e.expectedDeliveries} delivered in ${e.seconds} s, process CPU ${e.processCpuUtilisation}`,
    '',
    '',
    '',
  ]);
  rows.push([
    'end to end: latency put -> receiver p50 / p99 (ms)',
    `${e.p50Ms} / ${e.p99Ms}`,
    `CPU: ${shares}`,
    '',
    '',
    '',
  ]);
  for (const c of results.coldStart.entries) {
    const watched = c.entry === 'functions/delivery.ts' || c.entry === 'functions/fan-out.ts';
    rows.push([
      `cold start ${c.entry.replace(/^functions\//, '')}: import ms (bundle KB)`,
      `${c.importMs} (${Math.round(c.bundleBytes / 1024)})`,
      `floor ${c.floorImportMs} (${Math.round(c.floorBundleBytes / 1024)}); per-run ratio p10-p90 ${c.ratioSpread[0].toFixed(2)}-${c.ratioSpread[1].toFixed(2)}`,
      c.ratio.toFixed(2),
      watched ? `<= ${TARGETS.coldStartRatio}` : '',
      watched ? verdict(c.ratio <= TARGETS.coldStartRatio) : '',
    ]);
  }
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  const line = (row: string[]) => `| ${row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  const [header, ...body] = rows;
  return [
    line(header ?? []),
    `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`,
    ...body.map(line),
    '',
    `${results.size} run, ${results.node}, ${results.cpus} CPUs, ${results.seconds} s, ${results.startedAt}`,
  ].join('\n');
}
