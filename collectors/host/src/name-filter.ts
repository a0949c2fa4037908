/**
 * Include/exclude filtering of device, interface, mountpoint and filesystem-type names with globs
 * in the one dialect of the configuration (picomatch, through `@sextant/plugin-kit`): `*` matches
 * any run of characters within one `/` segment, `**` crosses segments (`/var/lib/docker/**`), `?`
 * one character, `[abc]` a class, `{a,b}` alternatives. A name passes when it matches an include
 * pattern (or there are none) and no exclude pattern.
 */
import { compileGlobs, type GlobTest } from '@sextant/plugin-kit';

export class NameFilter {
  private readonly include: GlobTest | undefined;
  private readonly exclude: GlobTest | undefined;

  constructor(include: readonly string[] = [], exclude: readonly string[] = []) {
    this.include = compileGlobs(include);
    this.exclude = compileGlobs(exclude);
  }

  accepts(name: string): boolean {
    if (this.include && !this.include(name)) return false;
    return !this.exclude?.(name);
  }
}
