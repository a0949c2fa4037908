/**
 * What this distribution (the stock `sextant` CLI) consists of: its built-in plugins, where it looks
 * for installed ones, and the configuration it runs with when there is no file at all.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConfigIssue } from '@sextant/plugin-api';
import { loadRuntimeConfigFile, Runtime, validateRuntimeConfig, type BuiltinPlugin, type LogOptions, type RuntimeConfig } from '@sextant/runtime';
import { builtinPlugins } from './builtins.js';

const here = dirname(fileURLToPath(import.meta.url));

/** The CLI's own package.json (version, for --version and the API). */
export function cliPackage(): { name: string; version: string } {
  return JSON.parse(readFileSync(join(here, '..', 'package.json'), 'utf8')) as { name: string; version: string };
}

/** The default configuration: this host's metrics, the built-in analysis, the API on 127.0.0.1:7070. */
export function defaultConfigObject(): Record<string, unknown> {
  return { collectors: { host: {} } };
}

export interface ConfigSource {
  readonly config?: RuntimeConfig;
  readonly issues: ConfigIssue[];
  /** The file read, or undefined when running on defaults. */
  readonly file?: string;
}

/**
 * Reads `--config FILE`, else `./sextant.yaml` when it exists, else the defaults. A file without a
 * `collectors` section gets the default host collector. `overrides` are applied on top (CLI flags).
 */
export function loadConfig(file: string | undefined, overrides: (raw: Record<string, unknown>) => void = () => {}): ConfigSource {
  const path = file ?? (existsSync('sextant.yaml') ? 'sextant.yaml' : undefined);
  if (!path) {
    const raw = defaultConfigObject();
    overrides(raw);
    return validateRuntimeConfig(raw);
  }
  const loaded = loadRuntimeConfigFile(resolve(path));
  if (!loaded.config) return { issues: loaded.issues, file: path };
  // Re-validate with overrides applied (flags win over the file).
  const raw = JSON.parse(JSON.stringify(loaded.config)) as Record<string, unknown>;
  if (Object.keys(raw.collectors as object).length === 0 && !/^\s*collectors\s*:/m.test(readFileSync(resolve(path), 'utf8'))) raw.collectors = { host: {} };
  overrides(raw);
  return { ...validateRuntimeConfig(raw), file: path };
}

export function builtins(): BuiltinPlugin[] {
  return builtinPlugins();
}

/** Loads a runtime for this distribution: built-ins plus packages installed next to the cwd or the CLI. */
export async function loadRuntime(config: RuntimeConfig, log: LogOptions, extra: Partial<Parameters<typeof Runtime.load>[0]> = {}): Promise<Runtime> {
  return Runtime.load({ config, builtins: builtins(), searchFrom: [process.cwd(), here], log, ...extra });
}
