/**
 * The line parser on its own (every shape of the protocol and every way a line can be wrong), the
 * package's manifest and config, and the collector conformance suite.
 */
import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { isSextantPlugin, parseManifest, type CollectorFactory } from '@sextant/plugin-api';
import { resolveConfig } from '@sextant/testkit';
import { describeCollectorConformance } from '@sextant/testkit/conformance';
import { canonicalTags, parseDogStatsdEvent, MAX_NAME_LENGTH, MAX_TAGS, newParsedLine, parseStatsdLine, plugin, statsdCollectorFactory, statsdConfigSchema, tagsToAttributes } from '../src/index.js';

const FRAGMENTS = ['1', '|c', '|g', '|ms', '|s', '|d', '|h', '|@0.5', '|#', 'k:v', ',', '\n', 'NaN', 'Inf', '1e999', '0x1', '_e{', '_sc|'];

const parse = (line: string) => {
  const out = newParsedLine();
  const outcome = parseStatsdLine(line, out);
  return { outcome, ...out, values: out.values.slice(0, out.valueCount) };
};

describe('parseStatsdLine', () => {
  it('reads every metric type with sample rate, tags and DogStatsD extension sections', () => {
    expect(parse('page.views:1|c')).toMatchObject({ outcome: 'ok', name: 'page.views', type: 'c', values: [1], sampleRate: 1, tagText: '' });
    expect(parse('api.time:12.5|ms|@0.1|#route:/cart,env:prod')).toMatchObject({ outcome: 'ok', type: 'ms', values: [12.5], sampleRate: 0.1, tagText: 'route:/cart,env:prod' });
    expect(parse('q.depth:-3|g')).toMatchObject({ outcome: 'ok', type: 'g', values: [-3], delta: true });
    expect(parse('q.depth:+3|g')).toMatchObject({ outcome: 'ok', values: [3], delta: true });
    expect(parse('q.depth:3|g')).toMatchObject({ outcome: 'ok', delta: false });
    expect(parse('size:1:2:3.5|h')).toMatchObject({ outcome: 'ok', type: 'h', values: [1, 2, 3.5] });
    expect(parse('d:1e3|d|#a|c:abc123|T1656581400|card:high')).toMatchObject({ outcome: 'ok', type: 'd', values: [1000], tagText: 'a' });
    expect(parse('users:user:42|s|#site:shop')).toMatchObject({ outcome: 'ok', type: 's', setMember: 'user:42', tagText: 'site:shop' });
    expect(parse('crlf:1|c\r')).toMatchObject({ outcome: 'ok', name: 'crlf' });
    expect(parse('forms:-.5e3:1.:+2E-1|d')).toMatchObject({ outcome: 'ok', values: [-500, 1, 0.2] });
    expect(parse('two:1|c|#b:2|#a:1')).toMatchObject({ tagText: 'b:2,a:1' });
    expect(canonicalTags('b:2,a:1,,b:2')).toEqual(['a:1', 'b:2']);
  });

  it('recognises events and service checks, and blank lines', () => {
    expect(parse('_e{5,4}:title|text').outcome).toBe('event');
    expect(parse('_sc|db.up|0').outcome).toBe('service_check');
    expect(parse('').outcome).toBe('empty');
    expect(parse('   ').outcome).toBe('empty');
  });

  it.each([
    ['nothing', 'syntax'],
    ['name:1', 'syntax'],
    ['name|c', 'syntax'],
    ['name:1|', 'syntax'],
    ['name:1|c|!x', 'syntax'],
    [':1|c', 'name'],
    ['has space:1|c', 'name'],
    [`${'n'.repeat(MAX_NAME_LENGTH + 1)}:1|c`, 'name'],
    ['name:1|x', 'type'],
    ['name:1|count', 'type'],
    ['name:|c', 'value'],
    ['name:abc|c', 'value'],
    ['name:0x1F|c', 'value'],
    ['name:1,5|c', 'value'],
    ['name:1::2|ms', 'value'],
    ['name:+|g', 'value'],
    ['name:1e|c', 'value'],
    ['name:.|c', 'value'],
    ['name: 1|c', 'value'],
    ['name:|s', 'value'],
    ['name:NaN|g', 'non_finite'],
    ['name:-Inf|ms', 'non_finite'],
    ['name:Infinity|c', 'non_finite'],
    ['name:1e400|h', 'non_finite'],
    ['name:1|c|@0', 'sample_rate'],
    ['name:1|c|@-1', 'sample_rate'],
    ['name:1|c|@2', 'sample_rate'],
    ['name:1|c|@x', 'sample_rate'],
    ['name:1|c|#:v', 'tags'],
    ['name:1|ms|#quantile:p99', 'tags'],
    [`name:1|c|#${'t'.repeat(201)}`, 'tags'],
    [`name:1|c|#${Array.from({ length: MAX_TAGS + 1 }, (_, i) => `k${i}`).join(',')}`, 'tags'],
  ])('refuses %j as %s', (line, reason) => {
    expect(parse(line).outcome).toBe(reason);
  });

  it('never throws on random input, and every accepted line carries finite values only', () => {
    const alphabet = 'ab.:|#@,-+eE0123456789 \tNnaIifcgmshdT_{}\u00e9\u{1F600}';
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      const len = 1 + Math.floor(rnd() * 40);
      let line = '';
      for (let j = 0; j < len; j++) line += rnd() < 0.3 ? FRAGMENTS[Math.floor(rnd() * FRAGMENTS.length)] : alphabet[Math.floor(rnd() * alphabet.length)];
      if (i % 2 === 0) line = `m${i % 7}:${line}`;
      const r = parse(line);
      seen.add(r.outcome);
      if (r.outcome === 'ok') for (const v of r.values) expect(Number.isFinite(v), line).toBe(true);
    }
    for (const mutated of ['a:1|c', 'a:1.5|ms|@0.5|#x:y']) {
      for (let k = 0; k < mutated.length; k++) {
        const line = mutated.slice(0, k) + mutated.slice(k + 1);
        expect(() => parse(line)).not.toThrow();
      }
    }
    expect(seen.size, [...seen].join(',')).toBeGreaterThan(5);
  });

  it('turns tags into point attributes (bare tags get an empty value)', () => {
    expect(tagsToAttributes(['env:prod', 'canary', 'url:http://x:8080/a'])).toEqual({ env: 'prod', canary: '', url: 'http://x:8080/a' });
  });
});

