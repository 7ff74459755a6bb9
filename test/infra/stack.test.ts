import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Annotations, Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../functions/api/routes';
import { API } from '../../functions/core/config/api';
import {
  DELIVERY_EVENT_SOURCE,
  DELIVERY_FUNCTION_TIMEOUT_SECONDS,
  QUEUES,
} from '../../functions/core/config/queues';
import {
  DEFAULT_RETRY_SCHEDULE_SECONDS,
  maxReceiveCountFor,
} from '../../functions/core/config/retry-schedule';
import { DEFAULTS, ENV } from '../../functions/core/config/settings';
import { GATEWAY_RESPONSES } from '../../functions/core/http/responses';
import { METRIC, METRICS_NAMESPACE, SERVICE_NAME } from '../../functions/core/observability';
import { createTableInput, TABLE } from '../../functions/core/storage/table';
import { oldestMessageAgeThresholdSeconds } from '../../lib/monitoring';
import { TABLE_WRITE_ACTIONS } from '../../lib/webhook-function';
import type { WebhookStack } from '../../lib/webhook-stack';
import {
  acknowledgements,
  type Json,
  logicalId,
  nagFindings,
  type Resource,
  resourcesFor,
  resourcesOf,
  roleOf,
  routeFunctionId,
  synthStack,
} from './synth';

let stack: WebhookStack;
let template: Template;
let outdir: string;

beforeAll(() => {
  const synthesized = synthStack();
  stack = synthesized.stack;
  template = synthesized.template;
  outdir = synthesized.app.outdir;
});

const only = (resources: Record<string, Resource>): [string, Resource] => {
  const entries = Object.entries(resources);
  expect(entries).toHaveLength(1);
  return entries[0] as [string, Resource];
};
const ids = () => ({
  table: logicalId(stack.storage.table),
  bus: logicalId(stack.ingest.bus),
  fanOut: logicalId(stack.ingest.function),
  ingestDlq: logicalId(stack.ingest.deadLetterQueue),
  delivery: logicalId(stack.delivery.function),
  deliveryQueue: logicalId(stack.delivery.queue),
  deliveryDlq: logicalId(stack.delivery.deadLetterQueue),
  authorizer: logicalId(stack.subscriptionApi.authorizerFunction),
  topic: logicalId(stack.monitoring.topic),
});
const DYNAMODB_WRITES: readonly string[] = [
  ...TABLE_WRITE_ACTIONS,
  'dynamodb:TransactWriteItems',
  'dynamodb:*',
];

