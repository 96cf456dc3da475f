// `modelhost serve --rollout_shadow_queue`, the built binary as a user runs
// it: a bad value refuses to start naming the flag; 0 drops every shadow
// copy (clients still answered); the default queue compares them.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { copyVersion, waitFor } from '../helpers.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const BIN = path.join(ROOT, 'bin/modelhost.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-rollout-flag-'));
const running: ChildProcess[] = [];
const base = path.join(tmp, 'hp');
copyVersion('saved_model_half_plus_two_2_versions/00000123', path.join(base, '123'));
copyVersion('saved_model_half_plus_two_2_versions/00000124', path.join(base, '124'));

function serve(flags: string[]) {
  const args = [BIN, 'serve', '--rest_api_host=127.0.0.1', '--rest_api_port=0', '--port=0', '--registry_path=:memory:', '--model_name=hp', `--model_base_path=${base}`, ...flags];
  const proc = spawn(process.execPath, args, { cwd: tmp });
  running.push(proc);
  let output = '';
  proc.stdout!.on('data', (d) => (output += d));
  proc.stderr!.on('data', (d) => (output += d));
  const exit = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const url = async () => {
    const port = await waitFor('the server to listen', () => {
      const m = /Exporting HTTP\/REST API at [^\s]*:(\d+)/.exec(output);
      if (!m && proc.exitCode !== null) throw new Error(`server exited: ${output}`);
      return m ? Number(m[1]) : undefined;
    }, 60_000);
    return `http://127.0.0.1:${port}`;
  };
  return { output: () => output, exit, url };
}

afterEach(() => {
  for (const p of running.splice(0)) if (p.exitCode === null) p.kill('SIGKILL');
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

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
