#!/usr/bin/env node
import { readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildOpenApiDocument, serializeOpenApiDocument } from '../functions/core/openapi/document';

/**
 * `npm run openapi`: writes docs/openapi.json from the route table and the zod schemas.
 * `npm run openapi -- --check`: exits 1 when the committed file is stale (changes nothing).
 */
const OPENAPI_PATH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../docs/openapi.json');

async function main(): Promise<void> {
  const generated = serializeOpenApiDocument(buildOpenApiDocument());
  if (process.argv.includes('--check')) {
    const committed = await readFile(OPENAPI_PATH, 'utf8').catch(() => '');
    if (committed !== generated) {
      console.error(`${OPENAPI_PATH} is stale: run npm run openapi`);
      process.exitCode = 1;
    }
    return;
  }
  await writeFile(OPENAPI_PATH, generated);
  console.log(`wrote ${OPENAPI_PATH}`);
}

await main();
