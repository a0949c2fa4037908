/**
 * Usage from the kubelet summary API (`GET /api/v1/nodes/{node}/proxy/stats/summary`,
 * statsapi.Summary): node, pod and container CPU (cores), memory working set, network (bytes per
 * second from the cumulative counters) and filesystem, with the container's requests and limits
 * turned into `*_limit_utilization` so a container running at its limit is visible as such.
 */
import { type Attributes } from '@sextant/plugin-api';
import { CounterRate } from '@sextant/plugin-kit';
import { containerResource, podContainers, podResource } from './kube-objects.js';
import { M } from './metrics.js';
import type { KubeObject } from './resource-informer.js';
import type { SeriesCache } from './series-cache.js';

interface CpuStats { time?: string; usageNanoCores?: number }
interface MemStats { availableBytes?: number; workingSetBytes?: number }
interface NetStats { time?: string; rxBytes?: number; txBytes?: number }
interface FsStats { usedBytes?: number; capacityBytes?: number }

export interface Summary {
  node?: { nodeName?: string; cpu?: CpuStats; memory?: MemStats; network?: NetStats; fs?: FsStats };
  pods?: { podRef?: { name?: string; namespace?: string; uid?: string }; cpu?: CpuStats; memory?: MemStats; network?: NetStats; containers?: { name?: string; cpu?: CpuStats; memory?: MemStats; rootfs?: FsStats }[] }[];
}

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : Number.NaN);

export class KubeletSummaryReader {
  private readonly rates = new Map<string, CounterRate>();

  constructor(private readonly series: SeriesCache) {}

  private rate(key: string, value: unknown, time: string | undefined): number | undefined {
    let r = this.rates.get(key);
    if (!r) this.rates.set(key, (r = new CounterRate({ wrapAt: 2 ** 64 })));
    const t = time ? Date.parse(time) : Number.NaN;
    return r.update(num(value), t);
  }

  /** Forgets counter state of pods that are gone. */
  forget(podUid: string): void {
    for (const dir of ['receive', 'transmit']) this.rates.delete(`${podUid}/${dir}`);
  }

  /**
   * Writes the node's and its pods' usage. `podByUid` finds the pod object for requests and limits
   * (pods not in the cache, e.g. in a namespace that is not reported, are skipped).
   */
  write(summary: Summary, nodeResource: Attributes, podByUid: (uid: string) => KubeObject | undefined, clusterName: string | undefined, podExtra: (pod: KubeObject) => Attributes): void {
    const node = summary.node;
    const nodeName = String(nodeResource['k8s.node.name']);
    const nodeOwner = `node:${nodeName}`;
    if (node) {
      this.series.write(nodeOwner, M.nodeCpu, nodeResource, num(node.cpu?.usageNanoCores) / 1e9);
      this.series.write(nodeOwner, M.nodeMemWorking, nodeResource, num(node.memory?.workingSetBytes));
      this.series.write(nodeOwner, M.nodeMemAvailable, nodeResource, num(node.memory?.availableBytes));
      const rx = this.rate(`${nodeOwner}/receive`, node.network?.rxBytes, node.network?.time);
      const tx = this.rate(`${nodeOwner}/transmit`, node.network?.txBytes, node.network?.time);
      if (rx !== undefined) this.series.write(nodeOwner, M.nodeNetwork, nodeResource, rx, { 'network.io.direction': 'receive' });
      if (tx !== undefined) this.series.write(nodeOwner, M.nodeNetwork, nodeResource, tx, { 'network.io.direction': 'transmit' });
      const used = num(node.fs?.usedBytes);
      const cap = num(node.fs?.capacityBytes);
      this.series.write(nodeOwner, M.nodeFsUsage, nodeResource, used);
      this.series.write(nodeOwner, M.nodeFsCapacity, nodeResource, cap);
      if (cap > 0) this.series.write(nodeOwner, M.nodeFsUtil, nodeResource, used / cap);
    }
    for (const ps of Array.isArray(summary.pods) ? summary.pods : []) {
      const uid = ps?.podRef?.uid;
      if (typeof uid !== 'string') continue;
      const pod = podByUid(uid);
      if (!pod) continue;
      const res = podResource(pod, clusterName, podExtra(pod));
      this.series.write(uid, M.podCpu, res, num(ps.cpu?.usageNanoCores) / 1e9);
      this.series.write(uid, M.podMemWorking, res, num(ps.memory?.workingSetBytes));
      const rx = this.rate(`${uid}/receive`, ps.network?.rxBytes, ps.network?.time);
      const tx = this.rate(`${uid}/transmit`, ps.network?.txBytes, ps.network?.time);
      if (rx !== undefined) this.series.write(uid, M.podNetwork, res, rx, { 'network.io.direction': 'receive' });
      if (tx !== undefined) this.series.write(uid, M.podNetwork, res, tx, { 'network.io.direction': 'transmit' });
      const specs = podContainers(pod);
      for (const cs of Array.isArray(ps.containers) ? ps.containers : []) {
        const c = specs.find((x) => x.name === cs?.name);
        if (!c) continue;
        const cres = containerResource(res, c);
        const variant = `${c.name}/${c.id ?? ''}`;
        const cpu = num(cs.cpu?.usageNanoCores) / 1e9;
        const mem = num(cs.memory?.workingSetBytes);
        this.series.write(uid, M.containerCpu, cres, cpu, {}, variant);
        this.series.write(uid, M.containerMemWorking, cres, mem, {}, variant);
        this.series.write(uid, M.containerFs, cres, num(cs.rootfs?.usedBytes), {}, variant);
        if (c.limits.cpu > 0) this.series.write(uid, M.containerCpuLimitUtil, cres, cpu / c.limits.cpu, {}, variant);
        if (c.limits.memory > 0) this.series.write(uid, M.containerMemLimitUtil, cres, mem / c.limits.memory, {}, variant);
        if (c.requests.cpu > 0) this.series.write(uid, M.containerCpuRequestUtil, cres, cpu / c.requests.cpu, {}, variant);
      }
    }
  }
}
