// A version folder copied the plain way (finding 10 of issue 13):
// saved_model.pb first, variables/ seconds later, as a slow `cp -r` or a
// network copy does. It must not be loaded until its files are complete and
// stable, the version serving now keeps serving meanwhile, and the new version
// takes over once complete. A loaded version whose files are rewritten is
// loaded again; rewritten with broken files, the loaded copy keeps serving.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../serving/log.js';
import { startServer, type RunningServer } from '../../server/serve.js';
import { copyVersion, FIXTURES, makeWritable, waitFor } from './helpers.js';
import { Traffic } from './traffic.js';

const POLL_SECONDS = 0.1;
const PLUS_TWO = path.join(FIXTURES, 'saved_model_half_plus_two_cpu/00000123'); // x = 1 → 2.5
const PLUS_THREE = 'saved_model_half_plus_three/00000123'; // x = 1 → 3.5

let tmp: string;
let base: string;
let server: RunningServer;
let traffic: Traffic;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const state = (version: number) => server.core.monitor.getState('hp', version)?.state;

async function predict(suffix = ''): Promise<{ status: number; body: { predictions?: number[]; error?: string } }> {
  const res = await fetch(`${server.url}/v1/models/hp${suffix}:predict`, { method: 'POST', body: '{"instances": [1.0]}' });
  return { status: res.status, body: (await res.json()) as { predictions?: number[]; error?: string } };
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-halfcopy-'));
  base = path.join(tmp, 'models/hp');
  copyVersion(PLUS_THREE, path.join(base, '1'));
  server = await startServer({
    models: { kind: 'models_dir', dir: path.join(tmp, 'models'), pollSeconds: 0 },
    restApiPort: 0,
    restApiHost: '127.0.0.1',
    fileSystemPollWaitSeconds: POLL_SECONDS,
    execution: { threads: 0 },
    registry: { path: path.join(tmp, 'registry.db'), modelsDir: path.join(tmp, 'models') },
    log: silentLogger,
  });
  traffic = new Traffic(`${server.url}/v1/models/hp:predict`, [2.5, 3.5], 2);
});

afterAll(async () => {
  await traffic?.stop();
  await server?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('a version folder copied half-way', () => {
  it('is not loaded while its variables are missing; the old version keeps serving; it takes over once complete', async () => {
    const v2 = path.join(base, '2');
    fs.mkdirSync(v2);
    fs.copyFileSync(path.join(PLUS_TWO, 'saved_model.pb'), path.join(v2, 'saved_model.pb'));
    // Many polls: well past the three unchanged polls after which a stale folder used to be loaded anyway.
    await sleep(10 * POLL_SECONDS * 1000);
    expect(state(2)).toBeUndefined();
    expect(server.registry!.getModel('hp').activeVersion).toBe(1);
    expect(await predict()).toEqual({ status: 200, body: { predictions: [3.5] } });
    expect((await predict('/versions/2')).status).toBe(404);

    fs.cpSync(path.join(PLUS_TWO, 'variables'), path.join(v2, 'variables'), { recursive: true });
    fs.cpSync(path.join(PLUS_TWO, 'assets'), path.join(v2, 'assets'), { recursive: true });
    makeWritable(v2);
    await waitFor('version 2 to be available', () => state(2) === 'AVAILABLE');
    await waitFor('version 2 to serve', async () => (await predict()).body.predictions?.[0] === 2.5);
    expect(await predict('/versions/2')).toEqual({ status: 200, body: { predictions: [2.5] } });
    expect(traffic.failures).toEqual([]);
  });

  it('loads a version again when its files are rewritten, and keeps the loaded copy when the new files fail', async () => {
    const v2 = path.join(base, '2');
    // Rewritten in place with other (complete) files: loaded again, then answers with them.
    copyVersion(PLUS_THREE, v2);
    await waitFor('version 2 to answer with its new files', async () => (await predict('/versions/2')).body.predictions?.[0] === 3.5);
    // Rewritten with a corrupt data shard: that load fails, the loaded copy keeps serving.
    const shard = path.join(v2, 'variables/variables.data-00000-of-00001');
    fs.writeFileSync(shard, Buffer.alloc(fs.statSync(shard).size, 0xff));
    await sleep(10 * POLL_SECONDS * 1000);
    expect(state(2)).toBe('AVAILABLE');
    expect(await predict('/versions/2')).toEqual({ status: 200, body: { predictions: [3.5] } });
    expect(await predict()).toEqual({ status: 200, body: { predictions: [3.5] } });
    expect(traffic.failures).toEqual([]);
  });
});
