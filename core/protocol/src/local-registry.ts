/**
 * Runs a plugin's register() against plain in-memory extension points and keeps the factories it
 * adds, by kind and type. The plugin child uses it to know what it serves; tests use it to run
 * the same plugin in-process.
 */
import {
  ErrorCode,
  SextantError,
  pluginDisplayId,
  toSextantError,
  type CollectorFactory,
  type CorrelatorFactory,
  type DetectorFactory,
  type ExtensionKind,
  type Logger,
  type NotifierFactory,
  type SextantPlugin,
} from '@sextant/plugin-api';

type AnyFactory = CollectorFactory<any> | DetectorFactory<any> | CorrelatorFactory<any> | NotifierFactory<any>;

const POINT_KINDS: Readonly<Record<string, ExtensionKind>> = {
  collectors: 'collector',
  detectors: 'detector',
  correlators: 'correlator',
  notifiers: 'notifier',
};

export class LocalFactoryRegistry {
  readonly collectors = new Map<string, CollectorFactory<any>>();
  readonly detectors = new Map<string, DetectorFactory<any>>();
  readonly correlators = new Map<string, CorrelatorFactory<any>>();
  readonly notifiers = new Map<string, NotifierFactory<any>>();

  /** Registers `plugin`; throws coded errors for unknown deps, duplicates or a throwing register(). */
  async register(plugin: SextantPlugin, logger: Logger): Promise<void> {
    const id = pluginDisplayId(plugin);
    const deps: Record<string, unknown> = {};
    for (const [name, ref] of Object.entries(plugin.deps)) {
      if (ref.scope === 'extension-point' && ref.version === 1 && POINT_KINDS[ref.id]) {
        const kind = POINT_KINDS[ref.id];
        deps[name] = { addFactory: (factory: AnyFactory) => this.add(kind, factory, id) };
      } else if (ref.scope === 'service' && ref.id === 'logger' && ref.version === 1) {
        deps[name] = logger;
      } else {
        throw new SextantError(ErrorCode.DEPENDENCY_UNKNOWN, `plugin "${id}" asks for ${ref.scope} "${ref.id}" v${ref.version}, which a plugin process does not provide`, {
          hint: 'out-of-process plugins can use the collectors, detectors, correlators and notifiers extension points and the logger service',
        });
      }
    }
    try {
      await plugin.register(deps);
    } catch (error) {
      throw toSextantError(error, ErrorCode.PLUGIN_REGISTER_FAILED, `plugin "${id}" register() failed`);
    }
  }

  factory(kind: ExtensionKind, type: string): AnyFactory | undefined {
    return this.mapOf(kind).get(type);
  }

  *entries(): Iterable<[ExtensionKind, AnyFactory]> {
    for (const f of this.collectors.values()) yield ['collector', f];
    for (const f of this.detectors.values()) yield ['detector', f];
    for (const f of this.correlators.values()) yield ['correlator', f];
    for (const f of this.notifiers.values()) yield ['notifier', f];
  }

  /** Exporters are in-process only (protocol v1 has no exporter kind): an empty map. */
  private mapOf(kind: ExtensionKind): Map<string, AnyFactory> {
    const maps: Partial<Record<ExtensionKind, Map<string, AnyFactory>>> = { collector: this.collectors, detector: this.detectors, correlator: this.correlators, notifier: this.notifiers };
    return maps[kind] ?? new Map();
  }

  private add(kind: ExtensionKind, factory: AnyFactory, plugin: string): void {
    const map = this.mapOf(kind);
    if (map.has(factory.type)) {
      throw new SextantError(ErrorCode.DUPLICATE_FACTORY, `plugin "${plugin}" registered ${kind} "${factory.type}" twice`, { hint: 'give each factory a unique type' });
    }
    map.set(factory.type, factory);
  }
}
