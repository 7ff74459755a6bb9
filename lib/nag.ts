import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges a cdk-nag finding on one construct (and its children), with the reason.
 * cdk-nag v3 reads CDK's acknowledgements; `id` is the rule id, or `Rule[finding]` for
 * one finding of a rule that reports several (the v2 `appliesTo`).
 */
export function acknowledgeNag(scope: IConstruct, id: string, reason: string): void {
  if (!reason.trim()) throw new Error(`a cdk-nag acknowledgement of ${id} needs a reason`);
  Validations.of(scope).acknowledge({ id, reason });
}
