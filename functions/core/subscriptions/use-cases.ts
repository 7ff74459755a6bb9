import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { newSubscriptionId, newWebhookSecret } from '../ids';
import { type PublicSubscription, type Subscription, toPublic } from '../model/subscription';
import { encodeCursor } from '../schemas/cursor';
import { keys } from '../storage/table';
import {
  deleteGuardIfOwned,
  getGuard,
  getSubscription,
  putGuardIfAbsent,
  putNewSubscription,
  querySubscriptions,
  takeOverGuard,
  updateSubscriptionIfUnchanged,
} from './repository';

/**
 * The subscription use cases. (project, event, target) is unique: a guard item claims it
 * before the subscription is written (no transactions, see repository.ts).
 */

export interface Clock {
  now: () => number;
  sleep: (ms: number) => Promise<void>;
}

export interface UseCaseDeps extends Partial<Clock> {
  newId?: (now: number) => string;
  newSecret?: () => string;
}

/** A guard whose subscription is missing or elsewhere for longer than this belongs to a crashed writer. */
export const STALE_GUARD_MS = 10_000;
/** Short waits for a racing writer that holds the guard but has not written its subscription yet. */
const SETTLE_DELAYS_MS = [25, 50, 100, 200, 400] as const;
/** Rounds of claim / resolve before a create or move gives up with 409. */
const MAX_ROUNDS = 4;

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function clockOf(deps: UseCaseDeps): Clock {
  return { now: deps.now ?? Date.now, sleep: deps.sleep ?? realSleep };
}

type Claim =
  /** The guard names a live subscription with this (event, target). */
  | { kind: 'taken'; subscription: Subscription }
  /** The guard is now ours (claimed fresh or taken over from a crashed writer). */
  | { kind: 'claimed' }
  /** A writer holds it but has not finished; retrying later may settle it. */
  | { kind: 'busy' };

/**
 * Claims (event, target) for `subscriptionId`. When another subscription holds it, waits
 * briefly for a racing writer to finish, and takes over a guard that has named a missing
 * or moved subscription for longer than STALE_GUARD_MS.
 */
async function claimGuard(
  db: DynamoDBDocumentClient,
  tableName: string,
  projectId: string,
  event: string,
  target: string,
  subscriptionId: string,
  clock: Clock,
): Promise<Claim> {
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const guard = { subscriptionId, createdAt: new Date(clock.now()).toISOString() };
    if (await putGuardIfAbsent(db, tableName, projectId, event, target, guard)) return { kind: 'claimed' };
    for (let wait = 0; ; wait++) {
      const holder = await getGuard(db, tableName, projectId, event, target);
      if (!holder) break; // deleted meanwhile: claim again
      if (holder.subscriptionId === subscriptionId) return { kind: 'claimed' };
      const named = await getSubscription(db, tableName, projectId, holder.subscriptionId, {
        consistent: true,
      });
      if (named && named.event === event && named.target === target)
        return { kind: 'taken', subscription: named };
      const age = clock.now() - Date.parse(holder.createdAt);
      if (!(age < STALE_GUARD_MS)) {
        const next = { subscriptionId, createdAt: new Date(clock.now()).toISOString() };
        if (await takeOverGuard(db, tableName, projectId, event, target, holder.subscriptionId, next)) {
          return { kind: 'claimed' };
        }
        break; // someone else changed it first: start over
      }
      const delay = SETTLE_DELAYS_MS[wait];
      if (delay === undefined) return { kind: 'busy' };
      await clock.sleep(delay);
    }
  }
  return { kind: 'busy' };
}

export interface CreateInput {
  projectId: string;
  event: string;
  target: string;
  createdBy: string;
}

export type CreateResult =
  | { kind: 'created'; subscription: Subscription }
  /**
   * The (project, event, target) exists. It is answered WITH its secret: a client whose
   * create succeeded but whose response was lost retries the same create, and this is
   * the only way it can still learn the secret. Only this project's credentials get here.
   */
  | { kind: 'existing'; subscription: Subscription }
  | { kind: 'busy' };

export async function createSubscription(
  db: DynamoDBDocumentClient,
  tableName: string,
  input: CreateInput,
  deps: UseCaseDeps = {},
): Promise<CreateResult> {
  const clock = clockOf(deps);
  const now = clock.now();
  const iso = new Date(now).toISOString();
  const subscription: Subscription = {
    _id: (deps.newId ?? newSubscriptionId)(now),
    id_project: input.projectId,
    event: input.event,
    target: input.target,
    status: 'active',
    createdBy: input.createdBy,
    createdAt: iso,
    updatedAt: iso,
    secret: (deps.newSecret ?? newWebhookSecret)(),
  };
  const claim = await claimGuard(
    db,
    tableName,
    input.projectId,
    input.event,
    input.target,
    subscription._id,
    clock,
  );
  if (claim.kind === 'taken') return { kind: 'existing', subscription: claim.subscription };
  if (claim.kind === 'busy') return { kind: 'busy' };
  await putNewSubscription(db, tableName, subscription);
  return { kind: 'created', subscription };
}

