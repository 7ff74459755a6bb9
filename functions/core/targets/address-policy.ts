import ipaddr from 'ipaddr.js';

/**
 * Which IP addresses a webhook may be sent to. Only public unicast: no private,
 * loopback, link-local (which holds the 169.254.169.254 metadata service), CGNAT,
 * multicast, reserved, documentation, benchmarking, NAT64/6to4/Teredo-embedded,
 * unique-local (which holds the fd00:ec2::254 metadata service) or unspecified address.
 * IPv4-mapped IPv6 (::ffff:10.0.0.1) is judged as the IPv4 address it carries.
 */
const PUBLIC_RANGES = new Set(['unicast']);

/** IPv6 ranges that embed an IPv4 address: judge the embedded one too. */
function embeddedIPv4(address: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  const range = address.range();
  const parts = address.toByteArray();
  if (address.isIPv4MappedAddress()) return address.toIPv4Address();
  if (range === 'rfc6052' || range === 'rfc6145') {
    // NAT64 64:ff9b::/96 and IPv4-translated: the last 32 bits.
    return new ipaddr.IPv4(parts.slice(12, 16));
  }
  if (range === '6to4') return new ipaddr.IPv4(parts.slice(2, 6));
  return undefined;
}

export type AddressVerdict = { allowed: true } | { allowed: false; reason: string };

/** Judges one literal address (v4 or v6). `allowPrivate` is the local stack's and tests' escape hatch. */
export function judgeAddress(literal: string, options: { allowPrivate?: boolean } = {}): AddressVerdict {
  const bare = literal.startsWith('[') && literal.endsWith(']') ? literal.slice(1, -1) : literal;
  if (!ipaddr.isValid(bare)) return { allowed: false, reason: `not an IP address: ${literal}` };
  if (options.allowPrivate) return { allowed: true };
  const address = ipaddr.parse(bare);
  if (address.kind() === 'ipv6') {
    const v4 = embeddedIPv4(address as ipaddr.IPv6);
    if (v4) {
      const verdict = judgeAddress(v4.toString());
      return verdict.allowed
        ? verdict
        : { allowed: false, reason: `address ${bare} embeds ${v4.toString()} (${v4.range()})` };
    }
  }
  const range = address.range();
  if (!PUBLIC_RANGES.has(range))
    return { allowed: false, reason: `address ${bare} is in the ${range} range` };
  return { allowed: true };
}

/**
 * Strict literal detection: a host that `new URL` would read as an IPv4 address in any
 * notation (decimal `2130706433`, octal `0177.0.0.1`, hex `0x7f.1`) is normalised by
 * WHATWG URL parsing already, so callers pass `url.hostname`.
 */
export function isIpLiteral(hostname: string): boolean {
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return ipaddr.isValid(bare) && (ipaddr.IPv4.isValidFourPartDecimal(bare) || bare.includes(':'));
}
