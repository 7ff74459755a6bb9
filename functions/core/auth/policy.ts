import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import type { Route } from '../../api/routes';

/**
 * The HTTP methods a route may have; a policy names each rather than a wildcard in the
 * method's place. A literal list, not derived from ROUTES, so the authorizer bundle does
 * not load the route table's zod schemas (cold start); the auth matrix e2e test calls every route.
 */
const METHODS = ['GET', 'POST', 'PUT', 'DELETE'] as const satisfies readonly Route['method'][];

/**
 * The authorizer's IAM policy. API Gateway caches it per Authorization header for every
 * path, so it allows only the credential's own projects' resources: another project's
 * path is then a 403 even from the cache.
 */
export function projectResources(methodArn: string, projectIds: readonly string[]): string[] {
  // arn:aws:execute-api:<region>:<account>:<apiId>/<stage>/<method>/<path...>
  const parts = methodArn.split(':');
  const [arn, partition, service, region, account, resource] = parts;
  const [apiId, stage] = (resource ?? '').split('/');
  if (parts.length !== 6 || arn !== 'arn' || service !== 'execute-api' || !apiId || !stage) {
    throw new Error(`unexpected methodArn ${methodArn.slice(0, 200)}`);
  }
  const base = `arn:${partition}:execute-api:${region}:${account}:${apiId}/${stage}`;
  return projectIds.flatMap((projectId) =>
    METHODS.flatMap((method) => [
      `${base}/${method}/${projectId}/subscriptions`,
      `${base}/${method}/${projectId}/subscriptions/*`,
    ]),
  );
}

export function allowPolicy(
  principalId: string,
  methodArn: string,
  projectIds: readonly string[],
  context: Record<string, string>,
): APIGatewayAuthorizerResult {
  return {
    principalId,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [
        { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: projectResources(methodArn, projectIds) },
      ],
    },
    context,
  };
}
