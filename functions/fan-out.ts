import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, EventBridgeEvent } from 'aws-lambda';
import { type FanOutSettings, fanOutSettings } from './core/config/settings';
import { type FanOutResult, fanOut } from './core/fanout/fan-out';
import { logger, publishMetrics } from './core/observability';

/** EventBridge rule target: one bus event in, its delivery messages on the delivery queue. */
const db = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const sqs = new SQSClient({});
let settings: FanOutSettings | undefined;

export async function handler(
  event: EventBridgeEvent<string, unknown>,
  context?: Context,
): Promise<FanOutResult> {
  settings ??= fanOutSettings();
  if (context) logger.addContext(context);
  try {
    return await fanOut(event, { db, sqs, settings });
  } finally {
    publishMetrics();
    logger.resetKeys();
  }
}
