import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import type { LookupFunction } from 'node:net';
import type { TargetPolicy } from '../config/settings';
import { type AddressVerdict, isIpLiteral, judgeAddress } from '../targets/address-policy';

/**
 * The SSRF guard at delivery time (DESIGN §4). Every attempt resolves the target's host,
 * refuses it if ANY address is not public unicast, and then connects to the address that
 * was checked (pinnedLookup), so a DNS answer that changes between check and connect
 * (rebinding) cannot redirect the request.
 */

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to all its addresses; injectable so tests can play DNS. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export type AddressJudge = (address: string) => AddressVerdict;

export const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses: LookupAddress[]) => {
      if (error) reject(error);
      else resolve(addresses.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 })));
    });
  });

export type TargetCheck =
  | { allowed: true; url: URL; hostname: string; address: string; family: 4 | 6 }
  | { allowed: false; reason: string };

/** `[::1]` -> `::1`: URL keeps the brackets of an IPv6 literal, sockets want it bare. */
export function bareHostname(url: URL): string {
  const host = url.hostname;
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

export async function checkTarget(
  target: string,
  policy: TargetPolicy,
  options: { resolver?: Resolver; judge?: AddressJudge } = {},
): Promise<TargetCheck> {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return { allowed: false, reason: 'target is not a valid URL' };
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && policy.allowHttp)) {
    return { allowed: false, reason: `scheme ${url.protocol.replace(':', '')} is not allowed` };
  }
  const judge =
    options.judge ?? ((address: string) => judgeAddress(address, { allowPrivate: policy.allowPrivate }));
  const hostname = bareHostname(url);
  if (hostname === '') return { allowed: false, reason: 'target has no host' };

  // WHATWG URL parsing already normalised every IPv4 notation (0x7f.1, 2130706433) to dotted decimal.
  if (isIpLiteral(hostname)) {
    const verdict = judge(hostname);
    if (!verdict.allowed) return { allowed: false, reason: verdict.reason };
    return { allowed: true, url, hostname, address: hostname, family: hostname.includes(':') ? 6 : 4 };
  }

  let addresses: ResolvedAddress[];
  try {
    addresses = await (options.resolver ?? systemResolver)(hostname);
  } catch (error) {
    const code = error instanceof Error && 'code' in error ? String(error.code) : 'error';
    return { allowed: false, reason: `cannot resolve ${hostname}: ${code}` };
  }
  if (addresses.length === 0) return { allowed: false, reason: `${hostname} has no address` };
  for (const { address } of addresses) {
    const verdict = judge(address);
    if (!verdict.allowed)
      return { allowed: false, reason: `${hostname} resolves to a refused address: ${verdict.reason}` };
  }
  const first = addresses[0] as ResolvedAddress;
  return { allowed: true, url, hostname, address: first.address, family: first.family };
}

/**
 * A `lookup` for the socket that ignores DNS and answers the checked address, for both
 * the single-address and the `all: true` (happy eyeballs) call forms.
 */
export function pinnedLookup(address: string, family: 4 | 6): LookupFunction {
  return (_hostname: string, options: LookupOptions, callback) => {
    if (options.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  };
}
