/**
 * The `rollouts` table's columns ⇄ RolloutRow, shared by the SQLite and
 * PostgreSQL stores (limits and steps are JSON text in both).
 */
import type { RolloutLimits, RolloutMode, RolloutRow, RolloutState } from '../store.js';

/** Column order of INSERT statements (the stores number their placeholders from it). */
export const ROLLOUT_COLUMNS = [
  'model',
  'stable',
  'candidate',
  'percent',
  'mode',
  'state',
  'reason',
  'limits',
  'window_seconds',
  'steps',
  'step_seconds',
  'revision',
  'started_at',
  'changed_at',
  'actor',
] as const;

export function rolloutValues(r: RolloutRow): unknown[] {
  return [
    r.model,
    r.stable,
    r.candidate,
    r.percent,
    r.mode,
    r.state,
    r.reason,
    r.limits === null ? null : JSON.stringify(r.limits),
    r.windowSeconds,
    r.steps === null ? null : JSON.stringify(r.steps),
    r.stepSeconds,
    r.revision,
    r.startedAt,
    r.changedAt,
    r.actor,
  ];
}

const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export function rolloutFromColumns(r: Record<string, unknown>): RolloutRow {
  return {
    model: r.model as string,
    stable: Number(r.stable),
    candidate: Number(r.candidate),
    percent: Number(r.percent),
    mode: r.mode as RolloutMode,
    state: r.state as RolloutState,
    reason: (r.reason as string | null) ?? null,
    limits: r.limits === null || r.limits === undefined ? null : (JSON.parse(r.limits as string) as RolloutLimits),
    windowSeconds: Number(r.window_seconds),
    steps: r.steps === null || r.steps === undefined ? null : (JSON.parse(r.steps as string) as number[]),
    stepSeconds: numOrNull(r.step_seconds),
    revision: Number(r.revision),
    startedAt: r.started_at as string,
    changedAt: r.changed_at as string,
    actor: r.actor as string,
  };
}
