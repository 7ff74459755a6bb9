import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { header } from '../http/request';
import { logger } from '../observability';
import { verifyApiKey } from './api-keys';
import { parseAuthorization } from './credentials';
import { JwtRejected, type JwtVerifier } from './jwt';
import { allowPolicy } from './policy';

export interface AuthorizerDeps {
  db: DynamoDBDocumentClient;
  tableName: string;
  /** Absent when JWT auth is not configured: tokens are then refused. */
  jwt?: JwtVerifier | undefined;
}

export type AuthType = 'apiKey' | 'jwt';

/** The context API Gateway hands to the functions (values must be strings). */
export interface AuthorizerContext extends Record<string, string> {
  projectIds: string;
  principal: string;
  authType: AuthType;
}

/** The message API Gateway maps to a 401 (its UNAUTHORIZED gateway response). */
export const UNAUTHORIZED = 'Unauthorized';

function refuse(reason: string): never {
  // The reason is logged for operators; the header value never is.
  logger.info('credentials refused', { reason });
  throw new Error(UNAUTHORIZED);
}

/**
 * The REQUEST authorizer's decision: a valid API key or JWT yields a policy over its
 * project(s); anything else throws Error('Unauthorized'). AWS failures propagate as
 * other errors (API Gateway answers 500 for them, never 401 that hides an outage).
 */
export async function authorize(
  event: APIGatewayRequestAuthorizerEvent,
  deps: AuthorizerDeps,
): Promise<APIGatewayAuthorizerResult> {
  const credential = parseAuthorization(header(event.headers, 'authorization'));
  if (!credential) return refuse('no Authorization header');
  if (credential.kind === 'malformed') return refuse(credential.reason);

  if (credential.kind === 'basic') {
    const verdict = await verifyApiKey(deps.db, deps.tableName, credential.keyId, credential.secret);
    if (!verdict.ok) return refuse(verdict.reason);
    const context: AuthorizerContext = {
      projectIds: verdict.projectId,
      principal: verdict.keyId,
      authType: 'apiKey',
    };
    return allowPolicy(verdict.keyId, event.methodArn, [verdict.projectId], context);
  }

  if (!deps.jwt) return refuse('JWT auth is not configured');
  let principal: Awaited<ReturnType<JwtVerifier>>;
  try {
    principal = await deps.jwt(credential.token);
  } catch (error) {
    if (error instanceof JwtRejected) return refuse(`JWT: ${error.message}`);
    throw error;
  }
  const context: AuthorizerContext = {
    projectIds: principal.projectIds.join(','),
    principal: principal.subject,
    authType: 'jwt',
  };
  return allowPolicy(principal.subject, event.methodArn, principal.projectIds, context);
}
