import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The secret detector of the test suite's log scan: shapes that are secrets wherever they
 * appear (Standard Webhooks secrets, Basic credentials, bearer JWTs), plus the exact values
 * tests registered (API key secrets, subscription secrets), which have no shape of their own.
 */
export const SECRET_PATTERNS: readonly { name: string; pattern: RegExp }[] = [
  { name: 'webhook secret (whsec_)', pattern: /whsec_[A-Za-z0-9+/=]{20,}/ },
  { name: 'Basic credentials', pattern: /Basic [A-Za-z0-9+/=]{16,}/ },
  { name: 'bearer JWT', pattern: /(?:Bearer|JWT) ey[A-Za-z0-9_-]{8,}/ },
];

/** Registered values shorter than this are too likely to occur by chance to be scanned for. */
export const MIN_REGISTERED_SECRET_LENGTH = 12;

export interface Finding {
  file: string;
  line: number;
  what: string;
  /** The line with the secret masked: the report must not print it either. */
  excerpt: string;
}

function mask(text: string, secret: string): string {
  return text.split(secret).join(`${secret.slice(0, 4)}…[${secret.length} chars]`);
}

export function findSecrets(text: string, registered: readonly string[], file = '(text)'): Finding[] {
  const findings: Finding[] = [];
  const known = registered.filter((value) => value.length >= MIN_REGISTERED_SECRET_LENGTH);
  text.split('\n').forEach((line, index) => {
    for (const { name, pattern } of SECRET_PATTERNS) {
      const match = pattern.exec(line);
      if (match)
        findings.push({ file, line: index + 1, what: name, excerpt: mask(line, match[0]).slice(0, 300) });
    }
    for (const secret of known) {
      if (line.includes(secret)) {
        findings.push({
          file,
          line: index + 1,
          what: 'registered secret',
          excerpt: mask(line, secret).slice(0, 300),
        });
      }
    }
  });
  return findings;
}

/** Scans every captured `*.log` file of `dir` for the patterns and the values in its `*.secrets` files. */
export function scanDirectory(dir: string): { files: number; lines: number; findings: Finding[] } {
  const names = readdirSync(dir);
  const registered = names
    .filter((name) => name.endsWith('.secrets'))
    .flatMap((name) => readFileSync(join(dir, name), 'utf8').split('\n'))
    .filter((value) => value !== '');
  const findings: Finding[] = [];
  let lines = 0;
  const logs = names.filter((name) => name.endsWith('.log'));
  for (const name of logs) {
    const text = readFileSync(join(dir, name), 'utf8');
    lines += text.split('\n').length;
    findings.push(...findSecrets(text, registered, name));
  }
  return { files: logs.length, lines, findings };
}
