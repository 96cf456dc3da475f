/**
 * The guard rails of running rollouts (docs/registry.md#rollouts), in each
 * serving process: every inference request's outcome (ServerMetrics'
 * inference listener) goes into the rollout's sliding window
 * (guard_window.ts); every GUARD_INTERVAL_MS the guard
 *  - aborts a canary whose candidate breaks a limit, once the candidate has
 *    `min_requests` requests in the window: its error rate above
 *    `max_error_rate`, or its p99 above `max_p99_latency_ratio` × the stable
 *    version's (judged once the stable side has `min_requests` too); the
 *    reason names the limit and the figures;
 *  - moves a rollout with `steps` to the next percentage once the current
 *    one has been held `step_seconds` within limits (with limits: judged on
 *    at least `min_requests` candidate requests), and promotes it after the
 *    last step has been held as long.
 * Each replica judges its own traffic; the registry's revision check lets
 * one replica's abort or step win a race and the others' do nothing.
 */
import type { Logger } from '../../serving/log.js';
import { nextStep } from '../../registry/rollout/rollout_plan.js';
import type { Registry } from '../../registry/registry.js';
import type { RolloutRow } from '../../registry/store.js';
import { toStatusError } from '../../runtime/errors.js';
import { GuardWindow, type SideStats } from './guard_window.js';

export const GUARD_INTERVAL_MS = 1000;

export interface RolloutGuardOptions {
  registry: Registry;
  /** The history's actor of the guard's changes (default "guard"). */
  actor?: string;
  intervalMs?: number;
  log: Logger;
  nowMs?: () => number;
}

const keyOf = (r: RolloutRow) => `${r.startedAt}/${r.candidate}/${r.stable}/${r.windowSeconds}`;
const fmt = (x: number) => String(Math.round(x * 1e4) / 1e4);

/** Why `candidate` breaks the rollout's limits compared with `stable`, or undefined while within them (or too few requests to judge). */
export function limitBroken(r: RolloutRow, stable: SideStats, candidate: SideStats): string | undefined {
  const limits = r.limits;
  if (!limits || candidate.requests < limits.minRequests) return undefined;
  const over = `over the last ${r.windowSeconds} s`;
  if (limits.maxErrorRate !== null && candidate.error_rate !== null && candidate.error_rate > limits.maxErrorRate) {
    const stableRate = stable.error_rate === null ? 'no requests' : `${fmt(stable.error_rate)} (${stable.errors} of ${stable.requests})`;
    return (
      `max_error_rate ${limits.maxErrorRate} exceeded: version ${r.candidate} answered ${candidate.errors} errors in ${candidate.requests} requests ` +
      `(error rate ${fmt(candidate.error_rate)}) ${over}; stable version ${r.stable}: ${stableRate}`
    );
  }
  if (
    limits.maxP99LatencyRatio !== null &&
    candidate.p99_ms !== null &&
    stable.p99_ms !== null &&
    stable.p99_ms > 0 &&
    stable.requests >= limits.minRequests &&
    candidate.p99_ms / stable.p99_ms > limits.maxP99LatencyRatio
  ) {
    return (
      `max_p99_latency_ratio ${limits.maxP99LatencyRatio} exceeded: version ${r.candidate}'s p99 ${candidate.p99_ms} ms is ` +
      `${fmt(candidate.p99_ms / stable.p99_ms)}× stable version ${r.stable}'s ${stable.p99_ms} ms ${over} (${candidate.requests} and ${stable.requests} requests)`
    );
  }
  return undefined;
}

export class RolloutGuard {
  private readonly windows = new Map<string, GuardWindow>();
  private timer: NodeJS.Timeout | undefined;
  private checking = false;
  private readonly actor: string;
  private readonly nowMs: () => number;

  constructor(private readonly options: RolloutGuardOptions) {
    this.actor = options.actor ?? 'guard';
    this.nowMs = options.nowMs ?? Date.now;
  }

  start(): void {
    this.timer ??= setInterval(() => void this.check(), this.options.intervalMs ?? GUARD_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One finished inference request (ServerMetrics' inference listener); `version` '' when none answered. */
  observe(model: string, version: string, ok: boolean, seconds: number): void {
    if (version === '') return;
    const w = this.windowOf(model);
    w?.record(Number(version), ok, seconds, this.nowMs());
  }

  /** The window's figures of the model's running rollout, or undefined when none runs. */
  stats(model: string): { stable: SideStats; candidate: SideStats } | undefined {
    return this.windowOf(model)?.stats(this.nowMs());
  }

  /** Judges every running rollout once (the timer calls it; tests may too). */
  async check(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      const running = this.options.registry.runningRollouts();
      const names = new Set(running.map((r) => r.model));
      for (const name of [...this.windows.keys()]) if (!names.has(name)) this.windows.delete(name);
      for (const r of running) await this.judge(r).catch((e) => this.options.log.warn(`Rollout guard of model ${r.model}: ${toStatusError(e).message}`));
    } finally {
      this.checking = false;
    }
  }

  private windowOf(model: string): GuardWindow | undefined {
    const r = this.options.registry.runningRollout(model);
    if (!r || r.mode !== 'canary') return undefined;
    const key = keyOf(r);
    let w = this.windows.get(model);
    if (!w || w.key !== key) {
      w = new GuardWindow(key, r.stable, r.candidate, r.windowSeconds);
      this.windows.set(model, w);
    }
    return w;
  }

  private async judge(r: RolloutRow): Promise<void> {
    const w = this.windowOf(r.model);
    if (!w) return;
    const { stable, candidate } = w.stats(this.nowMs());
    const broken = limitBroken(r, stable, candidate);
    const registry = this.options.registry;
    if (broken) {
      const done = await registry.abortRollout(r.model, this.actor, { expectedRevision: r.revision, reason: broken });
      if (done) this.options.log.warn(`Rollout of version ${r.candidate} of model ${r.model} aborted: ${broken}`);
      return;
    }
    if (!r.steps || r.stepSeconds === null) return;
    const heldMs = this.nowMs() - Date.parse(r.changedAt);
    if (heldMs < r.stepSeconds * 1000) return;
    if (r.limits && candidate.requests < r.limits.minRequests) return; // within limits is not known yet
    const held = `held ${r.percent}% for ${r.stepSeconds} s${r.limits ? ' within limits' : ''}`;
    const next = nextStep(r.steps, r.percent);
    if (next !== undefined) await registry.stepRollout(r.model, r.revision, next, this.actor, held);
    else await registry.promoteRollout(r.model, this.actor, { expectedRevision: r.revision, reason: `promoted automatically (${held}, the last step)` });
  }
}
