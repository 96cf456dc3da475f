/**
 * What a client may ask of a rollout (`POST /api/v1/models/{m}/rollout`),
 * checked field by field: every wrong value is INVALID_ARGUMENT naming the
 * field, the value and the allowed range; unknown fields are refused (a typo
 * such as "precent" must not start a rollout with defaults).
 *
 *   {"version": 3, "percent": 10}                              canary, 10 %
 *   {"version": 3, "mode": "shadow"}                           copies of every request
 *   {"version": 3, "steps": [10, 50, 100], "step_seconds": 300,
 *    "limits": {"max_error_rate": 0.01, "max_p99_latency_ratio": 2, "min_requests": 50},
 *    "window_seconds": 60, "force": false}
 */
import { invalidArgument } from '../../runtime/errors.js';
import { parseVersionNumber } from '../model_name.js';
import type { RolloutLimits, RolloutMode } from '../store.js';

/** Guard-rail window: default, and bounds (a longer window only delays an abort; a shorter one judges too few requests). */
export const DEFAULT_WINDOW_SECONDS = 60;
export const MIN_WINDOW_SECONDS = 5;
export const MAX_WINDOW_SECONDS = 3600;
/** Automatic steps: at most this many, each held MIN..MAX_STEP_SECONDS. */
export const MAX_STEPS = 10;
export const MIN_STEP_SECONDS = 5;
export const MAX_STEP_SECONDS = 7 * 24 * 3600;
/** Candidate requests in the window before a limit is judged (default; at most MAX_MIN_REQUESTS). */
export const DEFAULT_MIN_REQUESTS = 50;
export const MAX_MIN_REQUESTS = 1_000_000;
/** A p99 latency ratio above this is not a limit anyone means. */
export const MAX_LATENCY_RATIO = 1000;

export interface RolloutRequest {
  version: number;
  mode: RolloutMode;
  /** Undefined: keep the running rollout's (or the first step's, or 100 for shadow). */
  percent: number | undefined;
  /** Undefined: not given (a change keeps the running rollout's). */
  limits: RolloutLimits | null | undefined;
  windowSeconds: number | undefined;
  steps: number[] | null | undefined;
  stepSeconds: number | null | undefined;
  force: boolean;
}

const FIELDS = new Set(['version', 'percent', 'mode', 'limits', 'window_seconds', 'steps', 'step_seconds', 'force']);
const LIMIT_FIELDS = new Set(['max_error_rate', 'max_p99_latency_ratio', 'min_requests']);

const show = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v) : JSON.stringify(v) ?? String(v));

/** A percentage: a number from 0 to 100 with at most two decimals (the split has 10,000 buckets). */
export function parsePercent(value: unknown, what = 'percent'): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 100 || Math.abs(Math.round(value * 100) - value * 100) > 1e-6) {
    throw invalidArgument(`${what} must be a number from 0 to 100 with at most two decimals, got ${show(value)}.`);
  }
  return Math.round(value * 100) / 100;
}

function integerIn(value: unknown, what: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidArgument(`${what} must be a whole number from ${min} to ${max}, got ${show(value)}.`);
  }
  return value;
}

