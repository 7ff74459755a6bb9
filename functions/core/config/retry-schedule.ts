import { LIMITS } from './limits';

/**
 * Delay in seconds before retry k (k = 1 is the first retry after the first failed
 * attempt). A message is attempted `schedule.length + 1` times, then SQS moves it to
 * the DLQ. Svix-like: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (about 27.6 h in all).
 */
export const DEFAULT_RETRY_SCHEDULE_SECONDS: readonly number[] = [5, 300, 1800, 7200, 18000, 36000, 36000];

/** ±20% jitter on every scheduled delay, so retries of one outage do not arrive together. */
export const RETRY_JITTER_RATIO = 0.2;

/** Extra receives allowed before the DLQ, for receives that end without an attempt (throttles, crashes). */
export const REDRIVE_MARGIN_RECEIVES = 2;

/** Parses `RETRY_SCHEDULE` ("5,300,1800"): comma-separated whole seconds, each within SQS's 12 h cap. */
export function parseRetrySchedule(value: string | undefined): number[] {
  if (value === undefined || value.trim() === '') return [...DEFAULT_RETRY_SCHEDULE_SECONDS];
  const parts = value.split(',').map((part) => part.trim());
  const seconds = parts.map((part) => Number(part));
  if (
    parts.some((part) => !/^\d+$/.test(part)) ||
    seconds.some((s) => s > LIMITS.maxVisibilityTimeoutSeconds) ||
    seconds.length === 0
  ) {
    throw new Error(
      `RETRY_SCHEDULE must be comma-separated whole seconds between 0 and ${LIMITS.maxVisibilityTimeoutSeconds}, got "${value}"`,
    );
  }
  return seconds;
}

/** Attempts a message gets before it is dead-lettered: the first one plus one per scheduled retry. */
export function attemptsFor(schedule: readonly number[]): number {
  return schedule.length + 1;
}

/** The SQS redrive policy's maxReceiveCount for a schedule. */
export function maxReceiveCountFor(schedule: readonly number[]): number {
  return attemptsFor(schedule) + REDRIVE_MARGIN_RECEIVES;
}

/**
 * The delay before the next attempt after attempt number `attempt` (1-based, i.e.
 * ApproximateReceiveCount) failed. `random` is injectable for tests.
 * `retryAfterSeconds` (from a 429/503) is honoured within [scheduled, 12 h].
 */
export function nextDelaySeconds(
  schedule: readonly number[],
  attempt: number,
  options: { retryAfterSeconds?: number | undefined; random?: () => number } = {},
): number {
  const random = options.random ?? Math.random;
  const index = Math.min(Math.max(attempt, 1), schedule.length) - 1;
  const base = schedule[index] ?? 0;
  const jittered = Math.round(base * (1 + (random() * 2 - 1) * RETRY_JITTER_RATIO));
  let delay = jittered;
  if (options.retryAfterSeconds !== undefined && Number.isFinite(options.retryAfterSeconds)) {
    delay = Math.max(delay, Math.ceil(options.retryAfterSeconds));
  }
  return Math.min(Math.max(delay, 0), LIMITS.maxVisibilityTimeoutSeconds);
}
