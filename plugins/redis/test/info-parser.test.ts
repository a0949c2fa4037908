import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MAX_LINE_LENGTH, RedisInfoParser, strictNumber, subfield } from '../src/index.js';

/** A trimmed INFO reply as redis-server 7.0 writes it. */
const SAMPLE = [
  '# Server',
  'redis_version:7.0.15',
  'executable:/usr/bin/redis-server',
  'config_file:',
  'run_id:4f1c9b7a2d',
  '',
  '# Clients',
  'connected_clients:3',
  '',
  '# Replication',
  'role:master',
  'slave0:ip=::1,port=6380,state=online,offset=1234,lag=0',
  '',
  '# Commandstats',
  'cmdstat_client|setname:calls=2,usec=3,usec_per_call=1.50,rejected_calls=0,failed_calls=0',
  '',
  '# Keyspace',
  'db0:keys=40,expires=15,avg_ttl=3599000',
  'db3:keys=7,expires=3,avg_ttl=0',
  '',
].join('\r\n');

describe('RedisInfoParser', () => {
  it('reads key:value lines across sections, values with colons and empty values', () => {
    const info = new RedisInfoParser().parse(SAMPLE);
    expect(info.rejectedLines).toBe(0);
    expect([...info.sections]).toEqual(['server', 'clients', 'replication', 'commandstats', 'keyspace']);
    expect(info.fields.get('executable')).toBe('/usr/bin/redis-server');
    expect(info.fields.get('config_file')).toBe('');
    expect(info.fields.get('connected_clients')).toBe('3');
    expect(info.fields.get('cmdstat_client|setname')).toMatch(/^calls=2,/);
    expect(subfield(info.fields.get('slave0')!, 'ip')).toBe('::1');
    expect(subfield(info.fields.get('slave0')!, 'offset')).toBe('1234');
    expect(subfield(info.fields.get('db0')!, 'expires')).toBe('15');
    expect(subfield(info.fields.get('db0')!, 'missing')).toBeUndefined();
  });

  it('accepts LF-only line ends and a missing final newline', () => {
    const info = new RedisInfoParser().parse('# Memory\nused_memory:1024\nmaxmemory:0');
    expect(info.fields.get('used_memory')).toBe('1024');
    expect(info.fields.get('maxmemory')).toBe('0');
  });

  it('counts garbage lines and keeps the good ones', () => {
    const info = new RedisInfoParser().parse('used_memory:10\r\nthis is not redis\r\n:no key\r\nbad key:1\r\n\u0000\u0001:x\r\n   \r\nblocked_clients:2\r\n');
    expect(info.rejectedLines).toBe(4);
    expect(Object.fromEntries(info.fields)).toEqual({ used_memory: '10', blocked_clients: '2' });
  });

  it('rejects absurdly long lines', () => {
    const info = new RedisInfoParser().parse(`huge:${'9'.repeat(MAX_LINE_LENGTH)}\nok:1`);
    expect(info.rejectedLines).toBe(1);
    expect(info.fields.has('huge')).toBe(false);
    expect(info.fields.get('ok')).toBe('1');
  });

  it('forgets the previous reply when reused', () => {
    const parser = new RedisInfoParser();
    parser.parse('a:1\r\ngarbage\r\n');
    const info = parser.parse('b:2\r\n');
    expect(Object.fromEntries(info.fields)).toEqual({ b: '2' });
    expect(info.rejectedLines).toBe(0);
  });

  it('parses multi-megabyte pathological input in one pass (a quadratic parser would not finish)', () => {
    const parser = new RedisInfoParser();
    const noNewlines = 'x'.repeat(4_000_000);
    expect(parser.parse(noNewlines).rejectedLines).toBe(1);
    const onlyColons = ':'.repeat(4_000_000);
    expect(parser.parse(onlyColons).rejectedLines).toBe(1);
    const manyLines = 'k:v,=,=,=\r\n'.repeat(400_000);
    expect(parser.parse(manyLines).fields.size).toBe(1);
    const manyGarbage = 'no colon here\n'.repeat(400_000);
    expect(parser.parse(manyGarbage).rejectedLines).toBe(400_000);
    expect(subfield(','.repeat(4_000_000), 'keys')).toBeUndefined();
  });
});

