import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  NetDevSum,
  parseBlkioServiceBytes,
  parseCfsQuota,
  parseCpuMax,
  parseIoStat,
  parseKeyedValue,
  parseLimitV1,
  parseLimitV2,
  parseProcCgroup,
  parseSingleCount,
  sumNetDev,
} from '../src/index.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('cgroup file parsers', () => {
  it('read single values and limits, treating max / huge v1 limits as unlimited', () => {
    expect(parseSingleCount('2681830016\n')).toBe(2681830016);
    expect(parseLimitV2('max\n')).toBe(Infinity);
    expect(parseLimitV2('67108864\n')).toBe(67108864);
    expect(parseLimitV1('9223372036854771712\n')).toBe(Infinity);
    expect(parseLimitV1('67108864\n')).toBe(67108864);
  });

  it.each(['', 'abc', '-5', '1e9', 'NaN', 'Infinity', '12 34', '99999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999'])(
    'malformed single value %j reads as NaN',
    (text) => {
      expect(parseSingleCount(text)).toBeNaN();
    },
  );

  it('reads keys of flat keyed files without confusing prefixes', () => {
    const text = 'usage_usec 2731869\nuser_usec 2564532\nnr_periods 54\nnr_throttled 51\nthrottled_usec 2293438\n';
    expect(parseKeyedValue(text, 'usage_usec')).toBe(2731869);
    expect(parseKeyedValue(text, 'nr_throttled')).toBe(51);
    expect(parseKeyedValue('total_inactive_file 5\ninactive_file 3\n', 'inactive_file')).toBe(3);
    expect(parseKeyedValue(text, 'missing')).toBeNaN();
    expect(parseKeyedValue('oom_kill -1\n', 'oom_kill')).toBeNaN();
  });

  it('turns CPU limits into cores', () => {
    expect(parseCpuMax('50000 100000\n')).toBe(0.5);
    expect(parseCpuMax('max 100000\n')).toBe(Infinity);
    expect(parseCpuMax('garbage')).toBeNaN();
    expect(parseCfsQuota('150000\n', '100000\n')).toBe(1.5);
    expect(parseCfsQuota('-1\n', '100000\n')).toBe(Infinity);
    expect(parseCfsQuota('5\n', '0\n')).toBeNaN();
  });

  it('sums block I/O over devices in both formats and rejects malformed lines', () => {
    const out = [0, 0];
    expect(parseBlkioServiceBytes('8:0 Read 100\n8:0 Write 50\n8:16 Read 1\n8:0 Total 150\nTotal 151\n', out)).toBe(true);
    expect(out).toEqual([101, 50]);
    expect(parseBlkioServiceBytes('Total 0\n', out)).toBe(true);
    expect(out).toEqual([0, 0]);
    expect(parseBlkioServiceBytes('8:0 Read lots\n', out)).toBe(false);
    expect(parseIoStat('8:0 rbytes=10 wbytes=20 rios=1 wios=1 dbytes=0 dios=0\n253:1 rbytes=5 wbytes=0\n', out)).toBe(true);
    expect(out).toEqual([15, 20]);
    expect(parseIoStat('8:0 rbytes=-1\n', out)).toBe(false);
    expect(parseIoStat('nonsense\n', out)).toBe(false);
  });

  it('parses /proc/<pid>/cgroup for v1 co-mounted controllers and the v2 line', () => {
    const m = parseProcCgroup('4:cpu,cpuacct:/docker/abc\n3:memory:/docker/abc\n1:name=systemd:/docker/abc\n0::/system.slice/docker-abc.scope\ngarbage\n');
    expect(m.get('cpu')).toBe('/docker/abc');
    expect(m.get('cpuacct')).toBe('/docker/abc');
    expect(m.get('')).toBe('/system.slice/docker-abc.scope');
  });
});

describe('sumNetDev', () => {
  it('sums every interface but loopback', () => {
    const out = new Float64Array(6);
    expect(sumNetDev(fixture('netdev/two-interfaces.txt'), out)).toBe(2);
    expect(out[NetDevSum.rxBytes]).toBe(1_002_000);
    expect(out[NetDevSum.txBytes]).toBe(501_000);
    expect(out[NetDevSum.rxPackets]).toBe(2020);
    expect(out[NetDevSum.rxErrors]).toBe(3);
    expect(out[NetDevSum.txErrors]).toBe(1);
  });

  it('rejects a malformed file without touching the output', () => {
    const out = new Float64Array([1, 2, 3, 4, 5, 6]);
    expect(sumNetDev(fixture('netdev/malformed.txt'), out)).toBe(-1);
    expect(sumNetDev('', out)).toBe(-1);
    expect([...out]).toEqual([1, 2, 3, 4, 5, 6]);
  });
});
