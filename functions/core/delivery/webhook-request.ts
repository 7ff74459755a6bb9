import type { DeliveryMessage } from '../model/delivery-message';
import { type Subscription, toPublic } from '../model/subscription';
import { signatureHeaders, signingSecrets } from './signing';

/**
 * The webhook POST (DESIGN §2.4): Tiledesk's body `{hook, timestamp, payload[, token]}`,
 * Tiledesk's `x-hook-secret` header and the Standard Webhooks signature headers.
 */
export interface WebhookRequest {
  body: string;
  /** Request headers; they hold the secret (`x-hook-secret`), so they are never logged. */
  headers: Record<string, string>;
}

export function buildWebhookRequest(
  subscription: Subscription,
  message: DeliveryMessage,
  options: { userAgent: string; now?: number },
): WebhookRequest {
  const now = options.now ?? Date.now();
  const body = JSON.stringify({
    hook: toPublic(subscription),
    timestamp: message.timestamp,
    payload: message.payload,
    ...(message.token !== undefined ? { token: message.token } : {}),
  });
  // The signature's timestamp is the time of sending (receivers reject old ones), not the event's time.
  const timestampSeconds = Math.floor(now / 1000);
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'user-agent': options.userAgent,
      'x-hook-secret': subscription.secret,
      ...signatureHeaders(message.deliveryId, timestampSeconds, body, signingSecrets(subscription, now)),
    },
  };
}
