import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    setupFiles: ['test/setup.ts'],
    // Captures every worker's output and fails the run if a secret was logged.
    globalSetup: ['test/secret-scan/global-setup.ts'],
    // CDK synthesis and the local stack are slow on a shared 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    env: { CDK_DOCKER: 'false', POWERTOOLS_DEV: 'false', AWS_REGION: 'us-east-1' },
  },
});
