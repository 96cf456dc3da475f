// Which versions the registry keeps loaded and which one it wants as default.
import { describe, expect, it } from 'vitest';
import { computeLoadSet } from '../../registry/load_set.js';

const base = { recent: [] as number[], maxLoaded: 4 };

describe('load set', () => {
  it('targets the newest candidate and keeps it, the active and the previous version', () => {
    const s = computeLoadSet({ ...base, candidates: [1, 2, 3, 4, 5], active: 2, previous: 1, maxLoaded: 3 });
    expect(s.target).toBe(5);
    expect(s.load).toEqual([5, 2, 1]);
  });

  it('targets a pinned version', () => {
    const s = computeLoadSet({ ...base, candidates: [1, 2, 3], pinned: 1, active: 1, previous: 3, maxLoaded: 2 });
    expect(s.target).toBe(1);
    expect(s.load).toEqual([3, 1]);
  });

  it('ignores a pin on a version that is no candidate (retired, failed, gone)', () => {
    expect(computeLoadSet({ ...base, candidates: [2, 3], pinned: 1 }).target).toBe(3);
  });

  it('fills up to maxLoaded with the most recently used versions and evicts the rest', () => {
    const s = computeLoadSet({ candidates: [1, 2, 3, 4, 5, 6], active: 6, previous: 5, recent: [1, 2, 3], maxLoaded: 4 });
    expect(s.load).toEqual([6, 5, 3, 2]);
    expect(s.evicted).toEqual([1]);
  });

  it('fills the room left with the newest versions', () => {
    const s = computeLoadSet({ candidates: [1, 2, 3, 4, 5, 6], active: 6, previous: 2, recent: [1], maxLoaded: 5 });
    expect(s.load).toEqual([6, 5, 4, 2, 1]);
    expect(computeLoadSet({ ...base, candidates: [1, 2] }).load).toEqual([2, 1]);
  });

  it('gives versions requests wait for a slot first come first served, at least one even when maxLoaded is smaller', () => {
    const s = computeLoadSet({ candidates: [1, 2, 3], active: 3, previous: 2, recent: [], waiting: [1], maxLoaded: 1 });
    expect(s.load).toEqual([3, 2, 1]);
    const t = computeLoadSet({ candidates: [1, 2, 3, 4], active: 4, recent: [], waiting: [2, 1], maxLoaded: 2 });
    expect(t.load).toEqual([4, 2]);
  });

  it('never evicts a held version (requests in flight or waiting), even beyond maxLoaded; idle recent ones go first', () => {
    const s = computeLoadSet({ candidates: [1, 2, 3, 4, 5], active: 5, recent: [1, 2, 3], held: [1, 2], waiting: [4], maxLoaded: 2 });
    expect(s.load).toEqual([5, 2, 1]);
    expect(s.evicted).toEqual([3]);
    // Once 1 and 2 are idle, the waiting version takes a slot.
    const t = computeLoadSet({ candidates: [1, 2, 3, 4, 5], active: 5, recent: [1, 2, 3], waiting: [4], maxLoaded: 2 });
    expect(t.load).toEqual([5, 4]);
  });

  it('with an explicit policy loads exactly what the policy allows', () => {
    const s = computeLoadSet({ ...base, candidates: [1, 2, 3], explicitPolicy: { kind: 'latest', numVersions: 2 }, pinned: 2, recent: [1] });
    expect(s.target).toBe(2);
    expect(s.load).toEqual([3, 2]);
    const t = computeLoadSet({ ...base, candidates: [1, 2, 3], explicitPolicy: { kind: 'latest', numVersions: 1 }, pinned: 1 });
    expect(t.target).toBe(3);
  });

  it('has no target without candidates', () => {
    expect(computeLoadSet({ ...base, candidates: [] })).toEqual({ target: undefined, load: [], evicted: [] });
  });
});
