import { Session } from 'node:inspector/promises';

/**
 * A CPU profile of this process, summarised by who did the work: each sample goes to the
 * nearest frame on its stack that belongs to a known group (Node's own frames, like the HTTP
 * parser, count for whoever called them), so "emulators" includes their HTTP handling.
 */
export type CpuGroup = 'emulators' | 'stand-ins' | 'handlers' | 'aws-sdk' | 'bench' | 'gc' | 'other';

const EMULATOR_PACKAGES = [
  'dynalite',
  'fauxqs',
  'fastify',
  'find-my-way',
  'light-my-request',
  'avvio',
  'pino',
  'toad-cache',
  'valibot',
  'level',
  'memory-level',
  'abstract-level',
  'lazy',
  'big.js',
  'buffer-crc32',
  'async',
  'lock',
  'once',
  'functional-red-black-tree',
];

interface ProfileNode {
  id: number;
  callFrame: { url: string; functionName: string };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function groupOfUrl(url: string): CpuGroup | undefined {
  if (url === '' || url.startsWith('node:')) return undefined;
  const pkg = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/)?.[1];
  if (pkg) {
    if (EMULATOR_PACKAGES.includes(pkg) || pkg.startsWith('@fastify/')) return 'emulators';
    if (pkg.startsWith('@aws-sdk/') || pkg.startsWith('@smithy/') || pkg.startsWith('@aws-crypto/'))
      return 'aws-sdk';
    if (pkg.startsWith('@aws-lambda-powertools/') || pkg === 'zod' || pkg === 'ipaddr.js' || pkg === 'jose')
      return 'handlers';
    return 'other';
  }
  if (url.includes('/local/')) return 'stand-ins';
  if (url.includes('/functions/')) return 'handlers';
  if (url.includes('/bench/')) return 'bench';
  return 'other';
}

export function summarise(profile: Profile): Record<CpuGroup, number> {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const memo = new Map<number, CpuGroup | 'idle'>();
  const groupOf = (id: number): CpuGroup | 'idle' => {
    const cached = memo.get(id);
    if (cached) return cached;
    const node = byId.get(id);
    let group: CpuGroup | 'idle';
    const name = node?.callFrame.functionName ?? '';
    if (name === '(idle)' || name === '(program)') group = 'idle';
    else if (name === '(garbage collector)') group = 'gc';
    else {
      const own = node ? groupOfUrl(node.callFrame.url) : undefined;
      const up = parent.get(id);
      group = own ?? (up === undefined ? 'other' : groupOf(up));
      if (group === 'idle') group = 'other';
    }
    memo.set(id, group);
    return group;
  };
  const totals: Record<CpuGroup, number> = {
    emulators: 0,
    'stand-ins': 0,
    handlers: 0,
    'aws-sdk': 0,
    bench: 0,
    gc: 0,
    other: 0,
  };
  profile.samples.forEach((id, i) => {
    const group = groupOf(id);
    if (group !== 'idle') totals[group] += (profile.timeDeltas[i] ?? 0) / 1000;
  });
  return totals;
}

export async function startProfile(): Promise<() => Promise<Record<CpuGroup, number>>> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 1000 });
  await session.post('Profiler.start');
  return async () => {
    const { profile } = (await session.post('Profiler.stop')) as { profile: Profile };
    session.disconnect();
    return summarise(profile);
  };
}
