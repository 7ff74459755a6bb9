import * as z from 'zod';

/**
 * Opaque list cursors: base64url of the last sort key served. Decoding checks the key's
 * shape, so a forged cursor can only name a position inside the caller's own partition.
 */
export function encodeCursor(sortKey: string): string {
  return Buffer.from(sortKey, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string, shape: RegExp): string | undefined {
  if (!/^[A-Za-z0-9_-]{1,700}$/.test(cursor)) return undefined;
  const sortKey = Buffer.from(cursor, 'base64url').toString('utf8');
  if (encodeCursor(sortKey) !== cursor || !shape.test(sortKey)) return undefined;
  return sortKey;
}

/** Subscription sort keys: SUB#<id>. */
export const SUBSCRIPTION_SORT_KEY = /^SUB#[A-Za-z0-9_-]{1,64}$/;
/** Delivery-log sort keys: <iso time>#<deliveryId>#<attempt>. */
export const LOG_SORT_KEY = /^\d{4}-\d{2}-\d{2}T[0-9:.]{1,20}Z#[A-Za-z0-9_-]{1,100}#\d{3,6}$/;

/** A `?cursor` parameter that decodes to a sort key of `shape`; the parsed value is the sort key. */
export function cursorSchema(shape: RegExp) {
  return z
    .string()
    .transform((cursor, ctx) => {
      const sortKey = decodeCursor(cursor, shape);
      if (sortKey === undefined) {
        ctx.addIssue({ code: 'custom', message: 'is not a cursor this list returned' });
        return z.NEVER;
      }
      return sortKey;
    })
    .meta({ description: 'Opaque cursor from the previous page’s x-next-cursor header' });
}
