#!/usr/bin/env node
// The `sextant` command as npm links it. This file is committed (plain JavaScript, never built), so
// `npm install` can link the command before anything is compiled; it hands over to the compiled CLI
// in ../dist, or says how to build it when that is missing (exit status 2, like any usage problem).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = new URL('../dist/bin.js', import.meta.url);

if (!existsSync(fileURLToPath(compiled))) {
  process.stderr.write(
    'sextant: Sextant is not built yet: run `npm run build` (or `npm start`) in the Sextant checkout first.\n' +
      `  (missing ${fileURLToPath(compiled)})\n`,
  );
  process.exit(2);
}

await import(compiled.href);
