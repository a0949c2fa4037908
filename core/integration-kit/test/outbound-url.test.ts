import { describe, expect, it } from 'vitest';
import { checkOutboundUrl, checkResolvedAddress, internalAddressReason } from '../src/index.js';

const lookup = (map: Record<string, string[]>) => async (host: string) => map[host] ?? [];

describe('checkOutboundUrl (SSRF guard)', () => {
  it.each([
    ['http://127.0.0.1:8080/hook', 'loopback'],
    ['http://[::1]/x', 'loopback'],
    ['http://169.254.169.254/latest/meta-data', 'link-local'],
    ['http://10.1.2.3/', 'private'],
    ['http://172.20.0.1/', 'private'],
    ['http://192.168.1.1/', 'private'],
    ['http://[fd00::1]/', 'private'],
    ['http://[::ffff:127.0.0.1]/', 'loopback'],
    ['http://0.0.0.0/', 'unspecified'],
  ])('refuses %s (%s)', async (url, why) => {
    await expect(checkOutboundUrl(url)).rejects.toMatchObject({ code: 'SEXTANT_ERR_URL_REFUSED', message: expect.stringContaining(why) });
  });
  it('refuses a public-looking name that resolves to an internal address', async () => {
    await expect(checkOutboundUrl('https://hooks.example.com/x', { lookup: lookup({ 'hooks.example.com': ['93.184.216.34', '10.0.0.7'] }) })).rejects.toThrow(
      'hooks.example.com resolves to 10.0.0.7, which is a private range',
    );
  });
  it('accepts public addresses, and internal ones only when allow-listed', async () => {
    await expect(checkOutboundUrl('https://hooks.example.com/x', { lookup: lookup({ 'hooks.example.com': ['93.184.216.34'] }) })).resolves.toBeInstanceOf(URL);
    await expect(checkOutboundUrl('http://127.0.0.1:9000/hook', { allow: ['127.0.0.1'] })).resolves.toBeInstanceOf(URL);
    await expect(checkOutboundUrl('http://10.2.3.4/hook', { allow: ['10.0.0.0/8'] })).resolves.toBeInstanceOf(URL);
  });
  it('refuses other schemes and credentials in the URL', async () => {
    await expect(checkOutboundUrl('file:///etc/passwd')).rejects.toThrow('file: URLs are not allowed');
    await expect(checkOutboundUrl('https://user:pw@example.com/')).rejects.toThrow('carries credentials');
    await expect(checkOutboundUrl('not a url')).rejects.toThrow('is not a URL');
  });
  it('classifies addresses', () => {
    expect(internalAddressReason('8.8.8.8')).toBeUndefined();
    expect(internalAddressReason('2606:4700::1111')).toBeUndefined();
    expect(internalAddressReason('100.64.0.1')).toBe('carrier-grade NAT');
  });
  it.each([
    ['64:ff9b::a00:1', 'NAT64'],
    ['64:ff9b::10.0.0.1', 'NAT64'],
    ['64:ff9b::808:808', 'NAT64'],
    ['64:ff9b:1::1', 'local-use NAT64'],
    ['2002:a00:1::1', '6to4'],
    ['2002:c0a8:101::1', '6to4'],
    ['2001:0:4136:e378::1', 'Teredo'],
    ['198.18.0.1', 'benchmarking'],
    ['198.19.255.254', 'benchmarking'],
    ['240.0.0.1', 'reserved'],
    ['192.0.2.10', 'documentation'],
    ['0:0:0:0:0:ffff:808:808', 'IPv4-mapped'],
    ['::ffff:8.8.8.8', 'IPv4-mapped'],
    ['::ffff:7f00:1', 'loopback'],
  ])('classifies %s as %s, as an IP literal and as a DNS answer', async (ip, why) => {
    expect(internalAddressReason(ip)).toContain(why);
    await expect(checkOutboundUrl(`http://[${ip}]/hook`.replace(/^http:\/\/\[(\d+\.\d+\.\d+\.\d+)\]/, 'http://$1'))).rejects.toMatchObject({ code: 'SEXTANT_ERR_URL_REFUSED', message: expect.stringContaining(why) });
    await expect(checkOutboundUrl('https://hooks.example.com/x', { lookup: lookup({ 'hooks.example.com': [ip] }) })).rejects.toThrow(`hooks.example.com resolves to ${ip}, which is`);
  });
  it('keeps the edges of the new ranges public', () => {
    expect(internalAddressReason('198.17.255.255')).toBeUndefined();
    expect(internalAddressReason('198.20.0.0')).toBeUndefined();
    expect(internalAddressReason('2003::1')).toBeUndefined();
    expect(internalAddressReason('64:ff9c::1')).toBeUndefined();
  });
  it('checkResolvedAddress refuses a connect-time answer unless the host or the address is allow-listed', () => {
    expect(() => checkResolvedAddress('hooks.example.com', '127.0.0.1')).toThrow(expect.objectContaining({ code: 'SEXTANT_ERR_URL_REFUSED', message: 'hooks.example.com resolves to 127.0.0.1, which is loopback' }));
    expect(() => checkResolvedAddress('hooks.example.com', '127.0.0.1', ['hooks.example.com'])).not.toThrow();
    expect(() => checkResolvedAddress('hooks.example.com', '198.18.0.5', ['198.18.0.0/15'])).not.toThrow();
    expect(() => checkResolvedAddress('hooks.example.com', '93.184.216.34')).not.toThrow();
    expect(() => checkResolvedAddress('hooks.example.com', 'not-an-ip')).toThrow('not an IP address');
  });
});
