import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { z } from 'zod';
import { parseInput } from '../schemas/parse';
import { forbidden } from './errors';

/** A header's value, whatever case the client (or the local stand-in) used for its name. */
export function header(
  headers: Record<string, string | undefined> | null | undefined,
  name: string,
): string | undefined {
  if (!headers) return undefined;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === wanted) return value;
  return undefined;
}

export interface Caller {
  /** Projects the credential may use (from the authorizer's context). */
  projectIds: string[];
  /** Key id or token subject: what `createdBy` records. */
  principal: string;
}

/** The authorizer's verdict as API Gateway passes it on (context values are strings). */
export function callerOf(event: APIGatewayProxyEvent): Caller {
  const context = event.requestContext?.authorizer ?? {};
  const projectIds = typeof context.projectIds === 'string' ? context.projectIds : '';
  const principal = typeof context.principal === 'string' ? context.principal : '';
  return { projectIds: projectIds.split(',').filter((id) => id !== ''), principal };
}

/**
 * Defence in depth: the authorizer's policy already limits a credential to its projects'
 * paths, and this re-checks it in the function, so a cached or misconfigured policy
 * still cannot reach another project's data.
 */
export function requireProject(event: APIGatewayProxyEvent, projectId: string): Caller {
  const caller = callerOf(event);
  if (!caller.projectIds.includes(projectId)) {
    throw forbidden('projectId', 'these credentials do not belong to this project');
  }
  return caller;
}

/**
 * A route's path parameters, validated with its schema (a 400 names the bad one) and
 * checked against the caller's projects (403): the first two steps of every handler.
 */
export function authorizedPath<S extends z.ZodType<{ projectId: string }>>(
  event: APIGatewayProxyEvent,
  schema: S,
): z.output<S> & { caller: Caller } {
  const path = parseInput(schema, event.pathParameters ?? {}, 'path');
  return { ...path, caller: requireProject(event, path.projectId) };
}
