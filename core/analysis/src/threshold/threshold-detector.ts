/**
 * Static threshold rules from configuration — people want them next to learned baselines. A rule
 * fires while a matching series stays above (or below) its bound for `for`; its anomalies go
 * through the same noise control as every detector's.
 *
 * ```yaml
 * detectors:
 *   threshold:
 *     rules:
 *       - { metric: system.filesystem.utilization, above: 0.9, for: 5m, severity: critical }
 *       - { metric: nginx.http.requests, match: { http.response.status_class: 5xx }, above: 5 }
 * ```
 */
import { z } from 'zod';
import { createDetectorFactory, type Detector, type DetectorContext, type SampleBatch } from '@sextant/plugin-api';

const ruleSchema = z
  .object({
    metric: z.string().min(1),
    match: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
    above: z.number().optional(),
    below: z.number().optional(),
    /** Milliseconds the condition must hold before firing (0: at once). */
    for: z.number().int().min(0).optional(),
    severity: z.enum(['info', 'warning', 'critical']).optional(),
    name: z.string().optional(),
  })
  .refine((r) => r.above !== undefined || r.below !== undefined, { message: 'a rule needs "above" or "below"' });

export const thresholdConfigSchema = z.object({ rules: z.array(ruleSchema) });
export type ThresholdConfig = z.infer<typeof thresholdConfigSchema>;

const NO_RULE = -2;
const UNKNOWN = -1;

export class ThresholdDetector implements Detector {
  private ruleOf = new Int32Array(0);
  private since = new Float64Array(0);

  constructor(private readonly ctx: DetectorContext<ThresholdConfig>) {}

  private ruleFor(seriesId: number): number {
    if (seriesId >= this.ruleOf.length) {
      const n = Math.max(seriesId + 1, this.ruleOf.length * 2, 64);
      const r = new Int32Array(n).fill(UNKNOWN);
      r.set(this.ruleOf);
      this.ruleOf = r;
      const s = new Float64Array(n).fill(Number.NaN);
      s.set(this.since);
      this.since = s;
    }
    if (this.ruleOf[seriesId] !== UNKNOWN) return this.ruleOf[seriesId];
    const d = this.ctx.catalog.describe(seriesId);
    const idx = d ? this.ctx.config.rules.findIndex((r) => r.metric === d.metric && Object.entries(r.match ?? {}).every(([k, v]) => String(d.resource[k] ?? d.attributes[k]) === String(v))) : -1;
    this.ruleOf[seriesId] = idx >= 0 ? idx : NO_RULE;
    return this.ruleOf[seriesId];
  }

  process(batch: SampleBatch): void {
    for (let i = 0; i < batch.length; i++) {
      const id = batch.series[i];
      const r = this.ruleFor(id);
      if (r < 0) continue;
      const rule = this.ctx.config.rules[r];
      const v = batch.values[i];
      const t = batch.timestamps[i];
      const breach = (rule.above !== undefined && v > rule.above) || (rule.below !== undefined && v < rule.below);
      if (!breach) {
        this.since[id] = Number.NaN;
        continue;
      }
      if (Number.isNaN(this.since[id])) this.since[id] = t;
      if (t - this.since[id] < (rule.for ?? 0)) continue;
      const bound = rule.above !== undefined && v > rule.above ? rule.above : rule.below!;
      const over = Math.abs(v - bound) / (Math.abs(bound) || 1);
      this.ctx.emit({
        seriesId: id,
        detector: 'threshold',
        kind: 'threshold',
        timestamp: t,
        value: v,
        expected: bound,
        lower: rule.below ?? Number.NEGATIVE_INFINITY,
        upper: rule.above ?? Number.POSITIVE_INFINITY,
        score: Math.min(1, 0.9 + 0.1 * Math.tanh(over)),
        severity: rule.severity ?? 'warning',
        message: `${rule.name ?? this.ctx.catalog.describe(id)?.metric} is ${v.toPrecision(4)}, ${v > bound ? 'above' : 'below'} the configured ${bound}`,
      });
    }
  }

  shutdown(): void {}
}

export const thresholdDetectorFactory = createDetectorFactory<ThresholdConfig>({
  type: 'threshold',
  stability: 'beta',
  description: 'Static threshold rules from configuration (above/below for a duration), through the same noise control as learned detectors.',
  configSchema: thresholdConfigSchema,
  defaults: { rules: [] },
  create: (ctx) => new ThresholdDetector(ctx),
});
