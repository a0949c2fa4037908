/**
 * Every metric this collector writes, named after the OpenTelemetry k8s semantic conventions and
 * the k8scluster / kubeletstats receivers. The README's metric table lists the same names.
 */
import type { MetricSpec } from './series-cache.js';

const g = (metric: string, unit: string, description: string, kind?: MetricSpec['kind']): MetricSpec => ({ metric, unit, type: 'gauge', description, ...(kind ? { kind } : {}) });
const r = (metric: string, unit: string, description: string): MetricSpec => ({ metric, unit, type: 'rate', kind: 'throughput', description });

export const M = {
  podPhase: g('k8s.pod.phase', '1', 'Pod phase: 1 Pending, 2 Running, 3 Succeeded, 4 Failed, 5 Unknown'),
  containerRestarts: g('k8s.container.restarts', '{restart}', 'Restarts of the container since the pod was created'),
  containerReady: g('k8s.container.ready', '1', '1 when the container passes its readiness probe', 'availability'),
  cpuRequest: g('k8s.container.cpu_request', '{cpu}', 'CPU requested by the container, in cores'),
  cpuLimit: g('k8s.container.cpu_limit', '{cpu}', 'CPU limit of the container, in cores'),
  memoryRequest: g('k8s.container.memory_request', 'By', 'Memory requested by the container'),
  memoryLimit: g('k8s.container.memory_limit', 'By', 'Memory limit of the container'),

  nodeCpu: g('k8s.node.cpu.usage', '{cpu}', 'CPU used on the node, in cores (kubelet summary)'),
  nodeMemWorking: g('k8s.node.memory.working_set', 'By', 'Memory working set of the node (kubelet summary)', 'memory'),
  nodeMemAvailable: g('k8s.node.memory.available', 'By', 'Memory available on the node (kubelet summary)'),
  nodeNetwork: r('k8s.node.network.io', 'By/s', 'Network bytes per second of the node, by direction'),
  nodeFsUsage: g('k8s.node.filesystem.usage', 'By', 'Bytes used on the node filesystem'),
  nodeFsCapacity: g('k8s.node.filesystem.capacity', 'By', 'Capacity of the node filesystem'),
  nodeFsUtil: g('k8s.node.filesystem.utilization', '1', 'Used / capacity of the node filesystem', 'utilization'),
  podCpu: g('k8s.pod.cpu.usage', '{cpu}', 'CPU used by the pod, in cores'),
  podMemWorking: g('k8s.pod.memory.working_set', 'By', 'Memory working set of the pod', 'memory'),
  podNetwork: r('k8s.pod.network.io', 'By/s', 'Network bytes per second of the pod, by direction'),
  containerCpu: g('container.cpu.usage', '{cpu}', 'CPU used by the container, in cores (kubelet summary)'),
  containerMemWorking: g('container.memory.working_set', 'By', 'Memory working set of the container (kubelet summary)', 'memory'),
  containerFs: g('container.filesystem.usage', 'By', 'Bytes the container uses on its root filesystem'),
  containerCpuLimitUtil: g('k8s.container.cpu_limit_utilization', '1', 'CPU used / CPU limit of the container', 'utilization'),
  containerMemLimitUtil: g('k8s.container.memory_limit_utilization', '1', 'Memory working set / memory limit of the container', 'utilization'),
  containerCpuRequestUtil: g('k8s.container.cpu_request_utilization', '1', 'CPU used / CPU requested by the container'),

  nodeCondition: g('k8s.node.condition', '1', 'Node condition by k8s.node.condition.type: 1 True, 0 False, -1 Unknown'),
  nodeAllocCpu: g('k8s.node.allocatable.cpu', '{cpu}', 'CPU cores allocatable to pods on the node'),
  nodeAllocMemory: g('k8s.node.allocatable.memory', 'By', 'Memory allocatable to pods on the node'),
  nodeAllocPods: g('k8s.node.allocatable.pods', '{pod}', 'Pods the node accepts'),
  namespacePhase: g('k8s.namespace.phase', '1', 'Namespace phase: 1 Active, 0 Terminating'),
  deploymentDesired: g('k8s.deployment.desired', '{pod}', 'Replicas the deployment wants'),
  deploymentAvailable: g('k8s.deployment.available', '{pod}', 'Available replicas of the deployment'),
  replicasetDesired: g('k8s.replicaset.desired', '{pod}', 'Replicas the ReplicaSet wants'),
  replicasetAvailable: g('k8s.replicaset.available', '{pod}', 'Available replicas of the ReplicaSet'),
  statefulsetDesired: g('k8s.statefulset.desired_pods', '{pod}', 'Replicas the StatefulSet wants'),
  statefulsetReady: g('k8s.statefulset.ready_pods', '{pod}', 'Ready replicas of the StatefulSet'),
  statefulsetCurrent: g('k8s.statefulset.current_pods', '{pod}', 'Pods of the StatefulSet at the current revision'),
  statefulsetUpdated: g('k8s.statefulset.updated_pods', '{pod}', 'Pods of the StatefulSet at the update revision'),
  daemonsetDesired: g('k8s.daemonset.desired_scheduled_nodes', '{node}', 'Nodes that should run the daemon pod'),
  daemonsetCurrent: g('k8s.daemonset.current_scheduled_nodes', '{node}', 'Nodes that run the daemon pod'),
  daemonsetMisscheduled: g('k8s.daemonset.misscheduled_nodes', '{node}', 'Nodes that run the daemon pod but should not'),
  daemonsetReady: g('k8s.daemonset.ready_nodes', '{node}', 'Nodes whose daemon pod is ready'),
  jobActive: g('k8s.job.active_pods', '{pod}', 'Active pods of the job'),
  jobFailed: g('k8s.job.failed_pods', '{pod}', 'Failed pods of the job'),
  jobSucceeded: g('k8s.job.successful_pods', '{pod}', 'Succeeded pods of the job'),
  cronjobActive: g('k8s.cronjob.active_jobs', '{job}', 'Jobs of the CronJob running now'),
  quotaHard: g('k8s.resource_quota.hard_limit', '{resource}', 'Hard limit of the quota, by resource'),
  quotaUsed: g('k8s.resource_quota.used', '{resource}', 'Usage counted against the quota, by resource'),
  serviceEndpoints: g('k8s.service.endpoint.count', '{endpoint}', 'Endpoints of the service in its EndpointSlices, by condition (ready, not_ready)'),
} as const;
