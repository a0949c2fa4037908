/**
 * Coded errors. Every error Sextant shows a person has a stable code (`SEXTANT_ERR_*`), a message
 * that says what is wrong with the actual value, and a hint that says how to fix it:
 *
 *   SEXTANT_ERR_CONFIG_INVALID: collectors.nginx.url must be an http(s) URL (got "localhost:80");
 *   did you mean "http://localhost:80"?
 *
 * Codes are part of the contract: scripts and tests may match on them. New codes may be added;
 * existing ones never change meaning.
 */

export const ErrorCode = {
  /** A configuration value is missing or invalid. */
  CONFIG_INVALID: 'SEXTANT_ERR_CONFIG_INVALID',
  /** A configuration file cannot be read or parsed. */
  CONFIG_UNREADABLE: 'SEXTANT_ERR_CONFIG_UNREADABLE',
  /** A package's `sextant` manifest is missing fields or has wrong types. */
  MANIFEST_INVALID: 'SEXTANT_ERR_MANIFEST_INVALID',
  /** A plugin module could not be imported. */
  PLUGIN_LOAD_FAILED: 'SEXTANT_ERR_PLUGIN_LOAD_FAILED',
  /** A module was imported but does not export a plugin made with createPlugin/createModule. */
  PLUGIN_INVALID: 'SEXTANT_ERR_PLUGIN_INVALID',
  /** A plugin's register() threw. */
  PLUGIN_REGISTER_FAILED: 'SEXTANT_ERR_PLUGIN_REGISTER_FAILED',
  /** A plugin asked for an extension point or service the runtime does not provide. */
  DEPENDENCY_UNKNOWN: 'SEXTANT_ERR_DEPENDENCY_UNKNOWN',
  /** Plugins depend on each other's services in a circle, so none of them can register first. */
  DEPENDENCY_CYCLE: 'SEXTANT_ERR_DEPENDENCY_CYCLE',
  /** Two factories registered the same type for the same extension point. */
  DUPLICATE_FACTORY: 'SEXTANT_ERR_DUPLICATE_FACTORY',
  /** Configuration names a component type no loaded plugin provides. */
  UNKNOWN_FACTORY: 'SEXTANT_ERR_UNKNOWN_FACTORY',
  /** A factory's create() threw. */
  CREATE_FAILED: 'SEXTANT_ERR_CREATE_FAILED',
  /** A component's start() threw. */
  START_FAILED: 'SEXTANT_ERR_START_FAILED',
  /** A component's start() did not resolve in time. */
  START_TIMEOUT: 'SEXTANT_ERR_START_TIMEOUT',
  /** A collect() call threw or timed out. */
  COLLECT_FAILED: 'SEXTANT_ERR_COLLECT_FAILED',
  /** A component could not reach the system it monitors. */
  CONNECTION_FAILED: 'SEXTANT_ERR_CONNECTION_FAILED',
  /** The monitored system refused the credentials. */
  AUTH_FAILED: 'SEXTANT_ERR_AUTH_FAILED',
  /** Input from the monitored system could not be parsed. */
  PARSE_FAILED: 'SEXTANT_ERR_PARSE_FAILED',
  /** A value was rejected (NaN, Infinity, out of range). */
  VALUE_REJECTED: 'SEXTANT_ERR_VALUE_REJECTED',
  /** A limit was hit (series cardinality, message size, queue size). */
  LIMIT_EXCEEDED: 'SEXTANT_ERR_LIMIT_EXCEEDED',
  /** The plugin protocol handshake failed (wrong line, unsupported version, timeout). */
  HANDSHAKE_FAILED: 'SEXTANT_ERR_HANDSHAKE_FAILED',
  /** An id (plugin, extension point, factory type) does not follow the naming rules. */
  INVALID_ID: 'SEXTANT_ERR_INVALID_ID',
  /** A request to the API or a receiver was malformed or unauthorised. */
  BAD_REQUEST: 'SEXTANT_ERR_BAD_REQUEST',
  UNAUTHORIZED: 'SEXTANT_ERR_UNAUTHORIZED',
  /** An outgoing URL was refused by the SSRF guard. */
  URL_REFUSED: 'SEXTANT_ERR_URL_REFUSED',
  /** Something that should not happen; please report it. */
  INTERNAL: 'SEXTANT_ERR_INTERNAL',
} as const;

export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface SextantErrorOptions {
  /** How to fix it, addressed to the person who will read it. */
  readonly hint?: string;
  /** Structured context (plugin id, path, value). Never put secrets here. */
  readonly details?: Readonly<Record<string, unknown>>;
  readonly cause?: unknown;
}

/**
 * The one error class of Sextant. `message` never includes the code; `toString()` and
 * {@link formatError} render `CODE: message; hint`.
 */
export class SextantError extends Error {
  /** Brand that survives two copies of this package being loaded. */
  readonly $$sextantError = true;
  readonly code: ErrorCodeValue;
  readonly hint: string | undefined;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCodeValue, message: string, options: SextantErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SextantError';
    this.code = code;
    this.hint = options.hint;
    this.details = options.details ?? {};
  }

  override toString(): string {
    return formatError(this);
  }
}

/** True for a SextantError from any copy of this package. */
export function isSextantError(value: unknown): value is SextantError {
  return typeof value === 'object' && value !== null && (value as { $$sextantError?: unknown }).$$sextantError === true;
}

/** Renders any thrown value as one line: `CODE: message; hint` for coded errors. */
export function formatError(error: unknown): string {
  if (isSextantError(error)) {
    return error.hint ? `${error.code}: ${error.message}; ${error.hint}` : `${error.code}: ${error.message}`;
  }
  if (error instanceof Error) return error.message;
  return String(error);
}

/** Wraps an unknown thrown value in a SextantError with `code`, keeping coded errors as they are. */
export function toSextantError(error: unknown, code: ErrorCodeValue, message: string, hint?: string): SextantError {
  if (isSextantError(error)) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new SextantError(code, `${message}: ${reason}`, { hint, cause: error });
}
