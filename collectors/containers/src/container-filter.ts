/**
 * Include/exclude filters over containers (see config.ts for the pattern syntax; globs are picomatch's,
 * from `@sextant/plugin-kit`, where `*` stays within one `/` segment). A container is
 * monitored when it matches an include pattern (or there are none) and no exclude pattern.
 */
import type { ContainerInfo } from '@sextant/docker-engine';
import { compileGlob } from '@sextant/plugin-kit';

type Predicate = (c: Pick<ContainerInfo, 'name' | 'image' | 'labels'>) => boolean;

function compile(pattern: string): Predicate {
  if (pattern.startsWith('label:')) {
    const spec = pattern.slice('label:'.length);
    const eq = spec.indexOf('=');
    if (eq < 0) return (c) => Object.hasOwn(c.labels, spec);
    const key = spec.slice(0, eq);
    const value = spec.slice(eq + 1);
    return (c) => c.labels[key] === value;
  }
  if (pattern.startsWith('image:')) {
    const matches = compileGlob(pattern.slice('image:'.length));
    return (c) => matches(c.image);
  }
  const matches = compileGlob(pattern.startsWith('name:') ? pattern.slice('name:'.length) : pattern);
  return (c) => matches(c.name);
}

export class ContainerFilter {
  private readonly include: Predicate[];
  private readonly exclude: Predicate[];

  constructor(include: readonly string[], exclude: readonly string[]) {
    this.include = include.map(compile);
    this.exclude = exclude.map(compile);
  }

  accepts(c: Pick<ContainerInfo, 'name' | 'image' | 'labels'>): boolean {
    if (this.include.length > 0 && !this.include.some((p) => p(c))) return false;
    return !this.exclude.some((p) => p(c));
  }
}
