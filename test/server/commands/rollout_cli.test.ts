// `modelhost rollout` (the built CLI, dist/) against a real server over
// loopback with the admin token from the environment: start, change, show,
// abort, shadow, promote, and the refusals it prints. half_plus_two (v1,
// x=1 → 2.5) and half_plus_three (v2 serving, 3.5) each have a signature
// the other lacks, so a rollout between them needs --force.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../../serving/log.js';
import { startServer, type RunningServer } from '../../../server/serve.js';
import { copyVersion } from '../helpers.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const BIN = path.join(ROOT, 'bin/modelhost.js');
const TOKEN = 'rollout-cli-token';
const exec = promisify(execFile);
const quiet: Logger = { info() {}, warn() {}, error() {} };

let tmp: string;
let server: RunningServer;

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, MODELHOST_SERVER: server.url, MODELHOST_ADMIN_TOKEN: TOKEN };
  try {
    const { stdout, stderr } = await exec(process.execPath, [BIN, ...args], { cwd: tmp, env });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-rollout-cli-'));
  const modelsDir = path.join(tmp, 'models');
  copyVersion('saved_model_half_plus_two_cpu/00000123', path.join(modelsDir, 'hp/1'));
  copyVersion('saved_model_half_plus_three/00000123', path.join(modelsDir, 'hp/2'));
  server = await startServer({
    models: { kind: 'models_dir', dir: modelsDir, pollSeconds: 0 },
    restApiPort: 0,
    restApiHost: '127.0.0.1',
    fileSystemPollWaitSeconds: 0,
    registry: { path: path.join(tmp, 'registry.db'), modelsDir, adminToken: TOKEN },
    log: quiet,
  });
});
afterAll(async () => {
  await server?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('modelhost rollout', () => {
  it('starts, changes, shows, aborts, shadows and promotes; refusals exit non-zero with the reason', async () => {
    let r = await cli(['rollout', 'hp']);
    expect(r).toMatchObject({ code: 0, stdout: 'hp: no rollout yet (start one: modelhost rollout hp VERSION --percent 10)\n' });
    r = await cli(['rollout', 'nope']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Model nope is not served by this server/);
    r = await cli(['rollout', 'hp', '1', '--percent', '10']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Version 1 of model hp would break callers of version 2: .*signature tensorflow\/serving\/regress removed\. Send "force": true/);
    r = await cli(['rollout', 'hp', '1', '--percent', '150', '--force']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/percent must be a number from 0 to 100 with at most two decimals, got 150\./);
    r = await cli(['rollout', 'hp', '1', '--percent', 'ten']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/expected a number, got "ten"/);

    r = await cli(['rollout', 'hp', '1', '--percent', '10', '--force', '--max_error_rate', '0.05', '--min_requests', '20', '--window_seconds', '30']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(
      'hp: rollout of version 1 at 10% (version 2 answers the rest), running\n' +
        '  limits: error rate ≤ 0.05 over 30 s, from 20 requests\n' +
        '  candidate: no requests\n' +
        '  stable:    no requests\n',
    );
    r = await cli(['rollout', 'hp', '1', '--percent', '40']);
    expect(r.stdout).toMatch(/^hp: rollout of version 1 at 40% \(version 2 answers the rest\), running\n/);
    const shown = JSON.parse((await cli(['rollout', 'hp', '--json'])).stdout) as { percent: number; state: string; limits: unknown };
    expect(shown).toMatchObject({ percent: 40, state: 'running', limits: { max_error_rate: 0.05, max_p99_latency_ratio: null, min_requests: 20 } });
    r = await cli(['rollout', 'hp', '--promote', '--abort']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--promote and --abort exclude each other/);

    r = await cli(['rollout', 'hp', '--abort']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^hp: rollout of version 1 at 40% \(version 2 answers the rest\), aborted\n  reason: aborted by token@127\.0\.0\.1 \(claims "cli:/);

    r = await cli(['rollout', 'hp', '1', '--shadow', '--force']);
    expect(r.stdout).toMatch(/^hp: shadow rollout of version 1 \(copies of 100% of version 2's requests\), running\n/);
    const res = await fetch(`${server.url}/v1/models/hp:predict`, { method: 'POST', body: '{"instances": [1.0]}' });
    expect(((await res.json()) as { predictions: number[] }).predictions).toEqual([3.5]);
    r = await cli(['rollout', 'hp']);
    expect(r.stdout).toMatch(/\n  shadow: \d+ compared, agreement /);

    r = await cli(['rollout', 'hp', '--promote']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/, promoted\n  reason: promoted by token@127\.0\.0\.1/);
    const after = await fetch(`${server.url}/v1/models/hp:predict`, { method: 'POST', body: '{"instances": [1.0]}' });
    expect(((await after.json()) as { predictions: number[] }).predictions).toEqual([2.5]);
  }, 180_000);
});
