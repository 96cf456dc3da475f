// Hot swap under load: requests run against the server for the whole file
// while versions are copied in, copied slowly, corrupted and deleted; not one
// of them may fail. Versions alternate between half_plus_two (x → 0.5x + 2)
// and half_plus_three (x → 0.5x + 3), so an answer tells which one served it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../serving/log.js';
import { startServer, type RunningServer } from '../../server/serve.js';
import { copyVersion, FIXTURES, makeWritable, waitFor } from './helpers.js';
import { Traffic } from './traffic.js';

const POLL_SECONDS = 0.2;
const PLUS_TWO = 'saved_model_half_plus_two_2_versions/00000123'; // predicts 2.5 for x = 1
const PLUS_THREE = 'saved_model_half_plus_three/00000123'; // predicts 3.5 for x = 1

let tmp: string;
let base: string;
let server: RunningServer;
const logLines: string[] = [];
const log: Logger = { info: (m) => logLines.push(m), warn: (m) => logLines.push(m), error: (m) => logLines.push(m) };

let traffic: Traffic;

const state = (version: number) => server.core.monitor.getState('hp', version);
/** When the manager was first told to load each version (its START). */
const started = new Map<number, number>();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `count` more requests have been answered, all with `answer`. */
async function waitForAnswers(answer: number, count = 20): Promise<void> {
  await waitFor(`requests answered ${answer}`, () => traffic.last === answer);
  const before = traffic.answers.get(answer) ?? 0;
  await waitFor(`${count} more answers of ${answer}`, () => (traffic.answers.get(answer) ?? 0) >= before + count);
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-swap-'));
  base = path.join(tmp, 'hp');
  fs.mkdirSync(base);
  copyVersion(PLUS_TWO, path.join(base, '1'));
  server = await startServer({
    models: { kind: 'single', name: 'hp', basePath: base },
    restApiPort: 0,
    restApiHost: '127.0.0.1',
    fileSystemPollWaitSeconds: POLL_SECONDS,
    log,
  });
  server.core.monitor.subscribe((s) => {
    if (s.state === 'START' && !started.has(s.version)) started.set(s.version, s.time);
  });
  traffic = new Traffic(`${server.url}/v1/models/hp:predict`, [2.5, 3.5], 3);
  await waitForAnswers(2.5);
});

afterAll(async () => {
  await traffic?.stop();
  await server?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('hot swap while requests run', () => {
  it('serves a version copied in within two poll intervals, then unloads the old one', async () => {
    copyVersion(PLUS_THREE, path.join(base, '2'));
    const copied = Date.now();
    await waitFor('version 2 to be available', () => state(2)?.state === 'AVAILABLE');
    // Found by the watcher within two polls of the copy (loading time not counted).
    expect(started.get(2)! - copied).toBeLessThan(2 * POLL_SECONDS * 1000 + 250);
    await waitForAnswers(3.5);
    await waitFor('version 1 to end', () => state(1)?.state === 'END');
    expect(state(1)!.status.code).toBe('OK');
    expect(traffic.failures).toEqual([]);
  });

  it('does not load a version whose variables are still being copied, and serves it once complete', async () => {
    const v3 = path.join(base, '3');
    const source = path.join(FIXTURES, PLUS_TWO);
    fs.mkdirSync(v3);
    fs.copyFileSync(path.join(source, 'saved_model.pb'), path.join(v3, 'saved_model.pb'));
    await waitFor('the incomplete version to be noticed', () => logLines.some((l) => l.includes('Version 3 of model hp is not complete yet')));
    fs.mkdirSync(path.join(v3, 'variables'));
    fs.copyFileSync(path.join(source, 'variables/variables.index'), path.join(v3, 'variables/variables.index'));
    // Write the data shard in pieces, one per poll, like a slow copy.
    const data = fs.readFileSync(path.join(source, 'variables/variables.data-00000-of-00001'));
    const target = path.join(v3, 'variables/variables.data-00000-of-00001');
    const pieces = 4;
    for (let i = 0; i < pieces; i++) {
      fs.appendFileSync(target, data.subarray(Math.floor((i * data.length) / pieces), Math.floor(((i + 1) * data.length) / pieces)));
      if (i < pieces - 1) {
        await sleep(POLL_SECONDS * 1000);
        expect(state(3)?.state, `after piece ${i + 1} of ${pieces}`).not.toBe('AVAILABLE');
        expect(state(3)?.state).not.toBe('LOADING');
      }
    }
    fs.cpSync(path.join(source, 'assets'), path.join(v3, 'assets'), { recursive: true });
    makeWritable(v3);
    await waitFor('version 3 to be available', () => state(3)?.state === 'AVAILABLE');
    await waitForAnswers(2.5);
    expect(traffic.failures).toEqual([]);
  });

  it('reports a corrupt version as END with its error and keeps serving the current one', async () => {
    const v4 = path.join(base, '4');
    copyVersion(PLUS_THREE, v4);
    const shard = path.join(v4, 'variables/variables.data-00000-of-00001');
    fs.writeFileSync(shard, Buffer.alloc(fs.statSync(shard).size, 0xff));
    await waitFor('version 4 to fail', () => state(4)?.state === 'END');
    expect(state(4)!.status.code).toBe('DATA_LOSS');
    expect(state(4)!.status.message).toMatch(/Checksum does not match/);
    expect(state(3)!.state).toBe('AVAILABLE');
    await waitForAnswers(2.5);
    const status = await fetch(`${server.url}/v1/models/hp/versions/4`).then((r) => r.json());
    expect(status.model_version_status[0]).toMatchObject({ version: '4', state: 'END', status: { error_code: 'DATA_LOSS' } });
    expect(traffic.failures).toEqual([]);
  });

  it('falls back to the previous version when the newest folders are deleted', async () => {
    fs.rmSync(path.join(base, '4'), { recursive: true });
    fs.rmSync(path.join(base, '3'), { recursive: true });
    await waitFor('version 2 to be available again', () => state(2)?.state === 'AVAILABLE');
    await waitForAnswers(3.5);
    await waitFor('version 3 to end', () => state(3)?.state === 'END');
    expect(traffic.failures).toEqual([]);
    expect(traffic.sent).toBeGreaterThan(100);
  });
});
