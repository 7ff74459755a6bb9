import type { Subscription } from '../../../functions/core/model/subscription';
import { keys } from '../../../functions/core/storage/table';

/** A stored subscription of project p1, the project proxyEvent's authorizer grants. */
export function storedSubscription(overrides: Partial<Subscription> = {}): Subscription {
  return {
    _id: '01jabcdefghjkmnpqrstvwxy',
    id_project: 'p1',
    event: 'request.create',
    target: 'https://example.com/hook',
    status: 'active',
    createdBy: 'key_test',
    createdAt: '2025-01-01T00:00:00.000Z',
    updatedAt: '2025-01-01T00:00:00.000Z',
    secret: 'whsec_stored',
    ...overrides,
  };
}

/** The table key of a subscription of project p1. */
export function subscriptionKeyOf(subscription: Subscription) {
  return { pk: keys.project(subscription.id_project), sk: keys.subscriptionSk(subscription._id) };
}
