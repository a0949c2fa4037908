import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const script = join(dirname(fileURLToPath(import.meta.url)), '..', 'check.mjs');
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

describe('layer boundary check', () => {
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('fails when a plugin imports the runtime, naming the file, line and fix', () => {
    root = mkdtempSync(join(tmpdir(), 'sextant-boundaries-'));
    pkg('core/plugin-api', '@sextant/plugin-api', 'layer:contract');
    pkg('core/runtime', '@sextant/runtime', 'layer:core');
    pkg('plugins/bad', '@sextant/plugin-bad', 'layer:component', { 'src/index.ts': "import { x } from '@sextant/plugin-api';\nimport { Runtime } from '@sextant/runtime';\n" });
    const r = run();
    expect(r.code).toBe(1);
    expect(r.out).toContain('plugins/bad/src/index.ts:2: @sextant/plugin-bad (layer:component) must not import @sextant/runtime');
    expect(r.out).toContain('plugins talk to the runtime only through @sextant/plugin-api');
  });

  it('fails when core imports a component or the contract imports anything', () => {
    root = mkdtempSync(join(tmpdir(), 'sextant-boundaries-'));
    pkg('core/plugin-api', '@sextant/plugin-api', 'layer:contract', { 'src/a.ts': "export * from '@sextant/runtime/x';\n" });
    pkg('core/runtime', '@sextant/runtime', 'layer:core', { 'src/a.ts': "const m = await import('@sextant/plugin-nginx');\n" });
    pkg('plugins/nginx', '@sextant/plugin-nginx', 'layer:component');
    const r = run();
    expect(r.code).toBe(1);
    expect(r.out).toContain('@sextant/plugin-api (layer:contract) must not import @sextant/runtime');
    expect(r.out).toContain('@sextant/runtime (layer:core) must not import @sextant/plugin-nginx');
  });

  it('lets components use the integration kit, and keeps the kit on the contract alone', () => {
    root = mkdtempSync(join(tmpdir(), 'sextant-boundaries-'));
    pkg('core/plugin-api', '@sextant/plugin-api', 'layer:contract');
    pkg('core/analysis', '@sextant/analysis', 'layer:core');
    pkg('core/integration-kit', '@sextant/integration-kit', 'layer:kit', { 'src/index.ts': "import '@sextant/plugin-api';\nimport { BaselineDetector } from '@sextant/analysis';\n" });
    pkg('integrations/notifier-ok', '@sextant/notifier-ok', 'layer:component', { 'src/index.ts': "import { postOutbound } from '@sextant/integration-kit';\n" }, { dependencies: { '@sextant/integration-kit': '^0.1.0' } });
    pkg('tools/cli', '@sextant/cli', 'layer:distribution', { 'src/index.ts': "import { resolveSecret } from '@sextant/integration-kit';\n" });
    const r = run();
    expect(r.code).toBe(1);
    expect(r.out).toContain('core/integration-kit/src/index.ts:2: @sextant/integration-kit (layer:kit) must not import @sextant/analysis (layer:core); a layer:kit package may use layer:contract');
    expect(r.out).not.toContain('notifier-ok');
    expect(r.out).not.toContain('@sextant/cli');
    expect(r.out).toContain('Layer boundary check failed (1 problem)');
  });

  it('lets plugin tests use the testkit and passes a clean tree', () => {
    root = mkdtempSync(join(tmpdir(), 'sextant-boundaries-'));
    pkg('core/plugin-api', '@sextant/plugin-api', 'layer:contract');
    pkg('core/testkit', '@sextant/testkit', 'layer:testkit');
    pkg('plugins/ok', '@sextant/plugin-ok', 'layer:component', { 'src/index.ts': "import '@sextant/plugin-api';\n", 'test/a.test.ts': "import { startCollector } from '@sextant/testkit';\n" }, { peerDependencies: { '@sextant/plugin-api': '^0.1.0' } });
    const r = run();
    expect(r.code).toBe(0);
    expect(r.out).toContain('Layer boundaries OK: 3 packages checked');
  });
});
