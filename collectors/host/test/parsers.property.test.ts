import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDiskstats } from '../src/diskstats.js';
import { parseLoadavg, parseUptime } from '../src/loadavg.js';
import { parseMeminfo } from '../src/meminfo.js';
import { parseMounts } from '../src/mounts.js';
import { NameFilter } from '../src/name-filter.js';
import { parseNetDev } from '../src/net-dev.js';
import { parsePressure } from '../src/pressure.js';
import { createProcStat, parseProcStat } from '../src/proc-stat.js';
import type { ParseResult } from '../src/parse-result.js';

/** Tokens that look like /proc content, so generated text reaches deep into the parsers. */
const token = fc.constantFrom(
  'cpu', 'cpu0', 'cpu17', 'cpuX', 'processes', 'procs_running', 'procs_blocked', 'intr', 'MemTotal:', 'MemFree:', 'Buffers:',
  'Cached:', 'SwapTotal:', 'SwapFree:', 'MemAvailable:', 'kB', 'some', 'full', 'avg10=1.5', 'avg60=200', 'total=99', 'avg300=',
  '0', '1', '42', '-1', '1.5', '.', '1e9', 'NaN', 'Infinity', '18446744073709551615', '18446744073709551616', '99999999999999999999999',
  'eth0:', 'lo:', ':', '|', 'sda', '8', '/', '/mnt\\040x', 'ext4', 'rw', '3/412', '', '\u0000', 'é',
);
const procLikeText = fc
  .array(fc.tuple(fc.array(token, { maxLength: 24 }), fc.constantFrom(' ', '  ', '\t')).map(([tokens, separator]) => tokens.join(separator)), { maxLength: 30 })
  .map((lines) => lines.join('\n'));
const anyText = fc.oneof(fc.string({ maxLength: 400 }), fc.string({ unit: 'binary', maxLength: 400 }), procLikeText);

const PARSERS: Record<string, (text: string) => ParseResult<unknown>> = {
  parseProcStat: (text) => parseProcStat(text, createProcStat(1)),
  parseMeminfo,
  parseLoadavg,
  parseUptime,
  parsePressure,
  parseDiskstats: (text) => parseDiskstats(text),
  parseNetDev: (text) => parseNetDev(text),
  parseMounts,
};

describe('parsers never throw', () => {
  for (const [name, parse] of Object.entries(PARSERS)) {
    it(`${name}: any text gives a result or a reason`, () => {
      fc.assert(
        fc.property(anyText, (text) => {
          const result = parse(text);
          if (!result.ok) expect(typeof result.reason).toBe('string');
          expect(result.ok === true || result.reason.length > 0).toBe(true);
        }),
        { numRuns: 400 },
      );
    });
  }
});

const counter = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });

