/**
 * Task failures per service, from the tasks a manager retains (the Engine API has no task events).
 *
 * - Restarts: every task id first seen in a failed state (failed or rejected) counts once for its
 *   service. The first poll counts the failed tasks the manager still retains (its task history,
 *   5 per slot by default), so the counter starts from what is visible, then only grows.
 * - `swarm.task.failed`: one event per newly failed task (not for the history found at start),
 *   with exit code and error — until the service is declared failing.
 * - `swarm.task.failing`: once, when `threshold` tasks of one service failed within `window`
 *   (failure times are the tasks' own status timestamps, so a crash loop already running at start
 *   is reported too). Per-task events stop while failing; `swarm.task.recovered` follows when a
 *   whole window passes without a failure.
 *
 * Memory is bounded by the retained tasks: seen ids are pruned to those still listed.
 */
import type { SextantEvent } from '@sextant/plugin-api';
import { SWARM_KEYS, serviceEventResource } from './swarm-keys.js';
import type { ServiceView, TaskView } from './swarm-snapshot.js';

const K = SWARM_KEYS;

interface ServiceFailures {
  restarts: number;
  /** Failure times (ms) within the window, ascending. */
  times: number[];
  failing: boolean;
}

export class TaskFailureTracker {
  private seen = new Set<string>();
  private readonly byService = new Map<string, ServiceFailures>();
  private baseline = true;

  constructor(
    private readonly threshold: number,
    private readonly windowMs: number,
  ) {}

  /** Restarts counted for a service so far. */
  restarts(serviceId: string): number {
    return this.byService.get(serviceId)?.restarts ?? 0;
  }

  /** Folds one poll's failed tasks in; returns the events to emit. */
  update(failed: readonly TaskView[], services: ReadonlyMap<string, ServiceView>, now: number, clusterId: string): SextantEvent[] {
    const events: SextantEvent[] = [];
    const stillListed = new Set<string>();
    for (const t of failed) {
      stillListed.add(t.id);
      if (this.seen.has(t.id)) continue;
      this.seen.add(t.id);
      const f = this.entry(t.serviceId);
      f.restarts++;
      const at = t.timestamp || now;
      if (now - at <= this.windowMs) insertSorted(f.times, at);
      const service = services.get(t.serviceId);
      if (!this.baseline && !f.failing && service) events.push(this.failedEvent(t, service, at, clusterId));
    }
    this.seen = stillListed;
    for (const [serviceId, f] of this.byService) {
      while (f.times.length && now - f.times[0] > this.windowMs) f.times.shift();
      const service = services.get(serviceId);
      if (!service) {
        if (!f.times.length) this.byService.delete(serviceId);
        continue;
      }
      if (!f.failing && f.times.length >= this.threshold) {
        f.failing = true;
        events.push({
          id: `swarm:${clusterId || 'local'}:failing:${service.id}:${f.times[f.times.length - 1]}`,
          type: 'swarm.task.failing',
          timestamp: f.times[f.times.length - 1],
          severity: 'critical',
          title: `service ${service.name}: ${f.times.length} tasks failed within ${Math.round(this.windowMs / 1000)} s (crash loop?)`,
          resource: serviceEventResource(service, clusterId),
          attributes: { [K.taskFailures]: f.times.length, [K.taskRestarts]: f.restarts },
          source: 'swarm',
        });
      } else if (f.failing && f.times.length === 0) {
        f.failing = false;
        events.push({
          id: `swarm:${clusterId || 'local'}:recovered:${service.id}:${now}`,
          type: 'swarm.task.recovered',
          timestamp: now,
          severity: 'info',
          title: `service ${service.name}: no task failed for ${Math.round(this.windowMs / 1000)} s`,
          resource: serviceEventResource(service, clusterId),
          attributes: { [K.taskRestarts]: f.restarts },
          source: 'swarm',
        });
      }
    }
    this.baseline = false;
    return events;
  }

  private entry(serviceId: string): ServiceFailures {
    let f = this.byService.get(serviceId);
    if (!f) this.byService.set(serviceId, (f = { restarts: 0, times: [], failing: false }));
    return f;
  }

  private failedEvent(t: TaskView, service: ServiceView, at: number, clusterId: string): SextantEvent {
    const exit = t.exitCode !== undefined ? ` with exit code ${t.exitCode}` : '';
    return {
      id: `swarm:${clusterId || 'local'}:task-failed:${t.id}`,
      type: 'swarm.task.failed',
      timestamp: at,
      severity: 'warning',
      title: `task ${service.name}.${t.slot || t.nodeId.slice(0, 12)} ${t.state}${exit}${t.error ? `: ${t.error}` : ''}`,
      resource: { ...serviceEventResource(service, clusterId), [K.taskId]: t.id, ...(t.containerId ? { [K.containerId]: t.containerId } : {}) },
      attributes: {
        [K.taskState]: t.state,
        ...(t.exitCode !== undefined ? { [K.taskExitCode]: t.exitCode } : {}),
        ...(t.error ? { [K.taskError]: t.error } : {}),
        ...(t.slot ? { [K.taskSlot]: t.slot } : {}),
        [K.nodeId]: t.nodeId,
      },
      source: 'swarm',
    };
  }
}


function insertSorted(a: number[], v: number): void {
  let i = a.length;
  while (i > 0 && a[i - 1] > v) i--;
  a.splice(i, 0, v);
}
