import { describe, expect, it } from 'vitest';
import { ContainerFilter } from '../src/container-filter.js';

const c = (name: string, image: string, labels: Record<string, string> = {}) => ({ name, image, labels });

describe('ContainerFilter patterns (picomatch globs, the one dialect of the configuration)', () => {
  it('matches names with *, ? and classes', () => {
    const f = new ContainerFilter(['web-*', 'db-?', 'cache-[ab]'], []);
    expect([c('web-1', 'x'), c('db-1', 'x'), c('cache-b', 'x'), c('db-10', 'x'), c('api', 'x')].map((x) => f.accepts(x))).toEqual([true, true, true, false, false]);
  });

  it('image: * stays within one path segment, ** crosses (before: * crossed /)', () => {
    const ref = 'docker.io/library/nginx:1.25';
    expect(new ContainerFilter(['image:*nginx*'], []).accepts(c('a', ref))).toBe(false);
    expect(new ContainerFilter(['image:**/nginx*'], []).accepts(c('a', ref))).toBe(true);
    expect(new ContainerFilter(['image:nginx*'], []).accepts(c('a', 'nginx:1.25'))).toBe(true);
  });

  it('exclude wins over include; labels by key or key=value', () => {
    const f = new ContainerFilter(['label:team'], ['label:io.sextant.ignore=true']);
    expect(f.accepts(c('a', 'x', { team: 'core' }))).toBe(true);
    expect(f.accepts(c('a', 'x', { team: 'core', 'io.sextant.ignore': 'true' }))).toBe(false);
    expect(f.accepts(c('a', 'x'))).toBe(false);
  });
});
