/**
 * The UI's pure logic, without a browser: chart columns (gaps, anomaly marks), hash routes, the
 * search box, the topology layout and health colours.
 */
import { describe, expect, it } from 'vitest';
import { buildChartColumns, nearestIndex, typicalStep } from '../app/chart-data.js';
import { formatRoute, parseRange, parseRoute, timeWindow } from '../app/route.js';
import { parseSeriesQuery, seriesSearchPath } from '../app/series-query.js';
import { healthByEntity, layoutTopology } from '../app/topology-layout.js';
import { describeLearningProgress } from '../app/display-format.js';

describe('chart columns', () => {
  const at = (minutes: number[]) => minutes.map((m) => ({ timestamp: m * 60_000, value: m }));

  it('inserts a null where samples are more than 3 usual steps apart, so the line breaks there', () => {
    const c = buildChartColumns(at([0, 1, 2, 3, 10, 11]));
    expect(c.x.length).toBe(7);
    expect(c.value).toEqual([0, 1, 2, 3, null, 10, 11]);
    expect(c.x[4]).toBe(4 * 60);
  });

  it('turns NaN, Infinity and missing values into gaps, never into numbers', () => {
    const c = buildChartColumns([
      { timestamp: 0, value: 1, expected: Number.NaN, lower: null, upper: Number.POSITIVE_INFINITY },
      { timestamp: 60_000, value: Number.NaN },
      { timestamp: 120_000, value: null, expected: 2, lower: 1, upper: 3 },
    ]);
    expect(c.value).toEqual([1, null, null]);
    expect(c.expected).toEqual([null, null, 2]);
    expect(c.upper).toEqual([null, null, 3]);
    expect(c.hasBand).toBe(true);
  });

  it('marks an anomaly on the nearest sample and ignores one far from any sample', () => {
    const c = buildChartColumns(at([0, 1, 2, 3]), [2 * 60_000 + 5_000, 50 * 60_000]);
    expect(c.anomaly).toEqual([null, null, 2, null]);
  });

  it('handles empty and single-point series', () => {
    expect(buildChartColumns([]).x.length).toBe(0);
    expect(buildChartColumns(at([5])).value).toEqual([5]);
    expect(typicalStep([1])).toBe(0);
    expect(nearestIndex([], 3)).toBe(-1);
    expect(nearestIndex([1, 5, 9], 6)).toBe(1);
  });
});

describe('hash routes', () => {
  it('round-trips a series with its time range, so a chart can be shared by its URL', () => {
    const route = parseRoute('#/series/42?range=24h&q=http.server.requests%20service.name%3Dweb');
    expect(route).toEqual({ page: 'series', id: '42', query: { range: '24h', q: 'http.server.requests service.name=web' } });
    expect(parseRoute(formatRoute(route))).toEqual(route);
  });

  it('falls back to the overview for unknown pages and to the default range for unknown ranges', () => {
    expect(parseRoute('#/nope').page).toBe('overview');
    expect(parseRoute('').page).toBe('overview');
    expect(parseRange('13y', '6h')).toBe('6h');
    expect(parseRoute('#/incidents/inc%2F1').id).toBe('inc/1');
  });
});

describe('chart time window', () => {
  it('uses the zoomed window from the URL when it is a valid one, else the preset range', () => {
    expect(timeWindow({ range: '24h', from: '1000', to: '5000' }, '6h')).toEqual({ from: '1000', to: '5000', zoomed: true, range: '24h' });
    expect(timeWindow({ range: '24h' }, '6h')).toEqual({ from: '-24h', zoomed: false, range: '24h' });
    const bad: Record<string, string>[] = [{ from: '5000', to: '1000' }, { from: 'x', to: '5' }, { from: '1' }, { from: 'NaN', to: 'Infinity' }];
    for (const query of bad) {
      expect(timeWindow(query, '6h')).toEqual({ from: '-6h', zoomed: false, range: '6h' });
    }
  });
});

describe('series search', () => {
  it('reads a metric and key=value filters, and never sends reserved parameter names as filters', () => {
    expect(parseSeriesQuery(' http.server.* service.name=web limit=5 ')).toEqual({ metric: 'http.server.*', match: { 'service.name': 'web' } });
    expect(seriesSearchPath(parseSeriesQuery('container.id=a b'), 51)).toBe('./api/v1/series?metric=b&container.id=a&limit=51');
  });
});

