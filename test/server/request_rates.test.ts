// Requests per second per model over a sliding window (server/metrics.ts),
// the management API's `requests_per_second`.
import { describe, expect, it } from 'vitest';
import { RequestRates, ServerMetrics } from '../../server/metrics.js';
import { ServableStateMonitor } from '../../serving/servable_state.js';

describe('RequestRates', () => {
  it('averages events over the last window of whole seconds, per key', () => {
    let now = 1_000_000;
    const rates = new RequestRates(10, () => now);
    expect(rates.perSecond('m')).toBe(0);
    for (let i = 0; i < 20; i++) rates.record('m');
    rates.record('other', 5);
    expect(rates.perSecond('m')).toBe(2);
    expect(rates.perSecond('other')).toBe(0.5);
    now += 4_000;
    rates.record('m', 10);
    expect(rates.perSecond('m')).toBe(3);
    now += 7_000; // the first 20 are now more than 10 s old
    expect(rates.perSecond('m')).toBe(1);
    now += 60_000;
    expect(rates.perSecond('m')).toBe(0);
  });

  it('reuses a ring slot once its second has passed', () => {
    let now = 0;
    const rates = new RequestRates(2, () => now);
    rates.record('m', 4);
    now = 2_000; // same slot as second 0, a new second
    rates.record('m', 1);
    expect(rates.perSecond('m')).toBe(0.5);
  });
});

describe('ServerMetrics.requestRates', () => {
  it('counts inference requests of known models, whatever their outcome', () => {
    const metrics = new ServerMetrics(new ServableStateMonitor());
    metrics.observeRequest('m', '1', 'predict', 'OK', 0.001);
    metrics.observeRequest('m', '1', 'classify', 'INVALID_ARGUMENT', 0.001);
    metrics.observeRequest('m', '', 'regress', 'OK', 0.001);
    metrics.observeRequest('m', '1', 'status', 'OK', 0.001);
    metrics.observeRequest('m', '1', 'metadata', 'OK', 0.001);
    metrics.observeRequest('', '', 'predict', 'NOT_FOUND', 0.001);
    expect(metrics.requestRates.perSecond('m') * metrics.requestRates.windowSeconds).toBeCloseTo(3);
    expect(metrics.requestRates.perSecond('')).toBe(0);
  });
});
