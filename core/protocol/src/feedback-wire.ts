/** FeedbackRecord (@sextant/plugin-api) <-> sextant.common.v1.FeedbackRecord. */
import type { FeedbackRecord, FeedbackVerdict } from '@sextant/plugin-api';
import type { FeedbackRecord as WireFeedbackRecord } from './gen/sextant/common/v1/common.js';

export function feedbackRecordToWire(r: FeedbackRecord): WireFeedbackRecord {
  return { series: r.series, verdict: r.verdict, t: r.t, score: r.score, thresholdBefore: r.thresholdBefore, thresholdAfter: r.thresholdAfter };
}

/** `score` is left out when absent, so a record compares equal to the detector's own. */
export function feedbackRecordFromWire(w: WireFeedbackRecord): FeedbackRecord {
  return {
    series: w.series,
    verdict: w.verdict as FeedbackVerdict,
    t: w.t,
    ...(w.score !== undefined ? { score: w.score } : {}),
    thresholdBefore: w.thresholdBefore,
    thresholdAfter: w.thresholdAfter,
  };
}
