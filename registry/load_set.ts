/**
 * Which versions of one model the registry keeps loaded, and which one it
 * wants as the default (the "target"). Pure: the registry feeds it what it
 * knows and hands the answer to the version manager as the aspired set.
 *
 *  - Candidates are the complete version folders on disk that are neither
 *    retired nor failed (with the same files).
 *  - With an explicit version policy (from a config file), the policy picks
 *    among the candidates and every version it picks stays loaded, as in TF
 *    Serving; the target is the pinned version when the policy allows it,
 *    else the newest allowed one.
 *  - With no explicit policy every candidate may serve. Kept loaded: the
 *    target (the pinned version, else the newest candidate), the version
 *    active now (until the target takes over) and the one active before it
 *    (so a rollback is instant); then the versions requests used, most
 *    recently used first, up to `maxLoaded` in all (the most recently used
 *    one always fits; the others are evicted); then, while there is room,
 *    the newest remaining versions. Anything else is loaded on demand.
 */
import type { VersionPolicy } from './model_config.js';
import { aspiredVersions } from './version_policy.js';

export interface LoadSetInput {
  candidates: readonly number[];
  /** Set only when the model's config names a policy explicitly. */
  explicitPolicy?: VersionPolicy;
  pinned?: number;
  active?: number;
  previous?: number;
  /** Versions loaded on demand, least recently used first. */
  recent: readonly number[];
  maxLoaded: number;
}

export interface LoadSet {
  /** The version that should answer requests naming no version, once loaded. */
  target: number | undefined;
  /** Versions to keep loaded, highest first. */
  load: number[];
  /** Entries of `recent` that no longer fit. */
  evicted: number[];
}

/** The versions a model's policy allows to serve (all candidates without an explicit policy). */
export function allowedVersions(candidates: readonly number[], explicitPolicy: VersionPolicy | undefined): number[] {
  const sorted = [...candidates].sort((a, b) => b - a);
  return explicitPolicy ? aspiredVersions(explicitPolicy, sorted) : sorted;
}

export function computeLoadSet(input: LoadSetInput): LoadSet {
  const allowed = allowedVersions(input.candidates, input.explicitPolicy);
  const allowedSet = new Set(allowed);
  const target = input.pinned !== undefined && allowedSet.has(input.pinned) ? input.pinned : allowed[0];
  if (input.explicitPolicy) return { target, load: allowed, evicted: [...input.recent] };

  const keep = new Set<number>();
  for (const v of [target, input.active, input.previous]) if (v !== undefined && allowedSet.has(v)) keep.add(v);
  const evicted: number[] = [];
  for (let i = input.recent.length - 1; i >= 0; i--) {
    const v = input.recent[i];
    if (keep.has(v)) continue;
    // The most recently used version always fits, so a request for it can be served even when maxLoaded is tiny.
    const mostRecent = i === input.recent.length - 1;
    if (allowedSet.has(v) && (keep.size < input.maxLoaded || mostRecent)) keep.add(v);
    else evicted.push(v);
  }
  // Room left: the newest versions, so they answer at once when first asked for.
  for (const v of allowed) {
    if (keep.size >= input.maxLoaded) break;
    keep.add(v);
  }
  return { target, load: [...keep].sort((a, b) => b - a), evicted };
}
