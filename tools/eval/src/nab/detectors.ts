/**
 * Detectors the NAB runner can evaluate, by name (`sextant eval nab --detector NAME`).
 *
 * `sextant` is the production `baseline` detector of @sextant/analysis — the same
 * `BaselineDetector` class with `BASELINE_DEFAULTS`, as `sextant run` starts it — fed one sample
 * at a time; a row's score is the score of the anomaly it raised on that row (spike, dip,
 * level-shift or drift), 0 when it raised none. Everything the detector does is in the result:
 * no alert while a series is learning, the cooldown, drift reports.
 * `sextant-model` is its `BaselineModel` alone: every row's raw point score, also below the
 * detector's threshold (for studying the model; drift is not part of that score). The others give
 * reference points: `zscore` (a plain exponentially weighted z-score) and `null` (never fires;
 * scores 0 on every profile by definition).
 */
import { BaselineDetector, BaselineModel, offlineDetectorContext, type BaselineParams } from '@sextant/analysis';
import { ErrorCode, SextantError, type SampleBatch } from '@sextant/plugin-api';

/** Scores one series, one row at a time, in order; returns an anomaly score in [0, 1]. */
export type StreamingScorer = (timestampMs: number, value: number) => number;

export interface NabDetector {
  readonly name: string;
  readonly description: string;
  /** A fresh scorer per file: no state is shared between files. */
  create(): StreamingScorer;
}

/**
 * The production detector with some model parameters overridden (`{}`: exactly `sextant`). For
 * parameter sweeps and ablations under cross-validation (`sextant eval nab --study`).
 */
export function sextantDetectorWith(params: Partial<BaselineParams>, name = 'sextant'): NabDetector {
  return {
    name,
    description: 'the production baseline detector of @sextant/analysis with its defaults: the score of the anomaly raised on each row',
    create() {
      let raised = 0;
      // The series of a NAB file has no name, unit or type: the detector treats it as generic.
      const ctx = offlineDetectorContext({
        instanceId: 'baseline/nab',
        size: 1,
        emit: (anomaly) => {
          if (anomaly.score > raised) raised = anomaly.score;
        },
      });
      const detector = new BaselineDetector(ctx, params);
      const series = new Uint32Array(1);
      const timestamps = new Float64Array(1);
      const values = new Float64Array(1);
      const batch: SampleBatch = { length: 1, series, timestamps, values };
      return (t, v) => {
        raised = 0;
        timestamps[0] = t;
        values[0] = v;
        detector.process(batch);
        return raised;
      };
    },
  };
}

const sextant: NabDetector = sextantDetectorWith({});

const sextantModel: NabDetector = {
  name: 'sextant-model',
  description: 'the BaselineModel of the production detector alone: the raw point score of every row, also below the threshold',
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

const registry = new Map<string, NabDetector>([sextant, sextantModel, zscore, never].map((d) => [d.name, d]));

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
