// GET /api/v1/models/{m}/stats against a real server after real traffic over
// TF Serving's REST and gRPC APIs and the Open Inference Protocol: counts per
// version and protocol, errors, percentiles consistent with what the client
// measured, the window's limits, unknown models.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../serving/log.js';
import { startServer, type RunningServer } from '../../server/serve.js';
import type { ModelStats } from '../../server/request_stats.js';
import { protoClient } from './grpc_client.js';
import { copyVersion } from './helpers.js';

type Unary = (req: Record<string, unknown>, cb: (err: grpc.ServiceError | null, res: unknown) => void) => void;

let server: RunningServer;
let client: grpc.Client & { Predict: Unary };
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-stats-'));

beforeAll(async () => {
  const modelsDir = path.join(tmp, 'models');
  copyVersion('saved_model_half_plus_two_2_versions/00000123', path.join(modelsDir, 'hp', '123'));
  copyVersion('saved_model_half_plus_two_2_versions/00000124', path.join(modelsDir, 'hp', '124'));
  server = await startServer({
    models: { kind: 'models_dir', dir: modelsDir, pollSeconds: 0 },
    restApiPort: 0,
    grpcPort: 0,
    restApiHost: '127.0.0.1',
    registry: { path: ':memory:', modelsDir },
    log: silentLogger,
  });
  client = protoClient('tensorflow_serving/apis/prediction_service.proto', 'tensorflow.serving.PredictionService', `127.0.0.1:${server.grpcPort}`);
}, 60_000);

afterAll(async () => {
  client?.close();
  await server?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** POSTs and returns the status and the round trip in ms, as the client saw it. */
async function post(p: string, body: string): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  const res = await fetch(`${server.url}${p}`, { method: 'POST', body });
  await res.text();
  return { status: res.status, ms: performance.now() - started };
}

async function grpcPredict(version: number): Promise<number> {
  const started = performance.now();
  await new Promise((resolve, reject) =>
    client.Predict(
      {
        model_spec: { name: 'hp', version: { value: String(version) } },
        inputs: { x: { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: 1 }, { size: 1 }] }, float_val: [2] } },
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    ),
  );
  return performance.now() - started;
}

