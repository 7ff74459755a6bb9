import { execFile } from 'node:child_process';
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { type BuildOptions, build } from 'esbuild';
import { ROUTES } from '../functions/api/routes';
import { WEBHOOK_BUNDLING } from '../lib/webhook-function';
import { REPO_ROOT } from './child';
import { median, percentile, round } from './stats';

/**
 * Cold start: every function bundled exactly as lib/webhook-function.ts bundles it
 * (WEBHOOK_ESBUILD_OPTIONS is read from WEBHOOK_BUNDLING), its minified size, and the time a fresh
 * `node` takes to import it, beside a floor: a handler that only creates the same AWS clients,
 * bundled the same way. The runtime's NODE_OPTIONS (--enable-source-maps) is applied, as the
 * stack sets it.
 */
export interface ColdStartBenchOptions {
  /** Fresh processes per bundle; the median import time is reported. */
  runs: number;
  /** Only these entries (smoke); every function when absent. */
  entries?: string[];
}

export const COLD_START_BENCH_SIZES: Record<'full' | 'smoke', ColdStartBenchOptions> = {
  // 15 runs: on a shared 2-core machine single imports of the same bundle vary 2x; 7 were not enough.
  full: { runs: 15 },
  smoke: { runs: 1, entries: ['functions/delivery.ts'] },
};

export interface ColdStartEntryResult {
  entry: string;
  bundleBytes: number;
  floorBundleBytes: number;
  /** The AWS SDK clients the bundle contains (the floor creates the same). */
  clients: string[];
  importMs: number;
  floorImportMs: number;
  ratio: number;
  /** p10 and p90 of the per-run ratios (each run's import over the floor's import next to it): the noise. */
  ratioSpread: [number, number];
  /** Import time without --enable-source-maps (what the flag costs). */
  importMsWithoutSourceMaps: number;
}

export interface ColdStartBenchResult {
  nodeVersion: string;
  runs: number;
  entries: ColdStartEntryResult[];
}

/**
 * The esbuild options NodejsFunction derives from lib/webhook-function.ts's WEBHOOK_BUNDLING,
 * read from it so the benchmark bundles exactly what the stack deploys.
 */
export const WEBHOOK_ESBUILD_OPTIONS: BuildOptions = {
  bundle: true,
  platform: 'node',
  target: WEBHOOK_BUNDLING.target,
  format: WEBHOOK_BUNDLING.format === OutputFormat.ESM ? 'esm' : 'cjs',
  mainFields: WEBHOOK_BUNDLING.mainFields,
  minify: WEBHOOK_BUNDLING.minify,
  sourcemap: WEBHOOK_BUNDLING.sourceMap,
  sourcesContent: WEBHOOK_BUNDLING.sourcesContent,
  external: WEBHOOK_BUNDLING.externalModules,
  ...(WEBHOOK_BUNDLING.banner ? { banner: { js: WEBHOOK_BUNDLING.banner } } : {}),
  logLevel: 'warning',
};

/** Client packages and how their handlers create them (module scope, no options). */
const CLIENTS: Record<string, { import: string; create: string }> = {
  '@aws-sdk/client-dynamodb': {
    import: "import { DynamoDBClient } from '@aws-sdk/client-dynamodb';",
    create: 'new DynamoDBClient({})',
  },
  '@aws-sdk/lib-dynamodb': {
    import: "import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';",
    create: 'DynamoDBDocumentClient.from(new DynamoDBClient({}))',
  },
  '@aws-sdk/client-sqs': {
    import: "import { SQSClient } from '@aws-sdk/client-sqs';",
    create: 'new SQSClient({})',
  },
  '@aws-sdk/client-eventbridge': {
    import: "import { EventBridgeClient } from '@aws-sdk/client-eventbridge';",
    create: 'new EventBridgeClient({})',
  },
  '@aws-sdk/client-secrets-manager': {
    import: "import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';",
    create: 'new SecretsManagerClient({})',
  },
  '@aws-sdk/client-s3': {
    import: "import { S3Client } from '@aws-sdk/client-s3';",
    create: 'new S3Client({})',
  },
};

export function functionEntries(): string[] {
  return [
    'functions/authorizer.ts',
    'functions/fan-out.ts',
    'functions/delivery.ts',
    ...ROUTES.map((r) => r.entry),
  ];
}

