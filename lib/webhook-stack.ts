import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { Route } from '../functions/api/routes';
import type { WebhookConfig } from './context';
import { Delivery } from './delivery';
import { Ingest } from './ingest';
import { Monitoring } from './monitoring';
import { Storage } from './storage';
import { SubscriptionApi } from './subscription-api';
import type { WebhookFunction } from './webhook-function';

export interface WebhookStackProps extends StackProps {
  config: WebhookConfig;
  /** Defaults to ROUTES. */
  routes?: readonly Route[];
}

/** The whole service: storage, subscription API, ingest, delivery and monitoring. */
export class WebhookStack extends Stack {
  readonly storage: Storage;
  readonly subscriptionApi: SubscriptionApi;
  readonly ingest: Ingest;
  readonly delivery: Delivery;
  readonly monitoring: Monitoring;

  constructor(scope: Construct, id: string, props: WebhookStackProps) {
    super(scope, id, props);
    const { config } = props;

    this.storage = new Storage(this, 'Storage');
    const table = this.storage.table;
    this.ingest = new Ingest(this, 'Ingest', { table, config });
    this.delivery = new Delivery(this, 'Delivery', { table, eventBus: this.ingest.bus, config });
    this.ingest.enqueueTo(this.delivery.queue);
    this.subscriptionApi = new SubscriptionApi(this, 'SubscriptionApi', {
      table,
      deliveryQueue: this.delivery.queue,
      config,
      ...(props.routes ? { routes: props.routes } : {}),
    });

    const functions = new Map<string, WebhookFunction>([
      ['Authorizer', this.subscriptionApi.authorizerFunction],
      ['FanOut', this.ingest.function],
      ['Delivery', this.delivery.function],
      ...this.subscriptionApi.routeFunctions,
    ]);
    this.monitoring = new Monitoring(this, 'Monitoring', {
      stage: config.stage,
      deliveryQueue: this.delivery.queue,
      deliveryDlq: this.delivery.deadLetterQueue,
      ingestDlq: this.ingest.deadLetterQueue,
      fanOutFunction: this.ingest.function,
      functions,
      api: this.subscriptionApi.api,
      retrySchedule: config.retrySchedule,
      alarmEmail: config.alarmEmail,
    });

    const output = (name: string, value: string, description: string) =>
      new CfnOutput(this, name, { value, description });
    output('ApiUrl', this.subscriptionApi.api.url, 'Base URL: <ApiUrl><projectId>/subscriptions');
    output('EventBusName', this.ingest.bus.eventBusName, 'The bus platform services put events on');
    output('DeliveryQueueUrl', this.delivery.queue.queueUrl, 'The delivery queue');
    output(
      'DeliveryDlqUrl',
      this.delivery.deadLetterQueue.queueUrl,
      'Deliveries that exhausted their retries',
    );
    output('IngestDlqUrl', this.ingest.deadLetterQueue.queueUrl, 'Events that could not be fanned out');
    output('TableName', table.tableName, 'The DynamoDB table');
    output('AlarmTopicArn', this.monitoring.topic.topicArn, 'SNS topic of every alarm');
  }
}
