import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RETRY_SCHEDULE_SECONDS,
  maxReceiveCountFor,
  nextDelaySeconds,
  parseRetrySchedule,
} from '../../functions/core/config/retry-schedule';
import { isSubscribableEvent, matchingPatterns } from '../../functions/core/events/catalog';
import { deliveryIdFor, newSubscriptionId, newWebhookSecret } from '../../functions/core/ids';

describe('event catalog', () => {
  it('accepts catalog names, families, * and known prefixes', () => {
    for (const name of [
      'request.create',
      'project_user.update.agent',
      'event.emit.my_event',
      'message.create.request.channel.telegram',
      'message.create.channel.whatsapp',
      '*',
      'request.*',
      'project_user.update.*',
      'message.create.channel.*',
    ]) {
      expect(isSubscribableEvent(name), name).toBe(true);
    }
  });

  it('refuses unknown names and prefixes', () => {
    for (const name of [
      'request.created',
      'foo.*',
      'request',
      'event.emit.',
      'event.emit.a b',
      '**',
      '.*',
      '',
    ]) {
      expect(isSubscribableEvent(name), name).toBe(false);
    }
  });

  it('derives every pattern that matches an event', () => {
    expect(matchingPatterns('message.create.channel.telegram')).toEqual([
      'message.create.channel.telegram',
      'message.create.channel.*',
      'message.create.*',
      'message.*',
      '*',
    ]);
  });
});

describe('ids', () => {
  it('subscription ids are 24 chars and sort by creation time', () => {
    const a = newSubscriptionId(1_700_000_000_000);
    const b = newSubscriptionId(1_700_000_000_001);
    expect(a).toHaveLength(24);
    expect(a < b).toBe(true);
  });

  it('secrets are whsec_ + 32 random bytes', () => {
    const secret = newWebhookSecret();
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);
    expect(newWebhookSecret()).not.toBe(secret);
  });

  it('delivery ids are derived from (event, subscription)', () => {
    expect(deliveryIdFor('e1', 's1')).toBe(deliveryIdFor('e1', 's1'));
    expect(deliveryIdFor('e1', 's1')).not.toBe(deliveryIdFor('e1', 's2'));
    expect(deliveryIdFor('e1', 's1')).toMatch(/^msg_[0-9a-z]{26}$/);
  });
});

describe('retry schedule', () => {
  it('parses RETRY_SCHEDULE and defaults', () => {
    expect(parseRetrySchedule(undefined)).toEqual(DEFAULT_RETRY_SCHEDULE_SECONDS);
    expect(parseRetrySchedule('1, 2,3')).toEqual([1, 2, 3]);
    expect(() => parseRetrySchedule('1,x')).toThrow(/RETRY_SCHEDULE/);
    expect(() => parseRetrySchedule('50000')).toThrow(/RETRY_SCHEDULE/);
  });

  it('redrives after every attempt plus a margin', () => {
    expect(maxReceiveCountFor(DEFAULT_RETRY_SCHEDULE_SECONDS)).toBe(10);
  });

  it('jitters ±20% and honours Retry-After within [scheduled, 12 h]', () => {
    const schedule = [100, 1000];
    expect(nextDelaySeconds(schedule, 1, { random: () => 0 })).toBe(80);
    expect(nextDelaySeconds(schedule, 1, { random: () => 1 })).toBe(120);
    expect(nextDelaySeconds(schedule, 9, { random: () => 0.5 })).toBe(1000);
    expect(nextDelaySeconds(schedule, 1, { random: () => 0.5, retryAfterSeconds: 500 })).toBe(500);
    expect(nextDelaySeconds(schedule, 1, { random: () => 0.5, retryAfterSeconds: 10 })).toBe(100);
    expect(nextDelaySeconds(schedule, 1, { random: () => 0.5, retryAfterSeconds: 1e9 })).toBe(43200);
  });
});
