import { App, Stack } from 'aws-cdk-lib';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { acknowledgeNag } from '../../lib/nag';
import { acknowledgements, nagFindings } from './synth';

/**
 * The cdk-nag check of the stack is not vacuous: the same helpers report a finding on a
 * construct that breaks a rule, stop reporting it once it is acknowledged with a reason,
 * and an acknowledgement without a reason is refused.
 */
function badStack() {
  const stack = new Stack(new App(), 'Bad', { env: { account: '123456789012', region: 'us-east-1' } });
  const queue = new Queue(stack, 'Plain', { encryption: QueueEncryption.UNENCRYPTED });
  return { stack, queue };
}

describe('cdk-nag detector', () => {
  it('reports AwsSolutions and Serverless findings on a queue without DLQ, TLS or encryption', () => {
    const { stack } = badStack();

    const rules = nagFindings(stack).map((finding) => finding.rule);

    expect(rules).toEqual(expect.arrayContaining(['AwsSolutions-SQS3', 'AwsSolutions-SQS4']));
  });

  it('stops reporting a finding acknowledged on its construct, and records the reason', () => {
    const { stack, queue } = badStack();

    acknowledgeNag(queue, 'AwsSolutions-SQS3', 'This queue is a test fixture that has no dead-letter queue.');

    expect(nagFindings(stack).map((finding) => finding.rule)).not.toContain('AwsSolutions-SQS3');
    expect(acknowledgements(stack)).toContainEqual(
      expect.objectContaining({ id: 'AwsSolutions-SQS3', reason: expect.stringMatching(/test fixture/) }),
    );
  });

  it('refuses an acknowledgement without a reason', () => {
    const { queue } = badStack();

    expect(() => acknowledgeNag(queue, 'AwsSolutions-SQS4', '  ')).toThrow(/needs a reason/);
  });
});
