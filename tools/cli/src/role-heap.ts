/**
 * V8 settings of the `sextant agent` process (issue 20: agent <= 64 MiB RSS, <= 1% of a core).
 *
 * - Young generation: V8 grows the "semi-space" up to 16 MiB x 2 when a burst of allocation
 *   survives scavenges — module loading at start is such a burst — and never gives the pages back.
 *   The agent allocates little per round (host + 100 containers every 10 s), so that space is
 *   ~30 MiB of RSS held for nothing. With a growth factor of 1 it stays at its initial size:
 *   measured with `node tools/bench/dist/main.js --only agent`, 113 -> 84 MiB settled RSS, CPU
 *   unchanged (0.8% of a core).
 * - No optimizing compiler (`--max-opt=1`: interpreter and the Sparkplug baseline compiler, no
 *   TurboFan): most of the agent's heap is code it runs once at start, and its per-round work is
 *   small and waits on /proc, cgroup files and the engine socket, so TurboFan's optimized code and
 *   its compile zones (malloc'd on worker threads, kept by glibc) buy nothing. Measured with the
 *   same bench, two runs side by side with the V8 default so both saw the same machine load:
 *   86.9-87.1 -> 80.3-80.8 MiB settled RSS, CPU 1.13/1.09 -> 1.16/1.01% of a core (load ~25 on 2
 *   cores). `--lite-mode` / `--jitless` would save ~15 MiB but cannot be set here: the flag is
 *   read after V8 started, and the first WebAssembly compile (undici's HTTP parser, used by
 *   plugins the agent autodiscovers) then aborts the process (`Check failed: !v8_flags.jitless`).
 *   `--max-opt=0` (no Sparkplug either): 72 MiB but +58% CPU.
 *
 * The flags only take effect before the big imports have run, so this module is the first import
 * of main.ts and decides from argv alone. `run` and `server` ingest at high rates and keep V8's
 * defaults (no optimizing compiler costs them throughput). A server's young generation can only be
 * capped at process start (`--max-semi-space-size` set from here has no effect): README.md says
 * how (`NODE_OPTIONS=--max-semi-space-size=8`, measured there). A user's own flags win: a
 * semi-space flag keeps the young generation as given, and any of `--lite-mode`, `--jitless`,
 * `--max-opt`, `--opt` / `--no-opt` (node flags or NODE_OPTIONS) keeps V8's compiler settings.
 */
import { setFlagsFromString } from 'node:v8';

const userFlags = `${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`;
if (process.argv[2] === 'agent') {
  if (!/--(max-semi-space-size|semi-space-growth-factor|min-semi-space-size)/.test(userFlags)) setFlagsFromString('--semi-space-growth-factor=1');
  if (!/--(no-)?(lite-mode|jitless|max-opt|opt)\b/.test(userFlags)) setFlagsFromString('--max-opt=1');
}
