/**
 * The part of `semver` (v7, CommonJS, no bundled types) the builder uses. Declared here rather than
 * adding @types/semver to the shared install.
 */
declare module 'semver' {
  interface SemverApi {
    valid(version: string): string | null;
    validRange(range: string): string | null;
    satisfies(version: string, range: string, options?: { includePrerelease?: boolean }): boolean;
    maxSatisfying(versions: readonly string[], range: string): string | null;
    minSatisfying(versions: readonly string[], range: string): string | null;
    intersects(a: string, b: string): boolean;
    rcompare(a: string, b: string): number;
    compare(a: string, b: string): number;
  }
  const semver: SemverApi;
  export default semver;
}