function clientsIn(inputs: Record<string, unknown>): string[] {
  const found = new Set<string>();
  for (const path of Object.keys(inputs)) {
    for (const name of Object.keys(CLIENTS)) if (path.includes(`node_modules/${name}/`)) found.add(name);
  }
  // The document client needs the low-level one.
  if (found.has('@aws-sdk/lib-dynamodb')) found.add('@aws-sdk/client-dynamodb');
  return [...found].sort();
}

function floorSource(clients: readonly string[]): string {
  const lines = clients.map((name) => CLIENTS[name]?.import ?? '');
  const creates = clients
    .filter((name) => !(name === '@aws-sdk/client-dynamodb' && clients.includes('@aws-sdk/lib-dynamodb')))
    .map((name, i) => `export const client${i} = ${CLIENTS[name]?.create};`);
  return [...lines, ...creates, 'export async function handler() { return {}; }', ''].join('\n');
}

const LOADER = `
const start = process.hrtime.bigint();
await import(process.argv[2]);
const ms = Number(process.hrtime.bigint() - start) / 1e6;
process.stdout.write(JSON.stringify({ ms }));
`;

const run = promisify(execFile);

async function importMs(loader: string, bundle: string, sourceMaps: boolean): Promise<number> {
  const { stdout } = await run(
    process.execPath,
    [...(sourceMaps ? ['--enable-source-maps'] : []), loader, bundle],
    {
      // The runtime's environment: a region, no endpoint overrides; the handler reads its settings lazily.
      env: { PATH: process.env.PATH ?? '', AWS_REGION: 'us-east-1', AWS_LAMBDA_FUNCTION_NAME: 'bench' },
      cwd: tmpdir(),
    },
  );
  return (JSON.parse(stdout) as { ms: number }).ms;
}

export async function runColdStartBench(options: ColdStartBenchOptions): Promise<ColdStartBenchResult> {
  const outRoot = join(tmpdir(), `webhooks-bench-bundles-${process.pid}`);
  await mkdir(outRoot, { recursive: true });
  const loader = join(outRoot, 'loader.mjs');
  await writeFile(loader, LOADER);
  const results: ColdStartEntryResult[] = [];
  try {
    for (const entry of options.entries ?? functionEntries()) {
      const name = entry
        .replace(/^functions\//, '')
        .replace(/\.ts$/, '')
        .replace(/\//g, '-');
      const outfile = join(outRoot, name, 'index.mjs');
      const built = await build({
        ...WEBHOOK_ESBUILD_OPTIONS,
        entryPoints: [resolve(REPO_ROOT, entry)],
        outfile,
        absWorkingDir: REPO_ROOT,
        metafile: true,
      });
      const clients = clientsIn(built.metafile.inputs);
      const floorFile = join(outRoot, `${name}-floor`, 'index.mjs');
      await build({
        ...WEBHOOK_ESBUILD_OPTIONS,
        stdin: {
          contents: floorSource(clients),
          resolveDir: REPO_ROOT,
          sourcefile: `${name}-floor.ts`,
          loader: 'ts',
        },
        outfile: floorFile,
        absWorkingDir: REPO_ROOT,
      });
      const ours: number[] = [];
      const floor: number[] = [];
      const bare: number[] = [];
      // Interleaved, and alternating which goes first, so a noisy moment hits both.
      for (let i = 0; i < options.runs; i++) {
        if (i % 2 === 0) {
          ours.push(await importMs(loader, outfile, true));
          floor.push(await importMs(loader, floorFile, true));
        } else {
          floor.push(await importMs(loader, floorFile, true));
          ours.push(await importMs(loader, outfile, true));
        }
        bare.push(await importMs(loader, outfile, false));
      }
      const perRun = ours.map((ms, i) => ms / (floor[i] ?? ms));
      const importMedian = median(ours);
      const floorMedian = median(floor);
      results.push({
        entry,
        bundleBytes: (await stat(outfile)).size,
        floorBundleBytes: (await stat(floorFile)).size,
        clients,
        importMs: round(importMedian, 1),
        floorImportMs: round(floorMedian, 1),
        ratio: round(importMedian / floorMedian, 2),
        ratioSpread: [round(percentile(perRun, 10), 2), round(percentile(perRun, 90), 2)],
        importMsWithoutSourceMaps: round(median(bare), 1),
      });
    }
  } finally {
    await rm(outRoot, { recursive: true, force: true });
  }
  return { nodeVersion: process.version, runs: options.runs, entries: results };
}
