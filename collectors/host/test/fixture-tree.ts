/**
 * A private copy of test/fixtures (a small /proc, /sys and host root) that a test can change
 * between rounds, plus a FakeClock so rates have exact expected values.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FakeClock, startCollector, type CollectorHarness } from '@sextant/testkit';
import { hostCollectorFactory } from '../src/index.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

export class FixtureTree {
  readonly root = mkdtempSync(join(tmpdir(), 'sextant-host-'));
  readonly procRoot = join(this.root, 'proc');
  readonly sysRoot = join(this.root, 'sys');
  /** Mountpoints of fixtures/proc/mounts live here: "/", "/data" and "/with space" exist, "/gone" does not. */
  readonly hostRoot = join(this.root, 'host');

  constructor() {
    cpSync(join(FIXTURES, 'proc'), this.procRoot, { recursive: true });
    cpSync(join(FIXTURES, 'sys'), this.sysRoot, { recursive: true });
    mkdirSync(join(this.hostRoot, 'data'), { recursive: true });
    mkdirSync(join(this.hostRoot, 'with space'), { recursive: true });
  }

  /** Replaces a file under proc/ (`stat`, `net/dev`, ...). */
  writeProc(file: string, text: string): void {
    writeFileSync(join(this.procRoot, file), text);
  }

  removeProc(file: string): void {
    rmSync(join(this.procRoot, file), { recursive: true, force: true });
  }

  dispose(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

export interface FixtureHarness extends CollectorHarness {
  readonly tree: FixtureTree;
  readonly clock: FakeClock;
  /** Advances the fake clock by `seconds`, then runs one round. */
  round(seconds?: number): Promise<void>;
  /** Samples written by the latest round only. */
  latest(metric: string, attributes?: Record<string, string | number>): number[];
}

/** Starts a host collector on a fresh fixture tree; `config` is merged over the tree's roots. */
export async function startOnFixtures(config: Record<string, unknown> = {}): Promise<FixtureHarness> {
  const tree = new FixtureTree();
  const clock = new FakeClock();
  const harness = await startCollector(hostCollectorFactory, {
    clock,
    config: { procRoot: tree.procRoot, sysRoot: tree.sysRoot, hostRoot: tree.hostRoot, ...config },
  });
  const stopHarness = harness.shutdown;
  return Object.assign(harness, {
    tree,
    clock,
    async round(seconds = 10) {
      clock.advance(seconds * 1000);
      await harness.collect();
    },
    latest(metric: string, attributes?: Record<string, string | number>) {
      return harness.sink
        .of(metric, attributes)
        .filter((s) => s.timestamp === clock.now())
        .map((s) => s.value);
    },
    async shutdown() {
      await stopHarness();
      tree.dispose();
    },
  });
}
