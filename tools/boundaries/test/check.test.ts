import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

// The real checker (dependency-cruiser with the generated rules) on small fixture trees. Workspace
// packages are not linked in a fixture, so imports of them stay unresolved: the rules match them by
// package name, as they match resolved imports by folder in the real tree.
const script = join(dirname(fileURLToPath(import.meta.url)), '..', 'check.mjs');
const TIMEOUT = 120_000; // dependency-cruiser starts in ~1 s alone; the shared machine is often loaded
let root: string;

function pkg(path: string, name: string, layer: string, files: Record<string, string> = {}, extra: object = {}) {
  mkdirSync(join(root, path, 'src'), { recursive: true });
  writeFileSync(join(root, path, 'package.json'), JSON.stringify({ name, nx: { tags: [layer] }, ...extra }));
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path, f)), { recursive: true });
    writeFileSync(join(root, path, f), text);
  }
}

function run(): { code: number; out: string } {
  try {
    return { code: 0, out: execFileSync('node', [script, '--root', root], { encoding: 'utf8', stdio: 'pipe' }) };
  } catch (e) {
    const err = e as { status: number; stderr: string };
    return { code: err.status, out: err.stderr };
  }
}

describe('layer boundary check (dependency-cruiser)', () => {
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('fails when a plugin imports the runtime, naming the file and the fix', () => {
    root = mkdtempSync(join(tmpdir(), 'sextant-boundaries-'));
    pkg('core/plugin-api', '@sextant/plugin-api', 'layer:contract');
    pkg('core/runtime', '@sextant/runtime', 'layer:core');
    pkg('plugins/bad', '@sextant/plugin-bad', 'layer:component', { 'src/index.ts': "import { x } from '@sextant/plugin-api';\nimport { Runtime } from '@sextant/runtime';\nexport { x, Runtime };\n" });
    const r = run();
    expect(r.code).toBe(1);
    expect(r.out).toContain('plugins/bad/src/index.ts: @sextant/plugin-bad (layer:component) must not import @sextant/runtime (layer:core)');
    expect(r.out).toContain('plugins talk to the runtime only through @sextant/plugin-api');
    expect(r.out).toContain('(1 problem)');
  }, TIMEOUT);

  it('counts type-only imports, dynamic imports and re-exports; the contract imports nothing', () => {
    root = mkdtempSync(join(tmpdir(), 'sextant-boundaries-'));
    pkg('core/plugin-api', '@sextant/plugin-api', 'layer:contract', { 'src/a.ts': "export * from '@sextant/runtime/x';\n" });
    pkg('core/runtime', '@sextant/runtime', 'layer:core', { 'src/a.ts': "export const m = await import('@sextant/plugin-nginx');\n" });
    pkg('plugins/nginx', '@sextant/plugin-nginx', 'layer:component', { 'src/types.ts': "import type { Runtime } from '@sextant/runtime';\nexport type R = Runtime;\n" });
    const r = run();
    expect(r.code).toBe(1);
    expect(r.out).toContain('core/plugin-api/src/a.ts: @sextant/plugin-api (layer:contract) must not import @sextant/runtime (layer:core)');
    expect(r.out).toContain('core/runtime/src/a.ts: @sextant/runtime (layer:core) must not import @sextant/plugin-nginx (layer:component)');
    expect(r.out).toContain('plugins/nginx/src/types.ts: @sextant/plugin-nginx (layer:component) must not import @sextant/runtime');
  }, TIMEOUT);

  it('lets components use the kits and the plugin kit, keeps kits off core, and checks package.json dependencies', () => {
    root = mkdtempSync(join(tmpdir(), 'sextant-boundaries-'));
    pkg('core/plugin-api', '@sextant/plugin-api', 'layer:contract');
    pkg('core/plugin-kit', '@sextant/plugin-kit', 'layer:plugin-kit');
    pkg('core/analysis', '@sextant/analysis', 'layer:core', { 'src/index.ts': "import { parseDuration } from '@sextant/plugin-kit';\nexport { parseDuration };\n" });
    pkg('core/integration-kit', '@sextant/integration-kit', 'layer:kit', { 'src/index.ts': "import '@sextant/plugin-api';\nimport '@sextant/plugin-kit';\nimport { BaselineDetector } from '@sextant/analysis';\nexport { BaselineDetector };\n" });
    pkg('integrations/notifier-ok', '@sextant/notifier-ok', 'layer:component', { 'src/index.ts': "import { postOutbound } from '@sextant/integration-kit';\nimport { CounterRate } from '@sextant/plugin-kit';\nexport { postOutbound, CounterRate };\n" }, { dependencies: { '@sextant/integration-kit': '^0.1.0' } });
    pkg('integrations/notifier-heavy', '@sextant/notifier-heavy', 'layer:component', {}, { dependencies: { '@sextant/analysis': '^0.1.0' } });
    pkg('tools/cli', '@sextant/cli', 'layer:distribution', { 'src/index.ts': "import { resolveSecret } from '@sextant/integration-kit';\nexport { resolveSecret };\n" });
    const r = run();
    expect(r.code).toBe(1);
    expect(r.out).toContain('core/integration-kit/src/index.ts: @sextant/integration-kit (layer:kit) must not import @sextant/analysis (layer:core); a layer:kit package may use layer:contract, layer:plugin-kit');
    expect(r.out).toContain('integrations/notifier-heavy/package.json dependencies: @sextant/notifier-heavy (layer:component) must not depend on @sextant/analysis (layer:core)');
    expect(r.out).not.toContain('notifier-ok');
    expect(r.out).not.toContain('@sextant/cli');
    expect(r.out).toContain('(2 problems)');
  }, TIMEOUT);

  it('lets tests use the testkit and components as fixtures, refuses an untagged package, and passes a clean tree', () => {
    root = mkdtempSync(join(tmpdir(), 'sextant-boundaries-'));
    pkg('core/plugin-api', '@sextant/plugin-api', 'layer:contract');
    pkg('core/testkit', '@sextant/testkit', 'layer:testkit');
    pkg('plugins/ok', '@sextant/plugin-ok', 'layer:component', { 'src/index.ts': "import '@sextant/plugin-api';\n", 'test/a.test.ts': "import { startCollector } from '@sextant/testkit';\nexport { startCollector };\n" }, { peerDependencies: { '@sextant/plugin-api': '^0.1.0' } });
    expect(run()).toEqual({ code: 0, out: 'Layer boundaries OK: 3 packages checked (dependency-cruiser).\n' });
    pkg('plugins/untagged', '@sextant/plugin-untagged', 'none');
    const r = run();
    expect(r.code).toBe(1);
    expect(r.out).toContain('plugins/untagged/package.json: no "layer:*" nx tag');
  }, TIMEOUT);
});
