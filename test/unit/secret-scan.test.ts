import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { newApiKeySecret, newWebhookSecret } from '../../functions/core/ids';
import { findSecrets, scanDirectory } from '../secret-scan/scan';

/**
 * The detector of the suite-wide secret scan catches what it must. Secrets are planted in
 * strings and in a private temp dir only, never in this worker's real capture.
 */
const dir = mkdtempSync(join(tmpdir(), 'secret-scan-detector-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('secret scan detector', () => {
  it('finds a webhook secret, Basic credentials and a bearer JWT by their shape', () => {
    const basic = `Basic ${Buffer.from(`key_abc:${newApiKeySecret()}`).toString('base64')}`;
    const text = [
      '{"level":"INFO","message":"webhook delivered"}',
      `{"level":"ERROR","headers":{"x-hook-secret":"${newWebhookSecret()}"}}`,
      `authorization=${basic}`,
      'token: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln',
    ].join('\n');

    const findings = findSecrets(text, []);

    expect(findings.map((f) => [f.line, f.what])).toEqual([
      [2, 'webhook secret (whsec_)'],
      [3, 'Basic credentials'],
      [4, 'bearer JWT'],
    ]);
    // The report masks what it found.
    expect(findings.map((f) => f.excerpt).join('\n')).not.toContain(basic.slice(6));
  });

  it('finds a registered secret that has no shape (an API key secret)', () => {
    const secret = newApiKeySecret();

    const findings = findSecrets(`{"msg":"verifying","value":"${secret}"}`, [secret]);

    expect(findings).toHaveLength(1);
    expect(findings[0]?.what).toBe('registered secret');
    expect(findings[0]?.excerpt).not.toContain(secret);
  });

  it('finds nothing in ordinary log lines, masked values and ids', () => {
    const text = [
      '{"level":"INFO","message":"credentials refused","reason":"wrong secret"}',
      '{"deliveryId":"msg_mf1jh1xedzkcqg3eg7nqqhaeq0","target":"https://user:****@example.com/"}',
      'WWW-Authenticate: Basic realm="tiledesk-webhooks"',
      'responseBody: [redacted]',
    ].join('\n');

    expect(findSecrets(text, ['short'])).toEqual([]);
  });

  it('scans every capture file of a directory with the secrets registered in it', () => {
    const secret = newApiKeySecret();
    writeFileSync(join(dir, '1-0.secrets'), `${secret}\n`);
    writeFileSync(join(dir, '1-0.log'), 'clean line\n');
    writeFileSync(join(dir, '2-0.log'), `clean\n{"item":{"error":"echo ${secret}"}}\n`);

    const { files, findings } = scanDirectory(dir);

    expect(files).toBe(2);
    expect(findings.map((f) => [f.file, f.line, f.what])).toEqual([['2-0.log', 2, 'registered secret']]);
  });
});
