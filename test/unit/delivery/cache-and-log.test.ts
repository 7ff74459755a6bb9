import { describe, expect, it, vi } from 'vitest';
import { SubscriptionCache } from '../../../functions/core/delivery/subscription-cache';
import {
  deliveryAttemptItem,
  maskTargetCredentials,
  shouldLog,
} from '../../../functions/core/delivery-log/writer';
import { subscription } from './helpers';

describe('SubscriptionCache', () => {
  it('serves a cached subscription until the TTL passes, then loads again', async () => {
    let now = 1000;
    const cache = new SubscriptionCache({ ttlMs: 30_000, now: () => now });
    const load = vi.fn(async () => subscription());

    await cache.get('proj_1', 'sub_1', load);
    now += 29_999;
    await cache.get('proj_1', 'sub_1', load);
    now += 1;
    await cache.get('proj_1', 'sub_1', load);

    expect(load).toHaveBeenCalledTimes(2);
  });

  it('shares one load between concurrent reads, and caches an absent subscription too', async () => {
    const cache = new SubscriptionCache({ ttlMs: 30_000 });
    const load = vi.fn(async () => undefined);

    const results = await Promise.all([1, 2, 3].map(() => cache.get('proj_1', 'gone', load)));

    expect(results).toEqual([undefined, undefined, undefined]);
    expect(load).toHaveBeenCalledTimes(1);
  });

  it('does not keep a failed load', async () => {
    const cache = new SubscriptionCache({ ttlMs: 30_000 });
    const failing = vi.fn(() => Promise.reject(new Error('throttled')));
    const load = vi.fn(async () => subscription());

    await expect(cache.get('proj_1', 'sub_1', failing)).rejects.toThrow('throttled');
    await expect(cache.get('proj_1', 'sub_1', load)).resolves.toMatchObject({ _id: 'sub_1' });
  });

  it('is bounded: the oldest entry goes first', async () => {
    const cache = new SubscriptionCache({ ttlMs: 30_000, maxEntries: 2 });
    const load = vi.fn(async () => subscription());

    await cache.get('p', 'a', load);
    await cache.get('p', 'b', load);
    await cache.get('p', 'c', load);
    await cache.get('p', 'b', load);
    await cache.get('p', 'a', load);

    expect(cache.size).toBe(2);
    expect(load).toHaveBeenCalledTimes(4);
  });

  it('keys by project and id; set and delete write through', async () => {
    const cache = new SubscriptionCache({ ttlMs: 30_000 });
    cache.set(subscription({ status: 'disabled' }));

    expect(await cache.get('proj_1', 'sub_1', async () => undefined)).toMatchObject({ status: 'disabled' });
    expect(await cache.get('proj_2', 'sub_1', async () => undefined)).toBeUndefined();
    cache.delete('proj_1', 'sub_1');
    expect(await cache.get('proj_1', 'sub_1', async () => undefined)).toBeUndefined();
  });
});

describe('delivery log writer', () => {
  it('keeps what each level asks for', () => {
    expect(shouldLog('all', 'delivered')).toBe(true);
    expect(shouldLog('failures', 'delivered')).toBe(false);
    for (const outcome of ['failed', 'dead-lettered', 'gone', 'skipped'] as const) {
      expect(shouldLog('failures', outcome)).toBe(true);
      expect(shouldLog('off', outcome)).toBe(false);
    }
  });

  it('masks URL credentials and leaves other targets alone', () => {
    expect(maskTargetCredentials('https://u:p@example.com/hook?x=1')).toBe(
      'https://***:***@example.com/hook?x=1',
    );
    expect(maskTargetCredentials('https://token@example.com/')).toBe('https://***@example.com/');
    expect(maskTargetCredentials('https://example.com/hook')).toBe('https://example.com/hook');
  });

  it('drops undefined fields (the document client refuses them) and sets the TTL from the attempt time', () => {
    const item = deliveryAttemptItem(
      {
        deliveryId: 'msg_1',
        eventId: 'evt_1',
        subscriptionId: 'sub_1',
        id_project: 'proj_1',
        event: 'request.create',
        target: 'https://example.com/',
        attempt: 1,
        outcome: 'skipped',
        durationMs: 0,
        error: undefined,
        attemptedAt: '2024-05-01T10:00:00.000Z',
      },
      1.5,
    );

    expect(Object.values(item)).not.toContain(undefined);
    expect(item).not.toHaveProperty('error');
    expect(item.expiresAt).toBe(Date.parse('2024-05-01T10:00:00.000Z') / 1000 + 129_600);
  });
});
