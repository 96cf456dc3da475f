// `modelhost serve --stats_max_series`, the built binary as a user runs it:
// a bad value refuses to start naming the flag; 0 samples nothing; 1 tracks
// one model version and counts the requests of another as untracked.
import { describe, expect, it } from 'vitest';
import { serveHpWithFlags } from './serve_hp_process.js';

const serveWith = serveHpWithFlags('modelhost-stats-cli-');
const serve = (flag: string) => serveWith([flag]);

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
