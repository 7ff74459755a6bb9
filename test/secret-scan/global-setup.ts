import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { scanDirectory } from './scan';

declare module 'vitest' {
  export interface ProvidedContext {
    secretScanDir: string;
  }
}

/**
 * The suite-wide secret scan. Every worker appends what it writes to stdout and stderr,
 * console output, and the delivery-log items tests dump, under one temp dir (test/setup.ts);
 * the teardown scans it all and FAILS the run if a secret appears.
 */
export default function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), 'webhooks-secret-scan-'));
  project.provide('secretScanDir', dir);
  return () => {
    const { files, lines, findings } = scanDirectory(dir);
    const keep = process.env.SECRET_SCAN_KEEP === '1';
    if (!keep) rmSync(dir, { recursive: true, force: true });
    if (findings.length > 0) {
      // vitest reports a teardown error but keeps exit code 0: set the failure explicitly.
      process.exitCode = 1;
      const report = findings.map((f) => `  ${f.file}:${f.line} ${f.what}: ${f.excerpt}`).join('\n');
      throw new Error(
        `secret scan: ${findings.length} secret(s) in test output or delivery-log items:\n${report}`,
      );
    }
    console.log(`[secret-scan] ${files} capture file(s), ${lines} line(s): no secret found`);
  };
}
