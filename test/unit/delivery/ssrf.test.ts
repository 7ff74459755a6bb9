import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { postWebhook } from '../../../functions/core/delivery/http-attempt';
import {
  checkTarget,
  pinnedLookup,
  type ResolvedAddress,
  type Resolver,
} from '../../../functions/core/delivery/target-guard';
import { judgeAddress } from '../../../functions/core/targets/address-policy';
import { IP_LITERAL_TARGETS, SCHEME_TARGETS } from '../../fixtures/ssrf-targets';
import { destroyAgents, freshAgents, Receiver } from './helpers';

const deployed = { allowHttp: false, allowPrivate: false };
const httpAllowed = { allowHttp: true, allowPrivate: false };
const request = { body: '{}', headers: { 'content-type': 'application/json' } };

/** Plays DNS: host name -> addresses; unknown names do not resolve. */
function fakeDns(table: Record<string, string[]>): Resolver {
  return async (hostname) => {
    const addresses = table[hostname];
    if (!addresses)
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address): ResolvedAddress => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
}

const dns = fakeDns({
  'localhost.': ['127.0.0.1'],
  'metadata.attacker.test': ['169.254.169.254'],
  'intranet.attacker.test': ['10.1.2.3'],
  'router.attacker.test': ['192.168.0.1'],
  'docker.attacker.test': ['172.17.0.1'],
  'cgnat.attacker.test': ['100.100.100.100'],
  'v6-loopback.attacker.test': ['::1'],
  'v6-mapped.attacker.test': ['::ffff:10.0.0.1'],
  'v6-ula.attacker.test': ['fd00:ec2::254'],
  'mixed.attacker.test': ['93.184.216.34', '10.0.0.5'],
  'mixed-v6.attacker.test': ['2606:2800:220:1:248:1893:25c8:1946', 'fe80::1'],
  'zero.attacker.test': ['0.0.0.0'],
  'empty.attacker.test': [],
  'example.com': ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'],
});

const BAD_TARGETS: string[] = [
  ...IP_LITERAL_TARGETS,
  // names that resolve to refused addresses
  'https://localhost./hook',
  'https://metadata.attacker.test/latest/meta-data/',
  'https://intranet.attacker.test/hook',
  'https://router.attacker.test/hook',
  'https://docker.attacker.test/hook',
  'https://cgnat.attacker.test/hook',
  'https://v6-loopback.attacker.test/hook',
  'https://v6-mapped.attacker.test/hook',
  'https://v6-ula.attacker.test/hook',
  'https://zero.attacker.test/hook',
  // one public and one private address: refused as a whole
  'https://mixed.attacker.test/hook',
  'https://mixed-v6.attacker.test/hook',
  // names that do not resolve to anything
  'https://empty.attacker.test/hook',
  'https://nxdomain.attacker.test/hook',
  ...SCHEME_TARGETS,
];

describe('SSRF guard: refused targets', () => {
  it('has a corpus of at least 30 bad targets', () => {
    expect(BAD_TARGETS.length).toBeGreaterThanOrEqual(30);
  });

  it.each(BAD_TARGETS)('refuses %s', async (target) => {
    const check = await checkTarget(target, deployed, { resolver: dns });

    expect(check.allowed).toBe(false);
    if (!check.allowed) expect(check.reason).not.toBe('');
  });

  it('names the refused address in the reason of a mixed answer', async () => {
    const check = await checkTarget('https://mixed.attacker.test/', deployed, { resolver: dns });

    expect(check).toEqual({ allowed: false, reason: expect.stringContaining('10.0.0.5') });
  });

  it('allows a public name, pinned to its first checked address, and a public literal', async () => {
    expect(await checkTarget('https://example.com/hook', deployed, { resolver: dns })).toMatchObject({
      allowed: true,
      hostname: 'example.com',
      address: '93.184.216.34',
      family: 4,
    });
    expect(await checkTarget('https://[2606:2800:220:1:248:1893:25c8:1946]/', deployed)).toMatchObject({
      allowed: true,
      address: '2606:2800:220:1:248:1893:25c8:1946',
      family: 6,
    });
  });

  it('allows http only where the deployment allows it', async () => {
    expect((await checkTarget('http://example.com/', deployed, { resolver: dns })).allowed).toBe(false);
    expect((await checkTarget('http://example.com/', httpAllowed, { resolver: dns })).allowed).toBe(true);
  });

  it('allows private targets only with allowPrivate (the local stack)', async () => {
    const local = { allowHttp: true, allowPrivate: true };
    expect((await checkTarget('http://127.0.0.1:8080/', local)).allowed).toBe(true);
    expect((await checkTarget('https://intranet.attacker.test/', local, { resolver: dns })).allowed).toBe(
      true,
    );
  });
});

