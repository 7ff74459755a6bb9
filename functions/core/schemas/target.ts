import * as z from 'zod';
import { LIMITS } from '../config/limits';
import type { TargetPolicy } from '../config/settings';
import { isIpLiteral, judgeAddress } from '../targets/address-policy';

/** The reason a target URL is refused, or undefined when it is acceptable under `policy`. */
export function targetProblem(value: string, policy: TargetPolicy): string | undefined {
  if (value.length > LIMITS.maxTargetLength) return `must be at most ${LIMITS.maxTargetLength} characters`;
  // The URL parser silently drops surrounding whitespace; the stored target must be what is called.
  if (value !== value.trim()) return 'must not start or end with whitespace';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute URL';
  }
  const schemes = policy.allowHttp ? ['https:', 'http:'] : ['https:'];
  if (!schemes.includes(url.protocol)) {
    return policy.allowHttp ? 'must be an http or https URL' : 'must be an https URL';
  }
  if (url.username !== '' || url.password !== '') return 'must not contain credentials (user:password@)';
  // A fragment is never sent over HTTP, so a target with one is a mistake, not an address.
  if (value.includes('#')) return 'must not contain a fragment (#...)';
  // WHATWG parsing already turned decimal, octal and hex IPv4 forms into dotted quads.
  const host = url.hostname;
  if (isIpLiteral(host)) {
    const verdict = judgeAddress(host, { allowPrivate: policy.allowPrivate });
    if (!verdict.allowed) return `must not point to a private or reserved address (${verdict.reason})`;
  } else if (!policy.allowPrivate) {
    const name = host.toLowerCase().replace(/\.$/, '');
    if (name === 'localhost' || name.endsWith('.localhost')) return 'must not point to localhost';
  }
  return undefined;
}

/**
 * A webhook `target` under a deployment's TargetPolicy. Host names are judged again after
 * DNS resolution at delivery time; this schema refuses what is wrong on its face.
 */
export function targetSchema(policy: TargetPolicy) {
  return z
    .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') })
    .superRefine((value, ctx) => {
      const problem = targetProblem(value, policy);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    })
    .meta({
      description: `Absolute ${policy.allowHttp ? 'http(s)' : 'https'} URL, at most ${LIMITS.maxTargetLength} characters`,
      examples: ['https://example.com/hook'],
    });
}
