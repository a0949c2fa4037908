/**
 * Series ids for k8s metrics, cached by a compact key so a collection round over thousands of pods
 * does not rebuild descriptors. Ids of objects that went away are forgotten with `forget(owner)`.
 * A refused series (the runtime's per-instance series limit) is counted, never thrown.
 */
import type { Attributes, MetricKind, MetricType, SelfCounter, TelemetrySink } from '@sextant/plugin-api';

export interface MetricSpec {
  readonly metric: string;
  readonly unit: string;
  readonly type: MetricType;
  readonly kind?: MetricKind;
  readonly description?: string;
}

export class SeriesCache {
  private readonly ids = new Map<string, Map<string, number>>();

  constructor(
    private readonly sink: TelemetrySink,
    private readonly refused: SelfCounter,
  ) {}

  /**
   * Writes one value. `owner` groups the series of one object (its uid) so they can be forgotten
   * together; `variant` tells apart series of one owner whose resource differs (a container's id).
   */
  write(owner: string, spec: MetricSpec, resource: Attributes, value: number, attributes: Attributes = {}, variant = ''): void {
    if (!Number.isFinite(value)) return;
    let byOwner = this.ids.get(owner);
    if (!byOwner) this.ids.set(owner, (byOwner = new Map()));
    const key = attributesKey(spec.metric, attributes) + (variant ? `\u0001${variant}` : '');
    let id = byOwner.get(key);
    if (id === undefined) {
      try {
        id = this.sink.series({ metric: spec.metric, unit: spec.unit, type: spec.type, ...(spec.kind ? { kind: spec.kind } : {}), ...(spec.description ? { description: spec.description } : {}), resource, attributes });
      } catch {
        this.refused.add(1);
        return;
      }
      byOwner.set(key, id);
    }
    this.sink.sample(id, value);
  }

  forget(owner: string): void {
    this.ids.delete(owner);
  }

  get owners(): number {
    return this.ids.size;
  }
}

function attributesKey(metric: string, attributes: Attributes): string {
  let key = metric;
  for (const k in attributes) key += `\u0000${k}=${String(attributes[k])}`;
  return key;
}
