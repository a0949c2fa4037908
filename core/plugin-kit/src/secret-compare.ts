/**
 * The one way Sextant compares a presented secret (a bearer token, a shared token, an HMAC
 * signature) with the expected one: both sides are hashed with SHA-256 and the digests compared with
 * `crypto.timingSafeEqual`, so the time taken depends neither on where the first differing byte is
 * nor on the length of either side (a plain `timingSafeEqual` throws on different lengths, and the
 * usual length check before it tells an attacker the token's length).
 */
import { createHash, timingSafeEqual } from 'node:crypto';

function digest(value: string | Uint8Array): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * True when `given` equals `expected`, in constant time. An absent or empty `given` never matches
 * (an unset header is not an empty token); strings compare as UTF-8.
 */
export function secretsEqual(given: string | Uint8Array | undefined | null, expected: string | Uint8Array): boolean {
  if (given === undefined || given === null || given.length === 0) return false;
  return timingSafeEqual(digest(given), digest(expected));
}
