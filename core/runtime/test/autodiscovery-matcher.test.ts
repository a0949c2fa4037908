import type { DiscoveryRule, PluginManifest } from '@sextant/plugin-api';
import { describe, expect, it } from 'vitest';
import {
  CONTAINER_ENTITY_KEYS,
  discoveredContainerFromEntity,
  explainContainer,
  imageMatchesPattern,
  imageRepositoryPath,
  matchContainer,
  renderConfigTemplate,
  type DiscoveredContainer,
  type DiscoveryPlugin,
} from '../src/autodiscovery/index.js';

const ID = '3f2a1b2c3d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff';

function container(over: Partial<DiscoveredContainer> = {}): DiscoveredContainer {
  return {
    id: ID,
    name: 'web',
    image: 'docker.io/library/nginx:1.25',
    labels: {},
    state: 'running',
    pid: 4242,
    ipAddresses: ['10.0.0.5'],
    ports: [{ port: 80, protocol: 'tcp' }],
    networkMode: 'bridge',
    ...over,
  };
}

function plugin(pluginId: string, ...discovery: DiscoveryRule[]): DiscoveryPlugin {
  const manifest: PluginManifest = { plugin: './dist/plugin.js', protocol: [1], provides: ['collector'], discovery };
  return { pluginId, packageName: `@sextant/plugin-${pluginId}`, manifest };
}

const nginx = plugin('nginx', { factory: 'nginx', images: ['nginx', '*/nginx', 'bitnami/nginx'], ports: [80, 8080], config: { url: 'http://{{host}}:{{port}}/nginx_status' } });
const redis = plugin('redis', { factory: 'redis', images: ['redis', '*/redis', 'bitnami/redis'], ports: [6379], config: { url: 'redis://{{host}}:{{port}}' } });
const plugins = [nginx, redis];

describe('image patterns', () => {
  it.each([
    ['nginx', 'nginx'],
    ['nginx:1.25', 'nginx'],
    ['docker.io/library/nginx:1.25', 'library/nginx'],
    ['registry.local:5000/acme/api@sha256:abcd', 'acme/api'],
    ['localhost/redis:7', 'redis'],
    ['sha256:0123abcd', ''],
  ])('repository path of %s is %s', (ref, path) => {
    expect(imageRepositoryPath(ref)).toBe(path);
  });

  it('ignores registry, tag and digest and understands the library namespace', () => {
    expect(imageMatchesPattern('docker.io/library/nginx:1.25', 'nginx')).toBe(true);
    expect(imageMatchesPattern('nginx@sha256:1234', 'nginx')).toBe(true);
    expect(imageMatchesPattern('quay.io/bitnami/nginx:latest', '*/nginx')).toBe(true);
    expect(imageMatchesPattern('quay.io/bitnami/nginx:latest', 'nginx')).toBe(false);
    expect(imageMatchesPattern('nginx-exporter:1', 'nginx')).toBe(false);
    expect(imageMatchesPattern('myorg/nginx-custom', '*/nginx*')).toBe(true);
  });

  it('reads patterns as picomatch globs: * stays within one path segment, ** crosses them', () => {
    // Before the one glob dialect, `*` crossed `/` here (and nowhere else in the configuration).
    expect(imageMatchesPattern('ghcr.io/acme/team/nginx:1', '*/nginx')).toBe(false);
    expect(imageMatchesPattern('ghcr.io/acme/team/nginx:1', '**/nginx')).toBe(true);
    expect(imageMatchesPattern('docker.io/library/nginx:1.25', '**/nginx')).toBe(true);
    expect(imageMatchesPattern('redis/redis-stack-server:7', 'redis/redis-stack*')).toBe(true);
    expect(imageMatchesPattern('nginx:1', 'ngin?')).toBe(true);
    expect(imageMatchesPattern('nginx:1', '')).toBe(false);
  });
});