describe('parsers read back what the kernel would print', () => {
  it('parseDiskstats returns every statistic of every well-formed line', () => {
    const line = fc.record({ name: fc.stringMatching(/^[a-z][a-z0-9]{0,9}$/), stats: fc.array(counter, { minLength: 11, maxLength: 17 }) });
    fc.assert(
      fc.property(fc.array(line, { maxLength: 8 }), (lines) => {
        const text = lines.map((l) => `   8       0 ${l.name} ${l.stats.join(' ')}`).join('\n');
        const result = parseDiskstats(text);
        expect(result.ok).toBe(true);
        if (!result.ok) return;
        expect(result.value.count).toBe(lines.length);
        lines.forEach((l, row) => {
          expect(result.value.names[row]).toBe(l.name);
          for (let i = 0; i < 11; i++) expect(result.value.values[row * 11 + i]).toBe(Number(l.stats[i]));
        });
      }),
    );
  });

  it('parseNetDev reads interface counters with or without a space after the colon', () => {
    const line = fc.record({ name: fc.stringMatching(/^[a-z][a-z0-9.-]{0,12}$/), stats: fc.array(counter, { minLength: 16, maxLength: 16 }), space: fc.boolean() });
    fc.assert(
      fc.property(fc.array(line, { maxLength: 8 }), (lines) => {
        const text = ['Inter-|   Receive |  Transmit', ' face |bytes packets|bytes', ...lines.map((l) => `  ${l.name}:${l.space ? ' ' : ''}${l.stats.join(' ')}`)].join('\n');
        const result = parseNetDev(text);
        expect(result.ok).toBe(true);
        if (!result.ok) return;
        lines.forEach((l, row) => {
          expect(result.value.names[row]).toBe(l.name);
          expect(result.value.values[row * 16]).toBe(Number(l.stats[0]));
          expect(result.value.values[row * 16 + 15]).toBe(Number(l.stats[15]));
        });
      }),
    );
  });

  it('parseProcStat reads every CPU row and the process counters', () => {
    const ticks = fc.array(fc.bigInt({ min: 0n, max: 2n ** 53n }), { minLength: 4, maxLength: 10 });
    fc.assert(
      fc.property(ticks, fc.array(ticks, { maxLength: 70 }), fc.nat(), (total, cpus, forks) => {
        const text = [`cpu  ${total.join(' ')}`, ...cpus.map((t, i) => `cpu${i} ${t.join(' ')}`), 'intr 1 2 3', `processes ${forks}`, 'procs_running 1', 'procs_blocked 0'].join('\n');
        const stat = createProcStat(1);
        const result = parseProcStat(text, stat);
        expect(result.ok).toBe(true);
        expect(stat.cpuCount).toBe(cpus.length);
        expect(stat.processesCreated).toBe(forks);
        expect(stat.cpuTicks[3]).toBe(Number(total[3]));
        cpus.forEach((t, i) => expect(stat.cpuTicks[(i + 1) * 8]).toBe(Number(t[0])));
      }),
    );
  });

  it('parseMounts decodes octal escapes in mountpoints', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z ]{1,12}$/), (dir) => {
        const escaped = `/mnt/${dir}`.replaceAll(' ', '\\040');
        const result = parseMounts(`/dev/sdz1 ${escaped} ext4 ro,relatime 0 0\n`);
        expect(result).toEqual({ ok: true, value: [{ device: '/dev/sdz1', mountpoint: `/mnt/${dir}`, fsType: 'ext4', readOnly: true }] });
      }),
    );
  });
});

describe('NameFilter', () => {
  it('never throws on any pattern', () => {
    fc.assert(fc.property(fc.string({ minLength: 1, maxLength: 20 }), fc.string({ maxLength: 20 }), (pattern, other) => void new NameFilter([pattern], [pattern]).accepts(other)));
  });

  it('a name-like pattern without glob characters matches exactly itself', () => {
    const nameLike = fc.stringMatching(/^[A-Za-z0-9_:-][A-Za-z0-9_.:-]{0,19}$/);
    fc.assert(
      fc.property(nameLike, fc.string({ maxLength: 20 }), (pattern, other) => {
        const filter = new NameFilter([pattern]);
        expect(filter.accepts(pattern)).toBe(true);
        expect(filter.accepts(other)).toBe(other === pattern);
      }),
    );
  });

  it('reads mountpoint globs as picomatch does: * stays within one segment, ** crosses (before: * crossed /)', () => {
    expect(new NameFilter([], ['/var/lib/docker/*']).accepts('/var/lib/docker/overlay2/abc/merged')).toBe(true);
    expect(new NameFilter([], ['/var/lib/docker/**']).accepts('/var/lib/docker/overlay2/abc/merged')).toBe(false);
    expect(new NameFilter([], ['/run/**']).accepts('/run/user/1000')).toBe(false);
    expect(new NameFilter([], ['/run/**']).accepts('/')).toBe(true);
    expect(new NameFilter(['sd{a,b}'], []).accepts('sdb')).toBe(true);
  });

  it('matches globs the way an operator expects', () => {
    const filter = new NameFilter([], ['loop*', 'ram?', 'cgroup*']);
    expect(['loop0', 'loop12', 'ram0', 'cgroup2'].map((n) => filter.accepts(n))).toEqual([false, false, false, false]);
    expect(['sda', 'ram10', 'nvme0n1', 'xloop0'].map((n) => filter.accepts(n))).toEqual([true, true, true, true]);
  });
});
