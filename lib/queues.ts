import { Duration } from 'aws-cdk-lib';
import { Queue, QueueEncryption, type QueueProps } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { acknowledgeNag } from './nag';

/** Why a dead-letter queue has no redrive policy (or DLQ) of its own. */
export const DEAD_LETTER_QUEUE_NAG_REASON =
  'This queue is itself a dead-letter queue; redriving it to another would only move the problem.';

/** A queue as every queue of the stack is: encrypted with SQS-managed keys, reachable over TLS only. */
export function encryptedQueue(
  scope: Construct,
  id: string,
  props: Omit<QueueProps, 'encryption' | 'enforceSSL'>,
): Queue {
  return new Queue(scope, id, { ...props, encryption: QueueEncryption.SQS_MANAGED, enforceSSL: true });
}

/** A dead-letter queue that keeps messages `retentionSeconds` and redrives nowhere. */
export function deadLetterQueue(scope: Construct, id: string, retentionSeconds: number): Queue {
  const queue = encryptedQueue(scope, id, { retentionPeriod: Duration.seconds(retentionSeconds) });
  acknowledgeNag(queue, 'Serverless-SQSRedrivePolicy', DEAD_LETTER_QUEUE_NAG_REASON);
  return queue;
}
