/**
 * Coded HTTP errors for the API server and the routes mounted on it, made with `@fastify/error`, and
 * the one place that turns any error into the API's error body:
 *
 *   { "error": { "code": "SEXTANT_ERR_...", "message": "...", "hint"?: "..." } }
 *
 * A handler throws `apiError(status, code, message, hint)`; a `SextantError` thrown by runtime code
 * gets the status its code maps to (`statusForCode`); Fastify's own errors (body too large, bad
 * media type, schema validation) are translated to our codes; anything else is a 500 whose message
 * points to the server log (the cause is logged, never sent).
 */
import createError, { type FastifyErrorConstructor } from '@fastify/error';
import { ErrorCode, SextantError, type ErrorCodeValue } from '@sextant/plugin-api';

export interface ApiErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly hint?: string };
}

/** An error with an HTTP status and a Sextant code; `hint` tells the caller the fix. */
export interface ApiError extends Error {
  readonly code: string;
  readonly statusCode: number;
  hint?: string;
}

const constructors = new Map<string, FastifyErrorConstructor>();

/** A coded error that the API answers with `status` and the standard error body. */
export function apiError(status: number, code: ErrorCodeValue, message: string, hint?: string): ApiError {
  const key = `${code}:${status}`;
  let E = constructors.get(key);
  if (!E) {
    E = createError(code, '%s', status);
    constructors.set(key, E);
  }
  const err = new E(message) as unknown as ApiError;
  if (hint) err.hint = hint;
  return err;
}

/** The HTTP status a SextantError's code means when it escapes a handler. */
export function statusForCode(code: string): number {
  switch (code) {
    case ErrorCode.BAD_REQUEST:
    case ErrorCode.CONFIG_INVALID:
    case ErrorCode.VALUE_REJECTED:
    case ErrorCode.PARSE_FAILED:
    case ErrorCode.INVALID_ID:
      return 400;
    case ErrorCode.UNAUTHORIZED:
    case ErrorCode.AUTH_FAILED:
      return 401;
    case ErrorCode.URL_REFUSED:
      return 403;
    case ErrorCode.LIMIT_EXCEEDED:
      return 413;
    default:
      return 500;
  }
}

interface FastifyLikeError extends Error {
  code?: string;
  statusCode?: number;
  hint?: string;
  validation?: unknown;
}

/**
 * Status and body for any error a route threw. `limit` is the body limit in bytes (for the 413
 * message). `internal` is true when the cause must be logged (a 5xx the caller cannot fix).
 */
export function errorReply(e: unknown, limit: number): { status: number; body: ApiErrorBody; internal: boolean } {
  const err = (e ?? {}) as FastifyLikeError;
  const body = (status: number, code: string, message: string, hint?: string) => ({ status, body: { error: { code, message, ...(hint ? { hint } : {}) } }, internal: status >= 500 });
  if (e instanceof SextantError) return body(statusForCode(e.code), e.code, e.message, e.hint);
  if (typeof err.code === 'string' && err.code.startsWith('SEXTANT_ERR_') && typeof err.statusCode === 'number') return body(err.statusCode, err.code, err.message, err.hint);
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return body(413, ErrorCode.LIMIT_EXCEEDED, `body is larger than the ${limit} byte limit`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return body(err.statusCode ?? 400, ErrorCode.BAD_REQUEST, err.message);
  }
  if (err.validation) return body(400, ErrorCode.BAD_REQUEST, err.message);
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) return body(err.statusCode, ErrorCode.BAD_REQUEST, err.message);
  return body(500, ErrorCode.INTERNAL, 'internal error; see the server log');
}
