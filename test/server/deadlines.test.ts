/**
 * Deadlines and cancellation over HTTP with real worker threads (finding 7
 * of the hardening issue): a model whose tf.while_loop runs `n` times, asked
 * for ~2^31 iterations, is answered 504 with TF's text at the deadline
 * (--rest_api_timeout_in_ms) and stops using its worker; so does a request
 * whose client disconnects; another model answers meanwhile; a version whose
 * warm-up loops fails its load (END with the error) while the server starts
 * and serves the model's other version.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../serving/log.js';
import { startServer, type RunningServer } from '../../server/serve.js';
import { WARMUP_FILE } from '../../server/warmup.js';
import { countingWarmup, writeCountingModel } from '../helpers/runaway_models.js';
import { protoClient } from './grpc_client.js';
import { copyVersion } from './helpers.js';

const TIMEOUT_MS = 1500;
const FOREVER = 2 ** 31 - 1;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'deadlines-test-'));
let server: RunningServer;
let startedInMs = 0;

beforeAll(async () => {
  await writeCountingModel(path.join(tmp, 'count/1'));
  // looper: version 1 plain, version 2 with a warm-up request that loops.
  await writeCountingModel(path.join(tmp, 'looper/1'));
  await writeCountingModel(path.join(tmp, 'looper/2'));
  fs.mkdirSync(path.join(tmp, 'looper/2/assets.extra'));
  fs.writeFileSync(path.join(tmp, 'looper/2', WARMUP_FILE), countingWarmup(FOREVER));
  copyVersion('saved_model_half_plus_two_cpu/00000123', path.join(tmp, 'half/1'));
  const config = path.join(tmp, 'models.config');
  fs.writeFileSync(
    config,
    `model_config_list {
      config { name: "count" base_path: "${tmp}/count" model_platform: "tensorflow" }
      config { name: "looper" base_path: "${tmp}/looper" model_platform: "tensorflow" model_version_policy { all {} } }
      config { name: "half" base_path: "${tmp}/half" model_platform: "tensorflow" }
    }`,
  );
  const t0 = performance.now();
  server = await startServer({
    models: { kind: 'config_file', file: config, pollSeconds: 0 },
    restApiPort: 0,
    restApiHost: '127.0.0.1',
    fileSystemPollWaitSeconds: 0,
    grpcPort: 0,
    restApiTimeoutMs: TIMEOUT_MS,
    modelWarmupTimeoutMs: TIMEOUT_MS,
    execution: { threads: 2 },
    log: silentLogger,
  });
  startedInMs = performance.now() - t0;
}, 60_000);

afterAll(async () => {
  await server?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function post(model: string, body: unknown, signal?: AbortSignal): Promise<{ status: number; body: Record<string, unknown>; ms: number }> {
  const t0 = performance.now();
  const res = await fetch(`${server.url}/v1/models/${model}:predict`, { method: 'POST', body: JSON.stringify(body), signal });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, ms: performance.now() - t0 };
}

const count = (n: number, signal?: AbortSignal) => post('count', { inputs: { n } }, signal);

/** Several small counts at once: with both workers free each answers at once; a worker still looping would hold one until its deadline. */
async function bothWorkersFree(): Promise<void> {
  const answers = await Promise.all(Array.from({ length: 4 }, (_, i) => count(10 + i)));
  for (const [i, a] of answers.entries()) {
    expect(a.status).toBe(200);
    expect(a.body).toEqual({ outputs: 10 + i });
    expect(a.ms).toBeLessThan(TIMEOUT_MS);
  }
}

type Unary = (req: Record<string, unknown>, meta: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null) => void) => void;

/** A TF Serving gRPC client built only from proto/. */
const predictionClient = () =>
  protoClient<grpc.Client & { Predict: Unary }>('tensorflow_serving/apis/prediction_service.proto', 'tensorflow.serving.PredictionService', `127.0.0.1:${server.grpcPort}`);

