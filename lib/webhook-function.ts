import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import {
  LogLevel,
  NodejsFunction,
  type NodejsFunctionProps,
  OutputFormat,
} from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { RouteAccess } from '../functions/api/routes';
import { TABLE } from '../functions/core/storage/table';
import { acknowledgeNag } from './nag';

/** The repository root: handler entries (ROUTES[].entry) are relative to it. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * What a function may do with the table. `read` and `write` mirror RouteAccess (the
 * `enqueue` and `deliver` routes write the table too); `fanOutQuery` is the fan-out's
 * single need: Query on the (project, event) index.
 */
export type TableAccess = 'read' | 'write' | 'fanOutQuery';

export const TABLE_READ_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:ConditionCheckItem',
] as const;

export const TABLE_WRITE_ACTIONS = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
] as const;

/** The table access a route's `access` needs. */
export function tableAccessFor(access: RouteAccess): TableAccess {
  return access === 'read' ? 'read' : 'write';
}

export interface WebhookFunctionProps
  extends Omit<
    NodejsFunctionProps,
    'runtime' | 'architecture' | 'bundling' | 'logGroup' | 'role' | 'tracing'
  > {
  /** Handler module relative to the repository root, e.g. `functions/fan-out.ts`. */
  entry: string;
  /** X-Ray active tracing (context `tracing`). */
  tracing: boolean;
  /** Removal policy of the function's log group. */
  logRemovalPolicy?: RemovalPolicy;
}

/**
 * Every Lambda of the service: Node.js 22 on arm64, bundled locally by esbuild as ESM
 * (minified, with source maps), its own log group with a retention, its own role that
 * starts with nothing but writing to that log group.
 */
export class WebhookFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: WebhookFunctionProps) {
    const { entry, tracing, logRemovalPolicy, environment, ...rest } = props;
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: logRemovalPolicy ?? RemovalPolicy.DESTROY,
    });
    // An explicit role instead of AWSLambdaBasicExecutionRole: logs are granted on this
    // function's log group only, not on every log group of the account.
    const role = new Role(scope, `${id}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${id}`,
    });
    logGroup.grantWrite(role);
    super(scope, id, {
      memorySize: 256,
      timeout: Duration.seconds(10),
      ...rest,
      entry: path.join(REPO_ROOT, entry),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      role,
      logGroup,
      tracing: tracing ? Tracing.ACTIVE : Tracing.DISABLED,
      environment: {
        // esbuild writes source maps; Node only applies them to stack traces with this flag.
        NODE_OPTIONS: '--enable-source-maps',
        ...environment,
      },
      bundling: WEBHOOK_BUNDLING,
    });
    const runtimeReason =
      'Node.js 22 is the runtime this service is built and tested for; a newer one is a deliberate upgrade.';
    acknowledgeNag(this, 'AwsSolutions-L1', runtimeReason);
    acknowledgeNag(this, 'Serverless-LambdaLatestVersion', runtimeReason);
    if (tracing) {
      acknowledgeNag(
        role,
        'AwsSolutions-IAM5[Resource::*]',
        "X-Ray's PutTraceSegments and PutTelemetryRecords support no resource-level permissions.",
      );
    } else {
      acknowledgeNag(
        this,
        'Serverless-LambdaTracing',
        'X-Ray tracing is opt-in with the `tracing` context value (cost); deploy with -c tracing=true to enable it.',
      );
    }
  }

  /** Acknowledges Serverless-LambdaDLQ with how this function's failures are kept instead. */
  acknowledgeNoDeadLetterQueue(reason: string): this {
    acknowledgeNag(this, 'Serverless-LambdaDLQ', reason);
    return this;
  }

  /** Grants `access` on the table and sets TABLE_NAME, in one call so neither is forgotten. */
  bindTable(table: ITable, access: TableAccess): this {
    this.addEnvironment(TABLE.envVar, table.tableName);
    if (access === 'fanOutQuery') {
      this.addToRolePolicy(
        new PolicyStatement({
          actions: ['dynamodb:Query'],
          resources: [`${table.tableArn}/index/${TABLE.fanOutIndex.name}`],
        }),
      );
      return this;
    }
    const indexArns = [TABLE.fanOutIndex.name, TABLE.deliveryIndex.name].map(
      (index) => `${table.tableArn}/index/${index}`,
    );
    this.addToRolePolicy(
      new PolicyStatement({ actions: [...TABLE_READ_ACTIONS], resources: [table.tableArn, ...indexArns] }),
    );
    if (access === 'write') {
      // Writes go to the base table only; indexes are maintained by DynamoDB.
      this.addToRolePolicy(
        new PolicyStatement({ actions: [...TABLE_WRITE_ACTIONS], resources: [table.tableArn] }),
      );
    }
    return this;
  }
}

/**
 * Bundling decisions (see the report/README):
 * - ESM output (`index.mjs`): our code is ESM and top-level imports tree-shake better;
 *   the banner gives bundled CommonJS dependencies (ipaddr.js, parts of the SDK) the
 *   `require` that ESM lacks.
 * - The AWS SDK v3 is bundled, not taken from the runtime: the minified, tree-shaken
 *   clients load faster at cold start than the runtime's full packages from disk, and
 *   the deployed SDK is the version the tests ran against.
 * - `forceDockerBundling: false`: synthesis runs offline with the local esbuild.
 */
export const WEBHOOK_BUNDLING: NonNullable<NodejsFunctionProps['bundling']> = {
  format: OutputFormat.ESM,
  target: 'node22',
  mainFields: ['module', 'main'],
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  externalModules: [],
  banner: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
  forceDockerBundling: false,
  // Size tables of 10+ bundles drown the synth output; warnings and errors still show.
  logLevel: LogLevel.WARNING,
};
