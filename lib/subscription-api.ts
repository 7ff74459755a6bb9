import { Duration } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  AuthorizationType,
  EndpointType,
  IdentitySource,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  RequestAuthorizer,
  ResponseType,
  RestApi,
} from 'aws-cdk-lib/aws-apigateway';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ROUTES, type Route } from '../functions/api/routes';
import { API } from '../functions/core/config/api';
import { ENV } from '../functions/core/config/settings';
import { GATEWAY_RESPONSES, WWW_AUTHENTICATE } from '../functions/core/http/responses';
import type { JwtConfig, WebhookConfig } from './context';
import { deliveryEnvironment } from './delivery';
import { acknowledgeNag } from './nag';
import { tableAccessFor, WebhookFunction } from './webhook-function';

/** API Gateway's integration timeout caps what a route function may take. */
const API_INTEGRATION_TIMEOUT_SECONDS = 29;

export interface SubscriptionApiProps {
  table: ITable;
  /** The `enqueue` routes (retry, recover) send to it. */
  deliveryQueue: IQueue;
  config: WebhookConfig;
  /** Defaults to ROUTES; tests may pass a subset. */
  routes?: readonly Route[];
}

const SYNCHRONOUS_INVOKE =
  'Invoked synchronously by API Gateway: a failure returns to the caller, there is no event to dead-letter.';

/** `$context.error.messageString` is already a quoted JSON string. */
const GATEWAY_ERROR_BODY = '{"success":false,"msg":$context.error.messageString,"errors":[]}';

/**
 * Access log fields. Never a header (the Authorization value stays out of the logs);
 * the authorizer's principal is the key id or the token's subject.
 */
const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  extendedRequestId: '$context.extendedRequestId',
  requestTime: '$context.requestTime',
  ip: '$context.identity.sourceIp',
  httpMethod: '$context.httpMethod',
  resourcePath: '$context.resourcePath',
  path: '$context.path',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationLatency: '$context.integration.latency',
  principalId: '$context.authorizer.principalId',
  authorizerError: '$context.authorizer.error',
  errorMessage: '$context.error.message',
  errorType: '$context.error.responseType',
} as const;

/** JWT settings for the authorizer; unset values are left out so the defaults apply. */
function jwtEnvironment(jwt: JwtConfig | undefined): Record<string, string> {
  if (!jwt) return {};
  const environment: Record<string, string> = {
    [ENV.jwtIssuer]: jwt.issuer,
    [ENV.jwtAudience]: jwt.audience,
    [ENV.jwtProjectClaim]: jwt.projectClaim,
  };
  if (jwt.jwksUrl) environment[ENV.jwtJwksUrl] = jwt.jwksUrl;
  if (jwt.secretArn) environment[ENV.jwtSecretArn] = jwt.secretArn;
  return environment;
}

/**
 * The IAM resources of the JWT secret. Its ARN may be given with or without Secrets
 * Manager's random 6-character suffix, and the two cannot be told apart (`my-secret`
 * ends in six characters too), so both the ARN and the ARN with `-??????` are granted.
 */
export function secretResourceArns(secretArn: string): string[] {
  return [secretArn, `${secretArn}-??????`];
}

/**
 * The REST API (DESIGN §2.1): stage v1 with throttling and JSON access logs, the REQUEST
 * authorizer (API keys and JWT) with a result cache on every method, one function per
 * route of ROUTES with exactly the access its route names, and gateway responses in the
 * service's error shape.
 */
export class SubscriptionApi extends Construct {
  readonly api: RestApi;
  readonly authorizerFunction: WebhookFunction;
  readonly routeFunctions: ReadonlyMap<string, WebhookFunction>;
  readonly accessLogGroup: LogGroup;

  constructor(scope: Construct, id: string, props: SubscriptionApiProps) {
    super(scope, id);
    const { config, table } = props;
    const routes = props.routes ?? ROUTES;

    this.authorizerFunction = new WebhookFunction(this, 'Authorizer', {
      entry: 'functions/authorizer.ts',
      description: 'Authorizes API requests by project API key (Basic) or JWT (Bearer)',
      tracing: config.tracing,
      environment: jwtEnvironment(config.jwt),
    });
    this.authorizerFunction.acknowledgeNoDeadLetterQueue(SYNCHRONOUS_INVOKE);
    this.authorizerFunction.bindTable(table, 'read');
    if (config.jwt?.secretArn) {
      this.authorizerFunction.addToRolePolicy(
        new PolicyStatement({
          actions: ['secretsmanager:GetSecretValue'],
          resources: secretResourceArns(config.jwt.secretArn),
        }),
      );
    }
    const authorizer = new RequestAuthorizer(this, 'RequestAuthorizer', {
      handler: this.authorizerFunction,
      identitySources: [IdentitySource.header(API.authorizerIdentityHeader)],
      resultsCacheTtl: Duration.seconds(API.authorizerCacheTtlSeconds),
    });

    this.accessLogGroup = new LogGroup(this, 'AccessLogs', { retention: RetentionDays.ONE_MONTH });
    this.api = new RestApi(this, 'Api', {
      restApiName: `tiledesk-webhooks-${config.stage}`,
      description: 'Tiledesk-compatible RESTHooks subscription API',
      endpointTypes: [EndpointType.REGIONAL],
      // The account-level role API Gateway needs to write access and execution logs.
      cloudWatchRole: true,
      deployOptions: {
        stageName: API.stageName,
        throttlingRateLimit: API.throttleRateLimit,
        throttlingBurstLimit: API.throttleBurstLimit,
        accessLogDestination: new LogGroupLogDestination(this.accessLogGroup),
        accessLogFormat: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
        loggingLevel: MethodLoggingLevel.ERROR,
        // Request and response bodies stay out of the execution logs.
        dataTraceEnabled: false,
        metricsEnabled: true,
        tracingEnabled: config.tracing,
      },
      defaultMethodOptions: { authorizer, authorizationType: AuthorizationType.CUSTOM },
    });
    // The stack's ApiUrl output replaces the one RestApi adds by itself.
    this.api.node.tryRemoveChild('Endpoint');
    this.addGatewayResponses();

    const routeFunctions = new Map<string, WebhookFunction>();
    for (const route of routes) {
      const fn = this.routeFunction(route, props);
      routeFunctions.set(route.id, fn);
      this.api.root.resourceForPath(route.path).addMethod(route.method, new LambdaIntegration(fn));
    }
    this.routeFunctions = routeFunctions;
    this.acknowledgeNagFindings(config);
  }

