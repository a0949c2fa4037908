/**
 * The release configuration: every package nx release publishes must work from a registry on its
 * own (dist only, exports into dist, contract as a peer, valid manifest), and nx.json must select
 * exactly those packages.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tmpdir } from 'node:os';
import { checkPublishable } from '../src/index.js';

const root = join(import.meta.dirname, '..', '..', '..');
const nx = JSON.parse(readFileSync(join(root, 'nx.json'), 'utf8')) as { release: { projects: string[]; projectsRelationship: string; version: Record<string, unknown>; changelog: Record<string, unknown> } };

/** Package folders matched by nx.json release.projects (folder globs of one level, or exact folders). */
function releasedFolders(): { dir: string; group: string }[] {
  const out: { dir: string; group: string }[] = [];
  for (const pattern of nx.release.projects) {
    const group = pattern.split('/')[0];
    if (pattern.endsWith('/*')) {
      const parent = join(root, group);
      if (!existsSync(parent)) continue;
      for (const name of readdirSync(parent)) if (existsSync(join(parent, name, 'package.json'))) out.push({ dir: join(parent, name), group });
    } else if (existsSync(join(root, pattern, 'package.json'))) out.push({ dir: join(root, pattern), group });
  }
  return out;
}

describe('release configuration', () => {
  it('releases packages independently, with per-package changelogs and minor meaning minor on 0.x', () => {
    expect(nx.release.projectsRelationship).toBe('independent');
    expect(nx.release.changelog).toMatchObject({ projectChangelogs: true });
    expect(nx.release.version).toMatchObject({ adjustSemverBumpsForZeroMajorVersion: false });
  });

  it('releases every package under core/, collectors/, plugins/, integrations/ plus the CLI and the builder, and no private tool', () => {
    const dirs = releasedFolders().map((f) => f.dir.slice(root.length + 1));
    expect(dirs).toEqual(expect.arrayContaining(['core/plugin-api', 'core/runtime', 'core/testkit', 'tools/cli', 'tools/builder', 'plugins/example-random']));
    expect(dirs.filter((d) => d.startsWith('tools/')).sort()).toEqual(['tools/builder', 'tools/cli']);
  });

  const folders = releasedFolders();
  it.each(folders.map((f) => [f.dir.slice(root.length + 1), f] as const))('%s is publishable on its own', (_, f) => {
    // Folders besides dist that a package ships on purpose: .proto sources, Kubernetes manifests, the CLI's bin shim.
    const shipped: Record<string, string[]> = { 'core/protocol': ['proto'], 'plugins/kubernetes': ['deploy'], 'plugins/openshift': ['deploy'], 'integrations/exporter-prometheus-remote-write': ['proto'], 'tools/cli': ['bin'] };
    const extraFiles = shipped[f.dir.slice(root.length + 1)] ?? [];
    expect(checkPublishable(f.dir, { group: f.group, extraFiles, requireDocs: false })).toEqual([]);
  });
});

describe('checkPublishable', () => {
  it('names every problem of a badly packaged plugin', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sextant-publish-'));
    mkdirSync(join(dir, 'src'));
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({
        name: '@sextant/plugin-bad',
        version: '1.0',
        type: 'module',
        files: ['src', 'dist'],
        exports: { '.': { '@sextant/source': './src/index.ts', import: './src/index.js' } },
        dependencies: { '@sextant/plugin-api': '^0.1.0', '@sextant/runtime': '*' },
        sextant: { plugin: './src/plugin.ts', provides: ['collector'] },
      }),
    );
    const problems = checkPublishable(dir, { group: 'plugins' }).map((p) => p.problem);
    expect(problems).toEqual(
      expect.arrayContaining([
        'version "1.0" is not semver',
        '"files" includes "src"; publish dist (and README.md, CHANGELOG.md) only',
        'exports["."] points at ./src/index.js, outside dist/',
        'dependencies.@sextant/runtime is "*", which does not resolve from a registry; use ^<version>',
        'components need "@sextant/plugin-api" in peerDependencies (one copy per distribution)',
        'components must not depend on @sextant/runtime',
        'sextant.plugin is ./src/plugin.ts; it must point into dist/',
        'has no CHANGELOG.md',
      ]),
    );
  });
});
