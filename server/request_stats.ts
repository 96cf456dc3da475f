/**
 * Live request statistics for the console's charts (and, later, rollout
 * guard rails): per model and version, over the last hour at a fixed
 * resolution, the inference requests, the errors (any status but OK), the
 * requests of each protocol, and latency percentiles (p50, p99).
 *
 * Fed by ServerMetrics.observeRequest (server/metrics.ts), the place every
 * protocol reports a finished request, so the charts and the Prometheus
 * metrics count the same requests.
 *
 * Memory is bounded: a series (one model + version) is a ring of
 * BUCKETS × RESOLUTION_SECONDS (360 × 10 s); each bucket holds counters and,
 * once it sees a request, a latency histogram with fixed, log-spaced bins
 * (LATENCY_BINS; 4 per doubling from 0.1 ms to ~105 s, so a percentile is
 * within ~9% of the truth before interpolation, and clamped to the bucket's
 * exact minimum and maximum). At most `maxSeries` series are tracked
 * (--stats_max_series); a series with no request for an hour is dropped; at
 * the limit a new series replaces the least recently used one if that one
 * has been idle for IDLE_EVICT_MS, else its requests are only counted in
 * `untrackedRequests`. A full series costs about SERIES_BYTES.
 */
import type { Protocol } from './metrics.js';

export const RESOLUTION_SECONDS = 10;
export const BUCKETS = 360;
/** The longest window a query may ask for: what the rings hold. */
export const MAX_WINDOW_SECONDS = RESOLUTION_SECONDS * BUCKETS;
export const DEFAULT_STATS_MAX_SERIES = 128;
/** A series idle this long may be replaced by a new one when the limit is reached. */
export const IDLE_EVICT_MS = 60_000;

export const PROTOCOLS = ['rest', 'grpc', 'v2'] as const satisfies readonly Protocol[];
const PROTOCOL_INDEX: Record<Protocol, number> = { rest: 0, grpc: 1, v2: 2 };
const P = PROTOCOLS.length;

/** Latency histogram: bin 0 is [0, LOWEST), bin i (1..DOUBLINGS×PER_DOUBLING) is [LOWEST·2^((i-1)/k), LOWEST·2^(i/k)), the last bin is the rest. */
const LOWEST_SECONDS = 1e-4;
const PER_DOUBLING = 4;
const DOUBLINGS = 20;
export const LATENCY_BINS = DOUBLINGS * PER_DOUBLING + 2;

/** Approximate bytes of one series whose every bucket saw traffic. */
export const SERIES_BYTES = BUCKETS * (8 + P * 8 + 16 + LATENCY_BINS * 4);

export function binOf(seconds: number): number {
  if (!(seconds >= LOWEST_SECONDS)) return 0; // also NaN and negatives
  const i = 1 + Math.floor(Math.log2(seconds / LOWEST_SECONDS) * PER_DOUBLING);
  return Math.min(i, LATENCY_BINS - 1);
}

/** Lower and upper bound (seconds) of a bin; the last bin's upper bound is Infinity. */
export function binBounds(bin: number): [number, number] {
  if (bin === 0) return [0, LOWEST_SECONDS];
  const lo = LOWEST_SECONDS * 2 ** ((bin - 1) / PER_DOUBLING);
  const hi = bin === LATENCY_BINS - 1 ? Infinity : LOWEST_SECONDS * 2 ** (bin / PER_DOUBLING);
  return [lo, hi];
}

class Series {
  /** Bucket number (epoch seconds / RESOLUTION_SECONDS) each slot holds, -1 for none. */
  readonly bucket = new Float64Array(BUCKETS).fill(-1);
  /** Requests and errors per slot and protocol: [slot × P + protocol]. */
  readonly requests = new Uint32Array(BUCKETS * P);
  readonly errors = new Uint32Array(BUCKETS * P);
  readonly minSeconds = new Float64Array(BUCKETS);
  readonly maxSeconds = new Float64Array(BUCKETS);
  /** Latency histogram per slot, allocated on the slot's first request. */
  readonly latency: (Uint32Array | undefined)[] = new Array(BUCKETS);
  lastMs = 0;
  lastBucket = -1;

