/**
 * Include/exclude filtering of device, interface, mountpoint and filesystem-type names with
 * shell-style globs: `*` matches any run of characters, `?` one character, everything else itself.
 * A name passes when it matches an include pattern (or there are none) and no exclude pattern.
 */
export class NameFilter {
  private readonly include: RegExp | undefined;
  private readonly exclude: RegExp | undefined;

  constructor(include: readonly string[] = [], exclude: readonly string[] = []) {
    this.include = NameFilter.compile(include);
    this.exclude = NameFilter.compile(exclude);
  }

  accepts(name: string): boolean {
    if (this.include && !this.include.test(name)) return false;
    return !this.exclude?.test(name);
  }

  private static compile(globs: readonly string[]): RegExp | undefined {
    if (globs.length === 0) return undefined;
    const alternatives = globs.map((glob) =>
      glob
        .split('')
        .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\/-]/g, '\\$&')))
        .join(''),
    );
    return new RegExp(`^(?:${alternatives.join('|')})$`, 's');
  }
}