  private acknowledgeNagFindings(config: WebhookConfig): void {
    acknowledgeNag(
      this.api,
      'AwsSolutions-APIG2',
      'Route handlers validate every request with zod, so each 400 names its field in the service error shape.',
    );
    for (const method of this.api.methods) {
      acknowledgeNag(
        method,
        'AwsSolutions-COG4',
        'Integrators authenticate with project API keys or platform JWTs through the REQUEST authorizer, not Cognito.',
      );
    }
    const cloudWatchRole = this.api.node.tryFindChild('CloudWatchRole');
    if (cloudWatchRole) {
      acknowledgeNag(
        cloudWatchRole,
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        "AWS's managed policy is the documented grant for the account-level role API Gateway writes logs with.",
      );
    }
    acknowledgeNag(
      this.api.deploymentStage,
      'AwsSolutions-APIG3',
      'WAF is a per-deployment choice; the API already has stage throttling, an authorizer on every method and body limits.',
    );
    if (!config.tracing) {
      acknowledgeNag(
        this.api.deploymentStage,
        'Serverless-APIGWXrayEnabled',
        'X-Ray tracing is opt-in with the `tracing` context value (cost); deploy with -c tracing=true to enable it.',
      );
    }
  }

  private routeFunction(route: Route, props: SubscriptionApiProps): WebhookFunction {
    const { config } = props;
    const environment: Record<string, string> = {
      // Create and update validate targets with the deployment's target policy.
      [ENV.allowHttpTargets]: String(config.allowHttpTargets),
      [ENV.allowPrivateTargets]: String(config.allowPrivateTargets),
      ...(route.access === 'deliver' ? deliveryEnvironment(config) : {}),
      // Retry and recover queue deliveries again; recover's `since` is bounded by the log's retention.
      ...(route.access === 'enqueue'
        ? {
            [ENV.deliveryQueueUrl]: props.deliveryQueue.queueUrl,
            [ENV.deliveryLogTtlDays]: String(config.deliveryLogTtlDays),
          }
        : {}),
      // Secret rotation is a write: how long a replaced secret keeps signing.
      ...(route.access === 'write' ? { [ENV.secretGraceHours]: String(config.secretGraceHours) } : {}),
    };
    const fn = new WebhookFunction(this, route.id, {
      entry: route.entry,
      description: `${route.method} ${route.path}: ${route.summary}`,
      tracing: config.tracing,
      timeout: Duration.seconds(
        route.access === 'read' || route.access === 'write' ? 10 : API_INTEGRATION_TIMEOUT_SECONDS,
      ),
      environment,
    });
    fn.acknowledgeNoDeadLetterQueue(SYNCHRONOUS_INVOKE);
    fn.bindTable(props.table, tableAccessFor(route.access));
    if (route.access === 'enqueue') {
      fn.addToRolePolicy(
        new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [props.deliveryQueue.queueArn] }),
      );
    }
    if (route.access === 'deliver' && config.attemptTimeoutMs >= API_INTEGRATION_TIMEOUT_SECONDS * 1000) {
      throw new Error(
        `attemptTimeoutMs must be below API Gateway's ${API_INTEGRATION_TIMEOUT_SECONDS} s for ${route.id}`,
      );
    }
    return fn;
  }

  private addGatewayResponses(): void {
    const json = (body: string) => ({ 'application/json': body });
    // No or unreadable credentials: the documents' `curl -u` clients expect a Basic challenge.
    this.api.addGatewayResponse('Unauthorized', {
      type: ResponseType.UNAUTHORIZED,
      statusCode: '401',
      responseHeaders: { 'WWW-Authenticate': `'${WWW_AUTHENTICATE}'` },
      templates: json(JSON.stringify(GATEWAY_RESPONSES.unauthorized.body)),
    });
    // The authorizer's policy does not cover the path (credentials of another project).
    this.api.addGatewayResponse('AccessDenied', {
      type: ResponseType.ACCESS_DENIED,
      statusCode: '403',
      templates: json(JSON.stringify(GATEWAY_RESPONSES.forbidden.body)),
    });
    this.api.addGatewayResponse('Throttled', {
      type: ResponseType.THROTTLED,
      statusCode: '429',
      templates: json(JSON.stringify(GATEWAY_RESPONSES.throttled.body)),
    });
    this.api.addGatewayResponse('Default4xx', {
      type: ResponseType.DEFAULT_4XX,
      templates: json(GATEWAY_ERROR_BODY),
    });
    this.api.addGatewayResponse('Default5xx', {
      type: ResponseType.DEFAULT_5XX,
      templates: json(GATEWAY_ERROR_BODY),
    });
  }
}