describe('matchContainer', () => {
  it('matches an nginx image and renders the config with the container IP and exposed port', () => {
    const r = matchContainer(container(), plugins);
    expect(r.matches).toHaveLength(1);
    expect(r.matches[0]).toMatchObject({ pluginId: 'nginx', factory: 'nginx', key: 'nginx/c-3f2a1b2c3d4e', config: { url: 'http://10.0.0.5:80/nginx_status' } });
    expect(r.matches[0].reason).toBe('matched image pattern nginx against docker.io/library/nginx:1.25');
    expect(r.rejected).toEqual([expect.objectContaining({ pluginId: 'redis', reason: 'image docker.io/library/nginx:1.25 does not match redis, */redis, bitnami/redis; port 6379 not exposed' })]);
  });

  it('prefers the rule port the container exposes and uses 127.0.0.1 for host networking', () => {
    const r = matchContainer(container({ networkMode: 'host', ipAddresses: [], ports: [{ port: 8080, protocol: 'tcp' }] }), plugins);
    expect(r.matches[0].config).toEqual({ url: 'http://127.0.0.1:8080/nginx_status' });
    const none = matchContainer(container({ networkMode: 'host', ipAddresses: [], ports: [] }), plugins);
    expect(none.matches[0].config).toEqual({ url: 'http://127.0.0.1:80/nginx_status' });
  });

  it('rejects with the reason when the template needs an address the container does not have', () => {
    const r = matchContainer(container({ networkMode: 'none', ipAddresses: [] }), plugins);
    expect(r.matches).toEqual([]);
    expect(r.rejected.find((x) => x.pluginId === 'nginx')?.reason).toMatch(/matched image pattern nginx .* but \{\{host\}\} has no value: container has no IP address \(network mode none\)/);
  });

  it('matches port-only and label rules and renders every template variable', () => {
    const generic = plugin('http-check', {
      factory: 'http-check',
      ports: [9000],
      labels: { team: 'shop' },
      config: { url: 'http://{{ host }}:{{port}}/{{labels.path}}', name: '{{container.name}}', id: '{{container.id}}', pid: '{{container.pid}}', port: '{{port}}', list: ['{{labels.team}}'] },
    });
    const c = container({ image: 'acme/shop', labels: { team: 'shop', path: 'healthz' }, ports: [{ port: 9000, protocol: 'tcp', hostPort: 19000, hostIp: '0.0.0.0' }] });
    const r = matchContainer(c, [generic]);
    expect(r.matches[0].reason).toBe('matched exposed port 9000');
    expect(r.matches[0].config).toEqual({ url: 'http://10.0.0.5:9000/healthz', name: 'web', id: ID, pid: 4242, port: 9000, list: ['shop'] });
    const wrongLabel = matchContainer({ ...c, labels: { team: 'ops' } }, [generic]);
    expect(wrongLabel.rejected[0].reason).toBe('label team is ops, not shop');
  });

  it('reports an unknown template variable instead of starting a broken instance', () => {
    const p = plugin('bad', { factory: 'bad', images: ['nginx'], config: { url: 'http://{{hots}}/' } });
    expect(matchContainer(container(), [p]).rejected[0].reason).toContain('unknown template variable {{hots}}');
  });

  describe('the io.sextant.plugins label', () => {
    it('"none" disables every plugin', () => {
      const r = matchContainer(container({ labels: { 'io.sextant.plugins': 'none' } }), plugins);
      expect(r.matches).toEqual([]);
      expect(r.rejected.every((x) => x.reason === 'autodiscovery disabled by label io.sextant.plugins=none')).toBe(true);
    });

    it('false disables one plugin, an object overrides config and can enable a plugin whose rules do not match', () => {
      const labels = { 'io.sextant.plugins': JSON.stringify({ nginx: false, redis: { url: 'redis://{{host}}:7000', password: 'x' } }) };
      const r = matchContainer(container({ labels }), plugins);
      expect(r.matches).toEqual([expect.objectContaining({ pluginId: 'redis', reason: 'enabled by label io.sextant.plugins', config: { url: 'redis://10.0.0.5:7000', password: 'x' } })]);
      expect(r.rejected).toEqual([expect.objectContaining({ pluginId: 'nginx', reason: 'disabled by label io.sextant.plugins' })]);
    });

    it('an override merges over a rule that matched', () => {
      const labels = { 'io.sextant.plugins': '{"nginx": {"url": "http://{{host}}:{{port}}/status"}}' };
      const m = matchContainer(container({ labels }), plugins).matches[0];
      expect(m.config).toEqual({ url: 'http://10.0.0.5:80/status' });
      expect(m.reason).toContain('config overridden by label io.sextant.plugins');
    });

    it('invalid JSON is ignored with a note', () => {
      const r = matchContainer(container({ labels: { 'io.sextant.plugins': '{nginx: false' } }), plugins);
      expect(r.matches).toHaveLength(1);
      expect(r.notes[0]).toMatch(/not valid JSON.*ignored/);
    });
  });
});

