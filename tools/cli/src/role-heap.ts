/**
 * Young-generation size of the `sextant agent` process (issue 20: agent <= 64 MiB RSS).
 *
 * V8 grows the young generation ("semi-space") up to 16 MiB x 2 when a burst of allocation survives
 * scavenges — module loading at start is such a burst — and never gives the pages back. The agent
 * allocates little per round (host + 100 containers every 10 s), so that space is ~30 MiB of RSS
 * held for nothing. With a growth factor of 1 it stays at its initial size: measured with
 * `node tools/bench/dist/main.js --only agent`, 113 -> 84 MiB settled RSS, CPU unchanged (0.8% of
 * a core). The flag only takes effect before the big imports have run, so this module is the
 * first import of main.ts and decides from argv alone. `run` and `server` ingest at high rates
 * and keep V8's defaults (a small young generation costs them throughput). A user's own
 * semi-space flag (node flags or NODE_OPTIONS) wins.
 */
import { setFlagsFromString } from 'node:v8';

const userSet = /--(max-semi-space-size|semi-space-growth-factor|min-semi-space-size)/.test(`${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`);
if (process.argv[2] === 'agent' && !userSet) setFlagsFromString('--semi-space-growth-factor=1');
