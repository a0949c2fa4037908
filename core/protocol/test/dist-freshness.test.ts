import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { staleOutputs } from './dist-freshness.js';

describe('staleOutputs (the guard that keeps plugin-process tests off stale dist/)', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  function tree() {
    const root = mkdtempSync(join(tmpdir(), 'sextant-fresh-'));
    dirs.push(root);
    mkdirSync(join(root, 'src/ingest'), { recursive: true });
    mkdirSync(join(root, 'dist/ingest'), { recursive: true });
    return root;
  }
  const at = (path: string, seconds: number) => utimesSync(path, seconds, seconds);

  it('names a source whose output is older (a build that failed after the source changed)', () => {
    const root = tree();
    writeFileSync(join(root, 'src/child.ts'), 'export {};');
    writeFileSync(join(root, 'dist/child.js'), 'export {};');
    writeFileSync(join(root, 'src/ingest/codec.ts'), 'export {};');
    writeFileSync(join(root, 'dist/ingest/codec.js'), 'export {};');
    at(join(root, 'dist/child.js'), 1_000);
    at(join(root, 'src/child.ts'), 2_000);
    at(join(root, 'src/ingest/codec.ts'), 1_000);
    at(join(root, 'dist/ingest/codec.js'), 2_000);
    expect(staleOutputs(join(root, 'src'), join(root, 'dist'))).toEqual(['child.ts']);
  });

  it('names a source with no output at all, and ignores declaration and test files', () => {
    const root = tree();
    writeFileSync(join(root, 'src/ingest/new-thing.ts'), 'export {};');
    writeFileSync(join(root, 'src/types.d.ts'), 'export {};');
    writeFileSync(join(root, 'src/x.test.ts'), 'export {};');
    expect(staleOutputs(join(root, 'src'), join(root, 'dist'))).toEqual([join('ingest', 'new-thing.ts')]);
  });

  it('passes this package as built by the test setup', () => {
    const root = join(import.meta.dirname, '..');
    expect(staleOutputs(join(root, 'src'), join(root, 'dist'))).toEqual([]);
  });
});
