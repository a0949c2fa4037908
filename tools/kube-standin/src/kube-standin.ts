/**
 * `startKubeStandin()`: one call that starts the API server stand-in on 127.0.0.1 (ephemeral port),
 * with a cluster-admin token and the scenario API, and writes kubeconfig files for real clients.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { generate } from 'selfsigned';
import { KubeApiServer, type ApiServerOptions } from './api-server.js';
import { ClusterScenario } from './cluster-scenario.js';
import { OpenShiftScenario } from './openshift-scenario.js';
import { CLUSTER_ADMIN, type PolicyRule } from './rbac.js';

export interface KubeStandin {
  /** `https://127.0.0.1:PORT` */
  readonly url: string;
  /** PEM of the self-signed certificate the server presents (its own CA). */
  readonly caCert: string;
  readonly api: KubeApiServer;
  readonly cluster: ClusterScenario;
  /** Present in "openshift" mode. */
  readonly openshift: OpenShiftScenario | undefined;
  /** A token with every permission (cluster-admin). */
  readonly adminToken: string;
  /** Issues a new token for `user` limited to `rules`. */
  issueToken(user: string, rules: readonly PolicyRule[]): string;
  /** A kubeconfig (YAML text) that points at the stand-in with `token`. */
  kubeconfig(token?: string): string;
  /** Writes kubeconfig(token) to `path`. */
  writeKubeconfig(path: string, token?: string): string;
  stop(): Promise<void>;
}

export async function startKubeStandin(options: ApiServerOptions & { port?: number } = {}): Promise<KubeStandin> {
  const api = new KubeApiServer(options);
  const adminToken = `admin-${randomBytes(16).toString('hex')}`;
  api.setIdentity(adminToken, { user: 'kubernetes-admin', rules: CLUSTER_ADMIN });
  const tls = await generate([{ name: 'commonName', value: 'kube-standin' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 7 * 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
    ],
  });
  const url = await api.listen({ key: tls.private, cert: tls.cert }, options.port ?? 0);
  const cluster = new ClusterScenario(api);
  const openshift = api.mode === 'openshift' ? new OpenShiftScenario(api) : undefined;
  const kubeconfig = (token = adminToken) =>
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: standin',
      '  cluster:',
      `    server: ${url}`,
      `    certificate-authority-data: ${Buffer.from(tls.cert).toString('base64')}`,
      'users:',
      '- name: standin-user',
      '  user:',
      `    token: ${token}`,
      'contexts:',
      '- name: standin',
      '  context:',
      '    cluster: standin',
      '    user: standin-user',
      '    namespace: default',
      'current-context: standin',
      '',
    ].join('\n');
  return {
    url,
    caCert: tls.cert,
    api,
    cluster,
    openshift,
    adminToken,
    issueToken(user, rules) {
      const token = `sa-${randomBytes(16).toString('hex')}`;
      api.setIdentity(token, { user, rules });
      return token;
    },
    kubeconfig,
    writeKubeconfig(path, token) {
      writeFileSync(path, kubeconfig(token), { mode: 0o600 });
      return path;
    },
    stop: () => api.close(),
  };
}
