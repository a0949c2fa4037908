/**
 * Every metric the swarm plugin writes: name, unit (UCUM), type, kind, what it means, which
 * resource it belongs to and which point attribute splits it. The README's metric table is
 * checked against this list by a test, so the two cannot drift.
 */
import type { MetricKind, MetricType } from '@sextant/plugin-api';
import { SWARM_KEYS } from './swarm-keys.js';

export interface SwarmMetricSpec {
  readonly metric: string;
  readonly unit: string;
  readonly type: MetricType;
  readonly kind?: MetricKind;
  readonly description: string;
  /** `service`, `node` or `cluster`: which resource builder gives the series' resource. */
  readonly scope: 'service' | 'node' | 'cluster';
  /** The point attribute that splits the metric, if any. */
  readonly split?: string;
}

export const SWARM_METRICS = {
  serviceDesired: { metric: 'docker.swarm.service.replicas.desired', unit: '{replica}', type: 'gauge', scope: 'service', description: 'Replicas the service asks for (global services: one per eligible node).' },
  serviceRunning: { metric: 'docker.swarm.service.replicas.running', unit: '{replica}', type: 'gauge', scope: 'service', description: 'Tasks of the service whose current state is running.' },
  serviceTasks: { metric: 'docker.swarm.service.tasks', unit: '{task}', type: 'gauge', scope: 'service', split: SWARM_KEYS.taskState, description: 'Tasks the manager keeps for the service (history included), by state: pending, running, complete, failed, shutdown.' },
  serviceRestarts: { metric: 'docker.swarm.service.task.restarts', unit: '{restart}', type: 'counter', scope: 'service', description: 'Failed tasks (failed or rejected) of the service: those the manager still retained when the plugin started, plus each one seen since.' },
  updateActive: { metric: 'docker.swarm.service.update.active', unit: '1', type: 'gauge', scope: 'service', description: '1 while a rolling update or a rollback is in progress, else 0.' },
  updatePaused: { metric: 'docker.swarm.service.update.paused', unit: '1', type: 'gauge', scope: 'service', description: '1 while an update or rollback is paused (failure action pause), else 0.' },
  updateRolledBack: { metric: 'docker.swarm.service.update.rolled_back', unit: '1', type: 'gauge', scope: 'service', description: '1 when the last update was rolled back (rollback started, paused or completed), else 0.' },
  updateProgress: { metric: 'docker.swarm.service.update.progress', unit: '1', type: 'gauge', kind: 'utilization', scope: 'service', description: 'Share of the desired replicas running the current spec, 0..1 (1 when converged).' },
  nodeReady: { metric: 'docker.swarm.node.ready', unit: '1', type: 'gauge', kind: 'availability', scope: 'node', description: '1 when the node state is ready, 0 when down, unknown or disconnected.' },
  nodeAvailability: { metric: 'docker.swarm.node.availability', unit: '1', type: 'gauge', scope: 'node', split: SWARM_KEYS.nodeAvailability, description: 'One-hot availability: 1 for the current one of active, pause, drain.' },
  nodeLeader: { metric: 'docker.swarm.node.leader', unit: '1', type: 'gauge', scope: 'node', description: '1 on the manager that is the raft leader, else 0.' },
  nodeReachable: { metric: 'docker.swarm.node.manager.reachable', unit: '1', type: 'gauge', kind: 'availability', scope: 'node', description: 'Managers only: 1 when reachable by the other managers, else 0.' },
  nodeCpus: { metric: 'docker.swarm.node.cpu.capacity', unit: '{cpu}', type: 'gauge', scope: 'node', description: 'CPUs the node offers to tasks (NanoCPUs / 1e9).' },
  nodeMemory: { metric: 'docker.swarm.node.memory.capacity', unit: 'By', type: 'gauge', scope: 'node', description: 'Memory the node offers to tasks.' },
  nodeTasks: { metric: 'docker.swarm.node.tasks.running', unit: '{task}', type: 'gauge', scope: 'node', description: 'Tasks running on the node.' },
  clusterNodes: { metric: 'docker.swarm.nodes', unit: '{node}', type: 'gauge', scope: 'cluster', split: SWARM_KEYS.nodeState, description: 'Nodes by state: ready, down, unknown, disconnected.' },
  clusterServices: { metric: 'docker.swarm.services', unit: '{service}', type: 'gauge', scope: 'cluster', description: 'Services in the swarm.' },
} as const satisfies Record<string, SwarmMetricSpec>;

export type SwarmMetricName = keyof typeof SWARM_METRICS;

export const NODE_AVAILABILITIES = ['active', 'pause', 'drain'] as const;
export const NODE_STATES = ['ready', 'down', 'unknown', 'disconnected'] as const;

/** The README's metric table (a test checks that the README contains exactly this). */
export function renderMetricsTable(): string {
  const values: Record<string, string> = {
    [SWARM_KEYS.taskState]: 'pending, running, complete, failed, shutdown',
    [SWARM_KEYS.nodeAvailability]: NODE_AVAILABILITIES.join(', '),
    [SWARM_KEYS.nodeState]: NODE_STATES.join(', '),
  };
  const rows = Object.values(SWARM_METRICS as Record<string, SwarmMetricSpec>).map(
    (m) => `| \`${m.metric}\` | \`${m.unit}\` | ${m.type} | ${m.scope} | ${m.split ? `\`${m.split}\` (${values[m.split]})` : ''} | ${m.description} |`,
  );
  return ['| metric | unit | type | resource | attributes | description |', '|---|---|---|---|---|---|', ...rows].join('\n');
}
