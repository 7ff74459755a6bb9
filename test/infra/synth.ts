import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { configFromContext } from '../../lib/context';
import { WebhookStack } from '../../lib/webhook-stack';

/** Synthesizes the stack once, from the given context (as `-c name=value` would give it). */
export function synthStack(context: Record<string, string> = {}) {
  const app = new App({ context });
  const stack = new WebhookStack(app, 'Test', {
    config: configFromContext(app.node),
    env: { account: '123456789012', region: 'us-east-1' },
  });
  const template = Template.fromStack(stack);
  return { app, stack, template };
}

export type Json = Record<string, unknown>;
export type Resource = { Type: string; Properties: Json; DeletionPolicy?: string };

export function resourcesOf(template: Template, type: string): Record<string, Resource> {
  return template.findResources(type) as Record<string, Resource>;
}

export function logicalId(construct: IConstruct): string {
  const child = construct.node.defaultChild as CfnFunction | undefined;
  if (!child) throw new Error(`${construct.node.path} has no default child`);
  return Stack.of(construct).getLogicalId(child);
}

export function routeFunctionId(stack: WebhookStack, routeId: string): string {
  const fn = stack.subscriptionApi.routeFunctions.get(routeId);
  if (!fn) throw new Error(`no function for route ${routeId}`);
  return logicalId(fn);
}

export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

function asArray<T>(value: T | T[]): T[] {
  return Array.isArray(value) ? value : [value];
}

/** Every statement of every IAM policy attached to a function's role, plus its managed policies. */
export function roleOf(template: Template, functionLogicalId: string) {
  const fn = resourcesOf(template, 'AWS::Lambda::Function')[functionLogicalId];
  if (!fn) throw new Error(`no function ${functionLogicalId}`);
  const roleRef = fn.Properties.Role as { 'Fn::GetAtt': [string, string] };
  const roleId = roleRef['Fn::GetAtt'][0];
  const role = resourcesOf(template, 'AWS::IAM::Role')[roleId];
  if (!role) throw new Error(`no role ${roleId}`);
  const statements: Statement[] = [];
  for (const policy of Object.values(resourcesOf(template, 'AWS::IAM::Policy'))) {
    const roles = (policy.Properties.Roles as { Ref: string }[] | undefined) ?? [];
    if (!roles.some((r) => r.Ref === roleId)) continue;
    const document = policy.Properties.PolicyDocument as { Statement: Statement[] };
    statements.push(...document.Statement);
  }
  const inline =
    (role.Properties.Policies as { PolicyDocument: { Statement: Statement[] } }[] | undefined) ?? [];
  for (const policy of inline) statements.push(...policy.PolicyDocument.Statement);
  return {
    statements,
    managedPolicies: (role.Properties.ManagedPolicyArns as unknown[] | undefined) ?? [],
    actions: new Set(statements.flatMap((s) => asArray(s.Action))),
  };
}

/** The statements granting `action`, with their resources as JSON strings. */
export function resourcesFor(statements: Statement[], action: string): string[] {
  return statements
    .filter((s) => asArray(s.Action).includes(action))
    .flatMap((s) => asArray(s.Resource).map((r) => JSON.stringify(r)));
}

/** cdk-nag v3 findings (errors and warnings) that no acknowledgement covers. */
export function nagFindings(scope: IConstruct) {
  return [new AwsSolutionsChecks(), new ServerlessChecks()].flatMap((pack) =>
    pack.validateScope(scope).violations.map((v) => ({
      rule: v.ruleName,
      severity: v.severity,
      resources: v.violatingResources.map((r) => r.constructPath),
    })),
  );
}

/** Every cdk-nag acknowledgement in the tree: where, which rule, and why. */
export function acknowledgements(scope: IConstruct) {
  const found: { path: string; id: string; reason: unknown }[] = [];
  for (const construct of scope.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, unknown>)) {
        found.push({ path: construct.node.path, id: id.replace(/^annotation::/i, ''), reason });
      }
    }
  }
  return found;
}
