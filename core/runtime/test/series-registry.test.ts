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
