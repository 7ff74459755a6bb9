import { LOCAL_DEFAULTS, LOCAL_ENV, localConfig } from '../local/config';
import { startSampleReceiver } from '../local/receiver';
import { startLocalStack } from '../local/stack';

/** `npm start`: the whole service on this machine (see local/stack.ts). */
async function main(): Promise<void> {
  const config = localConfig();
  const stack = await startLocalStack();
  const receiver = await startSampleReceiver(config.ports.receiver);
  const key = stack.keys[0];
  const lines = [
    '',
    'Tiledesk webhooks: local stack ready',
    `  API             ${stack.apiUrl}`,
    `  EventBridge     ${stack.eventBridgeEndpoint}  (bus ${stack.busName}, source ${stack.config.eventSource})`,
    `  SQS             ${stack.sqsEndpoint}`,
    `                  ${stack.queues.delivery.name}, ${stack.queues.deliveryDlq.name}, ${stack.queues.ingestDlq.name}`,
    `  DynamoDB        ${stack.dynamoDbEndpoint}  (table ${stack.tableName}, ${stack.config.dataDir ? `data in ${stack.config.dataDir}` : 'in memory'})`,
    `  Sample receiver ${receiver.url}/hook  (prints what it gets; ?status=500 fails, ?status=410 unsubscribes)`,
    `  Retry schedule  ${stack.config.retrySchedule} seconds`,
    '',
    'API keys:',
    ...stack.keys.map((k) => `  project ${k.projectId}: ${k.keyId}:${k.secret}`),
  ];
  if (key) {
    const base = `${stack.apiUrl}/${key.projectId}/subscriptions`;
    const body = JSON.stringify({ event: 'request.create', target: `${receiver.url}/hook` });
    // emit finds the local endpoint and bus from the same variables; repeat the non-defaults.
    const emitEnv = [
      stack.ports.eventBridge !== LOCAL_DEFAULTS.eventBridgePort
        ? `${LOCAL_ENV.eventBridgePort}=${stack.ports.eventBridge} `
        : '',
      stack.busName !== LOCAL_DEFAULTS.eventBusName ? `${LOCAL_ENV.eventBusName}=${stack.busName} ` : '',
    ].join('');
    lines.push(
      '',
      'Subscribe:',
      `  curl -u ${key.keyId}:${key.secret} -H 'content-type: application/json' -d '${body}' ${base}`,
      'Emit an event:',
      `  ${emitEnv}npm run emit -- request.create --project ${key.projectId}`,
      'See the delivery log:',
      `  curl -u ${key.keyId}:${key.secret} ${base}/history`,
    );
  }
  lines.push('', 'Ctrl-C stops.', '');
  console.log(lines.join('\n'));

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping...`);
    Promise.all([receiver.stop(), stack.stop()])
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        console.error(error);
        process.exit(1);
      });
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error('The local stack did not start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