describe('deadlines', () => {
  it('answers a run past --rest_api_timeout_in_ms 504 with TF\'s text, serves another model meanwhile, and frees the worker', async () => {
    expect(await count(1000)).toMatchObject({ status: 200, body: { outputs: 1000 } });
    const stuck = count(FOREVER);
    await new Promise((r) => setTimeout(r, 300));
    const other = await post('half', { instances: [1, 2] });
    expect(other.status).toBe(200);
    expect(other.body).toEqual({ predictions: [2.5, 3] });
    expect(other.ms).toBeLessThan(TIMEOUT_MS);
    const late = await stuck;
    expect(late.status).toBe(504);
    expect(late.body).toEqual({ error: 'Timed out waiting for notification' });
    expect(late.ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(late.ms).toBeLessThan(TIMEOUT_MS + 1000);
    await bothWorkersFree();
  });

  it('stops the run of a client that disconnects', async () => {
    const client = new AbortController();
    const gone = count(FOREVER, client.signal).catch((e: Error) => e);
    await new Promise((r) => setTimeout(r, 300));
    client.abort();
    expect(await gone).toBeInstanceOf(Error);
    await new Promise((r) => setTimeout(r, 100));
    await bothWorkersFree();
  });

  it('gives a v2 (Open Inference Protocol) infer the same deadline: 504 with TF\'s text, the worker freed', async () => {
    const infer = (n: number) =>
      fetch(`${server.url}/v2/models/count/infer`, {
        method: 'POST',
        body: JSON.stringify({ inputs: [{ name: 'n', shape: [], datatype: 'INT32', data: [n] }] }),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));
    expect(await infer(5)).toMatchObject({ status: 200, body: { outputs: [{ name: 'count', datatype: 'INT32', shape: [], data: [5] }] } });
    const t0 = performance.now();
    expect(await infer(FOREVER)).toEqual({ status: 504, body: { error: 'Timed out waiting for notification' } });
    expect(performance.now() - t0).toBeLessThan(TIMEOUT_MS + 1000);
    await bothWorkersFree();
  });

  it('fails the load of a version whose warm-up loops, while startup completes and the other version serves', async () => {
    expect(startedInMs).toBeLessThan(20_000);
    const res = await fetch(`${server.url}/v1/models/looper`);
    const status = (await res.json()) as { model_version_status: { version: string; state: string; status: { error_code: string; error_message: string } }[] };
    const byVersion = Object.fromEntries(status.model_version_status.map((s) => [s.version, s]));
    expect(byVersion['1'].state).toBe('AVAILABLE');
    expect(byVersion['2'].state).toBe('END');
    expect(byVersion['2'].status.error_code).toBe('DEADLINE_EXCEEDED');
    expect(byVersion['2'].status.error_message).toMatch(/Warm-up of version 2 of model looper did not finish within 1500 ms/);
    expect(await post('looper/versions/1', { inputs: { n: 7 } })).toMatchObject({ status: 200, body: { outputs: 7 } });
    await bothWorkersFree();
  });
});

describe('gRPC deadlines', () => {
  it('a Predict past its client deadline ends DEADLINE_EXCEEDED and its run stops (the worker is free again)', async () => {
    const client = predictionClient();
    try {
      const t0 = performance.now();
      const err = await new Promise<grpc.ServiceError | null>((resolve) =>
        client.Predict(
          { model_spec: { name: 'count' }, inputs: { n: { dtype: 'DT_INT32', tensor_shape: { dim: [] }, int_val: [FOREVER] } } },
          new grpc.Metadata(),
          { deadline: Date.now() + 800 },
          resolve,
        ),
      );
      expect(err?.code).toBe(grpc.status.DEADLINE_EXCEEDED);
      expect(performance.now() - t0).toBeLessThan(800 + 1000);
      await new Promise((r) => setTimeout(r, 100));
      await bothWorkersFree();
    } finally {
      client.close();
    }
  });
});
