import { describe, expect, it } from 'vitest';
import { checkOutboundUrl, internalAddressReason } from '../src/index.js';

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
});
