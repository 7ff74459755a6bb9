import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { LOCAL_ENV, localConfig } from '../local/config';

/**
 * `npm run emit -- <event> --project <id> [--payload '<json>' | --payload @file.json]
 *   [--bus <name>] [--source <source>] [--endpoint <url>] [--id <eventId>] [--token <token>]`
 *
 * Puts one platform event with the real SDK: on the local stack's bus by default, on a
 * deployed bus with `--bus` (the usual AWS credentials and region; no endpoint override
 * unless `--endpoint` is given).
 */
const USAGE =
  "usage: npm run emit -- <event> --project <id> [--payload '<json>' | --payload @file.json] [--bus <name>] [--source <source>] [--endpoint <url>] [--id <eventId>] [--token <token>]";

function samplePayload(event: string, projectId: string): Record<string, unknown> {
  const now = new Date().toISOString();
  return {
    _id: `sample-${Date.now()}`,
    request_id: `support-group-${projectId}-${Date.now().toString(36)}`,
    id_project: projectId,
    first_text: `Hello from npm run emit (${event})`,
    status: 200,
    createdAt: now,
  };
}

function readPayload(value: string): unknown {
  const text = value.startsWith('@') ? readFileSync(value.slice(1), 'utf8') : value;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`--payload is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      project: { type: 'string', short: 'p' },
      payload: { type: 'string' },
      bus: { type: 'string' },
      source: { type: 'string' },
      endpoint: { type: 'string' },
      id: { type: 'string' },
      token: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const event = positionals[0];
  if (values.help || !event || !values.project || positionals.length > 1) {
    console.error(USAGE);
    return values.help ? 0 : 2;
  }
  const env = localConfig();
  const endpoint =
    values.endpoint ?? (values.bus === undefined ? `http://127.0.0.1:${env.ports.eventBridge}` : undefined);
  // The local endpoint checks no signature; a deployed bus uses the usual credentials and region.
  const local = endpoint !== undefined && /^https?:\/\/(127\.0\.0\.1|localhost)(:|\/|$)/.test(endpoint);
  const client = new EventBridgeClient({
    ...(endpoint ? { endpoint, region: env.region } : {}),
    ...(local ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
  });
  const detail = {
    id_project: values.project,
    payload:
      values.payload === undefined ? samplePayload(event, values.project) : readPayload(values.payload),
    ...(values.id ? { id: values.id } : {}),
    ...(values.token ? { token: values.token } : {}),
  };
  const busName = values.bus ?? env.eventBusName;
  const result = await client.send(
    new PutEventsCommand({
      Entries: [
        {
          EventBusName: busName,
          Source: values.source ?? env.eventSource,
          DetailType: event,
          Detail: JSON.stringify(detail),
        },
      ],
    }),
  );
  const entry = result.Entries?.[0];
  if (!entry?.EventId || (result.FailedEntryCount ?? 0) > 0) {
    console.error(
      `PutEvents failed: ${entry?.ErrorCode ?? 'unknown'}: ${entry?.ErrorMessage ?? 'no details'}`,
    );
    return 1;
  }
  console.log(
    `EventId ${entry.EventId} (${event} for project ${values.project} on bus ${busName}${endpoint ? ` at ${endpoint}` : ''})`,
  );
  return 0;
}

main()
  .then((code) => process.exit(code))
  .catch((error: unknown) => {
    console.error(
      `emit failed: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
    );
    if (
      process.env[LOCAL_ENV.eventBridgePort] === undefined &&
      error instanceof Error &&
      /ECONNREFUSED/.test(error.message)
    ) {
      console.error('Is the local stack running (npm start)?');
    }
    process.exit(1);
  });
