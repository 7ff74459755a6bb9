import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import { ROUTES } from '../../api/routes';

/** The HTTP methods the API has; a policy names each rather than a wildcard in the method's place. */
const METHODS = [...new Set(ROUTES.map((route) => route.method))];

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
