/** What a distribution passes to Runtime.load(). */
import type { Attributes, Clock } from '@sextant/plugin-api';
import type { RuntimeConfig } from '../config/runtime-config.js';
import type { OutboxStore } from '../outbox/outbox-store.js';
import type { BuiltinPlugin } from '../plugins/plugin-discovery.js';
import type { LogOptions } from '../telemetry/logger.js';
import type { RemotePluginLauncher } from './remote-host.js';

export interface RuntimeOptions {
  readonly config: RuntimeConfig;
  readonly builtins?: readonly BuiltinPlugin[];
  /** Where node_modules are scanned from (default: the current directory). */
  readonly searchFrom?: readonly string[];
  readonly clock?: Clock;
  readonly log?: LogOptions;
  readonly hostResource?: Attributes;
  readonly launchRemote?: RemotePluginLauncher;
  /** Start collectors' first round immediately (default) or after one interval. */
  readonly collectImmediately?: boolean;
  /** Where undelivered notifications are kept (e.g. a RedisOutboxStore for `--store redis://`); default: a journal in dataDir, or memory. */
  readonly outboxStore?: OutboxStore;
}
