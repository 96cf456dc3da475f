// The rollout guard rail max_p99_latency_ratio (server/rollout/guard.ts,
// guard_window.ts), fed latencies directly on a clock the test moves: the
// window's p99 per side, limitBroken's decision and its reason, and the
// RolloutGuard aborting a canary whose candidate is too slow through a real
// Registry (SQLite, and PostgreSQL when MODELHOST_TEST_POSTGRES_URL is set),
// with the reason and the history event; within the ratio it keeps running.
// The end-to-end case (a slow model through a real server) is in
// rollout_api.test.ts.
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../serving/log.js';
import { parseRolloutRequest } from '../../registry/rollout/rollout_request.js';
import type { RolloutRow } from '../../registry/store.js';
import { limitBroken, RolloutGuard } from '../../server/rollout/guard.js';
import { GuardWindow, SLOTS, type SideStats } from '../../server/rollout/guard_window.js';
import { describePostgres } from '../registry/postgres_helper.js';
import { PLUS_THREE, PLUS_TWO, uploadDir, type World, worldsPerTest } from '../registry/registry_world.js';

const T0 = 1_700_000_000_000;

/** `n` requests of `ms` milliseconds each into the window at `nowMs`. */
function feed(w: { record(version: number, ok: boolean, seconds: number, nowMs: number): void }, version: number, n: number, ms: number, nowMs: number): void {
  for (let i = 0; i < n; i++) w.record(version, true, ms / 1000, nowMs);
}

const side = (version: number, requests: number, p99: number | null): SideStats => ({ version, requests, errors: 0, error_rate: requests ? 0 : null, p50_ms: p99, p99_ms: p99 });

function row(limits: Partial<NonNullable<RolloutRow['limits']>>): RolloutRow {
  return {
    model: 'm',
    stable: 1,
    candidate: 2,
    percent: 50,
    mode: 'canary',
    state: 'running',
    reason: null,
    limits: { maxErrorRate: null, maxP99LatencyRatio: 2, minRequests: 20, ...limits },
    windowSeconds: 30,
    steps: null,
    stepSeconds: null,
    revision: 1,
    startedAt: new Date(T0).toISOString(),
    changedAt: new Date(T0).toISOString(),
    actor: 'test',
  };
}

describe('the guard window', () => {
  it("gives each side's p99 within a histogram bin, and forgets requests older than the window", () => {
    const w = new GuardWindow('k', 1, 2, 30);
    // Stable: 99 fast requests and one slow; candidate: all slow.
    feed(w, 1, 99, 2, T0);
    feed(w, 1, 1, 40, T0);
    feed(w, 2, 50, 25, T0 + 1000);
    feed(w, 3, 10, 500, T0 + 1000); // neither side's version: not counted
    const { stable, candidate } = w.stats(T0 + 2000);
    expect(stable).toMatchObject({ version: 1, requests: 100, errors: 0 });
    expect(candidate).toMatchObject({ version: 2, requests: 50, errors: 0 });
    // p99 of stable is the 99th of 100 (a 2 ms request), candidate's is 25 ms.
    // Within one histogram bin (a quarter doubling) of the true value.
    const BIN = 2 ** 0.25;
    expect(stable.p99_ms!).toBeGreaterThan(2 / BIN);
    expect(stable.p99_ms!).toBeLessThanOrEqual(2 * BIN);
    expect(candidate.p99_ms!).toBeGreaterThan(25 / BIN);
    expect(candidate.p99_ms!).toBeLessThanOrEqual(25); // clamped to the side's slowest request
    // A window later, the requests fed at T0 have left it.
    const later = w.stats(T0 + 30_000 + (30_000 / SLOTS) * 1.5);
    expect(later.stable).toMatchObject({ requests: 0, p99_ms: null });
    expect(later.candidate.requests).toBe(50);
  });
});

describe('limitBroken: max_p99_latency_ratio', () => {
  it('names the limit and the figures when the candidate p99 is above ratio × the stable p99', () => {
    expect(limitBroken(row({}), side(1, 40, 10), side(2, 25, 21))).toBe(
      "max_p99_latency_ratio 2 exceeded: version 2's p99 21 ms is 2.1× stable version 1's 10 ms over the last 30 s (25 and 40 requests)",
    );
    expect(limitBroken(row({ maxP99LatencyRatio: 1.5 }), side(1, 20, 3), side(2, 20, 100))).toMatch(/^max_p99_latency_ratio 1\.5 exceeded: .* 33\.3333× stable/);
  });

  it('keeps the rollout running within the ratio, or while either side has too few requests to judge', () => {
    expect(limitBroken(row({}), side(1, 40, 10), side(2, 25, 20))).toBeUndefined(); // exactly the ratio
    expect(limitBroken(row({}), side(1, 40, 10), side(2, 25, 15))).toBeUndefined();
    expect(limitBroken(row({}), side(1, 40, 10), side(2, 19, 500))).toBeUndefined(); // candidate under min_requests
    expect(limitBroken(row({}), side(1, 19, 10), side(2, 25, 500))).toBeUndefined(); // stable under min_requests
    expect(limitBroken(row({}), side(1, 0, null), side(2, 25, 500))).toBeUndefined();
    expect(limitBroken(row({}), side(1, 40, 0), side(2, 25, 500))).toBeUndefined(); // no ratio to a 0 ms p99
    expect(limitBroken(row({ maxP99LatencyRatio: null, maxErrorRate: 0.1 }), side(1, 40, 10), side(2, 25, 500))).toBeUndefined();
    expect(limitBroken({ ...row({}), limits: null }, side(1, 40, 10), side(2, 25, 500))).toBeUndefined();
  });
});

