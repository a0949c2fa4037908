import { Metadata } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { hasBearerToken } from '../src/bearer-token.js';
import { bearerValues, hasValidToken, tokenIndex } from '../src/ingest/transport-security.js';

function withAuthorization(value?: string): Metadata {
  const metadata = new Metadata();
  if (value !== undefined) metadata.set('authorization', value);
  return metadata;
}

describe('token comparison (secretsEqual from @sextant/plugin-kit)', () => {
  it('a plugin child accepts only its own bearer token, whatever the length of a wrong one', () => {
    const token = 'a'.repeat(43);
    expect(hasBearerToken(withAuthorization(`Bearer ${token}`), token)).toBe(true);
    expect(hasBearerToken(withAuthorization(`Bearer ${'b'.repeat(43)}`), token)).toBe(false);
    expect(hasBearerToken(withAuthorization('Bearer short'), token)).toBe(false);
    expect(hasBearerToken(withAuthorization(`Bearer ${token}x`), token)).toBe(false);
    expect(hasBearerToken(withAuthorization(''), token)).toBe(false);
    expect(hasBearerToken(withAuthorization(), token)).toBe(false);
  });

  it('the ingest server finds which of its tokens a call carries (the tenant), or -1', () => {
    const tokens = bearerValues(['first-token-0123456789', 'second-token-0123456789-longer']);
    expect(tokenIndex(withAuthorization('Bearer first-token-0123456789'), tokens)).toBe(0);
    expect(tokenIndex(withAuthorization('Bearer second-token-0123456789-longer'), tokens)).toBe(1);
    expect(tokenIndex(withAuthorization('Bearer first-token-012345678'), tokens)).toBe(-1);
    expect(tokenIndex(withAuthorization(), tokens)).toBe(-1);
    expect(hasValidToken(withAuthorization('Bearer second-token-0123456789-longer'), tokens)).toBe(true);
    expect(hasValidToken(withAuthorization('second-token-0123456789-longer'), tokens)).toBe(false);
  });
});
