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
 *  - With no explicit policy every candidate may serve. Kept loaded, in
 *    this order until `maxLoaded` versions are kept:
 *     1. the target (the pinned version, else the newest candidate), the
 *        version active now (until the target takes over) and the one active
 *        before it (so a rollback is instant): always;
 *     2. `held` versions: those requests are running on or waiting for after
 *        they got their slot, and those a registry change is about to use:
 *        always, even beyond `maxLoaded` (a version in use is never evicted;
 *        the excess goes once they are idle);
 *     3. `waiting` versions (requests wait for them to load), first come
 *        first served; at least one of them fits even when steps 1-2 use
 *        every slot, so on-demand loading never stalls for good;
 *     4. idle versions requests used, most recently used first;
 *     5. the newest remaining versions.
 *    Anything else is loaded on demand.
 */
import type { VersionPolicy } from '../serving/model_config.js';
import { aspiredVersions } from '../serving/version_policy.js';

export interface LoadSetInput {
  candidates: readonly number[];
  /** Set only when the model's config names a policy explicitly. */
  explicitPolicy?: VersionPolicy;
  pinned?: number;
  active?: number;
  previous?: number;
  /** Versions requests used, least recently used first. */
  recent: readonly number[];
  /** Versions in use that must stay (or get) loaded whatever the room (step 2). */
  held?: readonly number[];
  /** Versions requests wait for that have no slot yet, first come first (step 3). */
  waiting?: readonly number[];
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
  const fixed = keep.size;
  for (const v of input.held ?? []) if (allowedSet.has(v)) keep.add(v);
  for (const v of input.waiting ?? []) {
    if (!allowedSet.has(v) || keep.has(v)) continue;
    if (keep.size >= input.maxLoaded && keep.size > fixed) break;
    keep.add(v);
  }
  const evicted: number[] = [];
  for (let i = input.recent.length - 1; i >= 0; i--) {
    const v = input.recent[i];
    if (keep.has(v)) continue;
    if (allowedSet.has(v) && keep.size < input.maxLoaded) keep.add(v);
    else evicted.push(v);
  }
  // Room left: the newest versions, so they answer at once when first asked for.
  for (const v of allowed) {
    if (keep.size >= input.maxLoaded) break;
    keep.add(v);
  }
  return { target, load: [...keep].sort((a, b) => b - a), evicted };
}
