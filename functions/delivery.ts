import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { type DeliverySettings, deliverySettings } from './core/config/settings';
import { deliverBatch } from './core/delivery/deliver';
import { SubscriptionCache } from './core/delivery/subscription-cache';
import { logger, publishMetrics } from './core/observability';

/** SQS event source mapping (ReportBatchItemFailures): a batch of deliveries in, the ones to retry out. */
const db = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
  marshallOptions: { removeUndefinedValues: true },
});
const sqs = new SQSClient({});
const eventBridge = new EventBridgeClient({});
let settings: DeliverySettings | undefined;
let cache: SubscriptionCache | undefined;

export async function handler(event: SQSEvent, context?: Context): Promise<SQSBatchResponse> {
  settings ??= deliverySettings();
  cache ??= new SubscriptionCache({ ttlMs: settings.subscriptionCacheTtlMs });
  if (context) logger.addContext(context);
  try {
    return await deliverBatch(event.Records, {
      db,
      sqs,
      settings,
      cache,
      eventBridge,
      keepFailedPayloads: true,
    });
  } finally {
    publishMetrics();
  }
}
