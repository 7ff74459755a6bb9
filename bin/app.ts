#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { configFromContext } from '../lib/context';
import { WebhookStack } from '../lib/webhook-stack';

/**
 * The CDK app: one stack per stage, configured from context (cdk.json or `-c name=value`,
 * see lib/context.ts). cdk-nag's AwsSolutions and Serverless packs check every synth.
 */
const app = new App();
const config = configFromContext(app.node);

new WebhookStack(app, `TiledeskWebhooks-${config.stage}`, {
  config,
  description: `Tiledesk-compatible RESTHooks webhooks (${config.stage})`,
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});

// cdk-nag v3 runs as a policy-validation plugin: any unacknowledged finding fails synthesis.
Validations.of(app).addPlugins(
  new AwsSolutionsChecks(app, { verbose: true }),
  new ServerlessChecks(app, { verbose: true }),
);
