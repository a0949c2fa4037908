/** A stand-in API server plus a real Sextant runtime running the kubernetes collector against it. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKubeStandin, type KubeStandin } from '@sextant/kube-standin';
import type { SextantEvent, SextantPlugin } from '@sextant/plugin-api';
import { FakeClock, startTestRuntime, type TestRuntime } from '@sextant/testkit';
import { vi } from 'vitest';
import plugin from '../src/plugin.js';
import type { KubernetesCollector } from '@sextant/kubernetes-kit';

export interface Agent {
  readonly rt: TestRuntime;
  readonly clock: FakeClock;
  /** Moves the fake clock one interval on and runs a collection round. */
  collect(): Promise<void>;
  readonly collector: KubernetesCollector;
  events(type?: string): SextantEvent[];
  status(): { state: string; message?: string; code?: string };
  stop(): Promise<void>;
}

export function tempDir(): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), 'sextant-k8s-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** `plugins`: what the runtime loads (default: the kubernetes plugin; the openshift tests add theirs beside it). */
export async function startAgent(options: { kubeconfig: string; config?: Record<string, unknown>; clock?: FakeClock; plugins?: SextantPlugin[]; type?: string }): Promise<Agent> {
  const type = options.type ?? 'kubernetes';
  const clock = options.clock ?? new FakeClock(Date.now());
  const rt = await startTestRuntime({
    plugins: options.plugins ?? [plugin],
    clock,
    config: {
      interval: '10s',
      collectors: { [type]: { auth: 'kubeconfig', kubeconfig: options.kubeconfig, backoff: { min: '50ms', max: '500ms' }, ...options.config } },
    } as never,
  });
  if (rt.problems.length) throw new Error(`runtime problems: ${JSON.stringify(rt.problems)}`);
  const id = rt.runtime.statuses().find((s) => s.type === type)!.id;
  return {
    rt,
    clock,
    async collect() {
      clock.advance(10_000);
      await rt.collect();
    },
    collector: rt.runtime.component(id) as unknown as KubernetesCollector,
    events: (t) => rt.runtime.pipeline.events.query({ where: (e: SextantEvent) => !t || e.type === t }),
    status: () => rt.runtime.statuses().find((s) => s.id === id)!,
    stop: () => rt.stop(),
  };
}

/** The last stored value of a metric whose resource matches. */
export function last(rt: TestRuntime, metric: string, match: Record<string, string | number | boolean> = {}): number | undefined {
  return rt.values(metric, match).at(-1);
}

export async function until(check: () => boolean | Promise<boolean>, what: string, timeout = 15_000): Promise<void> {
  await vi.waitFor(
    async () => {
      if (!(await check())) throw new Error(`waiting for: ${what}`);
    },
    { timeout, interval: 25 },
  );
}

export { startKubeStandin, type KubeStandin };