  constructor(
    readonly model: string,
    /** '' for requests that failed before a version was chosen. */
    readonly version: string,
  ) {}

  record(bucket: number, protocol: number, ok: boolean, seconds: number, nowMs: number): void {
    const slot = bucket % BUCKETS;
    if (this.bucket[slot] !== bucket) {
      this.bucket[slot] = bucket;
      this.requests.fill(0, slot * P, slot * P + P);
      this.errors.fill(0, slot * P, slot * P + P);
      this.minSeconds[slot] = Infinity;
      this.maxSeconds[slot] = 0;
      this.latency[slot]?.fill(0);
    }
    this.requests[slot * P + protocol]++;
    if (!ok) this.errors[slot * P + protocol]++;
    const s = Number.isFinite(seconds) && seconds > 0 ? seconds : 0;
    if (s < this.minSeconds[slot]) this.minSeconds[slot] = s;
    if (s > this.maxSeconds[slot]) this.maxSeconds[slot] = s;
    (this.latency[slot] ??= new Uint32Array(LATENCY_BINS))[binOf(s)]++;
    this.lastMs = nowMs;
    this.lastBucket = bucket;
  }
}

/** Counts and latencies merged over some series and buckets. */
class Accumulator {
  requests = 0;
  errors = 0;
  readonly protocolRequests = new Array<number>(P).fill(0);
  readonly protocolErrors = new Array<number>(P).fill(0);
  /** Allocated with the first request. */
  histogram: Float64Array | undefined;
  min = Infinity;
  max = 0;

  add(s: Series, slot: number): void {
    for (let p = 0; p < P; p++) {
      const r = s.requests[slot * P + p];
      const e = s.errors[slot * P + p];
      this.requests += r;
      this.errors += e;
      this.protocolRequests[p] += r;
      this.protocolErrors[p] += e;
    }
    const h = s.latency[slot];
    if (h) {
      const mine = (this.histogram ??= new Float64Array(LATENCY_BINS));
      for (let b = 0; b < LATENCY_BINS; b++) mine[b] += h[b];
    }
    this.min = Math.min(this.min, s.minSeconds[slot]);
    this.max = Math.max(this.max, s.maxSeconds[slot]);
  }

  addAll(other: Accumulator): void {
    if (other.requests === 0) return;
    this.requests += other.requests;
    this.errors += other.errors;
    for (let p = 0; p < P; p++) {
      this.protocolRequests[p] += other.protocolRequests[p];
      this.protocolErrors[p] += other.protocolErrors[p];
    }
    if (other.histogram) {
      const mine = (this.histogram ??= new Float64Array(LATENCY_BINS));
      for (let b = 0; b < LATENCY_BINS; b++) mine[b] += other.histogram[b];
    }
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
  }

  /** The q-quantile in seconds (nearest rank, interpolated inside its bin, clamped to the exact min and max); null without requests. */
  quantile(q: number): number | null {
    const histogram = this.histogram;
    if (this.requests === 0 || !histogram) return null;
    const rank = Math.max(1, Math.ceil(q * this.requests));
    let below = 0;
    for (let b = 0; b < LATENCY_BINS; b++) {
      const n = histogram[b];
      if (n === 0) continue;
      if (below + n >= rank) {
        const [lo, hi] = binBounds(b);
        const from = Math.max(lo, this.min);
        const to = Math.min(hi, this.max);
        const value = from + ((to - from) * (rank - below)) / n;
        return Math.min(Math.max(value, this.min), this.max);
      }
      below += n;
    }
    return this.max;
  }
}

/** One line of a chart: a value per bucket, oldest first. */
export interface StatsSeries {
  requests: number[];
  errors: number[];
  requests_per_second: number[];
  /** errors / requests; null for a bucket without requests. */
  error_rate: (number | null)[];
  p50_ms: (number | null)[];
  p99_ms: (number | null)[];
  /** Requests and errors per protocol, for the protocols that had any in the window. */
  protocols: Partial<Record<Protocol, { requests: number[]; errors: number[] }>>;
  /** The same figures over the whole window. */
  summary: { requests: number; errors: number; requests_per_second: number; error_rate: number | null; p50_ms: number | null; p99_ms: number | null };
}

