import type { Subscription } from '../model/subscription';

/**
 * A small TTL cache of subscriptions for the delivery function (module scope, so it lives
 * as long as a warm container). Concurrent reads of one subscription share one load. A
 * change made elsewhere (update, delete, disable) is seen within `ttlMs`; the delivery
 * code writes its own changes through `set` and `delete`.
 */
interface Entry {
  value: Promise<Subscription | undefined>;
  expiresAt: number;
}

export class SubscriptionCache {
  private readonly entries = new Map<string, Entry>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(options: { ttlMs: number; maxEntries?: number; now?: () => number }) {
    this.ttlMs = options.ttlMs;
    this.maxEntries = options.maxEntries ?? 5000;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The cached subscription (absent ones are cached too), or `load`'s answer. */
  get(
    projectId: string,
    subscriptionId: string,
    load: () => Promise<Subscription | undefined>,
  ): Promise<Subscription | undefined> {
    const key = cacheKey(projectId, subscriptionId);
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt > this.now()) return entry.value;
    const value = load();
    this.store(key, value);
    // A failed load is not cached: the next record tries again.
    value.catch(() => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
    });
    return value;
  }

  set(subscription: Subscription): void {
    this.store(cacheKey(subscription.id_project, subscription._id), Promise.resolve(subscription));
  }

  delete(projectId: string, subscriptionId: string): void {
    this.entries.delete(cacheKey(projectId, subscriptionId));
  }

  private store(key: string, value: Promise<Subscription | undefined>): void {
    this.entries.delete(key);
    // Map keeps insertion order: the first key is the oldest write.
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
    this.entries.set(key, { value, expiresAt: this.now() + this.ttlMs });
  }
}

function cacheKey(projectId: string, subscriptionId: string): string {
  return `${projectId}\u0000${subscriptionId}`;
}
