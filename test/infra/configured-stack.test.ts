import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../functions/api/routes';
import { maxReceiveCountFor } from '../../functions/core/config/retry-schedule';
import { ENV } from '../../functions/core/config/settings';
import { oldestMessageAgeThresholdSeconds } from '../../lib/monitoring';
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

/** Every context value set away from its default, as `cdk synth -c name=value` passes them. */
const CONTEXT = {
  stage: 'prod',
  eventBusName: 'platform-events',
  eventSource: 'tiledesk.platform',
  allowHttpTargets: 'true',
  allowPrivateTargets: 'false',
  retrySchedule: '5,60,300',
  attemptTimeoutMs: '5000',
  deliveryLogLevel: 'failures',
  deliveryLogTtlDays: '7',
  disableAfterDays: '3',
  jwtIssuer: 'https://auth.example.com/',
  jwtAudience: 'webhooks',
  jwtSecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:webhooks/jwt',
  jwtProjectClaim: 'project',
  alarmEmail: 'ops@example.com',
  tracing: 'true',
};

let stack: WebhookStack;
let template: Template;

beforeAll(() => {
  ({ stack, template } = synthStack(CONTEXT));
});

const functions = () => resourcesOf(template, 'AWS::Lambda::Function');
const variablesOf = (fn: Resource | undefined): Json =>
  (fn?.Properties.Environment as { Variables?: Json } | undefined)?.Variables ?? {};

describe('a stack configured from context', () => {
  it('names the bus and matches the configured source', () => {
    template.hasResourceProperties('AWS::Events::EventBus', { Name: 'platform-events' });
    template.hasResourceProperties('AWS::Events::Rule', { EventPattern: { source: ['tiledesk.platform'] } });
    expect(variablesOf(functions()[logicalId(stack.ingest.function)])[ENV.eventSource]).toBe(
      'tiledesk.platform',
    );
  });

  it('derives the redrive policy, the RETRY_SCHEDULE and the age alarm from the same schedule', () => {
    const queue = resourcesOf(template, 'AWS::SQS::Queue')[logicalId(stack.delivery.queue)];
    expect((queue?.Properties.RedrivePolicy as Json | undefined)?.maxReceiveCount).toBe(
      maxReceiveCountFor([5, 60, 300]),
    );
    expect(maxReceiveCountFor([5, 60, 300])).toBe(6);
    const delivery = functions()[logicalId(stack.delivery.function)];
    expect(variablesOf(delivery)).toMatchObject({
      [ENV.retrySchedule]: '5,60,300',
      [ENV.attemptTimeoutMs]: '5000',
      [ENV.allowHttpTargets]: 'true',
      [ENV.allowPrivateTargets]: 'false',
      [ENV.deliveryLogLevel]: 'failures',
      [ENV.deliveryLogTtlDays]: '7',
      [ENV.disableAfterDays]: '3',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateAgeOfOldestMessage',
      Threshold: oldestMessageAgeThresholdSeconds([5, 60, 300]),
    });
  });

  it('passes the target policy to every route function', () => {
    for (const route of ROUTES) {
      const fn = functions()[routeFunctionId(stack, route.id)];
      expect(variablesOf(fn)[ENV.allowHttpTargets], route.id).toBe('true');
    }
  });

  it('gives the authorizer the JWT settings and GetSecretValue on that one secret', () => {
    const authorizerId = logicalId(stack.subscriptionApi.authorizerFunction);
    expect(variablesOf(functions()[authorizerId])).toMatchObject({
      [ENV.jwtIssuer]: 'https://auth.example.com/',
      [ENV.jwtAudience]: 'webhooks',
      [ENV.jwtSecretArn]: CONTEXT.jwtSecretArn,
      [ENV.jwtProjectClaim]: 'project',
    });
    expect(variablesOf(functions()[authorizerId])[ENV.jwtJwksUrl]).toBeUndefined();
    const role = roleOf(template, authorizerId);
    // As given, and with the `-??????` pattern a partial ARN (no random suffix) needs to match.
    expect(resourcesFor(role.statements, 'secretsmanager:GetSecretValue')).toEqual([
      JSON.stringify(CONTEXT.jwtSecretArn),
      JSON.stringify(`${CONTEXT.jwtSecretArn}-??????`),
    ]);
    for (const route of ROUTES) {
      const routeRole = roleOf(template, routeFunctionId(stack, route.id));
      expect(
        [...routeRole.actions].some((a) => a.startsWith('secretsmanager:')),
        route.id,
      ).toBe(false);
    }
  });

  it('traces every function and the API stage with X-Ray', () => {
    for (const fn of Object.values(functions())) {
      expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
    }
    template.hasResourceProperties('AWS::ApiGateway::Stage', { TracingEnabled: true });
  });

  it('mails the alarms to alarmEmail', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: { Ref: logicalId(stack.monitoring.topic) },
    });
  });

  it('passes cdk-nag with the tracing grants acknowledged only for X-Ray', () => {
    expect(nagFindings(stack)).toEqual([]);
    const acks = acknowledgements(stack);
    for (const ack of acks) expect(String(ack.reason)).toMatch(/^[A-Z`].{20,}[.]$/);
    const ids = new Set(acks.map((a) => a.id));
    expect(ids.has('Serverless-LambdaTracing')).toBe(false);
    expect(ids.has('Serverless-APIGWXrayEnabled')).toBe(false);
    expect(ids.has('Serverless-SNSRedrivePolicy')).toBe(true);
    // Resource::* is acknowledged on function roles, and the only such statements are X-Ray's.
    for (const id of Object.keys(functions())) {
      const wildcard = roleOf(template, id).statements.filter((s) => s.Resource === '*');
      expect(wildcard.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])).sort()).toEqual([
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
      ]);
    }
  });
});
