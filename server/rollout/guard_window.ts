/**
 * The guard rails' sliding window: one rollout's inference requests per
 * side (stable, candidate) over its `window_seconds`, in SLOTS slots of
 * window/SLOTS each (so memory is the same for any window), with the
 * latency histogram bins of server/request_stats.ts. Figures cover the
 * last SLOTS slots: between window − one slot and the window.
 */
import { binBounds, binOf, LATENCY_BINS } from '../request_stats.js';

export const SLOTS = 60;

export interface SideStats {
  version: number;
  requests: number;
  errors: number;
  /** errors / requests; null without requests. */
  error_rate: number | null;
  p50_ms: number | null;
  p99_ms: number | null;
}

class Side {
  readonly bucket = new Float64Array(SLOTS).fill(-1);
  readonly requests = new Uint32Array(SLOTS);
  readonly errors = new Uint32Array(SLOTS);
  readonly maxSeconds = new Float64Array(SLOTS);
  readonly latency: (Uint32Array | undefined)[] = new Array(SLOTS);

  record(bucket: number, ok: boolean, seconds: number): void {
    const slot = bucket % SLOTS;
    if (this.bucket[slot] !== bucket) {
      this.bucket[slot] = bucket;
      this.requests[slot] = 0;
      this.errors[slot] = 0;
      this.maxSeconds[slot] = 0;
      this.latency[slot]?.fill(0);
    }
    this.requests[slot]++;
    if (!ok) this.errors[slot]++;
    const s = Number.isFinite(seconds) && seconds > 0 ? seconds : 0;
    if (s > this.maxSeconds[slot]) this.maxSeconds[slot] = s;
    (this.latency[slot] ??= new Uint32Array(LATENCY_BINS))[binOf(s)]++;
  }

  summary(version: number, current: number): SideStats {
    let requests = 0;
    let errors = 0;
    let max = 0;
    const histogram = new Float64Array(LATENCY_BINS);
    for (let slot = 0; slot < SLOTS; slot++) {
      const b = this.bucket[slot];
      if (b <= current - SLOTS || b > current) continue;
      requests += this.requests[slot];
      errors += this.errors[slot];
      max = Math.max(max, this.maxSeconds[slot]);
      const h = this.latency[slot];
      if (h) for (let i = 0; i < LATENCY_BINS; i++) histogram[i] += h[i];
    }
    const quantile = (q: number): number | null => {
      if (requests === 0) return null;
      const rank = Math.max(1, Math.ceil(q * requests));
      let below = 0;
      for (let i = 0; i < LATENCY_BINS; i++) {
        const n = histogram[i];
        if (n === 0) continue;
        if (below + n >= rank) {
          const [lo, hi] = binBounds(i);
          const to = Math.min(hi, max);
          return Math.min(lo + ((to - lo) * (rank - below)) / n, max);
        }
        below += n;
      }
      return max;
    };
    const ms = (s: number | null) => (s === null ? null : Math.round(s * 1e6) / 1e3);
    return {
      version,
      requests,
      errors,
      error_rate: requests === 0 ? null : Math.round((errors / requests) * 1e6) / 1e6,
      p50_ms: ms(quantile(0.5)),
      p99_ms: ms(quantile(0.99)),
    };
  }
}

export class GuardWindow {
  private readonly slotMs: number;
  private readonly stableSide = new Side();
  private readonly candidateSide = new Side();

  constructor(
    /** Which rollout this window belongs to (a new rollout gets a new window). */
    readonly key: string,
    readonly stable: number,
    readonly candidate: number,
    windowSeconds: number,
  ) {
    this.slotMs = Math.max(1, Math.ceil((windowSeconds * 1000) / SLOTS));
  }

  record(version: number, ok: boolean, seconds: number, nowMs: number): void {
    const side = version === this.candidate ? this.candidateSide : version === this.stable ? this.stableSide : undefined;
    side?.record(Math.floor(nowMs / this.slotMs), ok, seconds);
  }

  stats(nowMs: number): { stable: SideStats; candidate: SideStats } {
    const current = Math.floor(nowMs / this.slotMs);
    return { stable: this.stableSide.summary(this.stable, current), candidate: this.candidateSide.summary(this.candidate, current) };
  }
}
