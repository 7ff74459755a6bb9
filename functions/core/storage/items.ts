import { KEY_ATTRIBUTES, TABLE } from './table';

/** Attributes that exist for the table's keys and TTL, never part of what the API returns. */
const STORAGE_ATTRIBUTES: ReadonlySet<string> = new Set([...KEY_ATTRIBUTES, TABLE.ttlAttribute]);

/** A stored item without its key and TTL attributes. */
export function withoutStorageAttributes<T>(item: Record<string, unknown>): T {
  const rest: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(item)) if (!STORAGE_ATTRIBUTES.has(name)) rest[name] = value;
  return rest as T;
}
