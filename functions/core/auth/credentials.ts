/**
 * The Authorization header's forms: `Basic base64(keyId:secret)` (what `curl -u` sends),
 * `Bearer <jwt>`, and Tiledesk's `JWT <jwt>`.
 */
export type Credential =
  | { kind: 'basic'; keyId: string; secret: string }
  | { kind: 'jwt'; token: string }
  | { kind: 'malformed'; reason: string };

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
/** Far above any key or token we issue; bounds the work done on a hostile header. */
const MAX_HEADER_LENGTH = 8192;

export function parseAuthorization(value: string | undefined): Credential | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  if (value.length > MAX_HEADER_LENGTH) return { kind: 'malformed', reason: 'header too long' };
  const match = /^\s*(\S+)\s+(\S+)\s*$/.exec(value);
  if (!match) return { kind: 'malformed', reason: 'not "<scheme> <credentials>"' };
  const scheme = (match[1] ?? '').toLowerCase();
  const token = match[2] ?? '';
  if (scheme === 'basic') {
    if (!BASE64.test(token)) return { kind: 'malformed', reason: 'Basic credentials are not base64' };
    const decoded = Buffer.from(token, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0 || colon === decoded.length - 1) {
      return { kind: 'malformed', reason: 'Basic credentials are not keyId:secret' };
    }
    return { kind: 'basic', keyId: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
  }
  if (scheme === 'bearer' || scheme === 'jwt') {
    if (!JWT_SHAPE.test(token)) return { kind: 'malformed', reason: 'token is not a compact JWT' };
    return { kind: 'jwt', token };
  }
  return { kind: 'malformed', reason: `unsupported scheme ${scheme.slice(0, 20)}` };
}
