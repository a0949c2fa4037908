/**
 * The plugins this distribution ships with. They are imported statically (no scanning), and their
 * package.json manifests are read so `plugins list` shows the same facts as for installed ones.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseManifest, type SextantPlugin } from '@sextant/plugin-api';
import type { BuiltinPlugin } from '@sextant/runtime';
import analysisPlugin from '@sextant/analysis/plugin';
import containersPlugin from '@sextant/collector-containers/plugin';
import hostPlugin from '@sextant/collector-host/plugin';

const require = createRequire(import.meta.url);

function builtin(packageName: string, plugin: SextantPlugin): BuiltinPlugin {
  let version = '0.0.0';
  let manifest;
  try {
    const pkg = JSON.parse(readFileSync(require.resolve(`${packageName}/package.json`), 'utf8')) as { version: string; sextant?: unknown };
    version = pkg.version;
    const parsed = parseManifest(pkg.sextant);
    if (parsed.ok) manifest = parsed.manifest;
  } catch {
    // a bundled distribution may not ship package.json files; the plugin object is enough
  }
  return { packageName, version, plugin, ...(manifest ? { manifest } : {}) };
}

export function builtinPlugins(): BuiltinPlugin[] {
  return [
    builtin('@sextant/collector-host', hostPlugin),
    builtin('@sextant/collector-containers', containersPlugin),
    builtin('@sextant/analysis', analysisPlugin),
  ];
}
