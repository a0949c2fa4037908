/**
 * The browser snippet as built into this package (`npm run build` bundles snippet/ with esbuild
 * into dist/snippet/). src/ and dist/ sit side by side, so the same relative URL works whether the
 * plugin runs from its sources (tests) or from dist (production).
 */
import { readFile } from 'node:fs/promises';
import { ErrorCode, SextantError } from '@sextant/plugin-api';

/** Beacon format major version; part of every URL the endpoint serves. */
export const RUM_PROTOCOL_VERSION = 1;
export const SNIPPET_PATHS = {
  script: `/rum/v${RUM_PROTOCOL_VERSION}/sextant-rum.js`,
  module: `/rum/v${RUM_PROTOCOL_VERSION}/sextant-rum.mjs`,
  collect: `/rum/v${RUM_PROTOCOL_VERSION}/collect`,
} as const;

// From src/ or dist/ the built snippet is in <package>/dist/snippet; the benchmark's copy of this
// module runs from <package>/dist-bench/src/, one level deeper.
export const SNIPPET_DIR = new URL(import.meta.url.includes('/dist-bench/') ? '../../dist/snippet/' : '../dist/snippet/', import.meta.url);

export interface SnippetAssets {
  readonly script: Buffer;
  readonly module: Buffer;
}

/** Reads the built snippet; a clear error when the package was not built. */
export async function loadSnippetAssets(dir: URL = SNIPPET_DIR): Promise<SnippetAssets> {
  try {
    const [script, module] = await Promise.all([readFile(new URL('sextant-rum.js', dir)), readFile(new URL('sextant-rum.mjs', dir))]);
    return { script, module };
  } catch (e) {
    throw new SextantError(ErrorCode.START_FAILED, `the RUM browser snippet is missing from ${dir.pathname}`, {
      hint: 'build the package first (npm run build in plugins/rum bundles it)',
      cause: e,
    });
  }
}
