/**
 * A subscription as stored, and the views of it that leave the service. Field names
 * follow Tiledesk's documents (`_id`, `id_project`, `createdBy`, ...).
 */
export type SubscriptionStatus = 'active' | 'disabled';

export interface Subscription {
  _id: string;
  id_project: string;
  event: string;
  target: string;
  status: SubscriptionStatus;
  /** Why the service disabled it (auto-disable), absent when a user did or when active. */
  disabledReason?: string;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  /** Signing secret, `whsec_<base64>`; never leaves the service except on create and rotate. */
  secret: string;
  /** The secret before the last rotation, still signed with until `previousSecretExpiresAt`. */
  previousSecret?: string;
  previousSecretExpiresAt?: string;
  /** Start of the current run of failed deliveries (auto-disable); absent after a success. */
  failingSince?: string;
  lastSuccessAt?: string;
}

/** Every attribute that holds a secret and must never be returned, logged or queued. */
export const SECRET_FIELDS = ['secret', 'previousSecret'] as const;

/** The subscription as list, get, update, delete and the webhook's `hook` show it. */
export type PublicSubscription = Omit<Subscription, 'secret' | 'previousSecret' | 'previousSecretExpiresAt'>;

export function toPublic(subscription: Subscription): PublicSubscription {
  const {
    secret: _secret,
    previousSecret: _previous,
    previousSecretExpiresAt: _expires,
    ...rest
  } = subscription;
  return rest;
}

/** The subscription as create answers it: the public view plus the current secret, never the previous one. */
export type SubscriptionWithSecret = PublicSubscription & { secret: string };

export function withSecret(subscription: Subscription): SubscriptionWithSecret {
  return { ...toPublic(subscription), secret: subscription.secret };
}
