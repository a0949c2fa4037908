/**
 * Detectors the NAB runner can evaluate, by name (`sextant eval nab --detector NAME`).
 *
 * `sextant` is the production scoring model of @sextant/analysis — the same class and the same
 * default parameters the `baseline` detector runs — one series slot per file. The others exist to
 * prove the plumbing and give reference points: `zscore` (a plain exponentially weighted z-score)
 * and `null` (never fires; scores 0 on every profile by definition).
 */
import { BaselineModel } from '@sextant/analysis';
import { ErrorCode, SextantError } from '@sextant/plugin-api';

/** Scores one series, one row at a time, in order; returns an anomaly score in [0, 1]. */
export type StreamingScorer = (timestampMs: number, value: number) => number;

export interface NabDetector {
  readonly name: string;
  readonly description: string;
  /** A fresh scorer per file: no state is shared between files. */
  create(): StreamingScorer;
}

const sextant: NabDetector = {
  name: 'sextant',
  description: 'the production baseline model of @sextant/analysis with its default parameters',
  create() {
    const model = new BaselineModel();
    const slot = model.addSeries();
    return (t, v) => model.update(slot, t, v);
  },
};

const zscore: NabDetector = {
  name: 'zscore',
  description: 'exponentially weighted mean and variance (alpha 0.01); score = 1 - exp(-max(0, |z| - 2) / 2)',
  create() {
    let mean = Number.NaN;
    let variance = 0;
    return (_t, v) => {
      if (!Number.isFinite(v)) return 0;
      if (Number.isNaN(mean)) {
        mean = v;
        return 0;
      }
      const d = v - mean;
      const z = Math.abs(d) / Math.sqrt(variance + 1e-12);
      mean += 0.01 * d;
      variance = 0.99 * (variance + 0.01 * d * d);
      return Number.isFinite(z) ? 1 - Math.exp(-Math.max(0, z - 2) / 2) : 1;
    };
  },
};

const never: NabDetector = {
  name: 'null',
  description: 'never fires (score 0 everywhere): the reference point of the normalised score',
  create: () => () => 0,
};

const registry = new Map<string, NabDetector>([sextant, zscore, never].map((d) => [d.name, d]));

/** Registers another detector for the runner (names are unique). */
export function registerNabDetector(detector: NabDetector): void {
  if (registry.has(detector.name)) {
    throw new SextantError(ErrorCode.DUPLICATE_FACTORY, `a NAB detector named "${detector.name}" is already registered`);
  }
  registry.set(detector.name, detector);
}

export function nabDetectorNames(): string[] {
  return [...registry.keys()];
}

export function getNabDetector(name: string): NabDetector {
  const detector = registry.get(name);
  if (!detector) {
    throw new SextantError(ErrorCode.CONFIG_INVALID, `unknown NAB detector "${name}"`, { hint: `use one of: ${nabDetectorNames().join(', ')}` });
  }
  return detector;
}
