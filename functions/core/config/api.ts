/**
 * REST API constants shared by the CDK stack and the local API Gateway stand-in.
 */
export const API = {
  stageName: 'v1',
  /** Authorizer result cache: a revoked key keeps working for at most this long. */
  authorizerCacheTtlSeconds: 300,
  /** The request parts the authorizer cache is keyed by (identity sources). */
  authorizerIdentityHeader: 'Authorization',
  /** Stage-wide throttling (requests per second, burst). */
  throttleRateLimit: 100,
  throttleBurstLimit: 200,
  /** Response header with the next page's cursor on list routes. */
  nextCursorHeader: 'x-next-cursor',
  /** The realm in `WWW-Authenticate` on a 401. */
  authRealm: 'tiledesk-webhooks',
} as const;

/** Project ids as they appear in paths and credentials; also keeps IAM policy ARNs free of wildcards. */
export const PROJECT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
