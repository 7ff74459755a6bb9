import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';

/**
 * zod's functional "mini" build for the schemas the fan-out and delivery functions load at
 * cold start (bus-event.ts, delivery-message.ts): the classic API puts ~85 KB of methods in
 * their bundles, which was most of their import time above the floor (docs/performance.md).
 * Same validation core and the same English messages (mini loads no locale by itself;
 * classic registers this one too, so a bundle holding both gets identical texts).
 */
z.config(en());

export * from 'zod/mini';
