/**
 * Configuration of the `kubernetes` collector (`collectors: kubernetes:` in sextant.yaml).
 *
 * Credentials come from a kubeconfig file or from the pod's service account (in-cluster); this
 * package never logs a token.
 */
import { z } from 'zod';
import { durationMs as durationField } from '@sextant/plugin-kit';

const durationMs = (min: number, max: number) => durationField({ min, max });

export const kubernetesConfigSchema = z
  .object({
    /**
     * Where credentials come from: `in-cluster` (service-account token and CA mounted in the pod),
     * `kubeconfig` (the file in `kubeconfig`, or $KUBECONFIG, or ~/.kube/config), or `auto`
     * (in-cluster when KUBERNETES_SERVICE_HOST is set, else kubeconfig).
     */
    auth: z.enum(['auto', 'in-cluster', 'kubeconfig']),
    /** Path of a kubeconfig file (with `auth: kubeconfig`/`auto`). */
    kubeconfig: z.string().min(1).optional(),
    /** kubeconfig context to use; default its current-context. */
    context: z.string().min(1).optional(),
    /**
     * This agent's node: its pods and kubelet summary are reported by this agent. Default
     * $NODE_NAME (the shipped DaemonSet sets it). Unset: every node (one agent for a whole small
     * cluster, or `sextant run` on a workstation).
     */
    nodeName: z.string().min(1).optional(),
    /**
     * Publish the `container:<id>` entities of this node's pods (image, labels, pod IP, ports) so
     * the runtime's autodiscovery starts app plugins for them, with the pod annotation
     * `sextant.io/<container>.plugins` as the `io.sextant.plugins` override. Leave off where the
     * containers collector reports the same containers (it owns those entities).
     */
    publishContainers: z.boolean(),
    /** Namespaces to report; empty means all. */
    namespaces: z.array(z.string().min(1)).max(1000),
    /** Read usage from the kubelet summary API through the API server's node proxy. */
    kubeletSummary: z.boolean(),
    /** With no `nodeName`, read the summary of at most this many nodes per round. */
    summaryMaxNodes: z.number().int().min(0).max(10_000),
    /** Page size of the initial lists (`limit`). */
    listPageSize: z.number().int().min(10).max(10_000),
    leaderElection: z.object({
      /** Off: this agent always reports cluster-level state (only for a single agent). */
      enabled: z.boolean(),
      namespace: z.string().min(1),
      leaseName: z.string().min(1),
      /** Default $POD_NAME, else host name + pid. */
      identity: z.string().min(1).optional(),
      /** A leader that has not renewed for this long is replaced. Default 3 collection intervals, at least 15 s. */
      leaseDuration: durationMs(1000, 600_000).optional(),
    }),
    /** Retry backoff of a failing list/watch: doubles from `min` to `max`, with full jitter. */
    backoff: z.object({ min: durationMs(10, 60_000), max: durationMs(100, 600_000) }),
    /** How long a watch stays open before it is renewed (the API server's `timeoutSeconds`; randomised up to 2x). */
    watchTimeout: durationMs(1000, 3_600_000),
  })
  .strict();

export type KubernetesConfig = z.output<typeof kubernetesConfigSchema>;

export const kubernetesDefaults = {
  auth: 'auto',
  namespaces: [],
  publishContainers: false,
  kubeletSummary: true,
  summaryMaxNodes: 50,
  listPageSize: 500,
  leaderElection: { enabled: true, namespace: 'default', leaseName: 'sextant-cluster-state' },
  backoff: { min: '1s', max: '30s' },
  watchTimeout: '5m',
} as unknown as Partial<KubernetesConfig>;
