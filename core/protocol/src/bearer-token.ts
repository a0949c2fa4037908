/**
 * The per-launch token: the host sends `authorization: Bearer <token>` on every call; the child's
 * server refuses anything else with UNAUTHENTICATED before a handler runs (health included).
 */
import { randomBytes } from 'node:crypto';
import {
  InterceptingCall,
  ResponderBuilder,
  ServerInterceptingCall,
  ServerListenerBuilder,
  status,
  type Interceptor,
  type Metadata,
  type ServerInterceptor,
} from '@grpc/grpc-js';
// The subpath: the package index also loads zod and picomatch, ~13 MiB of a plugin child's RSS.
import { secretsEqual } from '@sextant/plugin-kit/secret-compare';

/** 256 random bits, url-safe. */
export function newPluginToken(): string {
  return randomBytes(32).toString('base64url');
}

export function hasBearerToken(metadata: Metadata, token: string): boolean {
  const values = metadata.get('authorization');
  if (values.length !== 1 || typeof values[0] !== 'string') return false;
  return secretsEqual(values[0], `Bearer ${token}`);
}

/** Server side: refuses calls without the token. */
export function bearerTokenServerInterceptor(token: string): ServerInterceptor {
  return (_method, call) => {
    const listener = new ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        if (hasBearerToken(metadata, token)) next(metadata);
        else call.sendStatus({ code: status.UNAUTHENTICATED, details: 'missing or wrong plugin token (metadata "authorization: Bearer <SEXTANT_PLUGIN_TOKEN>")' });
      })
      .build();
    return new ServerInterceptingCall(call, new ResponderBuilder().withStart((next) => next(listener)).build());
  };
}

/** Client side: adds the token to every call. */
export function bearerTokenClientInterceptor(token: string): Interceptor {
  return (options, nextCall) =>
    new InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        metadata.set('authorization', `Bearer ${token}`);
        next(metadata, listener);
      },
    });
}
