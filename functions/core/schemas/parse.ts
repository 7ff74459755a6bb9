import type { z } from 'zod';
import { badRequest, type FieldError } from '../http/errors';

/** zod issues as the API's field errors; an unknown key is reported under its own name. */
export function fieldErrors(issues: readonly z.core.$ZodIssue[], root: string): FieldError[] {
  const errors: FieldError[] = [];
  for (const issue of issues) {
    const path = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        errors.push({ field: [...path, key].join('.'), message: 'unknown field' });
    } else {
      errors.push({ field: path.length > 0 ? path.join('.') : root, message: issue.message });
    }
  }
  return errors;
}

/** Parses one input with its schema; a failure is a 400 whose errors name each bad field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, root: string): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw badRequest(fieldErrors(result.error.issues, root));
  return result.data;
}
