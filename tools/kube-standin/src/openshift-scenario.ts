/**
 * OpenShift objects for the stand-in in "openshift" mode: DeploymentConfigs (with their pods),
 * Routes, Builds/BuildConfigs, ImageStreams, Projects and ClusterResourceQuotas, with the fields
 * and reasons the OpenShift controllers write (apps.openshift.io/v1 etc.).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { KubeApiServer } from './api-server.js';
import type { KubeObject } from './object-store.js';

const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
const DC = 'apps.openshift.io/deploymentconfigs';

export class OpenShiftScenario {
  constructor(private readonly api: KubeApiServer) {
    if (api.mode !== 'openshift') throw new Error('OpenShiftScenario needs the stand-in started with mode "openshift"');
  }

  private put(typeKey: string, obj: KubeObject): KubeObject {
    const existing = this.api.store.peek(typeKey, obj.metadata.namespace, obj.metadata.name);
    if (!existing) return this.api.store.create(typeKey, obj)!;
    const r = this.api.store.update(typeKey, obj, { bumpGeneration: JSON.stringify(existing.spec) !== JSON.stringify(obj.spec) });
    if (typeof r === 'string') throw new Error(`update of ${obj.metadata.name} failed: ${r}`);
    return r;
  }

  project(name: string): KubeObject {
    this.put('/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name, annotations: { 'openshift.io/requester': 'developer' } }, status: { phase: 'Active' } });
    return this.put('project.openshift.io/projects', { apiVersion: 'project.openshift.io/v1', kind: 'Project', metadata: { name, annotations: { 'openshift.io/requester': 'developer' } }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } });
  }

  /** A DeploymentConfig at `latestVersion` 1 with `replicas` running pods named `<name>-1-xxxxx`. */
  createDeploymentConfig(namespace: string, name: string, replicas: number, image: string): KubeObject {
    const labels = { deploymentconfig: name, app: name };
    const dc = this.put(DC, {
      apiVersion: 'apps.openshift.io/v1',
      kind: 'DeploymentConfig',
      metadata: { name, namespace, labels: { app: name } },
      spec: { replicas, selector: { deploymentconfig: name }, strategy: { type: 'Rolling' }, template: { metadata: { labels }, spec: { containers: [{ name, image }] } }, triggers: [{ type: 'ConfigChange' }] },
      status: { latestVersion: 0 },
    });
    return this.deploy(dc, image, false);
  }

  /** A new deployment of the config (`oc rollout latest`); `fail` leaves it failed with pods of the old version. */
  rolloutDeploymentConfig(namespace: string, name: string, image: string, options: { fail?: boolean } = {}): KubeObject {
    const dc = this.api.store.get(DC, namespace, name);
    if (!dc) throw new Error(`deploymentconfig ${namespace}/${name} does not exist`);
    (dc.spec as any).template.spec.containers[0].image = image;
    return this.deploy(this.put(DC, dc), image, options.fail ?? false);
  }

  private deploy(dc: KubeObject, image: string, fail: boolean): KubeObject {
    const ns = dc.metadata.namespace!;
    const name = dc.metadata.name;
    const version = ((dc.status as any).latestVersion ?? 0) + 1;
    const replicas = (dc.spec as any).replicas as number;
    const rcName = `${name}-${version}`;
    const t = now();
    if (!fail) {
      for (const p of this.api.store.list('/pods', ns)) if (p.metadata.labels?.deploymentconfig === name) this.api.store.delete('/pods', ns, p.metadata.name);
      for (let i = 0; i < replicas; i++) {
        this.api.store.create('/pods', {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: {
            name: `${rcName}-${randomBytes(3).toString('hex').slice(0, 5)}`,
            namespace: ns,
            labels: { deploymentconfig: name, deployment: rcName, app: name },
            annotations: { 'openshift.io/deployment-config.name': name, 'openshift.io/deployment-config.latest-version': String(version), 'openshift.io/deployment.name': rcName },
            ownerReferences: [{ apiVersion: 'v1', kind: 'ReplicationController', name: rcName, uid: createHash('sha1').update(rcName).digest('hex'), controller: true }],
          },
          spec: { nodeName: this.api.store.list('/nodes')[i % Math.max(1, this.api.store.list('/nodes').length)]?.metadata.name, containers: [{ name, image }] },
          status: {
            phase: 'Running',
            conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: t }],
            startTime: t,
            containerStatuses: [{ name, image, ready: true, started: true, restartCount: 0, containerID: `cri-o://${randomBytes(32).toString('hex')}`, state: { running: { startedAt: t } } }],
          },
        });
      }
    }
    const updated = fail ? 0 : replicas;
    const s = {
      latestVersion: version,
      observedGeneration: dc.metadata.generation,
      replicas: fail ? (dc.status as any).replicas ?? 0 : replicas,
      updatedReplicas: updated,
      availableReplicas: fail ? (dc.status as any).availableReplicas ?? 0 : replicas,
      readyReplicas: fail ? (dc.status as any).readyReplicas ?? 0 : replicas,
      unavailableReplicas: 0,
      details: { message: 'config change', causes: [{ type: 'ConfigChange' }] },
      conditions: [
        { type: 'Available', status: 'True', lastUpdateTime: t, lastTransitionTime: t, message: 'Deployment config has minimum availability.' },
        fail
          ? { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', lastUpdateTime: t, lastTransitionTime: t, message: `replication controller "${rcName}" has failed progressing` }
          : { type: 'Progressing', status: 'True', reason: 'NewReplicationControllerAvailable', lastUpdateTime: t, lastTransitionTime: t, message: `replication controller "${rcName}" successfully rolled out` },
      ],
    };
    const copy = structuredClone(dc);
    copy.status = s;
    return this.put(DC, copy);
  }

  createRoute(namespace: string, name: string, host: string, service: string): KubeObject {
    return this.put('route.openshift.io/routes', {
      apiVersion: 'route.openshift.io/v1',
      kind: 'Route',
      metadata: { name, namespace },
      spec: { host, to: { kind: 'Service', name: service, weight: 100 }, port: { targetPort: 'http' }, wildcardPolicy: 'None' },
      status: { ingress: [{ host, routerName: 'default', conditions: [{ type: 'Admitted', status: 'True', lastTransitionTime: now() }], wildcardPolicy: 'None' }] },
    });
  }

  createBuildConfig(namespace: string, name: string): KubeObject {
    return this.put('build.openshift.io/buildconfigs', {
      apiVersion: 'build.openshift.io/v1',
      kind: 'BuildConfig',
      metadata: { name, namespace },
      spec: { source: { type: 'Git', git: { uri: 'https://example.invalid/app.git' } }, strategy: { type: 'Source', sourceStrategy: { from: { kind: 'ImageStreamTag', name: 'nodejs:20' } } }, output: { to: { kind: 'ImageStreamTag', name: `${name}:latest` } }, runPolicy: 'Serial', triggers: [] },
      status: { lastVersion: 0 },
    });
  }

  /** Starts build `<bc>-<n>` and finishes it as Complete or Failed (reason and message as the build controller writes them). */
  runBuild(namespace: string, buildConfig: string, outcome: 'Complete' | 'Failed'): KubeObject {
    const bc = this.api.store.get('build.openshift.io/buildconfigs', namespace, buildConfig);
    if (!bc) throw new Error(`buildconfig ${namespace}/${buildConfig} does not exist`);
    const n = ((bc.status as any).lastVersion ?? 0) + 1;
    (bc.status as any).lastVersion = n;
    this.put('build.openshift.io/buildconfigs', bc);
    const name = `${buildConfig}-${n}`;
    const t = now();
    const build = this.put('build.openshift.io/builds', {
      apiVersion: 'build.openshift.io/v1',
      kind: 'Build',
      metadata: { name, namespace, labels: { buildconfig: buildConfig, 'openshift.io/build-config.name': buildConfig }, annotations: { 'openshift.io/build-config.name': buildConfig, 'openshift.io/build.number': String(n) } },
      spec: { ...(bc.spec as object), triggeredBy: [{ message: 'Manually triggered' }] },
      status: { phase: 'Running', startTimestamp: t, config: { kind: 'BuildConfig', namespace, name: buildConfig } },
    });
    const done = structuredClone(build);
    Object.assign(done.status as object, outcome === 'Complete'
      ? { phase: 'Complete', completionTimestamp: now(), duration: 1_000_000_000 }
      : { phase: 'Failed', reason: 'DockerBuildFailed', message: 'Docker build strategy has failed.', completionTimestamp: now(), duration: 1_000_000_000, logSnippet: 'error: build error: exit status 1' });
    return this.put('build.openshift.io/builds', done);
  }

  createImageStream(namespace: string, name: string): KubeObject {
    return this.put('image.openshift.io/imagestreams', {
      apiVersion: 'image.openshift.io/v1',
      kind: 'ImageStream',
      metadata: { name, namespace },
      spec: { lookupPolicy: { local: false } },
      status: { dockerImageRepository: `image-registry.openshift-image-registry.svc:5000/${namespace}/${name}`, tags: [] },
    });
  }

  /** A new image pushed to `<stream>:<tag>`: a new item at the head of that tag's history. */
  pushImageTag(namespace: string, stream: string, tag: string): KubeObject {
    const is = this.api.store.get('image.openshift.io/imagestreams', namespace, stream);
    if (!is) throw new Error(`imagestream ${namespace}/${stream} does not exist`);
    const status = is.status as { dockerImageRepository: string; tags: { tag: string; items: unknown[] }[] };
    const digest = `sha256:${randomBytes(32).toString('hex')}`;
    const item = { created: now(), dockerImageReference: `${status.dockerImageRepository}@${digest}`, image: digest, generation: is.metadata.generation ?? 1 };
    const existing = status.tags.find((t) => t.tag === tag);
    if (existing) existing.items.unshift(item);
    else status.tags.push({ tag, items: [item] });
    return this.put('image.openshift.io/imagestreams', is);
  }

  clusterResourceQuota(name: string, hard: Record<string, string>, used: Record<string, string>): KubeObject {
    return this.put('quota.openshift.io/clusterresourcequotas', {
      apiVersion: 'quota.openshift.io/v1',
      kind: 'ClusterResourceQuota',
      metadata: { name },
      spec: { quota: { hard }, selector: { annotations: { 'openshift.io/requester': 'developer' } } },
      status: { total: { hard, used }, namespaces: [] },
    });
  }
}
