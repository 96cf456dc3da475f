// The live statistics sampler (server/request_stats.ts) on a fake clock:
// 10 s buckets over an hour, counts per version and protocol, percentiles from
// the fixed latency bins, the series limit and eviction, and ServerMetrics
// feeding it from the same call that records the Prometheus metrics.
import { describe, expect, it } from 'vitest';
import { ServableStateMonitor } from '../../serving/servable_state.js';
import { ServerMetrics } from '../../server/metrics.js';
import { BUCKETS, IDLE_EVICT_MS, MAX_WINDOW_SECONDS, RESOLUTION_SECONDS, RequestStats } from '../../server/request_stats.js';

const T0 = 1_700_000_000_000; // a bucket boundary (ms)

function clock(start = T0) {
  const c = { now: start, nowMs: () => c.now };
  return c;
}

const last = <T>(xs: T[]) => xs[xs.length - 1];

describe('RequestStats', () => {
  it('counts requests and errors per 10 s bucket, per version and in total', () => {
    const c = clock();
    const stats = new RequestStats({ nowMs: c.nowMs });
    for (let i = 0; i < 30; i++) stats.record('m', '1', 'rest', true, 0.002);
    for (let i = 0; i < 10; i++) stats.record('m', '2', 'rest', i >= 8, 0.004); // 8 errors
    stats.record('m', '', 'rest', false, 0.0001); // failed before a version was chosen
    stats.record('other', '1', 'rest', true, 0.001);
    c.now += 15_000; // next bucket, 5 s into it
    for (let i = 0; i < 5; i++) stats.record('m', '2', 'grpc', true, 0.003);
    c.now += 2_000;

    const s = stats.query('m', 60);
    expect(s.resolution_seconds).toBe(10);
    expect(s.window_seconds).toBe(60);
    expect(s.times).toHaveLength(6);
    expect(last(s.times)).toBe(T0 / 1000 + 10);
    expect(s.times[1] - s.times[0]).toBe(10);
    expect(s.now).toBe((T0 + 17_000) / 1000);
    expect(s.total.requests.slice(-2)).toEqual([41, 5]);
    expect(s.total.errors.slice(-2)).toEqual([9, 0]);
    expect(s.total.requests.slice(0, 4)).toEqual([0, 0, 0, 0]);
    // A whole bucket is 10 s; the current one counts the 7 s so far.
    expect(s.total.requests_per_second.slice(-2)).toEqual([4.1, 0.714]);
    expect(s.total.error_rate.slice(-3)).toEqual([null, 0.219512, 0]);
    expect(s.total.summary).toMatchObject({ requests: 46, errors: 9 });
    expect(s.total.summary.requests_per_second).toBeCloseTo(46 / 57, 3);
    expect(s.versions.map((v) => v.version)).toEqual([1, 2]);
    const [v1, v2] = s.versions;
    expect(v1.requests.slice(-2)).toEqual([30, 0]);
    expect(v2.requests.slice(-2)).toEqual([10, 5]);
    expect(v2.errors.slice(-2)).toEqual([8, 0]);
    expect(v2.summary.error_rate).toBe(0.533333);
    expect(Object.keys(v1.protocols)).toEqual(['rest']);
    expect(v2.protocols.rest!.requests.slice(-2)).toEqual([10, 0]);
    expect(v2.protocols.grpc!.requests.slice(-2)).toEqual([0, 5]);
    expect(s.total.protocols.rest!.errors.slice(-2)).toEqual([9, 0]);
    // Single-valued buckets: the percentiles are the value itself (clamped to the exact min and max).
    expect(last(v1.p50_ms.slice(0, -1))).toBe(2);
    expect(last(v1.p99_ms.slice(0, -1))).toBe(2);
    expect(last(v2.p99_ms)).toBe(3);
    expect(v1.p50_ms[0]).toBeNull();
    expect(stats.query('other', 60).total.summary.requests).toBe(1);
    expect(stats.query('nobody', 60).total.summary).toEqual({ requests: 0, errors: 0, requests_per_second: 0, error_rate: null, p50_ms: null, p99_ms: null });
  });

  it('estimates p50 and p99 within the bin accuracy from a known spread of latencies', () => {
    const c = clock();
    const stats = new RequestStats({ nowMs: c.nowMs });
    // 1000 requests, 1..1000 ms, shuffled: p50 = 500 ms, p99 = 990 ms.
    const latencies = Array.from({ length: 1000 }, (_, i) => (i + 1) / 1000);
    for (let i = latencies.length - 1; i > 0; i--) {
      const j = (i * 7919) % (i + 1);
      [latencies[i], latencies[j]] = [latencies[j], latencies[i]];
    }
    for (const l of latencies) stats.record('m', '1', 'v2', true, l);
    const s = stats.query('m', 10).versions[0];
    expect(s.summary.p50_ms! / 500).toBeGreaterThan(0.93);
    expect(s.summary.p50_ms! / 500).toBeLessThan(1.07);
    expect(s.summary.p99_ms! / 990).toBeGreaterThan(0.95);
    expect(s.summary.p99_ms!).toBeLessThanOrEqual(1000);
    // A slow tail moves p99, not p50.
    for (let i = 0; i < 30; i++) stats.record('m', '1', 'v2', true, 5);
    const tail = stats.query('m', 10).versions[0].summary;
    expect(tail.p99_ms! / 5000).toBeGreaterThan(0.9);
    expect(tail.p99_ms!).toBeLessThanOrEqual(5000);
    expect(tail.p50_ms! / 515).toBeGreaterThan(0.93);
    expect(tail.p50_ms! / 515).toBeLessThan(1.07);
  });

  it('merges the buckets and versions of a window exactly (fixed bins)', () => {
    const c = clock();
    const stats = new RequestStats({ nowMs: c.nowMs });
    for (let b = 0; b < 6; b++) {
      for (let i = 0; i < 99; i++) stats.record('m', String(1 + (b % 2)), 'rest', true, 0.001);
      stats.record('m', '1', 'rest', true, 2); // one slow request per bucket: 1% of them
      c.now += 10_000;
    }
    const s = stats.query('m', 70); // the six buckets and the current, empty one
    expect(s.total.requests).toEqual([100, 100, 100, 100, 100, 100, 0]);
    expect(s.total.summary.requests).toBe(600);
    // Within the 1 ms value's bin (2^(1/4) wide), never below the exact minimum.
    expect(s.total.summary.p50_ms!).toBeGreaterThanOrEqual(1);
    expect(s.total.summary.p50_ms!).toBeLessThan(1.19);
    // 6 slow of 600: p99 (rank 594) is the last fast one; with 7 slow it would be slow.
    expect(s.total.summary.p99_ms!).toBeLessThan(1.2);
    stats.record('m', '2', 'rest', true, 2);
    expect(stats.query('m', 70).total.summary.p99_ms!).toBeGreaterThan(1500);
  });

  it('keeps an hour: older buckets leave the window and the ring', () => {
    const c = clock();
    const stats = new RequestStats({ nowMs: c.nowMs });
    stats.record('m', '1', 'rest', true, 0.001);
    c.now += (MAX_WINDOW_SECONDS - RESOLUTION_SECONDS) * 1000;
    stats.record('m', '1', 'rest', true, 0.001);
    let s = stats.query('m');
    expect(s.times).toHaveLength(BUCKETS);
    expect(s.total.requests[0]).toBe(1);
    expect(last(s.total.requests)).toBe(1);
    expect(stats.query('m', 10).total.summary.requests).toBe(1);
    expect(stats.query('m', 11).window_seconds).toBe(20);
    c.now += RESOLUTION_SECONDS * 1000; // the first bucket's slot is now the current one
    stats.record('m', '1', 'rest', false, 0.001);
    s = stats.query('m');
    expect(s.total.summary).toMatchObject({ requests: 2, errors: 1 });
    expect(last(s.total.requests)).toBe(1);
    expect(last(s.total.errors)).toBe(1);
    // An hour without requests: the series is dropped.
    c.now += MAX_WINDOW_SECONDS * 1000;
    expect(stats.query('m').versions).toEqual([]);
    expect(stats.seriesCount).toBe(0);
  });

  it('refuses windows outside 1..3600 s', () => {
    const stats = new RequestStats();
    for (const w of [0, -10, 3601, 1.5, Number.NaN]) expect(() => stats.query('m', w)).toThrow(/windowSeconds must be an integer from 1 to 3600/);
  });

  it('tracks at most maxSeries series, replacing the least recently used one once it is idle', () => {
    const c = clock();
    const stats = new RequestStats({ maxSeries: 2, nowMs: c.nowMs });
    stats.record('a', '1', 'rest', true, 0.001);
    c.now += 1000;
    stats.record('b', '1', 'rest', true, 0.001);
    stats.record('c', '1', 'rest', true, 0.001); // both busy: not charted
    stats.record('c', '1', 'rest', true, 0.001);
    expect(stats.seriesCount).toBe(2);
    expect(stats.untrackedRequests).toBe(2);
    expect(stats.query('c', 60).total.summary.requests).toBe(0);
    expect(stats.query('c', 60).untracked_requests).toBe(2);
    c.now += IDLE_EVICT_MS - 500; // a idle 59.5 s, b 59.5 s... keep b busy
    stats.record('b', '1', 'rest', true, 0.001);
    c.now += 1000; // a idle for 60.5 s: c takes its place
    stats.record('c', '1', 'rest', true, 0.001);
    expect(stats.seriesCount).toBe(2);
    expect(stats.query('c', 60).total.summary.requests).toBe(1);
    expect(stats.query('a', 3600).total.summary.requests).toBe(0);
    expect(stats.query('b', 3600).total.summary.requests).toBe(2);
    expect(stats.untrackedRequests).toBe(2);
  });

  it('records nothing with maxSeries 0', () => {
    const stats = new RequestStats({ maxSeries: 0 });
    stats.record('m', '1', 'rest', true, 0.001);
    expect(stats.seriesCount).toBe(0);
    expect(stats.query('m', 60)).toMatchObject({ max_series: 0, versions: [] });
    expect(() => new RequestStats({ maxSeries: -1 })).toThrow(RangeError);
  });
});

describe('ServerMetrics.stats', () => {
  it('is fed with the Prometheus metrics: inference requests of known models, by outcome and protocol', () => {
    const metrics = new ServerMetrics(new ServableStateMonitor(), { stats: { maxSeries: 10 } });
    metrics.observeRequest('m', '1', 'predict', 'OK', 0.001);
    metrics.observeRequest('m', '1', 'classify', 'INVALID_ARGUMENT', 0.002, 'grpc');
    metrics.observeRequest('m', '2', 'regress', 'OK', 0.003, 'v2');
    metrics.observeRequest('m', '1', 'status', 'OK', 0.001);
    metrics.observeRequest('m', '1', 'metadata', 'OK', 0.001);
    metrics.observeRequest('', '', 'predict', 'NOT_FOUND', 0.001);
    const s = metrics.stats.query('m', 60);
    expect(s.total.summary).toMatchObject({ requests: 3, errors: 1 });
    expect(s.versions.map((v) => [v.version, v.summary.requests, v.summary.errors])).toEqual([
      [1, 2, 1],
      [2, 1, 0],
    ]);
    expect(Object.keys(s.total.protocols).sort()).toEqual(['grpc', 'rest', 'v2']);
    expect(metrics.stats.seriesCount).toBe(2);
  });
});
