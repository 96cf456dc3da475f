/**
 * The Open Inference Protocol's gRPC service (inference.GRPCInferenceService)
 * as a KServe/Triton client sees it: the client is built only from
 * proto/kserve/grpc_predict_v2.proto with @grpc/grpc-js and proto-loader.
 * half_plus_two and f_mnist answer the same numbers as TF Serving's REST API;
 * bad requests get INVALID_ARGUMENT or NOT_FOUND.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { heldOutImages, imageB64 } from '../../examples/f_mnist/data.js';
import { silentLogger } from '../../serving/log.js';
import { startServer, type RunningServer } from '../../server/serve.js';
import { protoClient } from './grpc_client.js';
import { FIXTURES } from './helpers.js';

type Msg = Record<string, unknown>;
type Unary = (req: Msg, cb: (err: grpc.ServiceError | null, res: Msg) => void) => void;
interface Output {
  name: string;
  datatype: string;
  shape: string[];
}

let server: RunningServer;
let client: grpc.Client & Record<string, Unary>;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-v2-grpc-'));

beforeAll(async () => {
  const config = path.join(tmp, 'models.config');
  fs.writeFileSync(
    config,
    `model_config_list {
      config { name: "half" base_path: "${path.join(FIXTURES, 'saved_model_half_plus_two_cpu')}" model_platform: "tensorflow" }
      config { name: "f_mnist" base_path: "${path.resolve(import.meta.dirname, '../../models/f_mnist')}" model_platform: "tensorflow" }
    }`,
  );
  server = await startServer({
    models: { kind: 'config_file', file: config, pollSeconds: 0 },
    restApiPort: 0,
    grpcPort: 0,
    restApiHost: '127.0.0.1',
    log: silentLogger,
  });
  client = protoClient('kserve/grpc_predict_v2.proto', 'inference.GRPCInferenceService', `127.0.0.1:${server.grpcPort}`);
}, 60_000);

afterAll(async () => {
  client?.close();
  await server?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const call = (method: string, req: Msg) => new Promise<Msg>((resolve, reject) => client[method](req, (err, res) => (err ? reject(err) : resolve(res))));
const callError = (method: string, req: Msg) =>
  new Promise<grpc.ServiceError>((resolve, reject) => client[method](req, (err) => (err ? resolve(err) : reject(new Error(`${method} succeeded`)))));

async function v1(model: string, body: object): Promise<{ predictions: unknown[] }> {
  const res = await fetch(`${server.url}/v1/models/${model}:predict`, { method: 'POST', body: JSON.stringify(body) });
  expect(res.status).toBe(200);
  return (await res.json()) as { predictions: unknown[] };
}

const floats = (b: Buffer) => Array.from(new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length)));

/** BYTES raw contents: each element a 4-byte little-endian length, then its bytes. */
function strings(b: Buffer): string[] {
  const out: string[] = [];
  for (let o = 0; o < b.length; ) {
    const n = b.readUInt32LE(o);
    out.push(b.subarray(o + 4, o + 4 + n).toString('utf8'));
    o += 4 + n;
  }
  return out;
}

describe('inference.GRPCInferenceService', () => {
  it('answers live, ready, server and model metadata, model readiness', async () => {
    expect(await call('ServerLive', {})).toEqual({ live: true });
    expect(await call('ServerReady', {})).toEqual({ ready: true });
    expect((await call('ServerMetadata', {})).name).toBe('modelhost');
    expect(await call('ModelReady', { name: 'half' })).toEqual({ ready: true });
    expect(await call('ModelReady', { name: 'half', version: '9' })).toEqual({ ready: false });
    expect((await callError('ModelReady', { name: 'nope' })).code).toBe(grpc.status.NOT_FOUND);
    const meta = await call('ModelMetadata', { name: 'half' });
    expect(meta).toMatchObject({ name: 'half', versions: ['123'], platform: 'tensorflow_savedmodel' });
    expect(meta.inputs).toEqual([{ name: 'x', datatype: 'FP32', shape: ['-1', '1'] }]);
  });

  it('infers half_plus_two from typed contents and from raw_input_contents, as /v1 does', async () => {
    const expected = (await v1('half', { instances: [[1], [2], [5]] })).predictions.flat();
    const typed = await call('ModelInfer', { model_name: 'half', inputs: [{ name: 'x', datatype: 'FP32', shape: [3, 1], contents: { fp32_contents: [1, 2, 5] } }], id: 'r1' });
    expect(typed).toMatchObject({ model_name: 'half', model_version: '123', id: 'r1' });
    expect((typed.outputs as Output[]).map((o) => [o.name, o.datatype, o.shape])).toEqual([['y', 'FP32', ['3', '1']]]);
    expect(floats((typed.raw_output_contents as Buffer[])[0])).toEqual(expected);
    const raw = await call('ModelInfer', {
      model_name: 'half',
      model_version: '123',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [3, 1] }],
      raw_input_contents: [Buffer.from(new Float32Array([1, 2, 5]).buffer)],
    });
    expect(floats((raw.raw_output_contents as Buffer[])[0])).toEqual(expected);
  });

  it('infers f_mnist (BYTES) for both signatures, as /v1 does', async () => {
    const images = heldOutImages();
    const instances = [0, 1].map((i) => imageB64(images, i));
    for (const signature of ['serving_default', 'probabilities']) {
      const expected = (await v1('f_mnist', { signature_name: signature, instances })).predictions.flat();
      const res = await call('ModelInfer', {
        model_name: 'f_mnist',
        parameters: { signature_name: { string_param: signature } },
        inputs: [{ name: 'input_images', datatype: 'BYTES', shape: [2], contents: { bytes_contents: instances.map((s) => Buffer.from(s)) } }],
      });
      const out = (res.raw_output_contents as Buffer[])[0];
      if (signature === 'probabilities') {
        floats(out).forEach((v, i) => expect(v).toBeCloseTo(expected[i] as number, 6));
      } else {
        expect(strings(out)).toEqual(expected);
      }
    }
  });

  it('refuses bad requests with INVALID_ARGUMENT or NOT_FOUND, and keeps answering', async () => {
    const x = { name: 'x', datatype: 'FP32', shape: [1], contents: { fp32_contents: [1] } };
    expect((await callError('ModelInfer', { model_name: 'nope', inputs: [x] })).code).toBe(grpc.status.NOT_FOUND);
    expect((await callError('ModelInfer', { model_name: 'half', inputs: [] })).details).toMatch(/Missing input 'x'/);
    expect((await callError('ModelInfer', { model_name: 'half', inputs: [{ ...x, datatype: 'FP64' }] })).code).toBe(grpc.status.INVALID_ARGUMENT);
    const mismatch = await callError('ModelInfer', { model_name: 'half', inputs: [{ name: 'x', datatype: 'FP32', shape: [4] }], raw_input_contents: [Buffer.alloc(8)] });
    expect(mismatch.code).toBe(grpc.status.INVALID_ARGUMENT);
    const count = await callError('ModelInfer', { model_name: 'half', inputs: [{ name: 'x', datatype: 'FP32', shape: [1] }], raw_input_contents: [Buffer.alloc(4), Buffer.alloc(4)] });
    expect(count.details).toMatch(/raw_input_contents holds 2 tensors for 1 inputs/);
    expect((await callError('ModelInfer', { model_name: 'half', model_version: 'latest', inputs: [x] })).code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(await call('ServerLive', {})).toEqual({ live: true });
  });
});
