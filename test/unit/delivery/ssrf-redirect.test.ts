import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postWebhook } from '../../../functions/core/delivery/http-attempt';
import { judgeAddress } from '../../../functions/core/targets/address-policy';
import { destroyAgents, freshAgents, Receiver } from './helpers';

/**
 * Redirects toward private addresses at delivery time: a receiver that looks public
 * (127.0.0.2, which this test's judge treats as public) answers 30x pointing at the
 * metadata service or at an "internal" service on 127.0.0.1. The redirect is an answer
 * like any other non-2xx: recorded, retried on schedule, never followed.
 */
const httpAllowed = { allowHttp: true, allowPrivate: false };
const request = { body: '{}', headers: { 'content-type': 'application/json' } };

describe('SSRF guard: redirects toward private addresses are not followed', () => {
  const internal = new Receiver((_req, res) => res.writeHead(200).end('internal secrets'));
  let publicSide: Receiver;
  const agents = freshAgents();
  const judge = (address: string) =>
    address === '127.0.0.2' ? ({ allowed: true } as const) : judgeAddress(address, { allowPrivate: false });

  beforeAll(async () => {
    await internal.listen('127.0.0.1');
    const internalUrl = `http://127.0.0.1:${internal.port}/admin`;
    publicSide = new Receiver()
      .on('/metadata', (_req, res) =>
        res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end(),
      )
      .on('/internal', (_req, res) => res.writeHead(307, { location: internalUrl }).end())
      .on('/relative', (_req, res) => res.writeHead(301, { location: '/elsewhere' }).end())
      .on('/v6', (_req, res) => res.writeHead(308, { location: 'http://[::ffff:169.254.169.254]/' }).end());
    await publicSide.listen('127.0.0.2');
  });

  afterAll(async () => {
    destroyAgents(agents);
    await publicSide.close();
    await internal.close();
  });

  it.each([
    ['/metadata', 302],
    ['/internal', 307],
    ['/relative', 301],
    ['/v6', 308],
  ])('%s: the %i is the outcome, and nothing else is requested', async (path, status) => {
    const result = await postWebhook(`http://127.0.0.2:${publicSide.port}${path}`, request, {
      timeoutMs: 1000,
      targets: httpAllowed,
      judge,
      agents,
    });

    expect(result).toMatchObject({ kind: 'response', statusCode: status });
    expect(publicSide.requests.filter((r) => r.path === path)).toHaveLength(1);
    expect(publicSide.requests.some((r) => r.path === '/elsewhere')).toBe(false);
    expect(internal.requests).toHaveLength(0);
  });
});
