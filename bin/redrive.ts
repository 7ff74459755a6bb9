import { parseArgs } from 'node:util';
import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { QUEUES } from '../functions/core/config/queues';
import { redriveByReceive, startRedriveTask } from '../functions/core/operations/redrive';
import { localConfig } from '../local/config';
import { localCredentials } from '../local/credentials';

/**
 * `npm run redrive [-- --source <dlqUrl> --destination <queueUrl>] [--local]`
 *
 * Moves dead-lettered deliveries back to the delivery queue. Against the local stack
 * (AWS_ENDPOINT_URL_SQS set, --local, or no --source; queues default to the local ones) by receive,
 * send and delete; against AWS with StartMessageMoveTask (--source required; without
 * --destination SQS returns each message to the queue it came from).
 */
const USAGE = 'usage: npm run redrive -- [--source <dlqUrl>] [--destination <queueUrl>] [--local]';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      source: { type: 'string' },
      destination: { type: 'string' },
      local: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const endpointFromEnv = process.env.AWS_ENDPOINT_URL_SQS;
  // Without --source there is nothing to name on AWS, so the local stack is meant.
  const awsSource = values.local === true || endpointFromEnv ? undefined : values.source;
  if (!awsSource) {
    const config = localConfig();
    // An explicit endpoint: the SDK then talks to it whatever host the queue URLs name.
    const sqs = new SQSClient({
      endpoint: endpointFromEnv ?? `http://127.0.0.1:${config.ports.sqs}`,
      region: config.region,
      credentials: localCredentials,
    });
    const urlOf = async (name: string) =>
      (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl ?? '';
    const sourceQueueUrl = values.source ?? (await urlOf(QUEUES.deliveryDlq.name));
    const destinationQueueUrl = values.destination ?? (await urlOf(QUEUES.delivery.name));
    const outcome = await redriveByReceive(sqs, { sourceQueueUrl, destinationQueueUrl });
    console.log(`moved ${outcome.moved} message(s) from ${sourceQueueUrl} to ${destinationQueueUrl}`);
    if (outcome.failed > 0)
      console.error(`${outcome.failed} message(s) could not be re-sent and stay in the DLQ`);
    return outcome.failed > 0 ? 1 : 0;
  }
  const started = await startRedriveTask(new SQSClient({}), {
    sourceQueueUrl: awsSource,
    destinationQueueUrl: values.destination,
  });
  console.log(
    `started message move task ${started.taskHandle} from ${started.sourceArn} to ${started.destinationArn ?? 'the original source queues'}`,
  );
  return 0;
}

main()
  .then((code) => process.exit(code))
  .catch((error: unknown) => {
    console.error(
      `redrive failed: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
    );
    process.exit(1);
  });
