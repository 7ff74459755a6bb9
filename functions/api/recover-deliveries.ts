import { SQSClient } from '@aws-sdk/client-sqs';
import { replaySettings } from '../core/config/settings';
import { authorizedPath, conflict, httpHandler, jsonResponse, notFound, parseJsonBody } from '../core/http';
import { newDocumentClient } from '../core/http/clients';
import { recoverDeliveries } from '../core/replay/replay';
import { parseInput, recoverBodySchema, subscriptionPathSchema } from '../core/schemas';

const db = newDocumentClient();
const sqs = new SQSClient({});
let settings: ReturnType<typeof replaySettings> | undefined;

/**
 * POST /{projectId}/subscriptions/{subscriptionId}/recover `{"since": ISO}`: re-queues every
 * delivery that failed since then and was not delivered later, at most
 * LIMITS.maxRecoverDeliveries: 202 `{queued, truncated[, nextSince]}`; 404; 409 while disabled.
 */
export const handler = httpHandler(async (event) => {
  const { projectId, subscriptionId } = authorizedPath(event, subscriptionPathSchema);
  settings ??= replaySettings();
  const body = parseInput(
    recoverBodySchema({ retentionDays: settings.logTtlDays, now: Date.now() }),
    parseJsonBody(event),
    'body',
  );
  const result = await recoverDeliveries(db, sqs, settings, { projectId, subscriptionId, since: body.since });
  switch (result.kind) {
    case 'queued': {
      const { kind: _kind, ...answer } = result;
      return jsonResponse(202, answer);
    }
    case 'not-found':
      throw notFound('subscriptionId', 'no subscription with this id in this project');
    case 'disabled':
      throw conflict(
        'subscriptionId',
        'the subscription is disabled; re-enable it (PUT status active) first',
      );
  }
});
