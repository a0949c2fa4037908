#!/usr/bin/env node
import 'reflect-metadata';
import { main } from './main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`sextant: unexpected failure: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exitCode = 1;
  },
);
