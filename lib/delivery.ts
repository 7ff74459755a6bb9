import { Duration } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  DELIVERY_EVENT_SOURCE,
  DELIVERY_FUNCTION_TIMEOUT_SECONDS,
  deliveryRedrivePolicy,
  QUEUES,
} from '../functions/core/config/queues';
import { ENV } from '../functions/core/config/settings';
import type { WebhookConfig } from './context';
import { acknowledgeNag } from './nag';
import { deadLetterQueue, encryptedQueue } from './queues';
import { WebhookFunction } from './webhook-function';

/** AWS's advice for SQS event sources: visibility timeout at least six times the function timeout. */
export const MIN_VISIBILITY_TO_TIMEOUT_RATIO = 6;

export interface DeliveryProps {
  table: ITable;
  /** The bus the delivery function puts its operational events on. */
  eventBus: IEventBus;
  config: WebhookConfig;
}

/** The settings a function that attempts deliveries reads (delivery function and the test-ping route). */
export function deliveryEnvironment(config: WebhookConfig): Record<string, string> {
  return {
    [ENV.retrySchedule]: config.retrySchedule.join(','),
    [ENV.attemptTimeoutMs]: String(config.attemptTimeoutMs),
    [ENV.allowHttpTargets]: String(config.allowHttpTargets),
    [ENV.allowPrivateTargets]: String(config.allowPrivateTargets),
    [ENV.deliveryLogLevel]: config.deliveryLogLevel,
    [ENV.deliveryLogTtlDays]: String(config.deliveryLogTtlDays),
    [ENV.disableAfterDays]: String(config.disableAfterDays),
  };
}

/**
 * The delivery queue, its DLQ and the delivery function (functions/delivery.ts), from
 * QUEUES and DELIVERY_EVENT_SOURCE in functions/core/config/queues.ts. The redrive
 * policy follows the retry schedule: one receive per attempt plus a margin.
 */
export class Delivery extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly function: WebhookFunction;

  constructor(scope: Construct, id: string, props: DeliveryProps) {
    super(scope, id);
    const { config } = props;
    assertTimings(config);

    this.deadLetterQueue = deadLetterQueue(this, 'DeadLetterQueue', QUEUES.deliveryDlq.retentionSeconds);
    this.queue = encryptedQueue(this, 'Queue', {
      visibilityTimeout: Duration.seconds(QUEUES.delivery.visibilityTimeoutSeconds),
      retentionPeriod: Duration.seconds(QUEUES.delivery.retentionSeconds),
      deadLetterQueue: {
        queue: this.deadLetterQueue,
        maxReceiveCount: deliveryRedrivePolicy(config.retrySchedule).maxReceiveCount,
      },
    });

    this.function = new WebhookFunction(this, 'Function', {
      entry: 'functions/delivery.ts',
      description: 'Signs and POSTs one webhook per SQS record; schedules retries',
      tracing: config.tracing,
      memorySize: 512,
      timeout: Duration.seconds(DELIVERY_FUNCTION_TIMEOUT_SECONDS),
      environment: {
        ...deliveryEnvironment(config),
        [ENV.deliveryQueueUrl]: this.queue.queueUrl,
        [ENV.eventBusName]: props.eventBus.eventBusName,
      },
    });
    this.function.acknowledgeNoDeadLetterQueue(
      "Invoked by the SQS event source mapping: failed messages reach the delivery DLQ by the queue's redrive policy.",
    );
    // Delivery log items and subscription state (failure count, disable, 410 removal).
    this.function.bindTable(props.table, 'write');
    const mapping = this.function.addEventSourceMapping('DeliveryQueue', {
      eventSourceArn: this.queue.queueArn,
      batchSize: DELIVERY_EVENT_SOURCE.batchSize,
      maxBatchingWindow: Duration.seconds(DELIVERY_EVENT_SOURCE.maxBatchingWindowSeconds),
      maxConcurrency: DELIVERY_EVENT_SOURCE.maxConcurrency,
      reportBatchItemFailures: true,
    });
    // Includes sqs:ChangeMessageVisibility: the backoff schedules a failed record's next attempt with it.
    this.queue.grantConsumeMessages(this.function);
    acknowledgeNag(
      mapping,
      'Serverless-LambdaEventSourceMappingDestination',
      "SQS event source mappings take no on-failure destination; the queue's redrive policy moves failed messages to the DLQ.",
    );
    // Operational events (disabled, gone, dead-lettered) for the platform.
    this.function.addToRolePolicy(
      new PolicyStatement({ actions: ['events:PutEvents'], resources: [props.eventBus.eventBusArn] }),
    );
  }
}

function assertTimings(config: WebhookConfig): void {
  if (
    QUEUES.delivery.visibilityTimeoutSeconds <
    MIN_VISIBILITY_TO_TIMEOUT_RATIO * DELIVERY_FUNCTION_TIMEOUT_SECONDS
  ) {
    throw new Error(
      'the delivery queue visibility timeout must be at least 6x the delivery function timeout',
    );
  }
  if (config.attemptTimeoutMs >= DELIVERY_FUNCTION_TIMEOUT_SECONDS * 1000) {
    throw new Error(
      `attemptTimeoutMs (${config.attemptTimeoutMs}) must be below the delivery function timeout (${DELIVERY_FUNCTION_TIMEOUT_SECONDS} s)`,
    );
  }
  // With +20% jitter every retry must still fit in the queue's retention, or SQS drops the message.
  const scheduleSeconds = config.retrySchedule.reduce((sum, seconds) => sum + seconds, 0) * 1.2;
  if (scheduleSeconds >= QUEUES.delivery.retentionSeconds) {
    throw new Error(
      `retrySchedule spans ${Math.round(scheduleSeconds)} s with jitter, longer than the queue retention (${QUEUES.delivery.retentionSeconds} s)`,
    );
  }
}
