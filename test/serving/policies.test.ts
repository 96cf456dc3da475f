// Version policies and the availability-preserving swap policy (TF Serving's
// file_system_storage_path_source and availability_preserving_policy rules).
import { describe, expect, it } from 'vitest';
import { nextAction, type VersionSnapshot } from '../../serving/availability_policy.js';
import { aspiredVersions } from '../../serving/version_policy.js';

describe('version policies', () => {
  const onDisk = [3, 1, 7, 5];
  it('latest N serves the N highest versions; N < 1 counts as 1', () => {
    expect(aspiredVersions({ kind: 'latest', numVersions: 1 }, onDisk)).toEqual([7]);
    expect(aspiredVersions({ kind: 'latest', numVersions: 2 }, onDisk)).toEqual([7, 5]);
    expect(aspiredVersions({ kind: 'latest', numVersions: 0 }, onDisk)).toEqual([7]);
    expect(aspiredVersions({ kind: 'latest', numVersions: 9 }, onDisk)).toEqual([7, 5, 3, 1]);
  });
  it('all serves every version', () => {
    expect(aspiredVersions({ kind: 'all' }, onDisk)).toEqual([7, 5, 3, 1]);
  });
  it('specific serves the listed versions that exist', () => {
    expect(aspiredVersions({ kind: 'specific', versions: [3, 4] }, onDisk)).toEqual([3]);
  });
});

describe('availability-preserving policy', () => {
  const v = (version: number, aspired: boolean, phase: VersionSnapshot['phase']): VersionSnapshot => ({ version, aspired, phase });

  it('loads a new aspired version before unloading the old one', () => {
    expect(nextAction([v(1, false, 'ready'), v(2, true, 'new')])).toEqual({ action: 'load', version: 2 });
    expect(nextAction([v(1, false, 'ready'), v(2, true, 'loading')])).toBeUndefined();
    expect(nextAction([v(1, false, 'ready'), v(2, true, 'ready')])).toEqual({ action: 'unload', version: 1 });
  });

  it('keeps the old version when the new one failed to load', () => {
    expect(nextAction([v(1, false, 'ready'), v(2, true, 'error')])).toBeUndefined();
  });

  it('unloads everything once nothing is aspired', () => {
    expect(nextAction([v(1, false, 'ready'), v(2, false, 'ready')])).toEqual({ action: 'unload', version: 1 });
  });

  it('with two old versions serving, unloads the lower one first', () => {
    expect(nextAction([v(1, false, 'ready'), v(2, false, 'ready'), v(3, true, 'new')])).toEqual({ action: 'unload', version: 1 });
  });

  it('loads the highest new aspired version first', () => {
    expect(nextAction([v(4, true, 'new'), v(6, true, 'new'), v(5, true, 'new')])).toEqual({ action: 'load', version: 6 });
  });
});
