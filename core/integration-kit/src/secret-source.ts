/**
 * Secrets (tokens, signing keys, routing keys, passwords) of notifiers and receivers.
 *
 * They come from the environment or a file, never from a literal in sextant.yaml: write
 * `${env:NAME}` / `${file:PATH}` (the runtime substitutes them) or give a `...File` path that
 * {@link resolveSecret} reads at create(). A resolved secret is trimmed (files usually end with a
 * newline) and never logged; every text that may reach an outcome, a status or a log line and that
 * could echo a secret (a receiver's error body, a redirect Location, an exception message) goes
 * through {@link redactSecrets} first.
 */
import { readFileSync } from 'node:fs';
import { ErrorCode, SextantError } from '@sextant/plugin-api';

/** Longest text {@link redactSecrets} keeps, in characters (an ellipsis marks the cut). */
export const MAX_ERROR_TEXT = 500;

/**
 * Returns the secret from `inline` or, when that is absent or blank, from the file at `file`.
 * Throws `SEXTANT_ERR_CONFIG_INVALID` naming `field` (and `fieldFile`) when neither is usable: the
 * file is unreadable (the message carries the errno code), empty, or both are missing. The message
 * never contains the secret.
 */
export function resolveSecret(field: string, inline: string | undefined, file: string | undefined): string {
  if (inline !== undefined && inline.trim() !== '') return inline.trim();
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new SextantError(ErrorCode.CONFIG_INVALID, `${field}File: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
        hint: `make the file readable by the Sextant process, or set ${field}: \${env:NAME}`,
      });
    }
    if (text.trim() === '') throw new SextantError(ErrorCode.CONFIG_INVALID, `${field}File: ${file} is empty`, { hint: `write the ${field} into the file` });
    return text.trim();
  }
  throw new SextantError(ErrorCode.CONFIG_INVALID, `${field} is missing`, { hint: `set ${field}: \${env:NAME} or ${field}File: /run/secrets/...` });
}

/**
 * Makes `text` safe to show: every occurrence of a secret becomes `[redacted]`, whitespace runs
 * (newlines included) collapse to one space, and the result is cut to {@link MAX_ERROR_TEXT}
 * characters plus `...`. Secrets shorter than 4 characters are not replaced (they would shred
 * ordinary words; such secrets are refused elsewhere or are not secrets).
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join('[redacted]');
  out = out.replace(/\s+/g, ' ').trim();
  return out.length > MAX_ERROR_TEXT ? `${out.slice(0, MAX_ERROR_TEXT)}...` : out;
}
