// `modelhost serve --stats_max_series`, the built binary as a user runs it:
// a bad value refuses to start naming the flag; 0 samples nothing; 1 tracks
// one model version and counts the requests of another as untracked.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { copyVersion, waitFor } from '../helpers.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const BIN = path.join(ROOT, 'bin/modelhost.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-stats-cli-'));
const running: ChildProcess[] = [];
const base = path.join(tmp, 'hp');
copyVersion('saved_model_half_plus_two_2_versions/00000123', path.join(base, '123'));
copyVersion('saved_model_half_plus_two_2_versions/00000124', path.join(base, '124'));

function serve(flag: string) {
  const args = [BIN, 'serve', '--rest_api_host=127.0.0.1', '--rest_api_port=0', '--port=0', '--registry_path=:memory:', '--model_name=hp', `--model_base_path=${base}`, flag];
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

async function predict(url: string, version: number): Promise<void> {
  const res = await fetch(`${url}/v1/models/hp/versions/${version}:predict`, { method: 'POST', body: '{"instances": [1.0]}' });
  expect(res.status).toBe(200);
}

const stats = async (url: string) =>
  (await (await fetch(`${url}/api/v1/models/hp/stats?window=60`)).json()) as {
    max_series: number;
    untracked_requests: number;
    total: { summary: { requests: number } };
    versions: { version: number; summary: { requests: number } }[];
  };

describe('modelhost serve --stats_max_series', () => {
  it('refuses a value that is not a whole number >= 0', async () => {
    const s = serve('--stats_max_series=lots');
    expect(await s.exit).not.toBe(0);
    expect(s.output()).toMatch(/--stats_max_series.*expected a whole number >= 0/);
  });

  it('0: samples nothing', async () => {
    const s = serve('--stats_max_series=0');
    const url = await s.url();
    await predict(url, 123);
    const body = await stats(url);
    expect(body.max_series).toBe(0);
    expect(body.total.summary.requests).toBe(0);
    expect(body.versions).toEqual([]);
  });

  it('1: charts the first version, counts the other busy one as untracked', async () => {
    const s = serve('--stats_max_series=1');
    const url = await s.url();
    await predict(url, 123);
    await predict(url, 123);
    await predict(url, 124); // a second series while the first was used less than a minute ago
    const body = await stats(url);
    expect(body.max_series).toBe(1);
    expect(body.versions.map((v) => [v.version, v.summary.requests])).toEqual([[123, 2]]);
    expect(body.untracked_requests).toBe(1);
  });
});
