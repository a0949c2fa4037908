import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatError, isSextantError } from '@sextant/plugin-api';
import { MAX_ERROR_TEXT, redactSecrets, resolveSecret } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'sextant-kit-secret-'));

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('resolveSecret', () => {
  it('prefers the inline value, trimmed, and falls back to the file when the inline value is blank', () => {
    const file = join(dir, 'token');
    writeFileSync(file, 's3cret-from-file\n');
    expect(resolveSecret('token', '  inline-secret \n', file)).toBe('inline-secret');
    expect(resolveSecret('token', '   ', file)).toBe('s3cret-from-file');
    expect(resolveSecret('token', undefined, file)).toBe('s3cret-from-file');
  });

  it('names the field and the fix when the secret is missing, unreadable or empty, and never shows a secret', () => {
    const missing = thrown(() => resolveSecret('routingKey', undefined, undefined));
    expect(isSextantError(missing)).toBe(true);
    expect(formatError(missing)).toBe('SEXTANT_ERR_CONFIG_INVALID: routingKey is missing; set routingKey: ${env:NAME} or routingKeyFile: /run/secrets/...');

    const absent = formatError(thrown(() => resolveSecret('token', undefined, join(dir, 'nope'))));
    expect(absent).toContain('tokenFile: cannot read');
    expect(absent).toContain('ENOENT');

    const empty = join(dir, 'empty');
    writeFileSync(empty, ' \n\n');
    expect(formatError(thrown(() => resolveSecret('secret', undefined, empty)))).toContain(`secretFile: ${empty} is empty`);

    if (process.getuid?.() !== 0) {
      const locked = join(dir, 'locked');
      writeFileSync(locked, 'do-not-print-me');
      chmodSync(locked, 0o000);
      const message = formatError(thrown(() => resolveSecret('password', undefined, locked)));
      expect(message).toContain('EACCES');
      expect(message).not.toContain('do-not-print-me');
    }
  });
});

describe('redactSecrets', () => {
  it('replaces every occurrence of every secret and collapses whitespace to one line', () => {
    expect(redactSecrets('bad key abcd1234\nretry with\tabcd1234 or xyz-987', ['abcd1234', 'xyz-987'])).toBe('bad key [redacted] retry with [redacted] or [redacted]');
  });

  it('leaves secrets shorter than 4 characters alone instead of shredding words', () => {
    expect(redactSecrets('the abc of it', ['abc', ''])).toBe('the abc of it');
  });

  it(`cuts long text to ${MAX_ERROR_TEXT} characters with an ellipsis, after redaction`, () => {
    const long = `token=${'k'.repeat(40)} ${'x'.repeat(2000)}`;
    const out = redactSecrets(long, ['k'.repeat(40)]);
    expect(out.startsWith('token=[redacted] xxx')).toBe(true);
    expect(out.length).toBe(MAX_ERROR_TEXT + 3);
    expect(out.endsWith('...')).toBe(true);
    expect(redactSecrets('x'.repeat(MAX_ERROR_TEXT), [])).toBe('x'.repeat(MAX_ERROR_TEXT));
  });
});
