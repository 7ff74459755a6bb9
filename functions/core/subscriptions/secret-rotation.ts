import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { newWebhookSecret } from '../ids';
import { type PublicSubscription, type Subscription, toPublic } from '../model/subscription';
import { keys, TABLE } from '../storage/table';
import { conditionalWrite, fromSubscriptionItem, getSubscription } from './repository';

/**
 * Secret rotation without downtime (`POST .../{id}/secret`): a new secret becomes current
 * and the one it replaces stays valid for a grace period. Deliveries sign with both while
 * it lasts (delivery/signing.ts signingSecrets), so a receiver verifying with either
 * secret accepts them.
 *
 * - Only one previous secret is kept: rotating again within the grace period ends the
 *   older one at once (the secret current until now becomes the previous one).
 * - The delivery function caches subscriptions (SUBSCRIPTION_CACHE_TTL_MS, 30 s): for up to
 *   that long after a rotation, deliveries may still be signed with the old secret alone.
 *   Receivers still on the old secret never notice; a receiver that switched to the new
 *   secret at once may refuse those few, which are then retried and pass after the cache
 *   refreshes. Switch receivers after the cache TTL, or verify with both secrets.
 */
export interface RotationInput {
  /** How long the replaced secret keeps signing (SECRET_GRACE_HOURS). */
  graceMs: number;
}

export interface RotationDeps {
  now?: () => number;
  newSecret?: () => string;
}

/** The answer of a rotation: the public view, the new secret (once), and when the old one ends. */
export type RotatedSubscription = PublicSubscription & { secret: string; previousSecretExpiresAt: string };

export type RotationResult =
  | { kind: 'rotated'; subscription: RotatedSubscription }
  | { kind: 'not-found' }
  /** Another rotation changed the secret between our read and our write, twice. */
  | { kind: 'busy' };

const ROUNDS = 2;

export async function rotateSecret(
  db: DynamoDBDocumentClient,
  tableName: string,
  projectId: string,
  subscriptionId: string,
  input: RotationInput,
  deps: RotationDeps = {},
): Promise<RotationResult> {
  for (let round = 0; round < ROUNDS; round++) {
    const current = await getSubscription(db, tableName, projectId, subscriptionId, { consistent: true });
    if (!current) return { kind: 'not-found' };
    const now = (deps.now ?? Date.now)();
    const secret = (deps.newSecret ?? newWebhookSecret)();
    const previousSecretExpiresAt = new Date(now + input.graceMs).toISOString();
    const updatedAt = new Date(now).toISOString();
    const result = await conditionalWrite(() =>
      db.send(
        new UpdateCommand({
          TableName: tableName,
          Key: {
            [TABLE.partitionKey]: keys.project(projectId),
            [TABLE.sortKey]: keys.subscriptionSk(subscriptionId),
          },
          UpdateExpression:
            'SET #secret = :secret, previousSecret = :previous, previousSecretExpiresAt = :expires, updatedAt = :now',
          // Only over the secret we read: two concurrent rotations must not both keep the same "previous".
          ConditionExpression: 'attribute_exists(#pk) AND #secret = :previous',
          ExpressionAttributeNames: { '#pk': TABLE.partitionKey, '#secret': 'secret' },
          ExpressionAttributeValues: {
            ':secret': secret,
            ':previous': current.secret,
            ':expires': previousSecretExpiresAt,
            ':now': updatedAt,
          },
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    // Deleted or rotated meanwhile: read again (a deletion then answers not-found).
    if (result === false) continue;
    const written: Subscription = result.Attributes
      ? fromSubscriptionItem(result.Attributes)
      : { ...current, secret, previousSecret: current.secret, previousSecretExpiresAt, updatedAt };
    return {
      kind: 'rotated',
      subscription: { ...toPublic(written), secret, previousSecretExpiresAt },
    };
  }
  return { kind: 'busy' };
}
