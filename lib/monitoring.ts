import { Duration } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import {
  type Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  MathExpression,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { RecordOutcome } from '../functions/core/delivery/deliver';
import { METRIC, METRICS_NAMESPACE, SERVICE_NAME } from '../functions/core/observability';
import { acknowledgeNag } from './nag';

const PERIOD = Duration.minutes(5);

export interface MonitoringProps {
  stage: string;
  deliveryQueue: Queue;
  deliveryDlq: Queue;
  ingestDlq: Queue;
  fanOutFunction: IFunction;
  /** Every function of the stack, by construct id: each gets a throttles alarm. */
  functions: ReadonlyMap<string, IFunction>;
  api: RestApi;
  retrySchedule: readonly number[];
  alarmEmail: string | undefined;
}

/**
 * SQS leaves a message out of ApproximateAgeOfOldestMessage once it has been received
 * three times, so under a healthy backlog the oldest counted message is one waiting for
 * its third attempt: the first two delays (with +20% jitter) plus 15 minutes of slack.
 */
export function oldestMessageAgeThresholdSeconds(schedule: readonly number[]): number {
  const firstTwo = (schedule[0] ?? 0) + (schedule[1] ?? 0);
  return Math.ceil(firstTwo * 1.2) + 15 * 60;
}

function emf(metricName: string, statistic: string, dimensions: Record<string, string> = {}): Metric {
  return new Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    statistic,
    period: PERIOD,
    // Powertools adds the `service` dimension to every metric.
    dimensionsMap: { service: SERVICE_NAME, ...dimensions },
  });
}

function deliveries(outcome: RecordOutcome): Metric {
  return emf(METRIC.deliveries, 'Sum', { outcome }).with({ label: outcome });
}

/**
 * Alarms to an encrypted SNS topic (optionally mailed to `alarmEmail`) and a dashboard
 * with the delivery rate, success ratio and attempt latency from the functions' EMF metrics.
 */
