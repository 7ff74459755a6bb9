/**
 * The API's error shape (DESIGN §2.1): `{"success":false,"msg":...,"errors":[{field,message}]}`.
 * Every error a client can cause is an ApiError with the status that names it; anything
 * else that escapes a handler is a bug and becomes a generic 500 (see handler.ts).
 */
export interface FieldError {
  /** The input that is wrong: a body field (`target`), a query or path parameter, `body` or a header name. */
  field: string;
  message: string;
}

export interface ErrorBody {
  success: false;
  msg: string;
  errors: FieldError[];
}

export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly msg: string,
    readonly errors: FieldError[],
    readonly headers: Record<string, string> = {},
  ) {
    super(msg);
    this.name = 'ApiError';
  }

  body(): ErrorBody {
    return { success: false, msg: this.msg, errors: this.errors };
  }
}

/** One message from the field errors, so a client that reads only `msg` still learns what is wrong. */
export function summarise(errors: readonly FieldError[]): string {
  return errors.map((error) => `${error.field}: ${error.message}`).join('; ');
}

export function badRequest(errors: FieldError[]): ApiError {
  return new ApiError(400, summarise(errors), errors);
}

export function notFound(field: string, message: string): ApiError {
  return new ApiError(404, message, [{ field, message }]);
}

export function forbidden(field: string, message: string): ApiError {
  return new ApiError(403, message, [{ field, message }]);
}

export function conflict(field: string, message: string): ApiError {
  return new ApiError(409, message, [{ field, message }]);
}
