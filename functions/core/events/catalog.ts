import { LIMITS } from '../config/limits';

/**
 * Tiledesk's event catalog (DESIGN §2.2). A subscription names one of these, a
 * parametrised family (`event.emit.<name>`, the channel events), `*`, or a prefix
 * wildcard ending in `.*` (`request.*`).
 */
export const EVENT_NAMES = [
  'request.create',
  'request.update',
  'request.close',
  'message.create',
  'lead.create',
  'project_user.update',
  'project_user.update.agent',
  'project_user.invite',
  'project_user.delete',
  'faqbot.create',
  'faqbot.update',
  'faqbot.delete',
  'faq.create',
  'faq.update',
  'faq.delete',
  'department.create',
  'department.update',
  'department.delete',
  'group.create',
  'group.update',
  'group.delete',
  'user.signup',
  'event.emit',
  'project.create',
  'project.update',
  'project.downgrade',
  'project.delete',
] as const;

/** Families whose last segment is chosen by the platform (a custom event or a channel name). */
export const PARAMETRISED_PREFIXES = [
  'event.emit.',
  'message.create.request.channel.',
  'message.create.channel.',
] as const;

/** A segment of a parametrised name: letters, digits, `_` and `-` (Tiledesk's channel and event names). */
const PARAMETER = /^[A-Za-z0-9_-]{1,100}$/;

export const WILDCARD_ALL = '*';

/** Human-readable list of the accepted forms, used in validation errors and the docs. */
export const ALLOWED_EVENT_FORMS: readonly string[] = [
  ...EVENT_NAMES,
  ...PARAMETRISED_PREFIXES.map((prefix) => `${prefix}<name>`),
  '*',
  '<prefix>.* (e.g. request.*)',
];

const catalog = new Set<string>(EVENT_NAMES);

/** A concrete event name the platform may emit. */
export function isCatalogEvent(name: string): boolean {
  if (name.length > LIMITS.maxEventNameLength) return false;
  if (catalog.has(name)) return true;
  return PARAMETRISED_PREFIXES.some(
    (prefix) => name.startsWith(prefix) && PARAMETER.test(name.slice(prefix.length)),
  );
}

/**
 * Every prefix that a wildcard subscription may name: each proper dot-prefix of a
 * catalog name or of a parametrised family (`request`, `project_user.update`, `event.emit`, ...).
 */
const wildcardPrefixes: ReadonlySet<string> = (() => {
  const prefixes = new Set<string>();
  const names = [...EVENT_NAMES, ...PARAMETRISED_PREFIXES.map((prefix) => `${prefix}x`)];
  for (const name of names) {
    const segments = name.split('.');
    for (let i = 1; i < segments.length; i++) prefixes.add(segments.slice(0, i).join('.'));
  }
  return prefixes;
})();

/** A name a subscription may carry: a catalog event, `*`, or `<known prefix>.*`. */
export function isSubscribableEvent(name: string): boolean {
  if (name === WILDCARD_ALL) return true;
  if (name.endsWith('.*')) return wildcardPrefixes.has(name.slice(0, -2));
  return isCatalogEvent(name);
}

/**
 * The subscription patterns that match an emitted event, i.e. the fan-out index keys
 * to query: the name itself, each `prefix.*` ancestor, and `*`.
 * `message.create.channel.telegram` → that, `message.create.channel.*`, `message.create.*`, `message.*`, `*`.
 */
export function matchingPatterns(event: string): string[] {
  const segments = event.split('.');
  const patterns = [event];
  for (let i = segments.length - 1; i >= 1; i--) patterns.push(`${segments.slice(0, i).join('.')}.*`);
  patterns.push(WILDCARD_ALL);
  return patterns;
}

/** Whether a subscription pattern matches an event (used where no index is queried, e.g. tests and the local stack). */
export function patternMatches(pattern: string, event: string): boolean {
  return matchingPatterns(event).includes(pattern);
}
