/**
 * Moduli of kernel counters, for CounterRate's wrap detection. `%u` fields wrap at 2^32 on every
 * kernel; `unsigned long` fields at 2^32 on 32-bit kernels and 2^64 on 64-bit ones; the
 * `rtnl_link_stats64` counters of /proc/net/dev at 2^64 everywhere.
 */
import { TWO_POW_32, TWO_POW_64 } from './kernel-numbers.js';

const SIXTY_FOUR_BIT_ARCHES: ReadonlySet<string> = new Set(['arm64', 'loong64', 'mips64el', 'ppc64', 'riscv64', 's390x', 'x64']);

/** The wrap modulus of `unsigned long` counters for a `counterBits` setting. */
export function unsignedLongModulus(counterBits: 'auto' | 32 | 64, arch: string = process.arch): number {
  const bits = counterBits === 'auto' ? (SIXTY_FOUR_BIT_ARCHES.has(arch) ? 64 : 32) : counterBits;
  return bits === 64 ? TWO_POW_64 : TWO_POW_32;
}

export const UNSIGNED_INT_MODULUS = TWO_POW_32;
export const U64_MODULUS = TWO_POW_64;