export interface SubscriptionChanges {
  event?: string | undefined;
  target?: string | undefined;
  status?: 'active' | 'disabled' | undefined;
}

export type UpdateResult =
  | { kind: 'updated'; subscription: PublicSubscription }
  | { kind: 'not-found' }
  /** Another subscription of the project already has the new (event, target). */
  | { kind: 'conflict'; subscriptionId: string }
  | { kind: 'busy' };

/** The subscription after `changes`: re-enabling clears the failure state; a user's disable has no reason. */
export function applyChanges(current: Subscription, changes: SubscriptionChanges, now: number): Subscription {
  const next: Subscription = {
    ...current,
    event: changes.event ?? current.event,
    target: changes.target ?? current.target,
    status: changes.status ?? current.status,
    updatedAt: new Date(now).toISOString(),
  };
  if (changes.status === 'active' && current.status === 'disabled') {
    delete next.failingSince;
    delete next.disabledReason;
  }
  if (changes.status === 'disabled' && current.status === 'active') delete next.disabledReason;
  return next;
}

/**
 * Changes event, target and/or status. Moving (event, target) claims the new guard first,
 * then writes the subscription, then drops the old guard; a crash in between leaves a
 * guard that claimGuard later recognises as stale.
 */
export async function updateSubscription(
  db: DynamoDBDocumentClient,
  tableName: string,
  projectId: string,
  subscriptionId: string,
  changes: SubscriptionChanges,
  deps: UseCaseDeps = {},
): Promise<UpdateResult> {
  const clock = clockOf(deps);
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const current = await getSubscription(db, tableName, projectId, subscriptionId, { consistent: true });
    if (!current) return { kind: 'not-found' };
    const next = applyChanges(current, changes, clock.now());
    const moved = next.event !== current.event || next.target !== current.target;
    if (moved) {
      const claim = await claimGuard(
        db,
        tableName,
        projectId,
        next.event,
        next.target,
        subscriptionId,
        clock,
      );
      if (claim.kind === 'taken') return { kind: 'conflict', subscriptionId: claim.subscription._id };
      if (claim.kind === 'busy') return { kind: 'busy' };
    }
    const written = await updateSubscriptionIfUnchanged(db, tableName, current, next);
    if (written === false) {
      // Deleted or changed meanwhile: release what we claimed, then read again.
      if (moved) await deleteGuardIfOwned(db, tableName, projectId, next.event, next.target, subscriptionId);
      continue;
    }
    if (moved)
      await deleteGuardIfOwned(db, tableName, projectId, current.event, current.target, subscriptionId);
    return { kind: 'updated', subscription: toPublic(written) };
  }
  return { kind: 'busy' };
}

export interface ListInput {
  limit: number;
  /** Sort key after which to continue (the decoded cursor). */
  cursor?: string | undefined;
  event?: string | undefined;
}

export interface ListResult {
  items: PublicSubscription[];
  /** Present when more may follow. */
  nextCursor: string | undefined;
}

/** DynamoDB reads this many items per Query when a filter may drop most of them. */
const FILTERED_READ_BATCH = 100;
/** Queries one list call makes at most; a sparse filter then answers a short page with a cursor. */
const MAX_QUERIES_PER_PAGE = 20;

/** A project's subscriptions, oldest first, without secrets. A page may be short and still have a cursor. */
export async function listSubscriptions(
  db: DynamoDBDocumentClient,
  tableName: string,
  projectId: string,
  input: ListInput,
): Promise<ListResult> {
  const items: PublicSubscription[] = [];
  let after = input.cursor;
  for (let query = 0; query < MAX_QUERIES_PER_PAGE; query++) {
    const remaining = input.limit - items.length;
    const page = await querySubscriptions(db, tableName, projectId, {
      limit: input.event === undefined ? remaining : Math.max(remaining, FILTERED_READ_BATCH),
      afterSortKey: after,
      event: input.event,
    });
    const kept = page.items.slice(0, remaining);
    items.push(...kept.map(toPublic));
    const last = kept.at(-1);
    if (kept.length < page.items.length && last) {
      return { items, nextCursor: encodeCursor(keys.subscriptionSk(last._id)) };
    }
    if (page.lastSortKey === undefined) return { items, nextCursor: undefined };
    after = page.lastSortKey;
    if (items.length >= input.limit) break;
  }
  return { items, nextCursor: after === undefined ? undefined : encodeCursor(after) };
}