export interface ModelStats {
  model: string;
  resolution_seconds: number;
  window_seconds: number;
  /** Server time of the answer, epoch seconds; the last bucket is partial and ends here. */
  now: number;
  /** Start of each bucket, epoch seconds, oldest first. */
  times: number[];
  /** Every request of the model (including those that failed before a version was chosen). */
  total: StatsSeries;
  /** Versions with requests in the window, ascending. */
  versions: (StatsSeries & { version: number })[];
  /** Requests (any model) not charted since the start because --stats_max_series series were busy. */
  untracked_requests: number;
  max_series: number;
}

const ms = (seconds: number | null) => (seconds === null ? null : Math.round(seconds * 1e6) / 1e3);
const ratio = (a: number, b: number) => (b === 0 ? null : Math.round((a / b) * 1e6) / 1e6);
const round3 = (x: number) => Math.round(x * 1e3) / 1e3;

export interface RequestStatsOptions {
  /** --stats_max_series (default DEFAULT_STATS_MAX_SERIES); 0 records nothing. */
  maxSeries?: number;
  nowMs?: () => number;
}

export class RequestStats {
  readonly maxSeries: number;
  private readonly nowMs: () => number;
  /** model → version → series. */
  private readonly byModel = new Map<string, Map<string, Series>>();
  private count = 0;
  private untracked = 0;
  /** No evictable series before this time (skips the scan while every series is busy). */
  private fullUntilMs = 0;
  private sweptBucket = -1;

  constructor(options: RequestStatsOptions = {}) {
    this.maxSeries = options.maxSeries ?? DEFAULT_STATS_MAX_SERIES;
    if (!Number.isInteger(this.maxSeries) || this.maxSeries < 0) throw new RangeError(`maxSeries must be a non-negative integer, got ${this.maxSeries}`);
    this.nowMs = options.nowMs ?? Date.now;
  }

  get seriesCount(): number {
    return this.count;
  }

  get untrackedRequests(): number {
    return this.untracked;
  }

  /** One finished inference request. `version` '' when none was chosen; `ok` false for any status but OK. */
  record(model: string, version: string, protocol: Protocol, ok: boolean, seconds: number): void {
    if (this.maxSeries === 0) return;
    const now = this.nowMs();
    const bucket = Math.floor(now / 1000 / RESOLUTION_SECONDS);
    this.sweep(bucket);
    let s = this.byModel.get(model)?.get(version);
    if (!s) {
      if (this.count >= this.maxSeries && !this.evictIdle(now)) {
        this.untracked++;
        return;
      }
      s = new Series(model, version);
      let versions = this.byModel.get(model);
      if (!versions) this.byModel.set(model, (versions = new Map()));
      versions.set(version, s);
      this.count++;
    }
    s.record(bucket, PROTOCOL_INDEX[protocol] ?? 0, ok, seconds, now);
  }

