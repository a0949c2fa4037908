/**
 * The one glob dialect of Sextant's configuration: picomatch's (the one Prometheus-style metric
 * filters, exporters, image patterns and host/container filters all use), with dot files matched.
 *
 * - `*` matches any run of characters **within one `/`-separated segment**; `**` crosses segments
 *   (`/run/**` matches `/run/user/1000`; `*` alone does not);
 * - `?` one character, `[abc]` / `[a-z]` a class, `{a,b}` alternatives, `!(x)` extglobs;
 * - matching is case-sensitive and over the whole text.
 *
 * Patterns are compiled once (at config time) into a predicate; never compile per sample.
 */
import picomatch from 'picomatch';

export type GlobTest = (text: string) => boolean;

/**
 * Compiles one glob. Throws an `Error` whose message says what is wrong with an empty or
 * unreadable pattern (config schemas turn it into an issue).
 */
export function compileGlob(pattern: string): GlobTest {
  if (pattern.length === 0) throw new Error('a pattern must not be empty');
  return picomatch(pattern, { dot: true });
}

/** A predicate that is true when any of `patterns` matches; undefined when there are none. */
export function compileGlobs(patterns: readonly string[]): GlobTest | undefined {
  if (patterns.length === 0) return undefined;
  const tests = patterns.map(compileGlob);
  return tests.length === 1 ? tests[0] : (text) => tests.some((t) => t(text));
}