describe('storage', () => {
  it('is the table of functions/core/storage/table.ts: keys, both GSIs with their projections, on-demand', () => {
    const [, table] = only(resourcesOf(template, 'AWS::DynamoDB::Table'));
    const expected = createTableInput('unused');
    const byName = (a: { AttributeName: string }, b: { AttributeName: string }) =>
      a.AttributeName.localeCompare(b.AttributeName);
    expect([...(table.Properties.AttributeDefinitions as { AttributeName: string }[])].sort(byName)).toEqual(
      [...expected.AttributeDefinitions].sort(byName),
    );
    expect(table.Properties.KeySchema).toEqual(expected.KeySchema);
    expect(table.Properties.BillingMode).toBe('PAY_PER_REQUEST');
    const indexes = table.Properties.GlobalSecondaryIndexes as Json[];
    expect(indexes).toHaveLength(2);
    for (const index of expected.GlobalSecondaryIndexes) {
      expect(indexes).toContainEqual(index);
    }
    expect(indexes).toContainEqual({
      IndexName: 'gsi1',
      KeySchema: [
        { AttributeName: 'gsi1pk', KeyType: 'HASH' },
        { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'KEYS_ONLY' },
    });
    expect(indexes).toContainEqual(
      expect.objectContaining({ IndexName: 'gsi2', Projection: { ProjectionType: 'ALL' } }),
    );
  });

  it('has TTL on expiresAt, point-in-time recovery, encryption and is retained on delete', () => {
    const [, table] = only(resourcesOf(template, 'AWS::DynamoDB::Table'));
    expect(table.Properties.TimeToLiveSpecification).toEqual({
      AttributeName: TABLE.ttlAttribute,
      Enabled: true,
    });
    expect(table.Properties.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
    expect(table.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(table.Properties.SSESpecification).toEqual({ SSEEnabled: true });
    expect(table.DeletionPolicy).toBe('Retain');
  });
});

describe('functions', () => {
  it('are every route, the authorizer, the fan-out and the delivery function, on Node.js 22 and arm64', () => {
    const functions = resourcesOf(template, 'AWS::Lambda::Function');
    expect(Object.keys(functions)).toHaveLength(ROUTES.length + 3);
    for (const fn of Object.values(functions)) {
      expect(fn.Properties.Runtime).toBe('nodejs22.x');
      expect(fn.Properties.Architectures).toEqual(['arm64']);
      expect(fn.Properties.Handler).toBe('index.handler');
      // Tracing is opt-in (context `tracing`).
      expect(fn.Properties.TracingConfig).toBeUndefined();
      expect((fn.Properties.Environment as { Variables: Json }).Variables.NODE_OPTIONS).toBe(
        '--enable-source-maps',
      );
      expect(fn.Properties.MemorySize).toBeGreaterThan(128);
    }
  });

  it('log to their own log group with a one-month retention', () => {
    const logGroups = resourcesOf(template, 'AWS::Logs::LogGroup');
    for (const fn of Object.values(resourcesOf(template, 'AWS::Lambda::Function'))) {
      const ref = (fn.Properties.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
      expect(logGroups[ref]?.Properties.RetentionInDays).toBe(30);
    }
  });

  it('are bundled as minified ESM with source maps that load without node_modules', async () => {
    const assetDirs = fs.readdirSync(outdir).filter((name) => name.startsWith('asset.'));
    expect(assetDirs.length).toBe(ROUTES.length + 3);
    for (const dir of assetDirs) {
      const files = fs.readdirSync(path.join(outdir, dir)).sort();
      expect(files).toEqual(['index.mjs', 'index.mjs.map']);
      const code = fs.readFileSync(path.join(outdir, dir, 'index.mjs'), 'utf8');
      expect(code.startsWith("import { createRequire } from 'node:module';")).toBe(true);
      // Minified: a few very long lines, not indented source.
      expect(code.length / code.split('\n').length).toBeGreaterThan(1000);
    }
    // The cloud assembly lives outside the repository, so nothing resolves from node_modules.
    const fanOutAsset = resourcesOf(template, 'AWS::Lambda::Function')[ids().fanOut]?.Properties.Code as {
      S3Key: string;
    };
    const bundle = path.join(outdir, `asset.${fanOutAsset.S3Key.replace(/\.zip$/, '')}`, 'index.mjs');
    const loaded: { handler?: unknown } = await import(pathToFileURL(bundle).href);
    expect(typeof loaded.handler).toBe('function');
  });

  it('run with their own roles: no managed policies, logs only on their own log group', () => {
    for (const [id, fn] of Object.entries(resourcesOf(template, 'AWS::Lambda::Function'))) {
      const role = roleOf(template, id);
      expect(role.managedPolicies).toEqual([]);
      const logGroupId = (fn.Properties.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
      expect(resourcesFor(role.statements, 'logs:PutLogEvents')).toEqual([
        JSON.stringify({ 'Fn::GetAtt': [logGroupId, 'Arn'] }),
      ]);
      for (const statement of role.statements) {
        expect(statement.Resource).not.toBe('*');
        expect(statement.Effect).toBe('Allow');
      }
    }
  });
});

describe('subscription API', () => {
  it('deploys stage v1 with stage-wide throttling, error logging without bodies and JSON access logs', () => {
    const [, stage] = only(resourcesOf(template, 'AWS::ApiGateway::Stage'));
    expect(stage.Properties.StageName).toBe(API.stageName);
    expect(stage.Properties.StageName).toBe('v1');
    expect(stage.Properties.MethodSettings).toContainEqual(
      expect.objectContaining({
        HttpMethod: '*',
        ResourcePath: '/*',
        ThrottlingRateLimit: API.throttleRateLimit,
        ThrottlingBurstLimit: API.throttleBurstLimit,
        LoggingLevel: 'ERROR',
        DataTraceEnabled: false,
      }),
    );
    const accessLog = stage.Properties.AccessLogSetting as {
      DestinationArn: { 'Fn::GetAtt': string[] };
      Format: string;
    };
    const logGroupId = accessLog.DestinationArn['Fn::GetAtt'][0] ?? '';
    expect(resourcesOf(template, 'AWS::Logs::LogGroup')[logGroupId]?.Properties.RetentionInDays).toBe(30);
    const format = JSON.parse(accessLog.Format) as Record<string, string>;
    expect(format).toMatchObject({ requestId: '$context.requestId', status: '$context.status' });
    expect(accessLog.Format).not.toMatch(/header/i);
  });

  it('has a REQUEST authorizer on the Authorization header with the result cache TTL', () => {
    const [, authorizer] = only(resourcesOf(template, 'AWS::ApiGateway::Authorizer'));
    expect(authorizer.Properties).toMatchObject({
      Type: 'REQUEST',
      IdentitySource: `method.request.header.${API.authorizerIdentityHeader}`,
      AuthorizerResultTtlInSeconds: API.authorizerCacheTtlSeconds,
    });
    expect(JSON.stringify(authorizer.Properties.AuthorizerUri)).toContain(ids().authorizer);
  });

  it('has exactly one method per route, each behind the custom authorizer, each with its own function', () => {
    const [authorizerId] = only(resourcesOf(template, 'AWS::ApiGateway::Authorizer'));
    const methods = resourcesOf(template, 'AWS::ApiGateway::Method');
    expect(Object.keys(methods)).toHaveLength(ROUTES.length);
    for (const method of Object.values(methods)) {
      expect(method.Properties.AuthorizationType).toBe('CUSTOM');
      expect(method.Properties.AuthorizerId).toEqual({ Ref: authorizerId });
    }
    const deployed = stack.subscriptionApi.api.methods
      .map((m) => `${m.httpMethod} ${m.resource.path}`)
      .sort();
    expect(deployed).toEqual(ROUTES.map((r) => `${r.method} ${r.path}`).sort());
    for (const route of ROUTES) {
      const method = stack.subscriptionApi.api.methods.find(
        (m) => m.httpMethod === route.method && m.resource.path === route.path,
      );
      const cfn = method ? resourcesOf(template, 'AWS::ApiGateway::Method')[logicalId(method)] : undefined;
      expect(JSON.stringify(cfn?.Properties.Integration)).toContain(routeFunctionId(stack, route.id));
    }
  });

  it('answers 401 with a Basic challenge and the service error shape', () => {
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'UNAUTHORIZED',
      StatusCode: '401',
      ResponseParameters: {
        'gatewayresponse.header.WWW-Authenticate': `'Basic realm="${API.authRealm}"'`,
      },
    });
    const body = gatewayResponse('UNAUTHORIZED').ResponseTemplates as Record<string, string>;
    expect(JSON.parse(body['application/json'] ?? '')).toEqual(GATEWAY_RESPONSES.unauthorized.body);
  });

  it('answers 403 (another project), 429 and every other 4xx/5xx in the service error shape', () => {
    const forbidden = gatewayResponse('ACCESS_DENIED');
    expect(forbidden.StatusCode).toBe('403');
    expect(
      JSON.parse((forbidden.ResponseTemplates as Record<string, string>)['application/json'] ?? ''),
    ).toEqual(GATEWAY_RESPONSES.forbidden.body);
    const throttled = gatewayResponse('THROTTLED');
    expect(throttled.StatusCode).toBe('429');
    expect(
      JSON.parse((throttled.ResponseTemplates as Record<string, string>)['application/json'] ?? ''),
    ).toEqual(GATEWAY_RESPONSES.throttled.body);
    for (const type of ['DEFAULT_4XX', 'DEFAULT_5XX']) {
      const body =
        (gatewayResponse(type).ResponseTemplates as Record<string, string>)['application/json'] ?? '';
      expect(body).toBe('{"success":false,"msg":$context.error.messageString,"errors":[]}');
      expect(JSON.parse(body.replace('$context.error.messageString', '"x"'))).toEqual({
        success: false,
        msg: 'x',
        errors: [],
      });
    }
  });

  it('grants each route function exactly the table access of its route', () => {
    const tableArn = JSON.stringify({ 'Fn::GetAtt': [ids().table, 'Arn'] });
    for (const route of ROUTES) {
      const role = roleOf(template, routeFunctionId(stack, route.id));
      const dynamodb = [...role.actions].filter((a) => a.startsWith('dynamodb:'));
      expect(dynamodb).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query']));
      if (route.access === 'read') {
        expect(
          dynamodb.filter((a) => DYNAMODB_WRITES.includes(a)),
          route.id,
        ).toEqual([]);
      } else {
        expect(resourcesFor(role.statements, 'dynamodb:PutItem'), route.id).toEqual([tableArn]);
        expect(dynamodb).toEqual(expect.arrayContaining(['dynamodb:UpdateItem', 'dynamodb:DeleteItem']));
      }
      expect(dynamodb.some((a) => a.includes('*') || a === 'dynamodb:Scan')).toBe(false);
      const others = [...role.actions].filter((a) => !a.startsWith('dynamodb:') && !a.startsWith('logs:'));
      expect(others, route.id).toEqual(route.access === 'enqueue' ? ['sqs:SendMessage'] : []);
      const fn = resourcesOf(template, 'AWS::Lambda::Function')[routeFunctionId(stack, route.id)];
      const variables = variablesOf(fn);
      expect(variables[ENV.tableName]).toEqual({ Ref: ids().table });
      expect(variables[ENV.allowHttpTargets]).toBe('false');
      expect(variables[ENV.allowPrivateTargets]).toBe('false');
    }
  });

  it('lets the authorizer read the table (API keys) and nothing else without JWT settings', () => {
    const role = roleOf(template, ids().authorizer);
    expect([...role.actions].filter((a) => DYNAMODB_WRITES.includes(a))).toEqual([]);
    expect(role.actions.has('dynamodb:GetItem')).toBe(true);
    expect([...role.actions].some((a) => a.startsWith('secretsmanager:'))).toBe(false);
    const fn = resourcesOf(template, 'AWS::Lambda::Function')[ids().authorizer];
    const variables = variablesOf(fn);
    expect(Object.keys(variables).filter((name) => name.startsWith('JWT_'))).toEqual([]);
  });
});

describe('ingest', () => {
  it('has the custom bus and a rule on it matching source tiledesk', () => {
    const [, bus] = only(resourcesOf(template, 'AWS::Events::EventBus'));
    expect(bus.Properties.Name).toBe('tiledesk-webhooks');
    const [, rule] = only(resourcesOf(template, 'AWS::Events::Rule'));
    expect(rule.Properties.EventBusName).toEqual({ Ref: ids().bus });
    expect(rule.Properties.EventPattern).toEqual({ source: [DEFAULTS.eventSource] });
    expect(rule.Properties.EventPattern).toEqual({ source: ['tiledesk'] });
  });

  it('targets the fan-out with a retry policy and the ingest DLQ', () => {
    const [, rule] = only(resourcesOf(template, 'AWS::Events::Rule'));
    const targets = rule.Properties.Targets as Json[];
    expect(targets).toHaveLength(1);
    expect(targets[0]).toMatchObject({
      Arn: { 'Fn::GetAtt': [ids().fanOut, 'Arn'] },
      RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 24 * 3600 },
      DeadLetterConfig: { Arn: { 'Fn::GetAtt': [ids().ingestDlq, 'Arn'] } },
    });
  });

  it("sends the fan-out's failed async invokes to the ingest DLQ", () => {
    const [, config] = only(resourcesOf(template, 'AWS::Lambda::EventInvokeConfig'));
    expect(config.Properties).toMatchObject({
      FunctionName: { Ref: ids().fanOut },
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [ids().ingestDlq, 'Arn'] } } },
    });
  });

  it('sizes the fan-out for 10k subscriptions and tells it where rejected events and deliveries go', () => {
    const fn = resourcesOf(template, 'AWS::Lambda::Function')[ids().fanOut];
    expect(fn?.Properties.Timeout).toBeGreaterThanOrEqual(120);
    expect(fn?.Properties.MemorySize).toBe(1024);
    expect(variablesOf(fn)).toMatchObject({
      [ENV.tableName]: { Ref: ids().table },
      [ENV.deliveryQueueUrl]: { Ref: ids().deliveryQueue },
      [ENV.rejectedEventsQueueUrl]: { Ref: ids().ingestDlq },
      [ENV.eventSource]: 'tiledesk',
    });
  });

  it('lets the fan-out Query gsi1 only and send to the delivery queue and the ingest DLQ', () => {
    const role = roleOf(template, ids().fanOut);
    expect([...role.actions].filter((a) => a.startsWith('dynamodb:'))).toEqual(['dynamodb:Query']);
    expect(resourcesFor(role.statements, 'dynamodb:Query')).toEqual([
      JSON.stringify({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [ids().table, 'Arn'] }, '/index/gsi1']] }),
    ]);
    expect(resourcesFor(role.statements, 'sqs:SendMessage').sort()).toEqual(
      [ids().deliveryQueue, ids().ingestDlq]
        .map((id) => JSON.stringify({ 'Fn::GetAtt': [id, 'Arn'] }))
        .sort(),
    );
  });
});

