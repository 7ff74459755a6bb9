import { describe, expect, it } from 'vitest';
import { busEventDetailSchema } from '../../../functions/core/model/bus-event';
import { deliveryMessageSchema } from '../../../functions/core/model/delivery-message';

/**
 * The fan-out and delivery schemas use zod mini (functions/core/model/zod-mini.ts), which
 * loads no locale by itself: these texts are what classic zod answers, and what the
 * rejected-event reasons and the malformed-message log line carry. This file imports no
 * classic zod, so the English locale here is the one zod-mini.ts configures.
 */
describe('zod mini schemas', () => {
  it('answer with the English messages', () => {
    const detail = busEventDetailSchema.safeParse({ id_project: '', id: 5 });
    const message = deliveryMessageSchema.safeParse({ v: 1, timestamp: 1.5 });

    expect(detail.error?.issues.map((issue) => issue.message)).toEqual([
      'Too small: expected string to have >=1 characters',
      'payload is required',
      'Invalid input: expected string, received number',
    ]);
    expect(message.error?.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)).toContain(
      'timestamp: Invalid input: expected int, received number',
    );
  });

  it('strip unknown keys and keep optional ones, as classic zod objects do', () => {
    const parsed = busEventDetailSchema.parse({ id_project: 'p', payload: { a: 1 }, token: 't', extra: 1 });

    expect(parsed).toEqual({ id_project: 'p', payload: { a: 1 }, token: 't' });
  });
});