export class Monitoring extends Construct {
  readonly topic: Topic;
  readonly alarms: Alarm[] = [];
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);

    // A customer key: CloudWatch cannot publish to a topic under the AWS-managed SNS key.
    const key = new Key(this, 'TopicKey', {
      description: 'Encrypts the webhook alarm topic',
      enableKeyRotation: true,
    });
    key.grant(new ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    this.topic = new Topic(this, 'AlarmTopic', {
      displayName: `Tiledesk webhooks alarms (${props.stage})`,
      masterKey: key,
      enforceSSL: true,
    });
    if (props.alarmEmail) {
      const subscription = this.topic.addSubscription(new EmailSubscription(props.alarmEmail));
      acknowledgeNag(
        subscription,
        'Serverless-SNSRedrivePolicy',
        'A lost alarm e-mail is not worth a queue: the alarm state stays in CloudWatch and on the dashboard.',
      );
    }
    const action = new SnsAction(this.topic);

    const alarm = (alarmId: string, description: string, metric: Metric, threshold = 1) => {
      const created = metric.createAlarm(this, alarmId, {
        alarmDescription: description,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      created.addAlarmAction(action);
      created.addOkAction(action);
      this.alarms.push(created);
      return created;
    };

    alarm(
      'DeliveryDlqNotEmpty',
      'Webhooks exhausted their retries and sit in the delivery DLQ (redrive after fixing the cause).',
      props.deliveryDlq.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: 'Maximum' }),
    );
    const ageThreshold = oldestMessageAgeThresholdSeconds(props.retrySchedule);
    alarm(
      'DeliveryQueueOldestMessage',
      `Deliveries are waiting longer than ${ageThreshold} s: the delivery function is failing, throttled or behind.`,
      props.deliveryQueue.metricApproximateAgeOfOldestMessage({ period: PERIOD, statistic: 'Maximum' }),
      ageThreshold,
    );
    alarm(
      'IngestDlqNotEmpty',
      'Bus events could not be fanned out (rejected shape, invoke failure or fan-out failure): see the ingest DLQ.',
      props.ingestDlq.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: 'Maximum' }),
    );
    alarm(
      'FanOutErrors',
      'The fan-out function failed; EventBridge and Lambda retry, then the event goes to the ingest DLQ.',
      props.fanOutFunction.metricErrors({ period: PERIOD, statistic: 'Sum' }),
    );
    alarm(
      'Api5xx',
      'The API answered 5xx: nothing a client sends should produce one.',
      props.api.metricServerError({ period: PERIOD, statistic: 'Sum' }),
    );
    alarm(
      'PayloadStoreFailures',
      'Failed deliveries whose payload could not be kept: /retry and /recover cannot replay them (check DynamoDB throttling and item size).',
      emf(METRIC.payloadStoreFailures, 'Sum'),
    );
    alarm(
      'OperationalEventFailures',
      'Operational events (subscription disabled or removed, delivery dead-lettered) could not be put on the bus: project owners are not notified.',
      emf(METRIC.operationalEventFailures, 'Sum'),
    );
    for (const [functionId, fn] of props.functions) {
      alarm(
        `${functionId}Throttles`,
        `${functionId} is throttled: raise the account's concurrency or lower the event source's maximum concurrency.`,
        fn.metricThrottles({ period: PERIOD, statistic: 'Sum' }),
      );
    }

    const delivered = deliveries('delivered');
    const attempted = {
      delivered,
      failed: deliveries('failed'),
      deadLettered: deliveries('dead-lettered'),
      gone: deliveries('gone'),
    };
    const successRatio = new MathExpression({
      expression: '100 * delivered / (delivered + failed + deadLettered + gone)',
      usingMetrics: attempted,
      label: 'Success ratio (%)',
      period: PERIOD,
    });
    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: `tiledesk-webhooks-${props.stage}`,
      widgets: [
        [
          new GraphWidget({
            title: 'Delivery rate by outcome (per 5 min)',
            left: [...Object.values(attempted), deliveries('skipped')],
            stacked: true,
            width: 12,
          }),
          new GraphWidget({
            title: 'Success ratio',
            left: [successRatio],
            leftYAxis: { min: 0, max: 100 },
            width: 12,
          }),
        ],
        [
          new GraphWidget({
            title: 'Attempt latency (ms)',
            left: ['p50', 'p90', 'p99'].map((statistic) =>
              emf(METRIC.deliveryLatency, statistic).with({ label: statistic }),
            ),
            width: 12,
          }),
          new GraphWidget({
            title: 'Fan-out size and rejected events',
            left: [emf(METRIC.fanOutSize, 'Sum').with({ label: 'messages enqueued' })],
            right: [emf(METRIC.rejectedEvents, 'Sum').with({ label: 'rejected events' })],
            width: 12,
          }),
        ],
        [
          new GraphWidget({
            title: 'Delivery queue',
            left: [
              props.deliveryQueue.metricApproximateNumberOfMessagesVisible({
                period: PERIOD,
                label: 'visible',
              }),
              props.deliveryQueue.metricApproximateNumberOfMessagesNotVisible({
                period: PERIOD,
                label: 'in flight',
              }),
            ],
            right: [
              props.deliveryQueue.metricApproximateAgeOfOldestMessage({
                period: PERIOD,
                label: 'oldest (s)',
              }),
            ],
            width: 12,
          }),
          new GraphWidget({
            title: 'Dead-letter queues',
            left: [
              props.deliveryDlq.metricApproximateNumberOfMessagesVisible({
                period: PERIOD,
                label: 'delivery DLQ',
              }),
              props.ingestDlq.metricApproximateNumberOfMessagesVisible({
                period: PERIOD,
                label: 'ingest DLQ',
              }),
            ],
            width: 12,
          }),
        ],
        [
          new GraphWidget({
            title: 'Subscriptions disabled, removed (410) and deliveries dead-lettered',
            left: [
              emf(METRIC.subscriptionsDisabled, 'Sum').with({ label: 'disabled' }),
              emf(METRIC.subscriptionsGone, 'Sum').with({ label: 'removed by 410' }),
              emf(METRIC.deadLettered, 'Sum').with({ label: 'dead-lettered' }),
            ],
            width: 12,
          }),
          new GraphWidget({
            title: 'Replay and notification health',
            left: [
              emf(METRIC.payloadStoreFailures, 'Sum').with({ label: 'payloads not stored' }),
              emf(METRIC.operationalEventFailures, 'Sum').with({ label: 'operational events not put' }),
              deliveries('malformed').with({ label: 'malformed messages' }),
            ],
            width: 12,
          }),
        ],
        [
          new GraphWidget({
            title: 'API',
            left: [
              props.api.metricCount({ period: PERIOD, label: 'requests' }),
              props.api.metricClientError({ period: PERIOD, label: '4xx' }),
              props.api.metricServerError({ period: PERIOD, label: '5xx' }),
              emf(METRIC.apiErrors, 'Sum', { statusClass: '4xx' }).with({ label: 'handler 4xx' }),
              emf(METRIC.apiErrors, 'Sum', { statusClass: '5xx' }).with({ label: 'handler 5xx' }),
            ],
            right: [props.api.metricLatency({ period: PERIOD, statistic: 'p90', label: 'latency p90 (ms)' })],
            width: 24,
          }),
        ],
      ],
    });
  }
}
