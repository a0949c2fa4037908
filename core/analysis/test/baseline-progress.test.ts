/**
 * The baseline detector says how far a series is from trusted (SeriesExpectation.progress), so the
 * UI can write "learning, 1 of 2 days" instead of a bare state.
 */
import type { SeriesDescriptor } from '@sextant/plugin-api';
import { startDetector } from '@sextant/testkit';
import { describe, expect, it } from 'vitest';
import { baselineDetectorFactory } from '../src/index.js';
import { DAY, START, STEP, dailySeries } from './synthetic.js';

const shop: SeriesDescriptor = { metric: 'shop.requests', unit: '{request}/s', type: 'gauge', resource: { 'service.name': 'shop' }, attributes: {} };

describe('baseline learning progress', () => {
  it('gives samples and time seen of those needed, and is past both once trusted', async () => {
    const h = await startDetector(baselineDetectorFactory);
    const id = h.catalog.series(shop);
    const value = dailySeries(17);
    // 400 five-minute samples: enough samples (250), but 33 h of the two days needed.
    for (let i = 0; i < 400; i++) h.feed(id, START + i * STEP, value(START + i * STEP));
    expect(h.detector.expectation?.(id)).toMatchObject({ state: 'provisional', progress: { samples: 400, samplesNeeded: 250, spanMs: 399 * STEP, spanNeededMs: 2 * DAY } });
    for (let i = 400; i < 600; i++) h.feed(id, START + i * STEP, value(START + i * STEP));
    const trusted = h.detector.expectation?.(id);
    expect(trusted?.state).toBe('trusted');
    expect(trusted?.progress?.spanMs).toBeGreaterThanOrEqual(trusted!.progress!.spanNeededMs);
    expect(trusted?.progress?.samples).toBeGreaterThanOrEqual(trusted!.progress!.samplesNeeded);
    await h.shutdown();
  });
});
