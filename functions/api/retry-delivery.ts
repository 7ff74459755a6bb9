import { SQSClient } from '@aws-sdk/client-sqs';
import { replaySettings } from '../core/config/settings';
import { authorizedPath, conflict, httpHandler, jsonResponse, notFound } from '../core/http';
import { newDocumentClient } from '../core/http/clients';
import { retryDelivery } from '../core/replay/replay';
import { deliveryPathSchema } from '../core/schemas';

const db = newDocumentClient();
const sqs = new SQSClient({});
let settings: ReturnType<typeof replaySettings> | undefined;

/**
 * POST /{projectId}/subscriptions/{subscriptionId}/deliveries/{deliveryId}/retry: re-queues a
 * delivery that failed (same webhook-id): 202 `{deliveryId, queued: true}`; 404 for an unknown
 * subscription or a delivery with no kept payload; 409 while the subscription is disabled.
 */
export const handler = httpHandler(async (event) => {
  const input = authorizedPath(event, deliveryPathSchema);
  settings ??= replaySettings();
  const result = await retryDelivery(db, sqs, settings, input);
  switch (result.kind) {
    case 'queued':
      return jsonResponse(202, { deliveryId: result.deliveryId, queued: true });
    case 'subscription-not-found':
      throw notFound('subscriptionId', 'no subscription with this id in this project');
    case 'delivery-not-found':
      throw notFound(
        'deliveryId',
        'no failed delivery with this id is kept for this subscription (only failed deliveries are kept, for the log retention)',
      );
    case 'disabled':
      throw conflict(
        'subscriptionId',
        'the subscription is disabled; re-enable it (PUT status active) first',
      );
  }
});