describe('SSRF guard at delivery: no connection to a refused target', () => {
  const receiver = new Receiver();
  const agents = freshAgents();

  beforeAll(async () => {
    await receiver.listen('127.0.0.1');
  });

  afterAll(async () => {
    destroyAgents(agents);
    await receiver.close();
  });

  it.each([
    ['an IP literal', (port: number) => `http://127.0.0.1:${port}/hook`],
    ['localhost', (port: number) => `http://localhost:${port}/hook`],
    ['a name resolving to loopback', (port: number) => `http://loop.attacker.test:${port}/hook`],
    [
      'a name with a public and a loopback address',
      (port: number) => `http://mixed-loop.attacker.test:${port}/hook`,
    ],
  ])('refuses %s before connecting, as a failed attempt with the reason', async (_name, target) => {
    const resolver = fakeDns({
      localhost: ['127.0.0.1'],
      'loop.attacker.test': ['127.0.0.1'],
      'mixed-loop.attacker.test': ['93.184.216.34', '127.0.0.1'],
    });
    const before = receiver.requests.length;

    const result = await postWebhook(target(receiver.port), request, {
      timeoutMs: 2000,
      targets: httpAllowed,
      resolver,
      agents,
    });

    expect(result).toMatchObject({
      kind: 'error',
      refused: true,
      error: expect.stringMatching(/^target refused: /),
    });
    expect(receiver.requests.length).toBe(before);
  });

  it('checks the host again on every attempt', async () => {
    const resolver = vi.fn(fakeDns({ 'loop.attacker.test': ['127.0.0.1'] }));
    const target = `http://loop.attacker.test:${receiver.port}/hook`;

    await postWebhook(target, request, { timeoutMs: 2000, targets: httpAllowed, resolver, agents });
    await postWebhook(target, request, { timeoutMs: 2000, targets: httpAllowed, resolver, agents });

    expect(resolver).toHaveBeenCalledTimes(2);
  });
});

describe('SSRF guard: DNS rebinding', () => {
  // The checked DNS (the injected resolver) answers 127.0.0.2, which this test treats as
  // public; the system DNS, which an unpinned socket would ask at connect time, answers
  // 127.0.0.1 for `localhost`, where the "internal" service listens on the same port.
  const publicSide = new Receiver((_req, res) => res.writeHead(200).end('public'));
  const internal = new Receiver((_req, res) => res.writeHead(200).end('internal'));
  const agents = freshAgents();
  const judge = (address: string) =>
    address === '127.0.0.2' ? ({ allowed: true } as const) : judgeAddress(address, { allowPrivate: false });

  beforeAll(async () => {
    await publicSide.listen('127.0.0.2');
    await internal.listen('127.0.0.1', publicSide.port);
  });

  afterAll(async () => {
    destroyAgents(agents);
    await publicSide.close();
    await internal.close();
  });

  it('connects to the checked address, not to what DNS answers at connect time', async () => {
    const resolver = vi.fn(fakeDns({ localhost: ['127.0.0.2'] }));

    const result = await postWebhook(`http://localhost:${publicSide.port}/hook`, request, {
      timeoutMs: 2000,
      targets: httpAllowed,
      resolver,
      judge,
      agents,
    });

    expect(result).toMatchObject({ kind: 'response', statusCode: 200, body: 'public' });
    expect(publicSide.requests).toHaveLength(1);
    expect(publicSide.requests[0]?.headers.host).toBe(`localhost:${publicSide.port}`);
    expect(internal.requests).toHaveLength(0);
    expect(resolver).toHaveBeenCalledTimes(1);
  });

  it('refuses the next attempt when the name now resolves to a private address', async () => {
    let lookups = 0;
    const rebinding: Resolver = async () => {
      lookups++;
      return [{ address: lookups === 1 ? '127.0.0.2' : '127.0.0.1', family: 4 }];
    };
    const target = `http://localhost:${publicSide.port}/rebind`;
    const options = { timeoutMs: 2000, targets: httpAllowed, resolver: rebinding, judge, agents };

    const first = await postWebhook(target, request, options);
    const second = await postWebhook(target, request, options);

    expect(first).toMatchObject({ kind: 'response', statusCode: 200 });
    expect(second).toMatchObject({ kind: 'error', refused: true });
    expect(publicSide.requestsTo('/rebind')).toHaveLength(1);
    expect(internal.requests).toHaveLength(0);
  });

  it('pinnedLookup answers the checked address in both lookup forms', () => {
    const lookup = pinnedLookup('203.0.113.7', 4);
    const single = vi.fn();
    const all = vi.fn();

    lookup('anything.example', { family: 0 }, single);
    lookup('anything.example', { all: true }, all);

    expect(single).toHaveBeenCalledWith(null, '203.0.113.7', 4);
    expect(all).toHaveBeenCalledWith(null, [{ address: '203.0.113.7', family: 4 }]);
  });
});
