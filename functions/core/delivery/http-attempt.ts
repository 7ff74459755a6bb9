import http, { type ClientRequest, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { LIMITS } from '../config/limits';
import type { TargetPolicy } from '../config/settings';
import {
  type AddressJudge,
  checkTarget,
  pinnedLookup,
  type Resolver,
  type TargetCheck,
} from './target-guard';
import type { WebhookRequest } from './webhook-request';

/**
 * One webhook POST: SSRF check, a pinned connection over a keep-alive agent, one overall
 * timeout for resolve + connect + response, no redirects, and a bounded read of the body.
 */

export interface Agents {
  http: http.Agent;
  https: https.Agent;
}

/** Reused across invocations of a warm function: most receivers get many deliveries in a row. */
export const keepAliveAgents: Agents = {
  http: new http.Agent({ keepAlive: true, maxSockets: 64, maxFreeSockets: 64, scheduling: 'lifo' }),
  https: new https.Agent({ keepAlive: true, maxSockets: 64, maxFreeSockets: 64, scheduling: 'lifo' }),
};

export interface AttemptOptions {
  timeoutMs: number;
  targets: TargetPolicy;
  resolver?: Resolver | undefined;
  /** Tests only: judge addresses differently (e.g. treat one loopback address as public). */
  judge?: AddressJudge | undefined;
  agents?: Agents | undefined;
}

export type HttpAttemptResult =
  | {
      kind: 'response';
      statusCode: number;
      /** The raw Retry-After header, if any. */
      retryAfter: string | undefined;
      /** At most LIMITS.maxLoggedResponseBytes of the body, as text. */
      body: string;
      durationMs: number;
    }
  | {
      kind: 'error';
      /** Why no response came: refused target, timeout, network error. Never holds a header. */
      error: string;
      refused: boolean;
      durationMs: number;
    };

class AttemptTimeout extends Error {
  constructor(timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms`);
    this.name = 'AttemptTimeout';
  }
}

function describeError(error: unknown): string {
  if (error instanceof AttemptTimeout) return error.message;
  if (error instanceof Error) {
    const code = 'code' in error && typeof error.code === 'string' ? error.code : undefined;
    return code && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}

export async function postWebhook(
  target: string,
  request: WebhookRequest,
  options: AttemptOptions,
): Promise<HttpAttemptResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new AttemptTimeout(options.timeoutMs)), options.timeoutMs);
  });
  // The deadline may fire after the race below has settled; it must not be an unhandled rejection.
  deadline.catch(() => undefined);
  try {
    const check = await Promise.race([
      checkTarget(target, options.targets, { resolver: options.resolver, judge: options.judge }),
      deadline,
    ]);
    if (!check.allowed) {
      return {
        kind: 'error',
        error: `target refused: ${check.reason}`,
        refused: true,
        durationMs: elapsed(),
      };
    }
    const agents = options.agents ?? keepAliveAgents;
    const response = await sendOnce(check, request, agents, deadline).catch((error: unknown) => {
      // A keep-alive socket the receiver closed while idle fails at once; one fresh try is
      // what Node's documentation advises, and it cannot be a duplicate (nothing was read).
      if (error instanceof ReusedSocketError) return sendOnce(check, request, agents, deadline);
      throw error;
    });
    return { kind: 'response', ...response, durationMs: elapsed() };
  } catch (error) {
    return { kind: 'error', error: describeError(error), refused: false, durationMs: elapsed() };
  } finally {
    clearTimeout(timer);
  }
}

class ReusedSocketError extends Error {}

type CheckedTarget = Extract<TargetCheck, { allowed: true }>;

function sendOnce(
  check: CheckedTarget,
  request: WebhookRequest,
  agents: Agents,
  deadline: Promise<never>,
): Promise<{ statusCode: number; retryAfter: string | undefined; body: string }> {
  const { url } = check;
  const secure = url.protocol === 'https:';
  const bodyBytes = Buffer.from(request.body, 'utf8');
  const username = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  let req: ClientRequest | undefined;
  let responded = false;

  const exchange = new Promise<{ statusCode: number; retryAfter: string | undefined; body: string }>(
    (resolve, reject) => {
      const requestOptions: https.RequestOptions = {
        method: 'POST',
        hostname: check.hostname,
        port: url.port === '' ? (secure ? 443 : 80) : Number(url.port),
        path: `${url.pathname}${url.search}`,
        headers: { ...request.headers, 'content-length': String(bodyBytes.length) },
        agent: secure ? agents.https : agents.http,
        // The socket connects to the address that checkTarget judged, never to a fresh DNS answer.
        lookup: pinnedLookup(check.address, check.family),
        ...(username !== '' ? { auth: `${username}:${password}` } : {}),
      };
      req = (secure ? https : http).request(requestOptions, (res) => {
        responded = true;
        readBounded(res, deadline).then(
          (body) =>
            resolve({ statusCode: res.statusCode ?? 0, retryAfter: header(res, 'retry-after'), body }),
          reject,
        );
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        if (req?.reusedSocket && (error.code === 'ECONNRESET' || error.code === 'EPIPE')) {
          reject(new ReusedSocketError(error.message));
        } else reject(error);
      });
      req.end(bodyBytes);
    },
  );
  return Promise.race([exchange, deadline]).catch((error: unknown) => {
    // The receiver answered before the deadline: its status stands, the body read is cut short.
    if (responded) return exchange;
    req?.destroy();
    throw error;
  });
}

function header(res: IncomingMessage, name: string): string | undefined {
  const value = res.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Reads at most LIMITS.maxReadResponseBytes, keeps LIMITS.maxLoggedResponseBytes. A longer
 * body, or one still arriving at the deadline, is cut by destroying the response (the socket
 * is not reused). The status is already known, so a body error does not change the outcome.
 */
function readBounded(res: IncomingMessage, deadline: Promise<never>): Promise<string> {
  return new Promise((resolve) => {
    const kept: Buffer[] = [];
    let keptBytes = 0;
    let readBytes = 0;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      resolve(Buffer.concat(kept).toString('utf8'));
    };
    res.on('data', (chunk: Buffer) => {
      readBytes += chunk.length;
      if (keptBytes < LIMITS.maxLoggedResponseBytes) {
        const slice = chunk.subarray(0, LIMITS.maxLoggedResponseBytes - keptBytes);
        kept.push(slice);
        keptBytes += slice.length;
      }
      if (readBytes >= LIMITS.maxReadResponseBytes) {
        res.destroy();
        finish();
      }
    });
    res.on('end', finish);
    res.on('close', finish);
    res.on('error', finish);
    deadline.catch(() => {
      if (done) return;
      res.destroy();
      finish();
    });
  });
}