describe('RedisInfoParser properties (fast-check)', () => {
  const key = fc.stringMatching(/^[a-z][a-z0-9_|.-]{0,30}$/);
  const value = fc.string({ maxLength: 40 }).map((s) => s.replace(/[\r\n]/g, ''));
  type Line = { kind: 'field'; key: string; value: string } | { kind: 'section'; title: string } | { kind: 'blank' } | { kind: 'garbage'; text: string };
  const line: fc.Arbitrary<Line> = fc.oneof(
    fc.record({ kind: fc.constant('field' as const), key, value }),
    fc.record({ kind: fc.constant('section' as const), title: fc.stringMatching(/^[A-Za-z]{1,12}$/) }),
    fc.constant({ kind: 'blank' as const }),
    // garbage: no colon at all, or a key with a space before the colon; never blank, never '#'
    fc.oneof(
      fc.stringMatching(/^[a-z0-9 =,.]{0,20}[a-z0-9=,.][a-z0-9 =,.]{0,20}$/),
      fc.tuple(fc.stringMatching(/^[a-z]{1,5}$/), fc.stringMatching(/^[a-z]{1,5}$/)).map(([a, b]) => `${a} ${b}:1`),
    ).map((text) => ({ kind: 'garbage' as const, text })),
  );

  it('never throws on arbitrary text', () => {
    const parser = new RedisInfoParser();
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 2000 }), (text) => {
        const info = parser.parse(text);
        expect(info.rejectedLines).toBeGreaterThanOrEqual(0);
        for (const [k] of info.fields) expect(k).not.toMatch(/[\s:]/);
      }),
      { numRuns: 500 },
    );
  });

  it('finds every field (last value wins) and counts exactly the garbage lines, with CRLF or LF', () => {
    const parser = new RedisInfoParser();
    fc.assert(
      fc.property(fc.array(line, { maxLength: 60 }), fc.boolean(), (lines, crlf) => {
        const text = lines
          .map((l) => (l.kind === 'field' ? `${l.key}:${l.value}` : l.kind === 'section' ? `# ${l.title}` : l.kind === 'blank' ? '' : l.text))
          .join(crlf ? '\r\n' : '\n');
        const info = parser.parse(text);
        const expected = new Map<string, string>();
        for (const l of lines) if (l.kind === 'field') expected.set(l.key, l.value);
        expect(Object.fromEntries(info.fields)).toEqual(Object.fromEntries(expected));
        expect(info.rejectedLines).toBe(lines.filter((l) => l.kind === 'garbage').length);
      }),
      { numRuns: 500 },
    );
  });

  it('subfield finds the first k=v of a comma list', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.stringMatching(/^[a-z_]{1,8}$/), fc.stringMatching(/^[a-z0-9.:]{0,8}$/)), { maxLength: 20 }), fc.stringMatching(/^[a-z_]{1,8}$/), (pairs, name) => {
        const text = pairs.map(([k, v]) => `${k}=${v}`).join(',');
        expect(subfield(text, name)).toBe(pairs.find(([k]) => k === name)?.[1]);
      }),
      { numRuns: 500 },
    );
  });

  it('strictNumber accepts what Redis prints and nothing looser', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e15, max: 1e15 }).filter((d) => !Object.is(d, -0))), (n) => {
        expect(strictNumber(String(n))).toBe(n);
      }),
    );
    for (const bad of ['', ' 1', '0x10', 'nan', 'inf', '-inf', '1,5', 'Infinity', undefined]) expect(strictNumber(bad)).toBeNaN();
    expect(strictNumber('1e400')).toBe(Number.POSITIVE_INFINITY); // finite-ness is the caller's check
  });
});
