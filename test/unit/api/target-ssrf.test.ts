import { describe, expect, it } from 'vitest';
import { LIMITS } from '../../../functions/core/config/limits';
import { targetProblem, targetSchema } from '../../../functions/core/schemas';

const deployed = { allowHttp: false, allowPrivate: false };

describe('target schema: SSRF literal corpus', () => {
  const refused: [string, RegExp][] = [
    ['https://10.0.0.1/hook', /private/],
    ['https://127.0.0.1/hook', /loopback/],
    ['https://[::1]/hook', /loopback/],
    ['https://169.254.169.254/latest/meta-data', /linkLocal/],
    ['https://[fd00:ec2::254]/', /uniqueLocal/],
    ['https://100.64.0.1/', /carrierGradeNat/],
    ['https://224.0.0.1/', /multicast/],
    ['https://[::ffff:10.0.0.1]/', /embeds 10\.0\.0\.1/],
    ['https://0.0.0.0/', /unspecified/],
    ['https://2130706433/', /loopback/],
    ['https://0177.0.0.1/', /loopback/],
    ['https://0x7f000001/', /loopback/],
    ['https://localhost/hook', /localhost/],
    ['https://api.localhost./hook', /localhost/],
    ['https://user:pass@example.com/hook', /credentials/],
    ['https://user@example.com/hook', /credentials/],
    ['http://example.com/hook', /https/],
    [`https://example.com/${'a'.repeat(LIMITS.maxTargetLength)}`, /at most 2048/],
    ['ftp://example.com/file', /https/],
    ['/relative/hook', /absolute/],
    ['example.com/hook', /absolute/],
    ['https://example.com/hook#frag', /fragment/],
    [' https://example.com/hook', /whitespace/],
  ];

  for (const [target, reason] of refused) {
    it(`refuses ${target.slice(0, 60)}`, () => {
      expect(targetProblem(target, deployed)).toMatch(reason);
      const result = targetSchema(deployed).safeParse(target);
      expect(result.success).toBe(false);
    });
  }

  it('accepts public https targets, with ports and queries', () => {
    for (const target of [
      'https://example.com/hook',
      'https://hooks.example.com:8443/a/b?x=1',
      'https://8.8.8.8/hook',
      'https://[2001:4860:4860::8888]/hook',
    ]) {
      expect(targetProblem(target, deployed), target).toBeUndefined();
    }
  });

  it('accepts exactly the maximum length', () => {
    const base = 'https://example.com/';
    expect(targetProblem(base + 'a'.repeat(LIMITS.maxTargetLength - base.length), deployed)).toBeUndefined();
  });

  it('allows http only when the deployment does', () => {
    expect(
      targetProblem('http://example.com/hook', { allowHttp: true, allowPrivate: false }),
    ).toBeUndefined();
    expect(targetProblem('ftp://example.com/', { allowHttp: true, allowPrivate: false })).toMatch(
      /http or https/,
    );
  });

  it('allows loopback and localhost only when private targets are allowed (the local stack)', () => {
    const local = { allowHttp: true, allowPrivate: true };
    for (const target of ['http://127.0.0.1:9000/hook', 'http://localhost:9000/hook', 'http://[::1]:9000/']) {
      expect(targetProblem(target, local), target).toBeUndefined();
    }
    expect(targetProblem('http://u:p@127.0.0.1/', local)).toMatch(/credentials/);
  });
});
