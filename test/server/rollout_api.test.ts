// Rollouts through a real server: the /api/v1 rollout routes (auth, hostile
// bodies, 409 for a signature-breaking candidate), requests split on REST
// /v1, /v2 and gRPC with sticky routing keys, the guard rails aborting a
// candidate that answers errors within its window and one whose p99 latency
// is far above the stable version's (the history says why),
// automatic steps ending in a promotion, and shadow traffic that never
// changes a client's answer. half_plus_two answers 0.5x + 2, half_plus_three
// 0.5x + 3; saved_model_counter has no serving_default, so as a candidate
// every predict it gets fails.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Logger } from '../../serving/log.js';
import { startServer, type RunningServer } from '../../server/serve.js';
import { writeSlowEchoModel } from '../helpers/runaway_models.js';
import { protoClient } from './grpc_client.js';
import { copyVersion, waitFor } from './helpers.js';

const TOKEN = 'rollout-token';
const quiet: Logger = { info() {}, warn() {}, error() {} };
type Msg = Record<string, unknown>;
type Unary = (req: Msg, md: grpc.Metadata, cb: (err: grpc.ServiceError | null, res: Msg) => void) => void;

let tmp: string;
let server: RunningServer;

/** A server on models/hp with the given fixture folders as versions 1, 2... (the newest serves). */
async function start(versions: string[]): Promise<void> {
  const modelsDir = path.join(tmp, 'models');
  versions.forEach((v, i) => copyVersion(v, path.join(modelsDir, 'hp', String(i + 1))));
  await serve(modelsDir);
}