describe('explainContainer', () => {
  it('says which plugin matched and why, and why the others did not', () => {
    const lines = explainContainer(container(), plugins);
    expect(lines).toEqual([
      'container web (3f2a1b2c3d4e), image docker.io/library/nginx:1.25, state running',
      'nginx: matched image pattern nginx against docker.io/library/nginx:1.25 -> nginx/c-3f2a1b2c3d4e url=http://10.0.0.5:80/nginx_status',
      'redis: image docker.io/library/nginx:1.25 does not match redis, */redis, bitnami/redis; port 6379 not exposed',
    ]);
  });

  it('says when nothing matched', () => {
    const lines = explainContainer(container({ image: 'acme/api:2', ports: [] }), plugins);
    expect(lines.at(-1)).toBe('no plugin matched; nothing will be started for this container');
    expect(explainContainer(container(), []).at(-1)).toBe('no installed plugin declares discovery rules');
  });
});

describe('discoveredContainerFromEntity', () => {
  it('reads the attributes the containers collector writes and survives malformed JSON', () => {
    const K = CONTAINER_ENTITY_KEYS;
    const c = discoveredContainerFromEntity({
      id: `container:${ID}`,
      type: 'container',
      name: 'web',
      attributes: {
        [K.id]: ID,
        [K.name]: 'web',
        [K.imageRef]: 'nginx:1.25',
        [K.labels]: '{"a":"b"}',
        [K.state]: 'running',
        [K.pid]: 7,
        [K.ipAddresses]: '["10.0.0.9"]',
        [K.ports]: '[{"port":80,"protocol":"tcp"}]',
        [K.networkMode]: 'bridge',
      },
    });
    expect(c).toEqual({ id: ID, name: 'web', image: 'nginx:1.25', labels: { a: 'b' }, state: 'running', pid: 7, ipAddresses: ['10.0.0.9'], ports: [{ port: 80, protocol: 'tcp' }], networkMode: 'bridge' });
    const broken = discoveredContainerFromEntity({ id: 'container:x', type: 'container', name: 'x', attributes: { [K.imageRef]: 'nginx', [K.labels]: '{', [K.ports]: 'nope' } });
    expect(broken).toMatchObject({ id: 'x', labels: {}, ports: [], ipAddresses: [] });
    expect(discoveredContainerFromEntity({ id: 'host:h', type: 'host', name: 'h', attributes: {} })).toBeUndefined();
  });
});

describe('renderConfigTemplate', () => {
  it('leaves non-string values alone', () => {
    const r = renderConfigTemplate({ n: 1, b: true, nested: { s: '{{container.name}}-x' } }, { host: undefined, port: undefined, container: container() });
    expect(r).toEqual({ ok: true, value: { n: 1, b: true, nested: { s: 'web-x' } } });
  });
});

describe('template alternatives (label rules with defaults, e.g. prometheus.io/*)', () => {
  const scrape = plugin('prometheus', {
    factory: 'prometheus',
    labels: { 'prometheus.io/scrape': 'true' },
    config: { url: "{{labels.prometheus.io/scheme | 'http'}}://{{host}}:{{labels.prometheus.io/port | port}}{{labels.prometheus.io/path | '/metrics'}}" },
  });

  it('takes the label when set, else the next alternative or the quoted default', () => {
    const labelled = container({ labels: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9102', 'prometheus.io/path': '/stats' } });
    expect(matchContainer(labelled, [scrape]).matches[0]?.config).toEqual({ url: 'http://10.0.0.5:9102/stats' });
    const bare = container({ labels: { 'prometheus.io/scrape': 'true' }, ports: [{ port: 8080, protocol: 'tcp' }] });
    expect(matchContainer(bare, [scrape]).matches[0]?.config).toEqual({ url: 'http://10.0.0.5:8080/metrics' });
  });

  it('does not match a container without the label, and says why', () => {
    const r = matchContainer(container({ labels: { 'prometheus.io/scrape': 'false' } }), [scrape]);
    expect(r.matches).toEqual([]);
    expect(r.rejected[0]?.reason).toBe('label prometheus.io/scrape is false, not true');
  });

  it('fails when no alternative has a value, and on an unknown name even as an alternative', () => {
    const values = { host: '10.0.0.5', port: undefined, container: container() };
    expect(renderConfigTemplate({ p: '{{labels.x | port}}' }, values)).toEqual({ ok: false, error: '{{labels.x}} has no value: label x is not set' });
    expect(renderConfigTemplate({ p: "{{prot | 'http'}}" }, values)).toEqual({ ok: false, error: 'unknown template variable {{prot}}' });
    expect(renderConfigTemplate({ p: "{{ labels.x | 'a b' }}" }, values)).toEqual({ ok: true, value: { p: 'a b' } });
  });
});
