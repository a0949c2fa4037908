import { ErrorCode, SextantError, type SeriesDescriptor } from '@sextant/plugin-api';
import { describe, expect, it } from 'vitest';
import { SeriesRegistry } from '../src/index.js';

const d = (metric: string, resource: Record<string, string>, attributes: Record<string, string> = {}): SeriesDescriptor => ({ metric, unit: '1', type: 'gauge', resource, attributes });

describe('SeriesRegistry', () => {
  it('gives one id per (metric, resource, attributes), whatever the key order', () => {
    const r = new SeriesRegistry(100);
    const a = r.intern(d('cpu', { 'host.name': 'a', 'service.name': 's' }, { core: '0', mode: 'user' }), 'test');
    expect(r.intern(d('cpu', { 'service.name': 's', 'host.name': 'a' }, { mode: 'user', core: '0' }), 'test')).toBe(a);
    expect(r.intern(d('cpu', { 'host.name': 'a', 'service.name': 's' }, { core: '1', mode: 'user' }), 'test')).not.toBe(a);
    expect(r.intern(d('mem', { 'host.name': 'a', 'service.name': 's' }, { core: '0', mode: 'user' }), 'test')).not.toBe(a);
    expect(r.lookup(d('cpu', { 'service.name': 's', 'host.name': 'a' }, { mode: 'user', core: '0' }))).toBe(a);
    expect(r.lookup(d('cpu', { 'host.name': 'b' }))).toBeUndefined();
    expect(r.size).toBe(3);
    expect(r.find({ metric: 'cpu' }).map((s) => s.attributes.core)).toEqual(['0', '1']);
    expect(r.find({ metric: 'c*', match: { core: '1' } })).toHaveLength(1);
  });

  it('keeps one frozen copy of a resource for all its series, unaffected by the caller changing its objects', () => {
    const r = new SeriesRegistry(100);
    const resource = { 'host.name': 'a' };
    const attributes = { core: '0' };
    const one = r.describe(r.intern(d('cpu', resource, attributes), 'test'))!;
    const two = r.describe(r.intern(d('mem', { 'host.name': 'a' }), 'test'))!;
    expect(one.resource).toBe(two.resource);
    resource['host.name'] = 'changed';
    attributes.core = 'changed';
    expect(one.resource).toEqual({ 'host.name': 'a' });
    expect(one.attributes).toEqual({ core: '0' });
    expect(Object.isFrozen(one.resource) && Object.isFrozen(one.attributes)).toBe(true);
    expect(one).toMatchObject({ id: 0, source: 'test', metric: 'cpu', unit: '1', type: 'gauge' });
  });

  it('tells 200k series apart (hash collisions included) and finds each again from a fresh descriptor', () => {
    const n = 200_000;
    const r = new SeriesRegistry(n);
    const make = (i: number): SeriesDescriptor => ({ metric: `m${i % 7}`, unit: '1', type: 'gauge', resource: { 'host.name': `h${i % 1000}`, 'container.id': `c${i % 5000}` }, attributes: { n: i } });
    const wrong: number[] = [];
    for (let i = 0; i < n; i++) if (r.intern(make(i), 'test') !== i) wrong.push(i);
    for (let i = 0; i < n; i++) if (r.lookup(make(i)) !== i || r.intern(make(i), 'again') !== i) wrong.push(i);
    expect(wrong).toEqual([]);
    expect(r.size).toBe(n);
    // a value compares as a string, whatever its type (as the series key always did)
    expect(r.lookup({ metric: 'm3', resource: { 'container.id': 'c10', 'host.name': 'h10' }, attributes: { n: '10' } })).toBe(10);
    expect(r.lookup({ metric: 'm3', resource: { 'host.name': 'h10' }, attributes: { n: 10 } })).toBeUndefined();
    expect(r.lookup({ metric: 'm3', resource: { 'host.name': 'h10', 'container.id': 'c10' }, attributes: { n: 10, extra: 1 } })).toBeUndefined();
    expect(r.describe(10)).toMatchObject({ metric: 'm3', resource: { 'host.name': 'h10', 'container.id': 'c10' }, attributes: { n: 10 } });
  });

  it('refuses a new series at the limit with a coded error, and still finds the ones it has', () => {
    const r = new SeriesRegistry(2);
    const a = r.intern(d('a', { h: '1' }), 'test');
    r.intern(d('b', { h: '1' }), 'test');
    let error: unknown;
    try {
      r.intern(d('c', { h: 'new' }), 'plugin/x');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SextantError);
    expect((error as SextantError).code).toBe(ErrorCode.LIMIT_EXCEEDED);
    expect(r.intern(d('a', { h: '1' }), 'test')).toBe(a);
    expect(r.size).toBe(2);
  });
});
