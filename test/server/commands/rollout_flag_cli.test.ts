// `modelhost serve --rollout_shadow_queue`, the built binary as a user runs
// it: a bad value refuses to start naming the flag; 0 drops every shadow
// copy (clients still answered); the default queue compares them.
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers.js';
import { serveHpWithFlags } from './serve_hp_process.js';

const serve = serveHpWithFlags('modelhost-rollout-flag-');

interface Shadow {
  requests: number;
  dropped: number;
  queued: number;
  queue_limit: number;
  agreement: number | null;
  max_abs_diff: number | null;
}

/** Starts a shadow rollout of 123 (124 serves), sends `n` requests naming no version, returns the comparison once every copy is settled. */
async function shadowRun(url: string, n: number): Promise<Shadow> {
  const started = await fetch(`${url}/api/v1/models/hp/rollout`, { method: 'POST', body: JSON.stringify({ version: 123, mode: 'shadow' }) });
  expect(started.status, await started.clone().text()).toBe(200);
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${url}/v1/models/hp:predict`, { method: 'POST', body: '{"instances": [1.0, 2.0]}' });
    expect(((await res.json()) as { predictions: number[] }).predictions).toEqual([2.5, 3]);
  }
  return waitFor('the copies to settle', async () => {
    const s = ((await (await fetch(`${url}/api/v1/models/hp/rollout`)).json()) as { stats: { shadow: Shadow } }).stats.shadow;
    return s.requests + s.dropped === n && s.queued === 0 ? s : undefined;
  });
}

describe('modelhost serve --rollout_shadow_queue', () => {
  it('refuses a value that is not a whole number >= 0', async () => {
    const s = serve(['--rollout_shadow_queue=-1']);
    expect(await s.exit).not.toBe(0);
    expect(s.output()).toMatch(/--rollout_shadow_queue.*expected a whole number >= 0/);
  });

  it('0: every copy is dropped, every client answered', async () => {
    const s = serve(['--rollout_shadow_queue=0']);
    const shadow = await shadowRun(await s.url(), 15);
    expect(shadow).toMatchObject({ requests: 0, dropped: 15, queue_limit: 0, agreement: null });
  });

  it('the default queue compares the copies', async () => {
    const s = serve([]);
    const shadow = await shadowRun(await s.url(), 15);
    expect(shadow.queue_limit).toBe(64);
    expect(shadow.requests).toBeGreaterThan(0);
    expect(shadow).toMatchObject({ agreement: 1, max_abs_diff: 0 });
  });
});
