/**
 * Version policies: given the version numbers that are complete on disk,
 * which ones should be served (the "aspired" versions)? Mirrors TF Serving's
 * FileSystemStoragePathSource: latest N (N < 1 counts as 1), all, or a
 * specific list (listed versions that are not on disk are skipped).
 */
import type { VersionPolicy } from './model_config.js';

export function aspiredVersions(policy: VersionPolicy, onDisk: readonly number[]): number[] {
  const sorted = [...onDisk].sort((a, b) => b - a);
  switch (policy.kind) {
    case 'latest':
      return sorted.slice(0, Math.max(policy.numVersions, 1));
    case 'all':
      return sorted;
    case 'specific': {
      const wanted = new Set(policy.versions);
      return sorted.filter((v) => wanted.has(v));
    }
  }
}

/** How many versions (from the highest down) a policy can aspire, or Infinity. */
export function versionsWanted(policy: VersionPolicy): number {
  return policy.kind === 'latest' ? Math.max(policy.numVersions, 1) : Infinity;
}

export function describePolicy(policy: VersionPolicy): string {
  switch (policy.kind) {
    case 'latest':
      return `latest ${Math.max(policy.numVersions, 1)}`;
    case 'all':
      return 'all';
    case 'specific':
      return `specific [${policy.versions.join(', ')}]`;
  }
}
