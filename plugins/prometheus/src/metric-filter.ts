/**
 * Keep/drop of scraped metrics by name, like Prometheus' `metric_relabel_configs` with
 * `action: keep|drop` on `__name__`. A pattern is a picomatch glob (`http_*`, `go_{gc,memstats}_*`)
 * or, between slashes, a regular expression (`/^node_(cpu|memory)_.+$/`) matched against the whole
 * sample name (`x_bucket`, not the family `x`).
 *
 * A name is kept when `keep` is empty or one of its patterns matches, and no `drop` pattern matches.
 * Decisions are made once per series (the scraper caches them), never per sample.
 */
import picomatch from 'picomatch';

export type NameTest = (name: string) => boolean;

/** Compiles one pattern; throws an Error whose message says what is wrong with it. */
export function compileNamePattern(pattern: string): NameTest {
  if (pattern.length >= 2 && pattern.startsWith('/') && pattern.endsWith('/')) {
    const re = new RegExp(pattern.slice(1, -1));
    return (name) => re.test(name);
  }
  if (pattern.length === 0) throw new Error('a pattern must not be empty');
  return picomatch(pattern, { dot: true });
}

export class MetricNameFilter {
  private readonly keep: NameTest[];
  private readonly drop: NameTest[];

  constructor(keep: readonly string[], drop: readonly string[]) {
    this.keep = keep.map(compileNamePattern);
    this.drop = drop.map(compileNamePattern);
  }

  /** True when samples of `name` are written. */
  accepts(name: string): boolean {
    if (this.keep.length > 0 && !this.keep.some((t) => t(name))) return false;
    return !this.drop.some((t) => t(name));
  }
}
