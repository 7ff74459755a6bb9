import { describe, expect, it } from 'vitest';
import { LIMITS } from '../../../functions/core/config/limits';
import { ALLOWED_EVENT_FORMS } from '../../../functions/core/events/catalog';
import {
  createSubscriptionBodySchema,
  deliveriesQuerySchema,
  encodeCursor,
  fieldErrors,
  historyQuerySchema,
  listSubscriptionsQuerySchema,
  updateSubscriptionBodySchema,
} from '../../../functions/core/schemas';

const policy = { allowHttp: false, allowPrivate: false };
const createBody = createSubscriptionBodySchema(policy);
const updateBody = updateSubscriptionBodySchema(policy);

function errors(
  schema: { safeParse: (input: unknown) => { success: boolean; error?: unknown } },
  input: unknown,
) {
  const result = schema.safeParse(input) as ReturnType<typeof createBody.safeParse>;
  if (result.success) return [];
  return fieldErrors(result.error.issues, 'body');
}

describe('create body', () => {
  it('accepts event and target', () => {
    const input = { event: 'request.create', target: 'https://example.com/hook' };
    expect(createBody.parse(input)).toEqual(input);
  });

  it('names each missing field', () => {
    expect(errors(createBody, {})).toEqual([
      { field: 'event', message: 'is required' },
      { field: 'target', message: 'is required' },
    ]);
  });

  it('refuses unknown fields by name', () => {
    const found = errors(createBody, {
      event: 'request.create',
      target: 'https://example.com/h',
      secret: 'x',
      id: 1,
    });
    expect(found).toEqual([
      { field: 'secret', message: 'unknown field' },
      { field: 'id', message: 'unknown field' },
    ]);
  });

  it('lists the allowed forms for an unknown event', () => {
    const [error] = errors(createBody, { event: 'request.created', target: 'https://example.com/h' });
    expect(error?.field).toBe('event');
    for (const form of ALLOWED_EVENT_FORMS) expect(error?.message).toContain(form);
  });

  it('accepts wildcards and parametrised events', () => {
    for (const event of ['*', 'request.*', 'event.emit.my_event', 'message.create.channel.telegram']) {
      expect(errors(createBody, { event, target: 'https://example.com/h' }), event).toEqual([]);
    }
  });

  it('refuses a body that is not an object, and wrong types', () => {
    expect(errors(createBody, [])).toEqual([{ field: 'body', message: 'must be a JSON object' }]);
    expect(errors(createBody, { event: 1, target: true })).toEqual([
      { field: 'event', message: 'must be a string' },
      { field: 'target', message: 'must be a string' },
    ]);
  });
});

describe('update body', () => {
  it('accepts any of event, target, status', () => {
    expect(updateBody.parse({ status: 'disabled' })).toEqual({ status: 'disabled' });
    expect(updateBody.parse({ event: 'request.close', target: 'https://example.com/x' })).toEqual({
      event: 'request.close',
      target: 'https://example.com/x',
    });
  });

  it('refuses other fields by name, including read-only ones', () => {
    const found = errors(updateBody, { status: 'active', secret: 'whsec_x', _id: 'x', createdBy: 'me' });
    expect(found.map((error) => error.field)).toEqual(['secret', '_id', 'createdBy']);
  });

  it('refuses an empty body and a bad status', () => {
    expect(errors(updateBody, {})).toEqual([
      { field: 'body', message: 'must set at least one of event, target, status' },
    ]);
    expect(errors(updateBody, { status: 'paused' })).toEqual([
      { field: 'status', message: 'must be active or disabled' },
    ]);
  });
});

describe('query schemas', () => {
  it('defaults and bounds the list limit', () => {
    expect(listSubscriptionsQuerySchema.parse({}).limit).toBe(LIMITS.listDefaultLimit);
    expect(listSubscriptionsQuerySchema.parse({ limit: String(LIMITS.listMaxLimit) }).limit).toBe(
      LIMITS.listMaxLimit,
    );
    for (const limit of ['0', String(LIMITS.listMaxLimit + 1), '-1', '1.5', 'ten', '']) {
      expect(
        errors(listSubscriptionsQuerySchema, { limit }).map((e) => e.field),
        limit,
      ).toEqual(['limit']);
    }
  });

  it('decodes a cursor to a sort key and refuses a forged one', () => {
    expect(listSubscriptionsQuerySchema.parse({ cursor: encodeCursor('SUB#abc') }).cursor).toBe('SUB#abc');
    for (const cursor of [
      'not base64!',
      encodeCursor('KEY#key_1'),
      encodeCursor('TARGET#x'),
      'U1VCI2FiYw==',
    ]) {
      expect(
        errors(listSubscriptionsQuerySchema, { cursor }).map((e) => e.field),
        cursor,
      ).toEqual(['cursor']);
    }
  });

  it('validates the list event filter', () => {
    expect(errors(listSubscriptionsQuerySchema, { event: 'nope' }).map((e) => e.field)).toEqual(['event']);
  });

  it('bounds the history page', () => {
    expect(historyQuerySchema.parse({}).page).toBe(1);
    expect(historyQuerySchema.parse({ page: String(LIMITS.historyMaxPage) }).page).toBe(
      LIMITS.historyMaxPage,
    );
    for (const page of ['0', String(LIMITS.historyMaxPage + 1), 'x']) {
      expect(
        errors(historyQuerySchema, { page }).map((e) => e.field),
        page,
      ).toEqual(['page']);
    }
  });

  it('bounds the deliveries limit and checks its cursor', () => {
    expect(deliveriesQuerySchema.parse({}).limit).toBe(LIMITS.deliveriesDefaultLimit);
    expect(
      errors(deliveriesQuerySchema, { limit: String(LIMITS.deliveriesMaxLimit + 1) }).map((e) => e.field),
    ).toEqual(['limit']);
    const sortKey = '2024-05-01T10:00:00.000Z#msg_abc#001';
    expect(deliveriesQuerySchema.parse({ cursor: encodeCursor(sortKey) }).cursor).toBe(sortKey);
    expect(errors(deliveriesQuerySchema, { cursor: encodeCursor('SUB#x') }).map((e) => e.field)).toEqual([
      'cursor',
    ]);
  });
});