const harness = worldsPerTest('modelhost-rollout-guard-');

/** hp: v1 half_plus_three serving, v2 half_plus_two rolled out at 50% with a p99 ratio limit of 3 over 20 s. */
async function slowCanary(w: World): Promise<{ guard: RolloutGuard; clock: { now: number } }> {
  await uploadDir(w, 'hp', PLUS_THREE);
  await uploadDir(w, 'hp', PLUS_TWO, { activate: false });
  await w.registry.startRollout(
    'hp',
    parseRolloutRequest({ version: 2, percent: 50, force: true, window_seconds: 20, limits: { max_p99_latency_ratio: 3, min_requests: 20 } }),
    'test',
  );
  const clock = { now: Date.now() };
  return { guard: new RolloutGuard({ registry: w.registry, log: silentLogger, nowMs: () => clock.now }), clock };
}

function guardSuite(): void {
  it('aborts a canary whose candidate p99 is above 3× the stable one, naming the limit and the figures; the history says why', async () => {
    const w = await harness.start();
    const { guard, clock } = await slowCanary(w);
    for (let i = 0; i < 5; i++) {
      guard.observe('hp', '1', true, 0.002);
      guard.observe('hp', '2', true, 0.1);
    }
    // Too few requests on either side to judge yet.
    await guard.check();
    expect(w.registry.getRollout('hp')?.state).toBe('running');
    clock.now += 1000;
    for (let i = 0; i < 40; i++) guard.observe('hp', '1', true, 0.002 + (i % 4) / 1000); // 2..5 ms
    for (let i = 0; i < 20; i++) guard.observe('hp', '2', true, 0.1);
    const { stable, candidate } = guard.stats('hp')!;
    expect(stable.requests).toBe(45);
    expect(candidate.requests).toBe(25);
    expect(candidate.p99_ms! / stable.p99_ms!).toBeGreaterThan(15);
    await guard.check();
    const r = w.registry.getRollout('hp')!;
    expect(r).toMatchObject({ state: 'aborted', stable: 1, candidate: 2 });
    const ratio = String(Math.round((candidate.p99_ms! / stable.p99_ms!) * 1e4) / 1e4);
    expect(r.reason).toBe(
      `max_p99_latency_ratio 3 exceeded: version 2's p99 ${candidate.p99_ms} ms is ${ratio}× stable version 1's ${stable.p99_ms} ms over the last 20 s (25 and 45 requests)`,
    );
    const aborted = (await w.registry.events('hp', { limit: 20 })).find((e) => e.kind === 'rollout_aborted')!;
    expect(aborted).toMatchObject({ actor: 'guard', version: 2 });
    expect(aborted.detail).toBe(`rollout of version 2 aborted (${r.reason}); version 1 answers every request naming no version`);
    // The stable version serves every request naming no version again; the window is gone.
    expect(w.registry.runningRollout('hp')).toBeUndefined();
    expect(guard.stats('hp')).toBeUndefined();
  });

  it('keeps a canary within the ratio running, and aborts it once its slow requests push the p99 over', async () => {
    const w = await harness.start();
    const { guard, clock } = await slowCanary(w);
    for (let t = 0; t < 5; t++) {
      for (let i = 0; i < 20; i++) guard.observe('hp', '1', true, 0.01);
      for (let i = 0; i < 20; i++) guard.observe('hp', '2', true, 0.025); // 2.5× stable
      await guard.check();
      expect(w.registry.getRollout('hp')?.state, `after ${t + 1} s within the ratio`).toBe('running');
      clock.now += 1000;
    }
    const before = guard.stats('hp')!;
    expect(before.candidate.p99_ms! / before.stable.p99_ms!).toBeGreaterThan(2);
    expect(before.candidate.p99_ms! / before.stable.p99_ms!).toBeLessThanOrEqual(3);
    // 2% of the candidate's requests at 80 ms: its p99 becomes one of them.
    for (let i = 0; i < 3; i++) guard.observe('hp', '2', true, 0.08);
    await guard.check();
    const r = w.registry.getRollout('hp')!;
    expect(r.state).toBe('aborted');
    expect(r.reason).toMatch(/^max_p99_latency_ratio 3 exceeded: version 2's p99 \d+(\.\d+)? ms is \d+(\.\d+)?× stable version 1's \d+(\.\d+)? ms over the last 20 s \(103 and 100 requests\)$/);
  });

  it('judges only the window: slow candidate requests older than window_seconds no longer count', async () => {
    const w = await harness.start();
    const { guard, clock } = await slowCanary(w);
    for (let i = 0; i < 3; i++) guard.observe('hp', '2', true, 0.5); // slow, but under min_requests
    clock.now += 21_000; // past the 20 s window
    for (let i = 0; i < 30; i++) {
      guard.observe('hp', '1', true, 0.01);
      guard.observe('hp', '2', true, 0.012);
    }
    expect(guard.stats('hp')!.candidate.requests).toBe(30);
    await guard.check();
    expect(w.registry.getRollout('hp')?.state).toBe('running');
  });
}

describe('the rollout guard on SQLite', () => guardSuite());

describePostgres('the rollout guard on PostgreSQL', () => {
  harness.usePostgres();
  guardSuite();
});
