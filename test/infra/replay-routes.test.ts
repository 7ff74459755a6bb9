import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../functions/api/routes';
import { ENV } from '../../functions/core/config/settings';
import type { WebhookStack } from '../../lib/webhook-stack';
import {
  type Json,
  logicalId,
  type Resource,
  resourcesFor,
  resourcesOf,
  roleOf,
  routeFunctionId,
  synthStack,
} from './synth';

/**
 * The operations routes (issue 5): test ping, secret rotation, retry and recover get the
 * settings and the grants their access level needs, and nothing more; the delivery
 * function may put its operational events on the bus.
 */
let template: Template;
let stack: WebhookStack;

beforeAll(() => {
  ({ template, stack } = synthStack({
    attemptTimeoutMs: '4000',
    deliveryLogTtlDays: '14',
    deliveryLogLevel: 'failures',
    secretGraceHours: '6',
  }));
});

function variablesOf(routeId: string): Json {
  const fn = resourcesOf(template, 'AWS::Lambda::Function')[routeFunctionId(stack, routeId)] as Resource;
  return (fn.Properties.Environment as { Variables?: Json } | undefined)?.Variables ?? {};
}

function routeOf(id: string) {
  const route = ROUTES.find((candidate) => candidate.id === id);
  if (!route) throw new Error(`no route ${id}`);
  return route;
}

describe('operations routes', () => {
  it('are in the route table with the access each needs', () => {
    expect(routeOf('TestSubscription')).toMatchObject({
      method: 'POST',
      path: '/{projectId}/subscriptions/{subscriptionId}/test',
      access: 'deliver',
    });
    expect(routeOf('RotateSubscriptionSecret')).toMatchObject({
      method: 'POST',
      path: '/{projectId}/subscriptions/{subscriptionId}/secret',
      access: 'write',
    });
    expect(routeOf('RetryDelivery')).toMatchObject({
      method: 'POST',
      path: '/{projectId}/subscriptions/{subscriptionId}/deliveries/{deliveryId}/retry',
      access: 'enqueue',
    });
    expect(routeOf('RecoverDeliveries')).toMatchObject({
      method: 'POST',
      path: '/{projectId}/subscriptions/{subscriptionId}/recover',
      access: 'enqueue',
    });
  });

  it('give the ping the attempt and delivery-log settings, and no queue', () => {
    const variables = variablesOf('TestSubscription');
    expect(variables).toMatchObject({
      [ENV.attemptTimeoutMs]: '4000',
      [ENV.deliveryLogTtlDays]: '14',
      [ENV.deliveryLogLevel]: 'failures',
      [ENV.allowHttpTargets]: 'false',
      [ENV.allowPrivateTargets]: 'false',
    });
    expect(variables[ENV.deliveryQueueUrl]).toBeUndefined();
    const role = roleOf(template, routeFunctionId(stack, 'TestSubscription'));
    expect([...role.actions].some((action) => action.startsWith('sqs:'))).toBe(false);
    expect(role.actions.has('dynamodb:PutItem')).toBe(true);
  });

  it('give rotation the grace period', () => {
    expect(variablesOf('RotateSubscriptionSecret')[ENV.secretGraceHours]).toBe('6');
  });

  it('give retry and recover the delivery queue, SendMessage on it only, and the log retention', () => {
    const queueArn = JSON.stringify({ 'Fn::GetAtt': [logicalId(stack.delivery.queue), 'Arn'] });
    for (const id of ['RetryDelivery', 'RecoverDeliveries']) {
      const variables = variablesOf(id);
      expect(variables[ENV.deliveryQueueUrl], id).toEqual({ Ref: logicalId(stack.delivery.queue) });
      expect(variables[ENV.deliveryLogTtlDays], id).toBe('14');
      const role = roleOf(template, routeFunctionId(stack, id));
      expect(resourcesFor(role.statements, 'sqs:SendMessage'), id).toEqual([queueArn]);
      expect(
        [...role.actions].filter((action) => action.startsWith('sqs:')),
        id,
      ).toEqual(['sqs:SendMessage']);
    }
  });

  it('let the delivery function put operational events on the bus only', () => {
    const role = roleOf(template, logicalId(stack.delivery.function));
    expect(resourcesFor(role.statements, 'events:PutEvents')).toEqual([
      JSON.stringify({ 'Fn::GetAtt': [logicalId(stack.ingest.bus), 'Arn'] }),
    ]);
    const fn = resourcesOf(template, 'AWS::Lambda::Function')[logicalId(stack.delivery.function)] as Resource;
    const variables = (fn.Properties.Environment as { Variables: Json }).Variables;
    expect(variables[ENV.eventBusName]).toEqual({ Ref: logicalId(stack.ingest.bus) });
  });
});
