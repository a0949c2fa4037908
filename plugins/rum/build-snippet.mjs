#!/usr/bin/env node
/**
 * Bundles the browser snippet (snippet/*.ts + web-vitals) into dist/snippet/:
 *   sextant-rum.js   IIFE for a <script> tag
 *   sextant-rum.mjs  ES module (`import { init }`)
 *   size.json        bytes raw / minified / min+gzip of each, checked against the 6 KB budget
 * Prints size.json. Exits 1 when a bundle is over budget. Exported `buildSnippet()` is what tests call.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
export const SNIPPET_BUDGET_GZIP_BYTES = 6 * 1024;

export async function buildSnippet(outDir = join(here, 'dist/snippet')) {
  mkdirSync(outDir, { recursive: true });
  // web-vitals is Apache-2.0 (Google LLC): the banner keeps its notice in what we ship
  const banner = { js: '/*! @sextant/plugin-rum snippet | Apache-2.0 | bundles web-vitals (Apache-2.0, Google LLC) */' };
  const common = { bundle: true, minify: true, target: ['es2019'], legalComments: 'none', banner, write: false, logLevel: 'silent' };
  const sizes = {};
  for (const [entry, format, file] of [['iife.ts', 'iife', 'sextant-rum.js'], ['esm.ts', 'esm', 'sextant-rum.mjs']]) {
    const result = await build({ ...common, entryPoints: [join(here, 'snippet', entry)], format });
    const code = result.outputFiles[0].contents;
    writeFileSync(join(outDir, file), code);
    sizes[file] = { minifiedBytes: code.byteLength, gzipBytes: gzipSync(code, { level: 9 }).byteLength };
  }
  const report = { budgetGzipBytes: SNIPPET_BUDGET_GZIP_BYTES, files: sizes };
  writeFileSync(join(outDir, 'size.json'), `${JSON.stringify(report, null, 2)}\n`);
  return report;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const report = await buildSnippet();
  process.stdout.write(`${JSON.stringify({ snippet: report })}\n`);
  const over = Object.entries(report.files).filter(([, s]) => s.gzipBytes > SNIPPET_BUDGET_GZIP_BYTES);
  if (over.length) {
    process.stderr.write(`snippet over budget: ${over.map(([f, s]) => `${f} ${s.gzipBytes} B gzip`).join(', ')} > ${SNIPPET_BUDGET_GZIP_BYTES}\n`);
    process.exit(1);
  }
}
