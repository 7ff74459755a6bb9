import { describe, expect, it } from 'vitest';
import { deliveryMessageBodies } from '../../../functions/core/fanout/fan-out';
import { deliveryMessageSchema } from '../../../functions/core/model/delivery-message';

/** The fan-out serialises an event's payload once; every body must still be the message's own JSON. */
describe('deliveryMessageBodies', () => {
  const head = {
    v: 1 as const,
    deliveryId: 'msg_abc',
    eventId: 'evt_1',
    subscriptionId: 'sub_"quoted"',
    projectId: 'proj_1',
    event: 'request.create',
    timestamp: 1_700_000_000_000,
  };
  const payload = { text: 'héllo "world" \u2028 \n', nested: [1, { a: null }], emoji: '👋' };

  it('is exactly JSON.stringify of the whole message, with and without a token', () => {
    expect(deliveryMessageBodies(payload, undefined)(head)).toBe(JSON.stringify({ ...head, payload }));
    expect(deliveryMessageBodies(payload, 'jwt.token"x')(head)).toBe(
      JSON.stringify({ ...head, payload, token: 'jwt.token"x' }),
    );
  });

  it('gives bodies the delivery function parses back to the message', () => {
    const body = deliveryMessageBodies('a string payload', undefined)({ ...head, subscriptionId: 'sub_2' });
    expect(deliveryMessageSchema.parse(JSON.parse(body))).toEqual({
      ...head,
      subscriptionId: 'sub_2',
      payload: 'a string payload',
    });
  });
});
