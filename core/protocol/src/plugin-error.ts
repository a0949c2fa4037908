/** PluginError (plugin.proto) <-> SextantError. */
import { ErrorCode, SextantError, isSextantError, type ErrorCodeValue } from '@sextant/plugin-api';
import type { PluginError } from './gen/sextant/plugin/v1/plugin.js';

const KNOWN_CODES = new Set<string>(Object.values(ErrorCode));

/** Encodes any thrown value; non-coded errors get `code` and `context` as a message prefix. */
export function errorToWire(error: unknown, code: ErrorCodeValue, context: string): PluginError {
  if (isSextantError(error)) return { code: error.code, message: error.message, hint: error.hint ?? '' };
  const reason = error instanceof Error ? error.message : String(error);
  return { code, message: `${context}: ${reason}`, hint: '' };
}

/** Decodes a PluginError; undefined when there is none. `prefix` says where it happened. */
export function errorFromWire(error: PluginError | undefined, prefix: string): SextantError | undefined {
  if (!error || (!error.code && !error.message)) return undefined;
  const code = (KNOWN_CODES.has(error.code) ? error.code : ErrorCode.INTERNAL) as ErrorCodeValue;
  return new SextantError(code, `${prefix}${error.message}`, error.hint ? { hint: error.hint } : {});
}

export const NO_ERROR: PluginError | undefined = undefined;
