/**
 * Pure steps of a rollout's life, used by Registry (registry/registry.ts):
 * the row a request starts or changes, the next automatic step, and the
 * sentences the history records.
 */
import { invalidArgument } from '../../runtime/errors.js';
import type { RolloutLimits, RolloutRow } from '../store.js';
import { DEFAULT_WINDOW_SECONDS, type RolloutRequest } from './rollout_request.js';

/** The row of a new rollout from `stable` to the request's version. */
export function newRollout(model: string, stable: number, req: RolloutRequest, actor: string, now: string): RolloutRow {
  const steps = req.steps ?? null;
  let percent = req.percent;
  if (percent === undefined) {
    if (steps) percent = steps[0];
    else if (req.mode === 'shadow') percent = 100;
    else throw invalidArgument('Send the share of requests the candidate answers: {"version": N, "percent": 10} (or "steps" and "step_seconds").');
  }
  return {
    model,
    stable,
    candidate: req.version,
    percent,
    mode: req.mode,
    state: 'running',
    reason: null,
    limits: req.limits ?? null,
    windowSeconds: req.windowSeconds ?? DEFAULT_WINDOW_SECONDS,
    steps,
    stepSeconds: steps ? (req.stepSeconds ?? null) : null,
    revision: 1,
    startedAt: now,
    changedAt: now,
    actor,
  };
}

/** The running rollout with the request's changes (fields left out are kept); undefined when nothing changes. */
export function changedRollout(running: RolloutRow, req: RolloutRequest, now: string): RolloutRow | undefined {
  const steps = req.steps === undefined ? running.steps : req.steps;
  const stepSeconds = req.steps === null ? null : req.stepSeconds === undefined ? running.stepSeconds : req.stepSeconds;
  if (steps && stepSeconds === null) throw invalidArgument('steps need step_seconds: how long each percentage is held while within limits.');
  let percent = req.percent ?? running.percent;
  if (req.percent === undefined && req.steps) percent = req.steps[0];
  if (steps && req.percent !== undefined && !steps.includes(req.percent)) {
    throw invalidArgument(`percent ${req.percent} is not one of the steps ${JSON.stringify(steps)}.`);
  }
  const next: RolloutRow = {
    ...running,
    percent,
    limits: req.limits === undefined ? running.limits : req.limits,
    windowSeconds: req.windowSeconds ?? running.windowSeconds,
    steps: steps ?? null,
    stepSeconds: steps ? stepSeconds : null,
    revision: running.revision + 1,
    changedAt: percent !== running.percent ? now : running.changedAt,
  };
  const same =
    next.percent === running.percent &&
    JSON.stringify([next.limits, next.windowSeconds, next.steps, next.stepSeconds]) ===
      JSON.stringify([running.limits, running.windowSeconds, running.steps, running.stepSeconds]);
  return same ? undefined : next;
}

/** The percentage after `percent` in `steps`, or undefined at (or past) the last one. */
export function nextStep(steps: readonly number[], percent: number): number | undefined {
  return steps.find((s) => s > percent);
}

export function describeLimits(limits: RolloutLimits | null, windowSeconds: number): string {
  if (!limits) return 'no limits';
  const parts: string[] = [];
  if (limits.maxErrorRate !== null) parts.push(`error rate ≤ ${limits.maxErrorRate}`);
  if (limits.maxP99LatencyRatio !== null) parts.push(`p99 ≤ ${limits.maxP99LatencyRatio}× stable`);
  return `limits ${parts.join(', ')} over ${windowSeconds} s once the candidate has ${limits.minRequests} requests`;
}

export function describeStart(r: RolloutRow): string {
  const what = r.mode === 'shadow' ? `shadow rollout of version ${r.candidate}: copies of ${r.percent}% of version ${r.stable}'s requests` : `rollout of version ${r.candidate}: ${r.percent}% of requests naming no version (version ${r.stable} answers the rest)`;
  const steps = r.steps ? `; steps ${r.steps.join('% → ')}% every ${r.stepSeconds} s` : '';
  return `started ${what}; ${describeLimits(r.limits, r.windowSeconds)}${steps}`;
}

export function describeChange(before: RolloutRow, after: RolloutRow): string {
  const parts: string[] = [];
  if (before.percent !== after.percent) parts.push(`${before.percent}% → ${after.percent}%`);
  if (JSON.stringify([before.limits, before.windowSeconds]) !== JSON.stringify([after.limits, after.windowSeconds])) parts.push(describeLimits(after.limits, after.windowSeconds));
  if (JSON.stringify([before.steps, before.stepSeconds]) !== JSON.stringify([after.steps, after.stepSeconds])) {
    parts.push(after.steps ? `steps ${after.steps.join('% → ')}% every ${after.stepSeconds} s` : 'no automatic steps');
  }
  return `rollout of version ${after.candidate} changed: ${parts.join('; ')}`;
}