describe('parseDogStatsdEvent', () => {
  it('reads title, text and options, with lengths in UTF-8 bytes (Datadog) or UTF-16 units (hot-shots)', () => {
    expect(parseDogStatsdEvent('_e{6,9}:Deploy|v1\\nfinal|d:1700000000|h:web-1|k:dep|p:low|s:ci|t:error|#env:prod,b')).toEqual({
      title: 'Deploy',
      text: 'v1\nfinal',
      timestamp: 1700000000,
      hostname: 'web-1',
      aggregationKey: 'dep',
      priority: 'low',
      sourceType: 'ci',
      alertType: 'error',
      tags: ['b', 'env:prod'],
    });
    expect(parseDogStatsdEvent('_e{6,2}:h\u00e9llo|ok')).toMatchObject({ title: 'h\u00e9llo', text: 'ok' });
    expect(parseDogStatsdEvent('_e{5,2}:h\u00e9llo|ok')).toMatchObject({ title: 'h\u00e9llo', text: 'ok' });
  });

  it.each(['_e{}:a|b', '_e{0,1}:|b', '_e{9,1}:short|b', '_e{5,9}:title|b', '_e{5,1}:title|bb', '_e{1,1}:ab'])('refuses %j', (line) => {
    expect(parseDogStatsdEvent(line)).toBeUndefined();
  });
});

describeCollectorConformance(statsdCollectorFactory, {
  config: { listen: '127.0.0.1:0' },
  invalid: { config: { listen: '127.0.0.1:0', counters: 'sum' }, path: 'statsd.counters' },
});

describe('configuration', () => {
  it('listens on 127.0.0.1:8125 over UDP and TCP by default and refuses a listener with neither', async () => {
    expect(await resolveConfig(statsdCollectorFactory, {})).toMatchObject({ listen: '127.0.0.1:8125', udp: true, tcp: true, counters: 'rate', maxSeries: 10_000, expireAfter: 300_000 });
    await expect(resolveConfig(statsdCollectorFactory, { udp: false, tcp: false })).rejects.toThrow(/enable udp, tcp or both/);
    await expect(resolveConfig(statsdCollectorFactory, { listen: '8125' })).rejects.toThrow(/host:port/);
  });
});

describe('README', () => {
  it('documents every configuration key and every refusal reason', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    for (const key of Object.keys(statsdConfigSchema.shape)) expect(readme, key).toContain(`| \`${key}\` |`);
    for (const reason of ['syntax', 'name', 'type', 'value', 'non_finite', 'sample_rate', 'tags', 'too_long', 'packet_too_large', 'event', 'overflow', 'type_conflict', 'series_limit']) {
      expect(readme, reason).toContain(`| \`${reason}\` |`);
    }
  });
});

describe('plugin package', () => {
  it('default-exports a plugin that registers the alpha "statsd" collector factory', async () => {
    expect(isSextantPlugin(plugin)).toBe(true);
    const added: CollectorFactory<unknown>[] = [];
    await plugin.register({ collectors: { addFactory: (f: CollectorFactory<unknown>) => added.push(f) } });
    expect(added.map((f) => [f.type, f.stability])).toEqual([['statsd', 'alpha']]);
  });

  it('has a valid manifest, the plugin API as peer, hot-shots only for tests, and the DDSketch version of plugins/rum', async () => {
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
    const rum = JSON.parse(await readFile(new URL('../../rum/package.json', import.meta.url), 'utf8'));
    expect(parseManifest(pkg.sextant).ok).toBe(true);
    expect(pkg.peerDependencies['@sextant/plugin-api']).toBeDefined();
    expect(JSON.stringify(pkg)).not.toContain('@sextant/runtime');
    expect(pkg.devDependencies['hot-shots']).toBeDefined();
    expect(pkg.dependencies['hot-shots']).toBeUndefined();
    expect(pkg.dependencies['@datadog/sketches-js']).toBe(rum.dependencies['@datadog/sketches-js']);
  });
});