async function stats(query = ''): Promise<{ status: number; body: ModelStats & { error?: string; code?: string } }> {
  const res = await fetch(`${server.url}/api/v1/models/hp/stats${query}`);
  return { status: res.status, body: (await res.json()) as ModelStats & { error?: string; code?: string } };
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe('GET /api/v1/models/{m}/stats', () => {
  it('is empty before traffic: an hour of 10 s buckets', async () => {
    const { status, body } = await stats();
    expect(status).toBe(200);
    expect(body).toMatchObject({ model: 'hp', resolution_seconds: 10, window_seconds: 3600, versions: [], untracked_requests: 0, max_series: 128 });
    expect(body.times).toHaveLength(360);
    expect(body.total.requests).toHaveLength(360);
    expect(sum(body.total.requests)).toBe(0);
    expect(body.total.p99_ms.every((v) => v === null)).toBe(true);
    const now = Date.now() / 1000;
    expect(body.now).toBeGreaterThan(now - 5);
    expect(body.times[359]).toBeLessThanOrEqual(body.now);
    expect(body.times[359]).toBeGreaterThan(body.now - 10);
  });

  it('counts requests and errors per version and protocol, with sensible percentiles', async () => {
    const clientMs: number[] = [];
    for (let i = 0; i < 20; i++) {
      const r = await post('/v1/models/hp/versions/123:predict', '{"instances": [1.0, 2.0]}');
      expect(r.status).toBe(200);
      clientMs.push(r.ms);
    }
    for (let i = 0; i < 10; i++) {
      const r = await post('/v1/models/hp:predict', '{"instances": [1.0]}'); // the newest: 124
      expect(r.status).toBe(200);
      clientMs.push(r.ms);
    }
    for (let i = 0; i < 4; i++) {
      const r = await post('/v1/models/hp/versions/124:predict', '{"instances": ["not a number"]}');
      expect(r.status).toBe(400);
      clientMs.push(r.ms);
    }
    for (let i = 0; i < 3; i++) clientMs.push(await grpcPredict(124));
    for (let i = 0; i < 2; i++) {
      const r = await post('/v2/models/hp/versions/123/infer', JSON.stringify({ inputs: [{ name: 'x', shape: [1, 1], datatype: 'FP32', data: [1] }] }));
      expect(r.status).toBe(200);
      clientMs.push(r.ms);
    }
    // Not inference, or not a model of this server: not counted.
    expect((await fetch(`${server.url}/v1/models/hp`)).status).toBe(200);
    expect((await fetch(`${server.url}/v1/models/hp/metadata`)).status).toBe(200);
    expect((await post('/v1/models/nope:predict', '{"instances": [1.0]}')).status).toBe(404);

    const { status, body } = await stats('?window=600');
    expect(status).toBe(200);
    expect(body.window_seconds).toBe(600);
    expect(body.times).toHaveLength(60);
    expect(body.total.summary).toMatchObject({ requests: 39, errors: 4 });
    expect(sum(body.total.requests)).toBe(39);
    expect(sum(body.total.errors)).toBe(4);
    expect(body.versions.map((v) => [v.version, v.summary.requests, v.summary.errors])).toEqual([
      [123, 22, 0],
      [124, 17, 4],
    ]);
    const [v123, v124] = body.versions;
    expect(sum(v123.protocols.rest!.requests)).toBe(20);
    expect(sum(v123.protocols.v2!.requests)).toBe(2);
    expect(v123.protocols.grpc).toBeUndefined();
    expect(sum(v124.protocols.rest!.requests)).toBe(14);
    expect(sum(v124.protocols.rest!.errors)).toBe(4);
    expect(sum(v124.protocols.grpc!.requests)).toBe(3);
    expect(v124.summary.error_rate).toBeCloseTo(4 / 17, 5);
    // The server times each request inside the client's round trip: its percentiles cannot exceed the client's (plus one bin, ~19%).
    const sorted = [...clientMs].sort((a, b) => a - b);
    const { p50_ms, p99_ms } = body.total.summary;
    expect(p50_ms!).toBeGreaterThan(0);
    expect(p50_ms!).toBeLessThanOrEqual(p99_ms!);
    expect(p50_ms!).toBeLessThanOrEqual(sorted[Math.ceil(0.5 * sorted.length) - 1] * 1.19);
    expect(p99_ms!).toBeLessThanOrEqual(sorted[sorted.length - 1] * 1.19);
    // Buckets with traffic have a rate, an error rate and percentiles; the others have none.
    const busy = body.total.requests.map((n, i) => [n, i] as const).filter(([n]) => n > 0);
    expect(busy.length).toBeGreaterThan(0);
    for (const [n, i] of busy) {
      expect(body.total.requests_per_second[i]).toBeGreaterThan(0);
      expect(body.total.p50_ms[i]).not.toBeNull();
      expect(body.total.error_rate[i]).toBeCloseTo(body.total.errors[i] / n, 5);
    }
    expect(body.total.p50_ms.filter((v) => v !== null)).toHaveLength(busy.length);
    // The last minute holds the same requests (they were all sent just now).
    expect((await stats('?window=60')).body.total.summary.requests).toBe(39);
  });

  it('refuses a window outside 1..3600 seconds with 400 naming it', async () => {
    for (const w of ['0', '3601', '-5', 'abc', '1.5', '1e3', '99999999999999999999', '']) {
      const { status, body } = await stats(`?window=${encodeURIComponent(w)}`);
      if (w === '') {
        expect(status).toBe(200); // empty: the default hour
        continue;
      }
      expect(status, w).toBe(400);
      expect(body.code).toBe('INVALID_ARGUMENT');
      expect(body.error).toMatch(/Query parameter window must be a whole number of seconds from 1 to 3600/);
    }
    const twice = await fetch(`${server.url}/api/v1/models/hp/stats?window=10&window=20`);
    expect(twice.status).toBe(400);
    expect((await stats('?window=1')).body.times).toHaveLength(1);
    expect((await stats('?window=3600')).body.times).toHaveLength(360);
  });

  it('answers 404 for a model the server does not know', async () => {
    const res = await fetch(`${server.url}/api/v1/models/nope/stats`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { code: string }).code).toBe('NOT_FOUND');
  });
});
