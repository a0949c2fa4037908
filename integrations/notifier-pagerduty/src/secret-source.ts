/**
 * Secrets (tokens, signing keys, routing keys) come from the environment or a file, never from a
 * literal in sextant.yaml: write `${env:NAME}` / `${file:PATH}` (the runtime substitutes them) or
 * give a `...File` path read here at create(). The value is trimmed (files usually end with a
 * newline) and never logged.
 *
 * Identical in every notifier and events-* package (components may not depend on each other).
 */
import { readFileSync } from 'node:fs';
import { ErrorCode, SextantError } from '@sextant/plugin-api';

/**
 * Returns the secret from `inline` or from the file at `file`. Throws `SEXTANT_ERR_CONFIG_INVALID`
 * naming the field when neither is usable; the message never contains the secret.
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
