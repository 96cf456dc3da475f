/**
 * TF Serving's AvailabilityPreservingPolicy: the next load or unload for one
 * model, chosen so that a model that has a serving version never drops to
 * zero serving versions because of a swap.
 *
 *  - Unload the lowest non-aspired serving version when there is no aspired
 *    version at all, or an aspired version is already serving, or more than
 *    one non-aspired version is serving.
 *  - Otherwise load the highest aspired version that has not been tried yet.
 *
 * A new version that fails to load therefore never unloads the old one.
 */
export type VersionPhase = 'new' | 'loading' | 'ready' | 'error' | 'unloading';

export interface VersionSnapshot {
  version: number;
  aspired: boolean;
  phase: VersionPhase;
}

export type PolicyAction = { action: 'load' | 'unload'; version: number } | undefined;

export function nextAction(versions: readonly VersionSnapshot[]): PolicyAction {
  let hasAspired = false;
  let hasAspiredServing = false;
  const unaspiredServing: number[] = [];
  for (const v of versions) {
    if (v.aspired) {
      hasAspired = true;
      if (v.phase === 'ready') hasAspiredServing = true;
    } else if (v.phase === 'ready') {
      unaspiredServing.push(v.version);
    }
  }
  if ((!hasAspired || hasAspiredServing || unaspiredServing.length > 1) && unaspiredServing.length > 0) {
    return { action: 'unload', version: Math.min(...unaspiredServing) };
  }
  const newAspired = versions.filter((v) => v.aspired && v.phase === 'new').map((v) => v.version);
  if (newAspired.length > 0) return { action: 'load', version: Math.max(...newAspired) };
  return undefined;
}
