#!/usr/bin/env node
/**
 * Prints the size of the built UI (raw and gzipped, per file and in total) as one JSON line and
 * fails the build when the gzipped total exceeds the budget (300 KB, the limit).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';

const BUDGET_GZIP_BYTES = 300 * 1024;
const root = new URL('./dist/public/', import.meta.url).pathname;

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? walk(full) : [full];
  });
}

const files = walk(root).map((f) => {
  const body = readFileSync(f);
  return { file: relative(root, f), bytes: body.length, gzipBytes: gzipSync(body, { level: 9 }).length };
});
const total = files.reduce((a, f) => ({ bytes: a.bytes + f.bytes, gzipBytes: a.gzipBytes + f.gzipBytes }), { bytes: 0, gzipBytes: 0 });
console.log(JSON.stringify({ ui: 'bundle', budgetGzipBytes: BUDGET_GZIP_BYTES, ...total, files }));
if (total.gzipBytes > BUDGET_GZIP_BYTES) {
  console.error(`@sextant/ui: the bundle is ${total.gzipBytes} bytes gzipped, over the ${BUDGET_GZIP_BYTES} byte budget`);
  process.exit(1);
}
