import { Duration } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus, Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import type { IQueue, Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { QUEUES } from '../functions/core/config/queues';
import { ENV } from '../functions/core/config/settings';
import type { WebhookConfig } from './context';
import { acknowledgeNag } from './nag';
import { DEAD_LETTER_QUEUE_NAG_REASON, deadLetterQueue } from './queues';
import { WebhookFunction } from './webhook-function';

/** Fan-out of one event to 10,000 subscriptions (1,000 SendMessageBatch calls) fits easily. */
export const FAN_OUT_TIMEOUT_SECONDS = 120;
export const FAN_OUT_MEMORY_MB = 1024;
/** EventBridge's retries of a failed invoke (throttles, service errors) before its DLQ. */
export const RULE_TARGET_RETRY_ATTEMPTS = 8;
export const RULE_TARGET_MAX_EVENT_AGE_HOURS = 24;
/** Lambda's own retries of a fan-out that threw, before the on-failure destination. */
export const FAN_OUT_ASYNC_RETRY_ATTEMPTS = 2;
export const FAN_OUT_ASYNC_MAX_EVENT_AGE_HOURS = 6;

export interface IngestProps {
  table: ITable;
  config: WebhookConfig;
}

/**
 * The custom bus the platform puts events on, the rule for its source, and the fan-out
 * function. Every way an event can fail ends in the ingest DLQ: EventBridge could not
 * invoke (target DLQ), the function failed after its async retries (on-failure
 * destination), or the function rejected the event's shape (it sends it there itself).
 */
export class Ingest extends Construct {
  readonly bus: EventBus;
  readonly rule: Rule;
  readonly deadLetterQueue: Queue;
  readonly function: WebhookFunction;

  constructor(scope: Construct, id: string, props: IngestProps) {
    super(scope, id);
    const { config } = props;

    this.bus = new EventBus(this, 'Bus', { eventBusName: config.eventBusName });
    this.deadLetterQueue = deadLetterQueue(this, 'DeadLetterQueue', QUEUES.ingestDlq.retentionSeconds);
    // No queue redrives to this one (EventBridge and Lambda do), so AwsSolutions-SQS3 asks it for a DLQ.
    acknowledgeNag(this.deadLetterQueue, 'AwsSolutions-SQS3', DEAD_LETTER_QUEUE_NAG_REASON);

    this.function = new WebhookFunction(this, 'FanOut', {
      entry: 'functions/fan-out.ts',
      description: 'Enqueues one delivery per subscription matching a bus event',
      tracing: config.tracing,
      memorySize: FAN_OUT_MEMORY_MB,
      timeout: Duration.seconds(FAN_OUT_TIMEOUT_SECONDS),
      retryAttempts: FAN_OUT_ASYNC_RETRY_ATTEMPTS,
      maxEventAge: Duration.hours(FAN_OUT_ASYNC_MAX_EVENT_AGE_HOURS),
      onFailure: new SqsDestination(this.deadLetterQueue),
      environment: {
        [ENV.eventSource]: config.eventSource,
        [ENV.rejectedEventsQueueUrl]: this.deadLetterQueue.queueUrl,
      },
    });
    this.function.acknowledgeNoDeadLetterQueue(
      'Asynchronous failures go to the ingest DLQ by the on-failure destination, which supersedes a function DLQ.',
    );
    this.function.bindTable(props.table, 'fanOutQuery');
    // Rejected events need sqs:SendMessage on the ingest DLQ: the on-failure destination already grants it.

    this.rule = new Rule(this, 'Rule', {
      eventBus: this.bus,
      description: `Platform events (source ${config.eventSource}) to the fan-out`,
      eventPattern: { source: [config.eventSource] },
      targets: [
        new LambdaFunction(this.function, {
          retryAttempts: RULE_TARGET_RETRY_ATTEMPTS,
          maxEventAge: Duration.hours(RULE_TARGET_MAX_EVENT_AGE_HOURS),
          deadLetterQueue: this.deadLetterQueue,
        }),
      ],
    });
  }

  /** Lets the fan-out send to the delivery queue (SendMessageBatch is authorized as sqs:SendMessage). */
  enqueueTo(queue: IQueue): void {
    this.function.addEnvironment(ENV.deliveryQueueUrl, queue.queueUrl);
    this.function.addToRolePolicy(
      new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [queue.queueArn] }),
    );
  }
}
