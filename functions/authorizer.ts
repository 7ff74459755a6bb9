import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { type AuthorizerDeps, authorize } from './core/auth/authorizer';
import { createJwtVerifier } from './core/auth/jwt';
import { jwtSettings, tableName } from './core/config/settings';
import { newDocumentClient } from './core/http/clients';

const db = newDocumentClient();
const secretsManager = new SecretsManagerClient({});
let deps: AuthorizerDeps | undefined;

/** The REST API's REQUEST authorizer: API keys (Basic) and JWTs (Bearer / JWT). */
export async function handler(event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> {
  if (!deps) {
    const jwt = jwtSettings();
    deps = { db, tableName: tableName(), jwt: jwt ? createJwtVerifier(jwt, { secretsManager }) : undefined };
  }
  return authorize(event, deps);
}
