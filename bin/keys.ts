/**
 * Project API keys from the command line:
 *   npm run keys -- create --project <id> [--name <label>]
 *   npm run keys -- list --project <id>
 *   npm run keys -- revoke <keyId>
 * Uses TABLE_NAME, the usual AWS credentials and region, and AWS_ENDPOINT_URL_DYNAMODB
 * for the local stack.
 */
import { parseArgs } from 'node:util';
import { ApiKeyInputError, createApiKey, listApiKeys, revokeApiKey } from '../functions/core/auth/api-keys';
import { API, PROJECT_ID_PATTERN } from '../functions/core/config/api';
import { ENV, tableName } from '../functions/core/config/settings';
import { newDocumentClient } from '../functions/core/http/clients';

const USAGE = `usage:
  npm run keys -- create --project <projectId> [--name <label>]
  npm run keys -- list --project <projectId>
  npm run keys -- revoke <keyId>
environment: ${ENV.tableName} (required), AWS_REGION, AWS_ENDPOINT_URL_DYNAMODB (local stack)`;

class UsageError extends Error {}

function requireProject(project: string | undefined): string {
  if (!project) throw new UsageError('--project <projectId> is required');
  if (!PROJECT_ID_PATTERN.test(project))
    throw new UsageError('--project must be 1-64 letters, digits, _ or -');
  return project;
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { project: { type: 'string' }, name: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
    strict: true,
  });
  const [command, ...rest] = positionals;
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (command !== 'create' && command !== 'list' && command !== 'revoke') {
    throw new UsageError(command ? `unknown command "${command}"` : 'a command is required');
  }
  if (command === 'revoke' ? rest.length !== 1 : rest.length !== 0) {
    throw new UsageError(`unexpected arguments: ${rest.join(' ') || '(none)'}`);
  }
  const project = command === 'revoke' ? undefined : requireProject(values.project);
  let table: string;
  try {
    table = tableName();
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const db = newDocumentClient();

  if (command === 'create') {
    const created = await createApiKey(db, table, {
      projectId: requireProject(values.project),
      name: values.name,
    });
    console.log(`key id:  ${created.keyId}`);
    console.log(`secret:  ${created.secret}`);
    console.log('The secret is shown only now; store it safely (only its hash is kept).');
    console.log('Try it:');
    console.log(
      `  curl -u '${created.keyId}:${created.secret}' https://<api>/${API.stageName}/${created.projectId}/subscriptions`,
    );
    return;
  }
  if (command === 'list') {
    const found = await listApiKeys(db, table, project ?? '');
    if (found.length === 0) console.log('no keys');
    for (const key of found) {
      const state = key.revokedAt ? `revoked ${key.revokedAt}` : 'active';
      console.log(`${key.keyId}\t${key.createdAt}\t${state}\t${key.name}`);
    }
    return;
  }
  const keyId = rest[0] ?? '';
  const revoked = await revokeApiKey(db, table, keyId);
  if (!revoked) throw new UsageError(`no key ${keyId}`);
  console.log(
    `revoked ${keyId} (project ${revoked.projectId}); cached authorizations end within ${API.authorizerCacheTtlSeconds} s`,
  );
}

main(process.argv.slice(2)).catch((error: unknown) => {
  const usage =
    error instanceof UsageError || error instanceof ApiKeyInputError || error instanceof TypeError;
  console.error(`keys: ${error instanceof Error ? error.message : String(error)}`);
  if (usage) console.error(USAGE);
  process.exit(usage ? 2 : 1);
});
