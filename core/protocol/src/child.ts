#!/usr/bin/env node
/**
 * `sextant-plugin-child` (`@sextant/protocol/child`): the generic plugin child. It imports the
 * plugin module named by `SEXTANT_PLUGIN_MODULE` (or the first argument) — an absolute path, a
 * file URL, or a package specifier resolvable from here — and serves its default export (or its
 * `plugin` export) with servePlugin(). Any plugin package runs as a child this way, without a bin
 * of its own.
 *
 * stdout belongs to the handshake: console.log/info/debug are sent to stderr before the plugin
 * is imported, so a chatty library cannot break the handshake line.
 */
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { format } from 'node:util';
import { isSextantPlugin } from '@sextant/plugin-api';
import { PLUGIN_MAGIC_COOKIE, PluginEnv } from './handshake.js';
import { servePlugin } from './serve.js';

for (const method of ['log', 'info', 'debug'] as const) {
  console[method] = (...args: unknown[]) => void process.stderr.write(`${format(...args)}\n`);
}

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  if (process.env[PluginEnv.MAGIC] !== PLUGIN_MAGIC_COOKIE) {
    // servePlugin() explains; call it so the message lives in one place.
    await servePlugin(undefined as never);
    return;
  }
  const specifier = process.env[PluginEnv.MODULE] || process.argv[2];
  if (!specifier) fail(`SEXTANT_ERR_PLUGIN_LOAD_FAILED: no plugin module given; set ${PluginEnv.MODULE} or pass it as the first argument`);
  const url = isAbsolute(specifier) ? pathToFileURL(specifier).href : specifier;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (error) {
    fail(`SEXTANT_ERR_PLUGIN_LOAD_FAILED: cannot import plugin module ${JSON.stringify(specifier)}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const plugin = isSextantPlugin(mod.default) ? mod.default : mod.plugin;
  if (!isSextantPlugin(plugin)) {
    fail(`SEXTANT_ERR_PLUGIN_INVALID: ${JSON.stringify(specifier)} does not export a plugin; export default createPlugin({...}) from @sextant/plugin-api`);
  }
  await servePlugin(plugin);
}

await main();
