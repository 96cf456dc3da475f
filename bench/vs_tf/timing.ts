/**
 * How one compute measurement is timed, on both sides alike (the Python peer
 * bench/peers/tf_compute.py mirrors `measureCalls`): warm-up calls until 30%
 * of the budget has passed (at least two calls) or half of it (at least one),
 * then timed calls until the budget has passed with at least `minCalls`, or
 * `maxCalls`, or three budgets with at least three calls (the slowest models).
 */
export interface TimingBudget {
  budgetSeconds: number;
  minCalls: number;
  maxCalls: number;
}

export function measureCalls(call: () => void, b: TimingBudget): { timesMs: number[]; warmupCalls: number } {
  const warmStart = performance.now();
  let warmupCalls = 0;
  for (;;) {
    call();
    warmupCalls++;
    const elapsed = (performance.now() - warmStart) / 1000;
    if ((warmupCalls >= 2 && elapsed >= 0.3 * b.budgetSeconds) || elapsed >= 0.5 * b.budgetSeconds) break;
  }
  const timesMs: number[] = [];
  const start = performance.now();
  while (timesMs.length < b.maxCalls) {
    const t = performance.now();
    call();
    timesMs.push(performance.now() - t);
    const elapsed = (performance.now() - start) / 1000;
    if (timesMs.length >= b.minCalls && elapsed >= b.budgetSeconds) break;
    if (timesMs.length >= 3 && elapsed >= 3 * b.budgetSeconds) break;
  }
  return { timesMs, warmupCalls };
}

/** The q-quantile by the nearest-rank method (p99 of 50 calls is the largest). */
export function percentile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

export interface TimeStats {
  calls: number;
  medianMs: number;
  p99Ms: number;
}

export function timeStats(timesMs: readonly number[]): TimeStats {
  return { calls: timesMs.length, medianMs: percentile(timesMs, 0.5), p99Ms: percentile(timesMs, 0.99) };
}