/** A server on the models of `modelsDir`, with the registry. */
async function serve(modelsDir: string): Promise<void> {
  server = await startServer({
    models: { kind: 'models_dir', dir: modelsDir, pollSeconds: 0 },
    restApiPort: 0,
    grpcPort: 0,
    restApiHost: '127.0.0.1',
    fileSystemPollWaitSeconds: 0,
    registry: { path: path.join(tmp, 'registry.db'), modelsDir, adminToken: TOKEN },
    log: quiet,
  });
}

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-rollout-api-'));
});
afterEach(async () => {
  await server?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function api(method: string, p: string, body?: unknown, token: string | null = TOKEN): Promise<{ status: number; body: Msg }> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(`${server.url}/api/v1${p}`, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Msg };
}

async function predict(headers: Record<string, string> = {}, x = 1): Promise<{ status: number; y?: number; error?: string }> {
  const res = await fetch(`${server.url}/v1/models/hp:predict`, { method: 'POST', headers, body: JSON.stringify({ instances: [x] }) });
  const body = (await res.json()) as { predictions?: number[]; error?: string };
  return { status: res.status, y: body.predictions?.[0], error: body.error };
}

const TWO = 'saved_model_half_plus_two_cpu/00000123';
const THREE = 'saved_model_half_plus_three/00000123';
const COUNTER = 'saved_model_counter/00000123';

describe('rollout API', () => {
  it('splits REST, /v2 and gRPC requests naming no version, sticky per routing key; refuses bad input; promote and abort', async () => {
    await start([THREE, TWO]); // v2 (half_plus_two) serves
    // Nothing yet; refusals that name what was wrong.
    expect(await api('GET', '/models/hp/rollout')).toMatchObject({ status: 200, body: { model: 'hp', state: 'none', candidate: null, stats: { stable: null, candidate: null } } });
    expect(await api('GET', '/models/nope/rollout')).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } });
    expect(await api('POST', '/models/hp/rollout', { version: 1, percent: 30 }, null)).toMatchObject({ status: 401 });
    expect(await api('POST', '/models/hp/rollout', { version: 1, percent: 130 })).toMatchObject({
      status: 400,
      body: { code: 'INVALID_ARGUMENT', error: 'percent must be a number from 0 to 100 with at most two decimals, got 130.' },
    });
    expect(await api('POST', '/models/hp/rollout', '{"version": 1, "percent": ')).toMatchObject({ status: 400, body: { code: 'INVALID_ARGUMENT' } });
    expect(await api('POST', '/models/hp/rollout', { version: 7, percent: 30, force: true })).toMatchObject({ status: 404, body: { error: 'Model hp has no version 7.' } });
    expect(await api('POST', '/models/nope/rollout', { version: 1, percent: 30 })).toMatchObject({ status: 404 });
    const breaking = await api('POST', '/models/hp/rollout', { version: 1, percent: 30 });
    expect(breaking.status).toBe(409);
    expect(breaking.body.error).toMatch(/^Version 1 of model hp would break callers of version 2: signature classify_x_to_y removed; /);
    expect(await api('POST', '/models/hp/rollout/promote')).toMatchObject({ status: 409, body: { error: 'Model hp has no rollout running.' } });

    const started = await api('POST', '/models/hp/rollout', { version: 1, percent: 30, force: true, limits: { max_error_rate: 0.5 } });
    expect(started).toMatchObject({
      status: 200,
      body: { stable: 2, candidate: 1, percent: 30, mode: 'canary', state: 'running', reason: null, window_seconds: 60, limits: { max_error_rate: 0.5, max_p99_latency_ratio: null, min_requests: 50 } },
    });
    // A pin while it runs is refused.
    expect(await api('POST', '/models/hp/pin', { version: 1 })).toMatchObject({ status: 409 });

    // REST: distinct request ids spread, the same routing key sticks.
    let candidate = 0;
    for (let i = 0; i < 300; i++) {
      const r = await predict({ 'X-Request-Id': `req-${i}` });
      expect(r.status).toBe(200);
      expect([2.5, 3.5]).toContain(r.y);
      if (r.y === 3.5) candidate++;
    }
    expect(candidate).toBeGreaterThan(60);
    expect(candidate).toBeLessThan(120);
    const sticky = new Set<number | undefined>();
    for (let i = 0; i < 20; i++) sticky.add((await predict({ 'X-Routing-Key': 'client-7', 'X-Request-Id': `other-${i}` })).y);
    expect(sticky.size).toBe(1);
    // A named version is never split.
    for (let i = 0; i < 20; i++) {
      const res = await fetch(`${server.url}/v1/models/hp/versions/2:predict`, { method: 'POST', headers: { 'X-Request-Id': `n-${i}` }, body: '{"instances": [1]}' });
      expect(((await res.json()) as { predictions: number[] }).predictions[0]).toBe(2.5);
    }

    // /v2 answers with the version that served.
    const v2Versions = new Set<string>();
    for (let i = 0; i < 60; i++) {
      const res = await fetch(`${server.url}/v2/models/hp/infer`, {
        method: 'POST',
        headers: { 'X-Request-Id': `v2-${i}` },
        body: JSON.stringify({ inputs: [{ name: 'x', shape: [1, 1], datatype: 'FP32', data: [1] }] }),
      });
      const body = (await res.json()) as { model_version: string; outputs: { data: number[] }[] };
      expect(res.status).toBe(200);
      expect(body.outputs[0].data[0]).toBe(body.model_version === '1' ? 3.5 : 2.5);
      v2Versions.add(body.model_version);
    }
    expect([...v2Versions].sort()).toEqual(['1', '2']);

    // gRPC: the x-routing-key metadata routes and sticks.
    const prediction = protoClient<grpc.Client & Record<string, Unary>>('tensorflow_serving/apis/prediction_service.proto', 'tensorflow.serving.PredictionService', `127.0.0.1:${server.grpcPort}`);
    try {
      const grpcPredict = (key: string) =>
        new Promise<string>((resolve, reject) => {
          const md = new grpc.Metadata();
          md.set('x-routing-key', key);
          prediction.Predict({ model_spec: { name: 'hp' }, inputs: { x: { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: 1 }, { size: 1 }] }, float_val: [1] } } }, md, (err, res) =>
            err ? reject(err) : resolve(String((res.model_spec as { version: { value: string } }).version.value)),
          );
        });
      const seen = new Set<string>();
      for (let i = 0; i < 60; i++) seen.add(await grpcPredict(`g-${i}`));
      expect([...seen].sort()).toEqual(['1', '2']);
      const first = await grpcPredict('g-sticky');
      for (let i = 0; i < 10; i++) expect(await grpcPredict('g-sticky')).toBe(first);
    } finally {
      prediction.close();
    }

    // The window's figures per side.
    const shown = await api('GET', '/models/hp/rollout');
    const stats = shown.body.stats as { stable: Msg; candidate: Msg };
    expect(stats.candidate).toMatchObject({ version: 1, errors: 0, error_rate: 0 });
    expect(stats.stable).toMatchObject({ version: 2, errors: 0 });
    expect(Number(stats.candidate.requests)).toBeGreaterThan(60);
    expect(Number(stats.candidate.p99_ms)).toBeGreaterThan(0);

    // Change the percentage, then promote.
    expect(await api('POST', '/models/hp/rollout', { version: 1, percent: 100 })).toMatchObject({ status: 200, body: { percent: 100 } });
    expect(await api('POST', '/models/hp/rollout', { version: 2, percent: 10 })).toMatchObject({ status: 409 });
    expect(await api('POST', '/models/hp/rollout/promote')).toMatchObject({ status: 200, body: { state: 'promoted', reason: 'promoted by token@127.0.0.1' } });
    expect((await predict({ 'X-Request-Id': 'after' })).y).toBe(3.5);
    expect(await api('GET', '/models/hp')).toMatchObject({ body: { active_version: 1, pinned_version: 1 } });
    expect(await api('DELETE', '/models/hp/rollout')).toMatchObject({ status: 409 });
    const events = (await api('GET', '/models/hp/events?limit=20')).body.events as { kind: string }[];
    expect(events.map((e) => e.kind).filter((k) => k.startsWith('rollout'))).toEqual(['rollout_promoted', 'rollout_changed', 'rollout_started']);
  });

  it('rolls back a candidate that answers errors within its window, and the history says why', async () => {
    await start([TWO, COUNTER]);
    await api('POST', '/models/hp/pin', { version: 1 });
    const started = await api('POST', '/models/hp/rollout', {
      version: 2,
      percent: 50,
      force: true,
      limits: { max_error_rate: 0.1, min_requests: 10 },
      window_seconds: 10,
    });
    expect(started.status).toBe(200);
    const firstError = Date.now();
    let errors = 0;
    let abortedAt: number | undefined;
    for (let i = 0; i < 2000 && abortedAt === undefined; i++) {
      const r = await predict({ 'X-Request-Id': `e-${i}` });
      if (r.status !== 200) {
        errors++;
        expect(r.error).toMatch(/serving_default/);
      } else expect(r.y).toBe(2.5);
      if (i % 10 === 9 && (await api('GET', '/models/hp/rollout')).body.state === 'aborted') abortedAt = Date.now();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(abortedAt, 'the guard rails aborted the rollout').toBeDefined();
    expect(abortedAt! - firstError).toBeLessThan(10_000);
    expect(errors).toBeGreaterThanOrEqual(10);
    const r = (await api('GET', '/models/hp/rollout')).body;
    expect(r).toMatchObject({ state: 'aborted', stable: 1, candidate: 2 });
    expect(r.reason).toMatch(/^max_error_rate 0\.1 exceeded: version 2 answered \d+ errors in \d+ requests \(error rate 1\) over the last 10 s; stable version 1: 0 \(0 of \d+\)$/);
    // Every request is the stable version's again.
    for (let i = 0; i < 50; i++) expect(await predict({ 'X-Request-Id': `after-${i}` })).toMatchObject({ status: 200, y: 2.5 });
    const aborted = ((await api('GET', '/models/hp/events?limit=20')).body.events as { kind: string; actor: string; detail: string }[]).find((e) => e.kind === 'rollout_aborted')!;
    expect(aborted.actor).toBe('guard');
    expect(aborted.detail).toContain(String(r.reason));
  }, 30_000);

  it('rolls back a candidate whose p99 latency is above max_p99_latency_ratio × the stable one', async () => {
    // The same signature; v2 runs a while loop of 100,000 steps per request
    // (~240 ms on the 2-core test machine), v1 none (a few ms): far over 3×
    // however noisy the machine.
    const modelsDir = path.join(tmp, 'models');
    await writeSlowEchoModel(path.join(modelsDir, 'hp', '1'), 0);
    await writeSlowEchoModel(path.join(modelsDir, 'hp', '2'), 100_000);
    await serve(modelsDir);
    await api('POST', '/models/hp/pin', { version: 1 });
    const started = await api('POST', '/models/hp/rollout', { version: 2, percent: 50, limits: { max_p99_latency_ratio: 3, min_requests: 10 }, window_seconds: 30 });
    expect(started).toMatchObject({ status: 200, body: { state: 'running', limits: { max_error_rate: null, max_p99_latency_ratio: 3, min_requests: 10 } } });
    let abortedAt: number | undefined;
    for (let i = 0; i < 300 && abortedAt === undefined; i++) {
      const res = await fetch(`${server.url}/v1/models/hp:predict`, { method: 'POST', headers: { 'X-Request-Id': `slow-${i}` }, body: JSON.stringify({ instances: [i] }) });
      expect(await res.json()).toEqual({ predictions: [i] });
      if (i % 5 === 4 && (await api('GET', '/models/hp/rollout')).body.state === 'aborted') abortedAt = i;
    }
    expect(abortedAt, 'the guard rails aborted the rollout').toBeDefined();
    const r = (await api('GET', '/models/hp/rollout')).body;
    expect(r).toMatchObject({ state: 'aborted', stable: 1, candidate: 2 });
    const m = /^max_p99_latency_ratio 3 exceeded: version 2's p99 ([\d.]+) ms is ([\d.]+)× stable version 1's ([\d.]+) ms over the last 30 s \((\d+) and (\d+) requests\)$/.exec(String(r.reason));
    expect(m, String(r.reason)).not.toBeNull();
    const [candidateP99, ratio, stableP99, candidates, stables] = m!.slice(1).map(Number);
    expect(ratio).toBeGreaterThan(3);
    expect(Math.abs(ratio - candidateP99 / stableP99)).toBeLessThan(0.001 * ratio);
    expect(candidates).toBeGreaterThanOrEqual(10);
    expect(stables).toBeGreaterThanOrEqual(10);
    // The stable version serves every request naming no version again.
    expect(await api('GET', '/models/hp')).toMatchObject({ body: { active_version: 1, pinned_version: 1 } });
    const aborted = ((await api('GET', '/models/hp/events?limit=20')).body.events as { kind: string; actor: string; detail: string }[]).find((e) => e.kind === 'rollout_aborted')!;
    expect(aborted.actor).toBe('guard');
    expect(aborted.detail).toContain(String(r.reason));
  }, 60_000);

  it('steps through the percentages while within limits, then promotes', async () => {
    await start([THREE, TWO]);
    await api('POST', '/models/hp/pin', { version: 1 });
    const started = await api('POST', '/models/hp/rollout', { version: 2, steps: [20, 100], step_seconds: 5, force: true });
    expect(started.body).toMatchObject({ percent: 20, steps: [20, 100], step_seconds: 5 });
    await waitFor('the step to 100%', async () => (await api('GET', '/models/hp/rollout')).body.percent === 100, 15_000, 200);
    for (let i = 0; i < 20; i++) expect((await predict({ 'X-Request-Id': `s-${i}` })).y).toBe(2.5);
    await waitFor('the promotion', async () => (await api('GET', '/models/hp/rollout')).body.state === 'promoted', 15_000, 200);
    const r = (await api('GET', '/models/hp/rollout')).body;
    expect(r.reason).toBe('promoted automatically (held 100% for 5 s, the last step)');
    expect(await api('GET', '/models/hp')).toMatchObject({ body: { active_version: 2, pinned_version: 2 } });
    const kinds = ((await api('GET', '/models/hp/events?limit=20')).body.events as { kind: string; detail: string }[]).filter((e) => e.kind.startsWith('rollout'));
    expect(kinds.map((e) => e.kind)).toEqual(['rollout_promoted', 'rollout_changed', 'rollout_started']);
    expect(kinds[1].detail).toBe('rollout of version 2 stepped 20% → 100% (held 20% for 5 s)');
  }, 40_000);

  it("shadow traffic never changes a client's answer and reports agreement", async () => {
    await start([TWO, THREE]);
    await api('POST', '/models/hp/pin', { version: 1 });
    expect(await api('POST', '/models/hp/rollout', { version: 2, mode: 'shadow', limits: { max_error_rate: 0.1 } })).toMatchObject({ status: 400 });
    const started = await api('POST', '/models/hp/rollout', { version: 2, mode: 'shadow', force: true });
    expect(started.body).toMatchObject({ mode: 'shadow', percent: 100, state: 'running' });
    for (let i = 0; i < 100; i++) {
      const x = i % 7;
      expect(await predict({ 'X-Request-Id': `sh-${i}` }, x)).toEqual({ status: 200, y: 0.5 * x + 2, error: undefined });
    }
    const shadow = await waitFor('the copies to be compared', async () => {
      const s = ((await api('GET', '/models/hp/rollout')).body.stats as { shadow: { requests: number; dropped: number; queued: number } }).shadow;
      return s.requests + s.dropped === 100 && s.queued === 0 ? s : undefined;
    });
    expect(shadow).toMatchObject({ agreement: 1, max_abs_diff: 1, failed: 0, queue_limit: 64 });
    expect(shadow.requests).toBeGreaterThan(0);
    // Only the stable version answered clients: the candidate's copies are not client requests.
    const stats = (await api('GET', '/models/hp/stats?window=300')).body as { versions: { version: number }[] };
    expect(stats.versions.map((v) => v.version)).toEqual([1]);
    expect(await api('DELETE', '/models/hp/rollout')).toMatchObject({ status: 200, body: { state: 'aborted', reason: 'aborted by token@127.0.0.1' } });
  }, 30_000);
});