describe('delivery', () => {
  const queue = (id: string) => resourcesOf(template, 'AWS::SQS::Queue')[id]?.Properties ?? {};

  it('redrives the delivery queue to its DLQ after the schedule’s attempts plus a margin', () => {
    expect(queue(ids().deliveryQueue).RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [ids().deliveryDlq, 'Arn'] },
      maxReceiveCount: maxReceiveCountFor(DEFAULT_RETRY_SCHEDULE_SECONDS),
    });
    expect(maxReceiveCountFor(DEFAULT_RETRY_SCHEDULE_SECONDS)).toBe(10);
  });

  it('has a visibility timeout at least 6x the delivery function timeout', () => {
    const fn = resourcesOf(template, 'AWS::Lambda::Function')[ids().delivery];
    expect(fn?.Properties.Timeout).toBe(DELIVERY_FUNCTION_TIMEOUT_SECONDS);
    expect(queue(ids().deliveryQueue).VisibilityTimeout).toBeGreaterThanOrEqual(
      6 * DELIVERY_FUNCTION_TIMEOUT_SECONDS,
    );
  });

  it('encrypts every queue, enforces TLS on it, and keeps dead letters 14 days', () => {
    const queues = resourcesOf(template, 'AWS::SQS::Queue');
    expect(Object.keys(queues)).toHaveLength(3);
    for (const properties of Object.values(queues).map((q) => q.Properties)) {
      expect(properties.SqsManagedSseEnabled).toBe(true);
    }
    for (const dlq of [ids().deliveryDlq, ids().ingestDlq]) {
      expect(queue(dlq).MessageRetentionPeriod).toBe(1209600);
    }
    expect(queue(ids().deliveryQueue).MessageRetentionPeriod).toBe(QUEUES.delivery.retentionSeconds);
    const policies = Object.values(resourcesOf(template, 'AWS::SQS::QueuePolicy'));
    for (const id of Object.keys(queues)) {
      const policy = policies.find((p) => JSON.stringify(p.Properties.Queues).includes(id));
      const statements = (policy?.Properties.PolicyDocument as { Statement: Json[] } | undefined)?.Statement;
      expect(statements).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
    }
  });

  it('consumes the queue with partial batch failures, batch size and maximum concurrency', () => {
    const [, mapping] = only(resourcesOf(template, 'AWS::Lambda::EventSourceMapping'));
    expect(mapping.Properties).toEqual({
      EventSourceArn: { 'Fn::GetAtt': [ids().deliveryQueue, 'Arn'] },
      FunctionName: { Ref: ids().delivery },
      BatchSize: DELIVERY_EVENT_SOURCE.batchSize,
      MaximumBatchingWindowInSeconds: DELIVERY_EVENT_SOURCE.maxBatchingWindowSeconds,
      ScalingConfig: { MaximumConcurrency: DELIVERY_EVENT_SOURCE.maxConcurrency },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('configures the delivery function from the deployment settings', () => {
    const fn = resourcesOf(template, 'AWS::Lambda::Function')[ids().delivery];
    expect(variablesOf(fn)).toMatchObject({
      [ENV.tableName]: { Ref: ids().table },
      [ENV.deliveryQueueUrl]: { Ref: ids().deliveryQueue },
      [ENV.retrySchedule]: DEFAULT_RETRY_SCHEDULE_SECONDS.join(','),
      [ENV.attemptTimeoutMs]: String(DEFAULTS.attemptTimeoutMs),
      [ENV.allowHttpTargets]: 'false',
      [ENV.allowPrivateTargets]: 'false',
      [ENV.deliveryLogLevel]: 'all',
      [ENV.deliveryLogTtlDays]: '30',
      [ENV.disableAfterDays]: '5',
      [ENV.eventBusName]: { Ref: ids().bus },
    });
  });

  it('lets the delivery function consume and re-time its queue, write the table and put events on the bus', () => {
    const role = roleOf(template, ids().delivery);
    const queueArn = JSON.stringify({ 'Fn::GetAtt': [ids().deliveryQueue, 'Arn'] });
    expect(resourcesFor(role.statements, 'sqs:ChangeMessageVisibility')).toEqual([queueArn]);
    expect(resourcesFor(role.statements, 'sqs:DeleteMessage')).toEqual([queueArn]);
    expect(role.actions.has('sqs:SendMessage')).toBe(false);
    expect(resourcesFor(role.statements, 'dynamodb:PutItem')).toEqual([
      JSON.stringify({ 'Fn::GetAtt': [ids().table, 'Arn'] }),
    ]);
    expect(resourcesFor(role.statements, 'events:PutEvents')).toEqual([
      JSON.stringify({ 'Fn::GetAtt': [ids().bus, 'Arn'] }),
    ]);
  });
});

describe('monitoring', () => {
  const alarms = () =>
    Object.values(resourcesOf(template, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties);
  const alarmOn = (metricName: string, dimension: unknown) =>
    alarms().filter(
      (a) => a.MetricName === metricName && JSON.stringify(a.Dimensions).includes(JSON.stringify(dimension)),
    );

  it('alarms when the delivery DLQ or the ingest DLQ holds a message', () => {
    for (const dlq of [ids().deliveryDlq, ids().ingestDlq]) {
      const [alarm] = alarmOn('ApproximateNumberOfMessagesVisible', { 'Fn::GetAtt': [dlq, 'QueueName'] });
      expect(alarm).toMatchObject({
        Namespace: 'AWS/SQS',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        AlarmActions: [{ Ref: ids().topic }],
      });
    }
  });

  it('alarms on the age of the oldest delivery message', () => {
    const [alarm] = alarmOn('ApproximateAgeOfOldestMessage', {
      'Fn::GetAtt': [ids().deliveryQueue, 'QueueName'],
    });
    expect(alarm).toMatchObject({
      Threshold: oldestMessageAgeThresholdSeconds(DEFAULT_RETRY_SCHEDULE_SECONDS),
      AlarmActions: [{ Ref: ids().topic }],
    });
  });

  it('alarms on fan-out errors, API 5xx and the throttles of every function', () => {
    expect(alarmOn('Errors', { Ref: ids().fanOut })).toHaveLength(1);
    const [api5xx] = alarms().filter((a) => a.MetricName === '5XXError');
    expect(api5xx).toMatchObject({ Namespace: 'AWS/ApiGateway', Threshold: 1 });
    for (const id of Object.keys(resourcesOf(template, 'AWS::Lambda::Function'))) {
      expect(alarmOn('Throttles', { Ref: id }), id).toHaveLength(1);
    }
    for (const alarm of alarms()) expect(alarm.AlarmActions).toEqual([{ Ref: ids().topic }]);
  });

  it('alarms when failed payloads cannot be kept for replay or operational events cannot be put', () => {
    for (const metricName of [METRIC.payloadStoreFailures, METRIC.operationalEventFailures]) {
      const matching = alarms().filter((a) => a.MetricName === metricName);
      expect(matching, metricName).toHaveLength(1);
      expect(matching[0]).toMatchObject({
        Namespace: METRICS_NAMESPACE,
        Threshold: 1,
        Dimensions: [{ Name: 'service', Value: SERVICE_NAME }],
      });
    }
  });

  it('sends alarms to an SSL-only SNS topic under a rotating KMS key that CloudWatch may use', () => {
    const [, topic] = only(resourcesOf(template, 'AWS::SNS::Topic'));
    const keyRef = topic.Properties.KmsMasterKeyId as { 'Fn::GetAtt': string[] };
    const key = resourcesOf(template, 'AWS::KMS::Key')[keyRef['Fn::GetAtt'][0] ?? ''];
    expect(key?.Properties.EnableKeyRotation).toBe(true);
    expect(JSON.stringify(key?.Properties.KeyPolicy)).toContain('cloudwatch.amazonaws.com');
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it('has a dashboard with delivery rate, success ratio and latency from the EMF metrics', () => {
    const [, dashboard] = only(resourcesOf(template, 'AWS::CloudWatch::Dashboard'));
    const body = JSON.stringify(dashboard.Properties.DashboardBody);
    for (const text of [
      METRICS_NAMESPACE,
      METRIC.deliveries,
      METRIC.deliveryLatency,
      'outcome',
      'delivered',
    ]) {
      expect(body).toContain(text);
    }
    expect(body).toContain('Success ratio');
    expect(body).toContain('Delivery rate');
    expect(body).toContain('Attempt latency');
  });
});

describe('outputs', () => {
  it('names the API URL, bus, queues, table and alarm topic', () => {
    const outputs = template.findOutputs('*');
    expect(Object.keys(outputs).sort()).toEqual(
      [
        'AlarmTopicArn',
        'ApiUrl',
        'DeliveryDlqUrl',
        'DeliveryQueueUrl',
        'EventBusName',
        'IngestDlqUrl',
        'TableName',
      ].sort(),
    );
    expect(outputs.TableName?.Value).toEqual({ Ref: ids().table });
    expect(outputs.DeliveryQueueUrl?.Value).toEqual({ Ref: ids().deliveryQueue });
    const stageId = logicalId(stack.subscriptionApi.api.deploymentStage);
    expect(JSON.stringify(outputs.ApiUrl?.Value)).toContain(JSON.stringify({ Ref: stageId }));
  });
});

describe('cdk-nag', () => {
  it('AwsSolutions and Serverless report no unacknowledged finding, error or warning', () => {
    expect(nagFindings(stack)).toEqual([]);
    expect(
      Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*|Serverless-.*')),
    ).toEqual([]);
  });

  it('acknowledges findings one construct at a time, each with a one-sentence reason', () => {
    const acks = acknowledgements(stack);
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) {
      expect(ack.path).not.toBe(stack.node.path);
      expect(typeof ack.reason).toBe('string');
      expect(String(ack.reason)).toMatch(/^[A-Z`].{20,}[.]$/);
    }
    expect([...new Set(acks.map((a) => a.id))].sort()).toEqual(
      [
        'AwsSolutions-APIG2',
        'AwsSolutions-APIG3',
        'AwsSolutions-COG4',
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        'AwsSolutions-L1',
        'AwsSolutions-SQS3',
        'Serverless-APIGWXrayEnabled',
        'Serverless-LambdaDLQ',
        'Serverless-LambdaEventSourceMappingDestination',
        'Serverless-LambdaLatestVersion',
        'Serverless-LambdaTracing',
        'Serverless-SQSRedrivePolicy',
      ].sort(),
    );
  });
});

function variablesOf(fn: Resource | undefined): Json {
  const environment = fn?.Properties.Environment as { Variables?: Json } | undefined;
  return environment?.Variables ?? {};
}

function gatewayResponse(type: string): Json {
  const [response] = Object.values(resourcesOf(template, 'AWS::ApiGateway::GatewayResponse')).filter(
    (r) => r.Properties.ResponseType === type,
  );
  if (!response) throw new Error(`no gateway response ${type}`);
  return response.Properties;
}
