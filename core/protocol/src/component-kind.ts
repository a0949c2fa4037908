import { ErrorCode, SextantError, type ExtensionKind } from '@sextant/plugin-api';
import { ComponentKind } from './gen/sextant/plugin/v1/plugin.js';

export function kindToWire(kind: ExtensionKind): ComponentKind {
  switch (kind) {
    case 'collector': return ComponentKind.COMPONENT_KIND_COLLECTOR;
    case 'detector': return ComponentKind.COMPONENT_KIND_DETECTOR;
    case 'correlator': return ComponentKind.COMPONENT_KIND_CORRELATOR;
    case 'notifier': return ComponentKind.COMPONENT_KIND_NOTIFIER;
    case 'exporter':
      throw new SextantError(ErrorCode.PLUGIN_INVALID, 'exporters run in-process only: plugin protocol v1 has no exporter kind', { hint: 'leave isolation at in-process for exporters' });
  }
}

export function kindFromWire(kind: ComponentKind): ExtensionKind | undefined {
  switch (kind) {
    case ComponentKind.COMPONENT_KIND_COLLECTOR: return 'collector';
    case ComponentKind.COMPONENT_KIND_DETECTOR: return 'detector';
    case ComponentKind.COMPONENT_KIND_CORRELATOR: return 'correlator';
    case ComponentKind.COMPONENT_KIND_NOTIFIER: return 'notifier';
    default: return undefined;
  }
}
