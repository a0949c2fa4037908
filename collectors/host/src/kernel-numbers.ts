/**
 * Number parsing for kernel text files. The kernel prints counters as unsigned decimal integers
 * (`%lu`, `%llu`, `%u`) and a few gauges as fixed-point decimals (`0.18`, `6713.88`). Anything
 * else in a numeric column is corruption, so these functions reject rather than guess:
 * no sign, no exponent, no hex, no whitespace, nothing above 2^64.
 *
 * They return -1 on rejection instead of NaN or an exception so the parsers' inner loops stay
 * branch-light and allocation-free; every valid value is >= 0.
 */

/** 2^64, the largest modulus a kernel counter can have. */
export const TWO_POW_64 = 2 ** 64;
/** 2^32, the modulus of `%u` counters and of `unsigned long` on 32-bit kernels. */
export const TWO_POW_32 = 2 ** 32;

/**
 * Parses an unsigned decimal integer such as a /proc counter. Returns -1 when `token` is empty,
 * has a non-digit or exceeds 2^64 - 1. Values above 2^53 lose precision (doubles); the error is
 * below one part in 10^15, far under any rate's noise.
 */
export function parseKernelUnsigned(token: string): number {
  const n = token.length;
  if (n === 0 || n > 20) return -1;
  for (let i = 0; i < n; i++) {
    const c = token.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
  }
  const value = Number(token);
  // 20-digit strings can exceed 2^64 - 1 = 18446744073709551615.
  if (n === 20 && token > '18446744073709551615') return -1;
  return value;
}

/**
 * Parses an unsigned fixed-point decimal (`12`, `0.18`, `6713.88`). Returns -1 for anything else,
 * including a sign, exponent, a bare `.` or more than 30 characters.
 */
export function parseKernelDecimal(token: string): number {
  const n = token.length;
  if (n === 0 || n > 30) return -1;
  let dot = -1;
  for (let i = 0; i < n; i++) {
    const c = token.charCodeAt(i);
    if (c === 46) {
      if (dot !== -1 || i === 0 || i === n - 1) return -1;
      dot = i;
    } else if (c < 48 || c > 57) {
      return -1;
    }
  }
  return Number(token);
}

/** Splits a line on runs of spaces and tabs, dropping empty fields. */
export function splitFields(line: string): string[] {
  return line.split(/[ \t]+/).filter((field) => field.length > 0);
}