function parseLimits(value: unknown): RolloutLimits | null {
  if (value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidArgument(`limits must be an object {"max_error_rate", "max_p99_latency_ratio", "min_requests"}, got ${show(value)}.`);
  const o = value as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!LIMIT_FIELDS.has(k)) throw invalidArgument(`Unknown field limits.${k}; the limits are max_error_rate, max_p99_latency_ratio and min_requests.`);
  let maxErrorRate: number | null = null;
  if (o.max_error_rate !== undefined && o.max_error_rate !== null) {
    const v = o.max_error_rate;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1) throw invalidArgument(`limits.max_error_rate must be a fraction from 0 to 1 (0.01 is 1%), got ${show(v)}.`);
    maxErrorRate = v;
  }
  let maxP99LatencyRatio: number | null = null;
  if (o.max_p99_latency_ratio !== undefined && o.max_p99_latency_ratio !== null) {
    const v = o.max_p99_latency_ratio;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > MAX_LATENCY_RATIO) {
      throw invalidArgument(`limits.max_p99_latency_ratio must be a number above 0 and at most ${MAX_LATENCY_RATIO} (2 allows twice the stable p99), got ${show(v)}.`);
    }
    maxP99LatencyRatio = v;
  }
  const minRequests = o.min_requests === undefined || o.min_requests === null ? DEFAULT_MIN_REQUESTS : integerIn(o.min_requests, 'limits.min_requests', 1, MAX_MIN_REQUESTS);
  if (maxErrorRate === null && maxP99LatencyRatio === null) throw invalidArgument('limits must set max_error_rate or max_p99_latency_ratio (or both); send "limits": null for none.');
  return { maxErrorRate, maxP99LatencyRatio, minRequests };
}

function parseSteps(value: unknown): number[] | null {
  if (value === null) return null;
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_STEPS) {
    throw invalidArgument(`steps must be a list of 1 to ${MAX_STEPS} percentages, rising, such as [10, 50, 100], got ${show(value)}.`);
  }
  const steps = value.map((v, i) => parsePercent(v, `steps[${i}]`));
  for (let i = 1; i < steps.length; i++) {
    if (steps[i] <= steps[i - 1]) throw invalidArgument(`steps must rise: steps[${i}] = ${steps[i]} is not above steps[${i - 1}] = ${steps[i - 1]}.`);
  }
  return steps;
}

/** Checks a rollout request body (parsed JSON). */
export function parseRolloutRequest(body: unknown): RolloutRequest {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw invalidArgument('Send a JSON body such as {"version": 3, "percent": 10}.');
  const o = body as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!FIELDS.has(k)) throw invalidArgument(`Unknown field ${show(k)}; a rollout takes ${[...FIELDS].join(', ')}.`);
  if (o.version === undefined) throw invalidArgument('Send the candidate version: {"version": N, ...}.');
  const version = parseVersionNumber(o.version);
  let mode: RolloutMode = 'canary';
  if (o.mode !== undefined) {
    if (o.mode !== 'canary' && o.mode !== 'shadow') throw invalidArgument(`mode must be "canary" or "shadow", got ${show(o.mode)}.`);
    mode = o.mode;
  }
  const percent = o.percent === undefined ? undefined : parsePercent(o.percent);
  const limits = o.limits === undefined ? undefined : parseLimits(o.limits);
  const windowSeconds = o.window_seconds === undefined ? undefined : integerIn(o.window_seconds, 'window_seconds', MIN_WINDOW_SECONDS, MAX_WINDOW_SECONDS);
  const steps = o.steps === undefined ? undefined : parseSteps(o.steps);
  const stepSeconds = o.step_seconds === undefined || o.step_seconds === null ? (o.step_seconds as null | undefined) : integerIn(o.step_seconds, 'step_seconds', MIN_STEP_SECONDS, MAX_STEP_SECONDS);
  if (steps && stepSeconds == null) throw invalidArgument('steps need step_seconds: how long each percentage is held while within limits.');
  if (stepSeconds != null && !steps) throw invalidArgument('step_seconds needs steps, such as [10, 50, 100].');
  if (mode === 'shadow' && ((limits ?? null) !== null || (steps ?? null) !== null)) {
    throw invalidArgument('A shadow rollout answers no client from the candidate: limits and steps apply to canary rollouts only.');
  }
  if (steps && percent !== undefined && !steps.includes(percent)) {
    throw invalidArgument(`percent ${percent} is not one of the steps ${JSON.stringify(steps)}; leave percent out to start at the first step.`);
  }
  let force = false;
  if (o.force !== undefined) {
    if (typeof o.force !== 'boolean') throw invalidArgument(`force must be true or false, got ${show(o.force)}.`);
    force = o.force;
  }
  return { version, mode, percent, limits, windowSeconds, steps, stepSeconds, force };
}
