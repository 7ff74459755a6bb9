import * as z from 'zod';
import { LIMITS } from '../config/limits';
import { ALLOWED_EVENT_FORMS, isSubscribableEvent } from '../events/catalog';

export const UNKNOWN_EVENT_MESSAGE = `unknown event; allowed: ${ALLOWED_EVENT_FORMS.join(', ')}`;

/** A subscription's `event`: a catalog name, a parametrised family member, `*` or `<prefix>.*`. */
export const eventSchema = z
  .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') })
  .max(LIMITS.maxEventNameLength, `must be at most ${LIMITS.maxEventNameLength} characters`)
  .refine(isSubscribableEvent, UNKNOWN_EVENT_MESSAGE)
  .meta({ description: 'Event name or pattern', examples: ['request.create', 'request.*', '*'] });