  /** The last `windowSeconds` (1..MAX_WINDOW_SECONDS, rounded up to whole buckets) of a model. */
  query(model: string, windowSeconds: number = MAX_WINDOW_SECONDS): ModelStats {
    if (!Number.isInteger(windowSeconds) || windowSeconds < 1 || windowSeconds > MAX_WINDOW_SECONDS) {
      throw new RangeError(`windowSeconds must be an integer from 1 to ${MAX_WINDOW_SECONDS}, got ${windowSeconds}`);
    }
    const now = this.nowMs();
    const nowSeconds = now / 1000;
    const last = Math.floor(nowSeconds / RESOLUTION_SECONDS);
    this.sweep(last);
    const count = Math.ceil(windowSeconds / RESOLUTION_SECONDS);
    const first = last - count + 1;
    const times = Array.from({ length: count }, (_, i) => (first + i) * RESOLUTION_SECONDS);
    // Seconds each bucket covers: whole ones, and the current one up to now (at least 1 s, so a rate stays finite).
    const spans = times.map((t, i) => (i === count - 1 ? Math.max(1, nowSeconds - t) : RESOLUTION_SECONDS));
    const seconds = spans.reduce((a, b) => a + b, 0);

    const perVersion = new Map<string, Accumulator[]>();
    for (const s of this.byModel.get(model)?.values() ?? []) {
      if (s.lastBucket < first) continue;
      const accs = perVersion.get(s.version) ?? Array.from({ length: count }, () => new Accumulator());
      perVersion.set(s.version, accs);
      for (let i = 0; i < count; i++) {
        const slot = (first + i) % BUCKETS;
        if (s.bucket[slot] === first + i) accs[i].add(s, slot);
      }
    }
    const total = Array.from({ length: count }, () => new Accumulator());
    for (const accs of perVersion.values()) for (let i = 0; i < count; i++) total[i].addAll(accs[i]);

    const versions = [...perVersion.entries()]
      .filter(([v]) => v !== '')
      .map(([v, accs]) => ({ version: Number(v), ...seriesJson(accs, spans, seconds) }))
      .filter((v) => v.summary.requests > 0)
      .sort((a, b) => a.version - b.version);
    return {
      model,
      resolution_seconds: RESOLUTION_SECONDS,
      window_seconds: count * RESOLUTION_SECONDS,
      now: round3(nowSeconds),
      times,
      total: seriesJson(total, spans, seconds),
      versions,
      untracked_requests: this.untracked,
      max_series: this.maxSeries,
    };
  }

  /** Drops series whose newest bucket has left the ring (at most once per bucket). */
  private sweep(bucket: number): void {
    if (bucket === this.sweptBucket) return;
    this.sweptBucket = bucket;
    for (const s of this.all()) if (s.lastBucket <= bucket - BUCKETS) this.drop(s);
  }

  /** At the limit: drops the least recently used series if it has been idle for IDLE_EVICT_MS. */
  private evictIdle(now: number): boolean {
    if (now < this.fullUntilMs) return false;
    let oldest: Series | undefined;
    for (const s of this.all()) if (!oldest || s.lastMs < oldest.lastMs) oldest = s;
    if (!oldest) return false;
    if (now - oldest.lastMs < IDLE_EVICT_MS) {
      this.fullUntilMs = oldest.lastMs + IDLE_EVICT_MS;
      return false;
    }
    this.drop(oldest);
    return true;
  }

  private *all(): Generator<Series> {
    for (const versions of this.byModel.values()) yield* [...versions.values()];
  }

  private drop(s: Series): void {
    const versions = this.byModel.get(s.model);
    if (!versions?.delete(s.version)) return;
    this.count--;
    if (versions.size === 0) this.byModel.delete(s.model);
  }
}

function seriesJson(accs: Accumulator[], spans: number[], seconds: number): StatsSeries {
  const all = new Accumulator();
  for (const a of accs) all.addAll(a);
  const protocols: StatsSeries['protocols'] = {};
  PROTOCOLS.forEach((p, i) => {
    if (all.protocolRequests[i] > 0) protocols[p] = { requests: accs.map((a) => a.protocolRequests[i]), errors: accs.map((a) => a.protocolErrors[i]) };
  });
  return {
    requests: accs.map((a) => a.requests),
    errors: accs.map((a) => a.errors),
    requests_per_second: accs.map((a, i) => round3(a.requests / spans[i])),
    error_rate: accs.map((a) => ratio(a.errors, a.requests)),
    p50_ms: accs.map((a) => ms(a.quantile(0.5))),
    p99_ms: accs.map((a) => ms(a.quantile(0.99))),
    protocols,
    summary: {
      requests: all.requests,
      errors: all.errors,
      requests_per_second: round3(all.requests / seconds),
      error_rate: ratio(all.errors, all.requests),
      p50_ms: ms(all.quantile(0.5)),
      p99_ms: ms(all.quantile(0.99)),
    },
  };
}
