import { ErrorCode, SextantError } from './errors.js';

const KEBAB = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** True when `id` is kebab-case: lower-case letters and digits, words joined by single dashes. */
export function isKebabId(id: string): boolean {
  return typeof id === 'string' && id.length <= 64 && KEBAB.test(id);
}

/** Throws `SEXTANT_ERR_INVALID_ID` unless `id` is kebab-case. `what` names the id in the message. */
export function assertKebabId(id: string, what: string): void {
  if (!isKebabId(id)) {
    const suggestion = String(id)
      .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '');
    throw new SextantError(ErrorCode.INVALID_ID, `${what} "${String(id)}" is not kebab-case`, {
      hint: suggestion ? `use "${suggestion}"` : 'use lower-case letters, digits and single dashes',
    });
  }
}
