// The registry CLI (`modelhost models|versions|upload|pin|unpin|rollback|
// label|retire|events`) against a real `modelhost serve` process over
// loopback, with the admin token from the environment: the sequence,
// half_plus_two (x=1 → 2.5) and half_plus_three (x=1 → 3.5) as versions.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tarGzOf } from '../../registry/archive_helpers.js';
import { FIXTURES } from '../helpers.js';
import { serveForCli } from './cli_server.js';

const TOKEN = 'cli-test-token';
const PLUS_TWO = path.join(FIXTURES, 'saved_model_half_plus_two_cpu/00000123');
const PLUS_THREE = path.join(FIXTURES, 'saved_model_half_plus_three/00000123');

const server = serveForCli({ prefix: 'modelhost-regcli-', token: TOKEN });
const { cli } = server;

async function json<T>(args: string[]): Promise<T> {
  const r = await cli([...args, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as T;
}

async function predict(suffix = ''): Promise<number> {
  const res = await fetch(`${server.url}/v1/models/hp${suffix}:predict`, { method: 'POST', body: '{"instances": [1.0]}' });
  expect(res.status).toBe(200);
  return ((await res.json()) as { predictions: number[] }).predictions[0];
}

describe('registry CLI', () => {
  it('performs the sequence against a running server', async () => {
    let r = await cli(['upload', 'hp', PLUS_TWO]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Uploaded hp version 1: AVAILABLE, loaded/);
    expect(await predict()).toBe(2.5);

    const archive = await tarGzOf(PLUS_THREE, path.join(server.tmp, 'three.tgz'), 'half_plus_three');
    const v2 = await json<{ version: number; state: string }>(['upload', 'hp', archive]);
    expect(v2).toMatchObject({ version: 2, state: 'AVAILABLE' });
    expect(await predict()).toBe(3.5);

    r = await cli(['pin', 'hp', '1']);
    expect(r.stdout).toBe('hp: version 1 serves (pinned to 1; previous: 2)\n');
    expect(await predict()).toBe(2.5);

    r = await cli(['upload', 'hp', PLUS_THREE, '--version', '3']);
    expect(r.stdout).toMatch(/^Uploaded hp version 3/);
    expect(await predict()).toBe(2.5);

    r = await cli(['unpin', 'hp']);
    expect(r.stdout).toBe('hp: version 3 serves (following the newest version; previous: 1)\n');
    expect(await predict()).toBe(3.5);

    r = await cli(['rollback', 'hp']);
    expect(r.stdout).toBe('hp: version 1 serves (pinned to 1; previous: 3)\n');
    expect(await predict()).toBe(2.5);
    expect(await predict('/versions/2')).toBe(3.5);

    r = await cli(['label', 'hp', 'canary', '3']);
    expect(r.stdout).toBe('hp labels: canary=3\n');
    expect(await predict('/labels/canary')).toBe(3.5);

    r = await cli(['retire', 'hp', '2', '--purge']);
    expect(r.stdout).toBe('Retired hp version 2; its files are deleted\n');
    expect(fs.readdirSync(path.join(server.tmp, 'models/hp')).sort()).toEqual(['1', '3']);

    const upload4 = await cli(['upload', 'hp', PLUS_THREE, '--no-activate']);
    expect(upload4.stdout).toMatch(/^Uploaded hp version 4/);
    expect(await predict()).toBe(2.5);

    r = await cli(['models']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/MODEL.*ACTIVE.*PINNED/);
    expect(r.stdout).toMatch(/│ hp +│ 1 +│ 1 +│ 3 +│ 3 +│ canary=3 │/);

    const versions = (await json<{ versions: { version: number; retired: boolean; state: string }[] }>(['versions', 'hp'])).versions;
    expect(versions.map((v) => [v.version, v.state, v.retired])).toEqual([
      [4, 'AVAILABLE', false],
      [3, 'AVAILABLE', false],
      [2, 'REMOVED', true],
      [1, 'AVAILABLE', false],
    ]);
    r = await cli(['versions', 'hp']);
    expect(r.stdout).toMatch(/│ 1 +│ AVAILABLE │ active,pinned │ uploaded │/);

    const events = (await json<{ events: { kind: string; version: number; actor: string }[] }>(['events', 'hp', '--limit', '1000'])).events;
    const steps = events
      .reverse()
      .filter((e) => !['loading', 'available', 'unloaded'].includes(e.kind))
      .map((e) => `${e.kind} ${e.version}`);
    expect(steps).toEqual([
      'uploaded 1', 'activated 1',
      'uploaded 2', 'activated 2',
      'pinned 1', 'activated 1',
      'uploaded 3',
      'unpinned 1', 'activated 3',
      'rolled_back 1', 'activated 1',
      'labelled 3',
      'retired 2', 'purged 2',
      'uploaded 4',
    ]);
    expect(events.find((e) => e.kind === 'pinned')!.actor).toMatch(/^token@127\.0\.0\.1 \(claims "cli:.*"\)$/);
    r = await cli(['events', 'hp', '--limit', '2']);
    expect(r.stdout).toMatch(/More: modelhost events hp --before \d+/);
  });

  it('reports refusals with the server message and a non-zero exit, changing nothing', async () => {
    // The registry's state, without requests_per_second (a 60 s window that moves with the clock).
    const state = async () =>
      (await json<{ models: Record<string, unknown>[] }>(['models'])).models.map(({ requests_per_second: _rate, ...rest }) => rest);
    const before = await state();
    let r = await cli(['pin', 'hp', '3'], { MODELHOST_ADMIN_TOKEN: undefined });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/needs the admin token.*\(HTTP 401\)/);
    r = await cli(['upload', 'hp', PLUS_TWO], { MODELHOST_ADMIN_TOKEN: 'wrong' });
    expect(r.stderr).toMatch(/not this server's admin token.*\(HTTP 403\)/);
    r = await cli(['pin', 'hp', '2']);
    expect(r.stderr).toMatch(/Version 2 of model hp cannot be pinned: it is retired\. \(HTTP 409\)/);
    r = await cli(['restore', 'hp', '2']);
    expect(r.stderr).toMatch(/Version 2 of model hp cannot be restored: its files are gone .* \(HTTP 409\)/);
    r = await cli(['upload', 'hp', path.join(server.tmp, 'nothing-here')]);
    expect(r.stderr).toMatch(/does not exist/);
    expect(await state()).toEqual(before);
    r = await cli(['models'], { MODELHOST_SERVER: 'http://127.0.0.1:1' });
    expect(r.stderr).toMatch(/Cannot reach the modelhost server at http:\/\/127\.0\.0\.1:1/);
  });
});
