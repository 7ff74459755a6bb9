import { type FauxqsServer, interceptLocalhostDns, startFauxqs } from 'fauxqs';
import { deliveryRedrivePolicy, QUEUES } from '../functions/core/config/queues';

/**
 * SQS for the local stack: fauxqs in this process, with the delivery queue, its DLQ
 * (same redrive policy and visibility timeout as the CDK stack) and the ingest DLQ.
 *
 * fauxqs names queues `http://sqs.<region>.localhost:<port>/000000000000/<name>`, and
 * the SDK, when the endpoint comes from AWS_ENDPOINT_URL_SQS, sends each call to the
 * QueueUrl's host. `*.localhost` should resolve to loopback (RFC 6761) but glibc does
 * not do it, so this process resolves `*.localhost` to 127.0.0.1 while the stack runs.
 */
export interface LocalQueue {
  name: string;
  url: string;
  arn: string;
}

export interface LocalQueues {
  delivery: LocalQueue;
  deliveryDlq: LocalQueue;
  ingestDlq: LocalQueue;
}

export interface LocalSqs {
  endpoint: string;
  port: number;
  queues: LocalQueues;
  server: FauxqsServer;
  stop(): Promise<void>;
}

export interface LocalSqsOptions {
  port: number;
  region: string;
  retrySchedule: readonly number[];
}

export async function startSqs(options: LocalSqsOptions): Promise<LocalSqs> {
  const restoreDns = interceptLocalhostDns();
  let server: FauxqsServer;
  try {
    server = await startFauxqs({ port: options.port, logger: false, defaultRegion: options.region });
  } catch (error) {
    restoreDns();
    throw error;
  }
  const create = (name: string, attributes: Record<string, string>): LocalQueue => {
    const created = server.createQueue(name, { attributes });
    return { name, url: created.queueUrl, arn: created.queueArn };
  };
  const deliveryDlq = create(QUEUES.deliveryDlq.name, {
    MessageRetentionPeriod: String(QUEUES.deliveryDlq.retentionSeconds),
  });
  const ingestDlq = create(QUEUES.ingestDlq.name, {
    MessageRetentionPeriod: String(QUEUES.ingestDlq.retentionSeconds),
  });
  const delivery = create(QUEUES.delivery.name, {
    VisibilityTimeout: String(QUEUES.delivery.visibilityTimeoutSeconds),
    MessageRetentionPeriod: String(QUEUES.delivery.retentionSeconds),
    RedrivePolicy: JSON.stringify({
      deadLetterTargetArn: deliveryDlq.arn,
      maxReceiveCount: String(deliveryRedrivePolicy(options.retrySchedule).maxReceiveCount),
    }),
  });
  return {
    endpoint: `http://127.0.0.1:${server.port}`,
    port: server.port,
    queues: { delivery, deliveryDlq, ingestDlq },
    server,
    async stop() {
      await server.stop();
      restoreDns();
    },
  };
}