describe('topology layout', () => {
  const entities = [
    { id: 'service:web', type: 'service', name: 'web', attributes: {} },
    { id: 'container:w2', type: 'container', name: 'w2', attributes: {} },
    { id: 'host:b', type: 'host', name: 'b', attributes: {} },
    { id: 'container:w1', type: 'container', name: 'w1', attributes: {} },
    { id: 'host:a', type: 'host', name: 'a', attributes: {} },
    { id: 'queue:q', type: 'queue', name: 'q', attributes: {} },
  ];
  const edges = [
    { from: 'container:w1', to: 'host:a', type: 'runs-on' },
    { from: 'container:w2', to: 'host:b', type: 'runs-on' },
    { from: 'container:w1', to: 'service:web', type: 'member-of' },
    { from: 'container:w2', to: 'service:web', type: 'member-of' },
    { from: 'service:web', to: 'service:missing', type: 'calls' },
  ];

  it('puts hosts, containers, services and others in columns left to right, containers next to their host', () => {
    const layout = layoutTopology(entities, edges);
    const node = (id: string) => layout.nodes.find((n) => n.entity.id === id)!;
    expect(layout.columns.map((c) => c.title)).toEqual(['Hosts', 'Containers', 'Services', 'Other']);
    expect(node('host:a').x).toBeLessThan(node('container:w1').x);
    expect(node('container:w1').x).toBeLessThan(node('service:web').x);
    expect(node('service:web').x).toBeLessThan(node('queue:q').x);
    expect(node('container:w1').row).toBe(0); // follows host a (row 0)
    expect(node('container:w2').row).toBe(1);
    // Edges to unknown entities are left out; edges run left to right.
    expect(layout.edges).toHaveLength(4);
    expect(layout.edges.every((e) => e.from.column <= e.to.column)).toBe(true);
  });

  it('places Kubernetes nodes, pods, containers, workloads and services in that order', () => {
    const layout = layoutTopology(
      [
        { id: 'service:shop/web', type: 'service', name: 'shop/web', attributes: {} },
        { id: 'k8s.deployment:shop/web', type: 'k8s.deployment', name: 'shop/web', attributes: {} },
        { id: 'container:abc', type: 'container', name: 'web', attributes: {} },
        { id: 'pod:shop/web-1', type: 'pod', name: 'shop/web-1', attributes: {} },
        { id: 'host:n1', type: 'host', name: 'n1', attributes: {} },
      ],
      [],
    );
    expect(layout.columns.map((c) => c.title)).toEqual(['Hosts', 'Pods and tasks', 'Containers', 'Workloads', 'Services']);
  });

  it('colours an entity by the worst open incident naming it', () => {
    const health = healthByEntity([
      { status: 'open', severity: 'warning', entities: ['container:w1'] },
      { status: 'open', severity: 'critical', entities: ['container:w1', 'host:a'] },
      { status: 'resolved', severity: 'critical', entities: ['host:b'] },
    ]);
    expect(health.get('container:w1')).toBe('critical');
    expect(health.get('host:a')).toBe('critical');
    expect(health.has('host:b')).toBe(false);
  });

  it('lays out 200 containers on 10 hosts without overlapping nodes', () => {
    const many = [
      ...Array.from({ length: 10 }, (_, h) => ({ id: `host:h${h}`, type: 'host', name: `h${h}`, attributes: {} })),
      ...Array.from({ length: 200 }, (_, c) => ({ id: `container:c${c}`, type: 'container', name: `c${c}`, attributes: {} })),
    ];
    const layout = layoutTopology(many, Array.from({ length: 200 }, (_, c) => ({ from: `container:c${c}`, to: `host:h${c % 10}`, type: 'runs-on' })));
    const ys = layout.nodes.filter((n) => n.entity.type === 'container').map((n) => n.y);
    expect(new Set(ys).size).toBe(200);
  });
});

describe('learning progress in words', () => {
  const DAY = 86_400_000;
  it('says how much time and how many samples a series has of those it needs, never rounding up', () => {
    expect(describeLearningProgress({ samples: 120, samplesNeeded: 250, spanMs: 1.39 * DAY, spanNeededMs: 2 * DAY })).toBe('1.3 of 2 days and 120 of 250 samples seen; trusted once it has both.');
    expect(describeLearningProgress({ samples: 400, samplesNeeded: 250, spanMs: 1.999 * DAY, spanNeededMs: 2 * DAY })).toBe('1.9 of 2 days and 250 of 250 samples seen; trusted once it has both.');
    expect(describeLearningProgress({ samples: 3, samplesNeeded: 1000, spanMs: 3 * 3_600_000, spanNeededMs: 12 * 3_600_000 })).toBe('3 of 12 hours and 3 of 1,000 samples seen; trusted once it has both.');
  });

  it('says nothing once both are reached, or for nonsense', () => {
    expect(describeLearningProgress({ samples: 600, samplesNeeded: 250, spanMs: 3 * DAY, spanNeededMs: 2 * DAY })).toBeUndefined();
    expect(describeLearningProgress(undefined)).toBeUndefined();
    expect(describeLearningProgress({ samples: 1, samplesNeeded: 0, spanMs: 0, spanNeededMs: Number.NaN })).toBeUndefined();
  });
});
