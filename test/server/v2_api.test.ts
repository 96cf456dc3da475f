// The Open Inference Protocol (KServe v2) REST API against a real server, spoken as a KServe or Triton
// client speaks it (plain fetch, JSON bodies and the binary tensor extension built here by hand), and
// checked against /v1 predict of the same input.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { heldOutImages, imageB64 } from '../../examples/f_mnist/data.js';
import { silentLogger } from '../../serving/log.js';
import { startServer, type RunningServer } from '../../server/serve.js';
import { FIXTURES } from './helpers.js';

const LIMIT = 256 * 1024;
let server: RunningServer;
let tmp: string;
let images: ReturnType<typeof heldOutImages>;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-v2-'));
  const config = path.join(tmp, 'models.conf');
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
    restApiHost: '127.0.0.1',
    restLimits: { maxRequestBytes: LIMIT },
    monitoringConfigFile: path.join(FIXTURES, 'monitoring_config.txt'),
    log: silentLogger,
  });
  images = heldOutImages();
});

afterAll(async () => {
  await server?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const get = async (p: string) => {
  const r = await fetch(server.url + p);
  return { status: r.status, text: await r.text() };
};
const post = async (p: string, body: string | object | Uint8Array, headers: Record<string, string> = {}) => {
  const r = await fetch(server.url + p, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body),
  });
  return { status: r.status, headers: r.headers, bytes: Buffer.from(await r.arrayBuffer()) };
};
const postJson = async (p: string, body: string | object) => {
  const r = await post(p, body);
  return { status: r.status, json: JSON.parse(r.bytes.toString('utf8')) };
};

interface V2Output {
  name: string;
  datatype: string;
  shape: number[];
  data?: unknown[];
  parameters?: { binary_data_size?: number };
}

describe('health and metadata', () => {
  it('answers live, ready and server metadata', async () => {
    expect(await get('/v2/health/live')).toEqual({ status: 200, text: '{"live":true}' });
    expect(await get('/v2/health/ready')).toEqual({ status: 200, text: '{"ready":true}' });
    const meta = await get('/v2');
    expect(meta.status).toBe(200);
    const body = JSON.parse(meta.text);
    expect(body.name).toBe('modelhost');
    expect(typeof body.version).toBe('string');
    expect(body.extensions).toContain('binary_tensor_data');
  });

  it('gives model metadata from the default signature, by model and by version', async () => {
    const half = { name: 'half', versions: ['123'], platform: 'tensorflow_savedmodel', inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 1] }], outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 1] }] };
    expect(JSON.parse((await get('/v2/models/half')).text)).toEqual(half);
    expect(JSON.parse((await get('/v2/models/half/versions/123')).text)).toEqual(half);
    const mnist = JSON.parse((await get('/v2/models/f_mnist')).text);
    expect(mnist.inputs).toEqual([{ name: 'input_images', datatype: 'BYTES', shape: [-1] }]);
  });

  it('says which models and versions are ready', async () => {
    expect(JSON.parse((await get('/v2/models/half/ready')).text)).toEqual({ name: 'half', ready: true });
    expect((await get('/v2/models/half/versions/123/ready')).status).toBe(200);
    const notReady = await get('/v2/models/half/versions/7/ready');
    expect(notReady.status).toBe(400);
    expect(JSON.parse(notReady.text).error).toMatch('Version 7 of model "half" is not ready');
    expect((await get('/v2/models/nope/ready')).status).toBe(404);
  });

  it('answers 404 with an error for unknown models, versions and paths', async () => {
    for (const p of ['/v2/models/nope', '/v2/models/half/versions/7', '/v2/models/half/explain', '/v2/health/maybe']) {
      const r = await get(p);
      expect(r.status, p).toBe(404);
      expect(typeof JSON.parse(r.text).error).toBe('string');
    }
    const unknown = await postJson('/v2/models/nope/infer', { inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [1] }] });
    expect(unknown.status).toBe(404);
    expect(unknown.json.error).toMatch('nope');
    expect((await get('/v2/models/half/infer')).status).toBe(404);
    expect((await get('/v2/models/half/versions/abc')).status).toBe(400);
  });
});

describe('inference (JSON)', () => {
  it('answers half_plus_two as /v1 predict does, flat or nested data, echoing the id', async () => {
    const v1 = await postJson('/v1/models/half:predict', { instances: [[1], [2], [5]] });
    const flat = await postJson('/v2/models/half/infer', { id: 'req-1', inputs: [{ name: 'x', shape: [3, 1], datatype: 'FP32', data: [1, 2, 5] }] });
    expect(flat.status).toBe(200);
    expect(flat.json).toEqual({
      model_name: 'half',
      model_version: '123',
      id: 'req-1',
      outputs: [{ name: 'y', datatype: 'FP32', shape: [3, 1], data: v1.json.predictions.flat() }],
    });
    expect(flat.json.outputs[0].data).toEqual([2.5, 3, 4.5]);
    const nested = await postJson('/v2/models/half/versions/123/infer', {
      inputs: [{ name: 'x', shape: [3, 1], datatype: 'FP32', data: [[1], [2], [5]] }],
      outputs: [{ name: 'y' }],
    });
    expect(nested.json.outputs).toEqual(flat.json.outputs);
    expect(nested.json.id).toBeUndefined();
  });

  it('runs f_mnist (BYTES as strings) with the signature named in parameters, as /v1 does', async () => {
    // f_mnist takes web-safe base64 PNG text (it decodes it itself), so its BYTES elements are plain strings.
    const instances = [0, 1, 2].map((i) => imageB64(images, i));
    const input = { name: 'input_images', shape: [3], datatype: 'BYTES', data: instances };
    for (const signature of ['serving_default', 'probabilities']) {
      const v1 = await postJson('/v1/models/f_mnist:predict', { signature_name: signature, instances });
      expect(v1.status).toBe(200);
      const v2 = await postJson('/v2/models/f_mnist/infer', { inputs: [input], parameters: { signature_name: signature } });
      expect(v2.status, JSON.stringify(v2.json)).toBe(200);
      const [out] = v2.json.outputs as V2Output[];
      expect(out.datatype).toBe(signature === 'probabilities' ? 'FP32' : 'BYTES');
      expect(out.shape).toEqual(signature === 'probabilities' ? [3, 10] : [3]);
      expect(out.data).toEqual(v1.json.predictions.flat());
    }
  });
});

/** A binary-extension body: JSON header, then each input's bytes. */
function binaryBody(header: object, blobs: Buffer[]): { body: Buffer; length: string } {
  const json = Buffer.from(JSON.stringify(header));
  return { body: Buffer.concat([json, ...blobs]), length: String(json.length) };
}

/** BYTES elements in the binary layout: 4-byte little-endian length, then the bytes. */
function bytesElements(items: Buffer[]): Buffer {
  return Buffer.concat(items.flatMap((b) => [Buffer.from(new Uint32Array([b.length]).buffer), b]));
}

describe('binary tensor extension', () => {
  it('takes raw FP32 and BYTES inputs and returns binary outputs that match the JSON answer', async () => {
    const x = Buffer.from(new Float32Array([1, 2, 5]).buffer);
    const { body, length } = binaryBody(
      { inputs: [{ name: 'x', shape: [3, 1], datatype: 'FP32', parameters: { binary_data_size: x.length } }], outputs: [{ name: 'y', parameters: { binary_data: true } }] },
      [x],
    );
    const r = await post('/v2/models/half/infer', body, { 'Content-Type': 'application/octet-stream', 'Inference-Header-Content-Length': length });
    expect(r.status).toBe(200);
    const n = Number(r.headers.get('inference-header-content-length'));
    const header = JSON.parse(r.bytes.subarray(0, n).toString('utf8'));
    expect(header.outputs).toEqual([{ name: 'y', datatype: 'FP32', shape: [3, 1], parameters: { binary_data_size: 12 } }]);
    const y = r.bytes.subarray(n);
    expect([0, 1, 2].map((i) => y.readFloatLE(i * 4))).toEqual([2.5, 3, 4.5]);

    const texts = [3, 4].map((i) => Buffer.from(imageB64(images, i)));
    const elements = bytesElements(texts);
    const mnist = binaryBody(
      {
        parameters: { signature_name: 'probabilities', binary_data_output: true },
        inputs: [{ name: 'input_images', shape: [2], datatype: 'BYTES', parameters: { binary_data_size: elements.length } }],
      },
      [elements],
    );
    const rb = await post('/v2/models/f_mnist/infer', mnist.body, { 'Inference-Header-Content-Length': mnist.length });
    expect(rb.status, rb.bytes.toString()).toBe(200);
    const hn = Number(rb.headers.get('inference-header-content-length'));
    const probs = rb.bytes.subarray(hn);
    expect(probs.length).toBe(2 * 10 * 4);
    const json = await postJson('/v2/models/f_mnist/infer', {
      parameters: { signature_name: 'probabilities' },
      // The same text as {"b64": ...} objects: arbitrary bytes in JSON.
      inputs: [{ name: 'input_images', shape: [2], datatype: 'BYTES', data: texts.map((b) => ({ b64: b.toString('base64') })) }],
    });
    const fromJson = (json.json.outputs[0] as V2Output).data as number[];
    expect(Array.from({ length: 20 }, (_, i) => probs.readFloatLE(i * 4))).toEqual(fromJson.map(Math.fround));
  });

  it('applies binary_data_output to listed outputs unless an output says binary_data: false', async () => {
    const x = { name: 'x', shape: [1, 1], datatype: 'FP32', data: [1] };
    const listed = await post('/v2/models/half/infer', { inputs: [x], outputs: [{ name: 'y' }], parameters: { binary_data_output: true } });
    expect(listed.headers.get('content-type')).toBe('application/octet-stream');
    const n = Number(listed.headers.get('inference-header-content-length'));
    expect(listed.bytes.subarray(n).readFloatLE(0)).toBe(2.5);
    const json = await postJson('/v2/models/half/infer', { inputs: [x], outputs: [{ name: 'y', parameters: { binary_data: false } }], parameters: { binary_data_output: true } });
    expect(json.json.outputs[0].data).toEqual([2.5]);
  });

  it('refuses binary sizes that do not add up', async () => {
    const x = Buffer.from(new Float32Array([1, 2]).buffer);
    const cases = [
      binaryBody({ inputs: [{ name: 'x', shape: [3, 1], datatype: 'FP32', parameters: { binary_data_size: 8 } }] }, [x]),
      binaryBody({ inputs: [{ name: 'x', shape: [2, 1], datatype: 'FP32', parameters: { binary_data_size: 800 } }] }, [x]),
      binaryBody({ inputs: [{ name: 'x', shape: [2, 1], datatype: 'FP32', parameters: { binary_data_size: 4 } }] }, [x]),
    ];
    for (const c of cases) {
      const r = await post('/v2/models/half/infer', c.body, { 'Inference-Header-Content-Length': c.length });
      expect(r.status).toBe(400);
      expect(JSON.parse(r.bytes.toString()).error).toMatch(/binary/);
    }
    const past = await post('/v2/models/half/infer', cases[0].body, { 'Inference-Header-Content-Length': '99999' });
    expect(past.status).toBe(400);
    expect(JSON.parse(past.bytes.toString()).error).toMatch('Inference-Header-Content-Length');
  });
});

describe('errors', () => {
  const half = (input: object, extra: object = {}) => postJson('/v2/models/half/infer', { inputs: [input], ...extra });
  it.each([
    ['wrong datatype', { name: 'x', shape: [1, 1], datatype: 'FP64', data: [1] }, 'has datatype FP64, but the model expects FP32'],
    ['unknown datatype', { name: 'x', shape: [1, 1], datatype: 'FLOAT', data: [1] }, 'unknown datatype "FLOAT"'],
    ['shape and data disagree', { name: 'x', shape: [2, 2], datatype: 'FP32', data: [1, 2, 3] }, 'has shape [2,2] (4 elements), but its data holds 3'],
    ['a string among numbers', { name: 'x', shape: [2], datatype: 'FP32', data: [1, 'two'] }, 'element 1 ("two") is not a number'],
    ['a negative dimension', { name: 'x', shape: [-1], datatype: 'FP32', data: [1] }, '"shape" must be an array of non-negative integers'],
    ['no data', { name: 'x', shape: [1], datatype: 'FP32' }, "Input 'x' has no \"data\""],
  ])('%s → 400 with a clear message', async (_, input, message) => {
    const r = await half(input);
    expect(r.status).toBe(400);
    expect(r.json.error).toContain(message);
  });

  it('reports missing inputs, unknown signatures and outputs, and malformed requests', async () => {
    const sig = await half({ name: 'x', shape: [1], datatype: 'FP32', data: [1] }, { parameters: { signature_name: 'nope' } });
    expect(sig.status).toBe(400);
    expect(sig.json.error).toContain('Serving signature name: "nope" not found');
    const out = await half({ name: 'x', shape: [1], datatype: 'FP32', data: [1] }, { outputs: [{ name: 'nope' }] });
    expect(out.status).toBe(400);
    expect(out.json.error).toContain('output tensor alias not found in signature: nope');
    for (const body of ['{"inputs": [', '[1]', '{"inputs": []}', '{"inputs": [{"name": 3}]}']) {
      const r = await postJson('/v2/models/half/infer', body);
      expect(r.status, body).toBe(400);
      expect(typeof r.json.error).toBe('string');
    }
  });

  it('names a signature input left out, and an input the signature does not take', async () => {
    const missing = await half({ name: 'z', shape: [1], datatype: 'FP32', data: [1] });
    expect(missing.status).toBe(400);
    expect(missing.json.error).toBe('Missing input \'x\' of signature "serving_default" (it takes {x}; the request gave {z})');
    const cls = await half({ name: 'x', shape: [1], datatype: 'FP32', data: [1] }, { parameters: { signature_name: 'classify_x_to_y' } });
    expect(cls.status).toBe(400);
    expect(cls.json.error).toContain("Missing input 'inputs' of signature \"classify_x_to_y\"");
    const extra = await postJson('/v2/models/half/infer', {
      inputs: [
        { name: 'x', shape: [1], datatype: 'FP32', data: [1] },
        { name: 'z', shape: [1], datatype: 'FP32', data: [1] },
      ],
    });
    expect(extra.status).toBe(400);
    expect(extra.json.error).toBe('Input \'z\' is not an input of signature "serving_default", which takes {x}');
  });
});

describe('metrics', () => {
  it('counts v2 inferences under protocol="v2", by model, version and status', async () => {
    const counter = async (labels: string) => {
      const text = (await get('/monitoring/prometheus/metrics')).text;
      const line = text.split('\n').find((l) => l.startsWith(`modelhost_requests_total{${labels}}`));
      return line ? Number(line.split(' ').pop()) : 0;
    };
    const ok = 'model="half",version="123",api="predict",status="OK",protocol="v2"';
    const bad = 'model="half",version="123",api="predict",status="INVALID_ARGUMENT",protocol="v2"';
    const [ok0, bad0] = [await counter(ok), await counter(bad)];
    await postJson('/v2/models/half/infer', { inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [1] }] });
    await postJson('/v2/models/half/infer', { inputs: [{ name: 'x', shape: [1], datatype: 'FP64', data: [1] }] });
    expect(await counter(ok)).toBe(ok0 + 1);
    expect(await counter(bad)).toBe(bad0 + 1);
  });
});

describe('hostile requests', () => {
  it('refuses a body over --max_request_bytes with 413 and stays up', async () => {
    const big = JSON.stringify({ inputs: [{ name: 'x', shape: [LIMIT], datatype: 'FP32', data: new Array(LIMIT).fill(1) }] });
    const r = await post('/v2/models/half/infer', big);
    expect(r.status).toBe(413);
    expect(JSON.parse(r.bytes.toString()).error).toMatch('--max_request_bytes');
    expect((await get('/v2/health/live')).status).toBe(200);
  });

  it('refuses deeply nested data with 400 and stays up', async () => {
    const deep = `{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":${'['.repeat(5000)}1${']'.repeat(5000)}}]}`;
    const r = await postJson('/v2/models/half/infer', deep);
    expect(r.status).toBe(400);
    expect(r.json.error).toMatch('--max_json_depth');
    expect((await get('/v2/health/ready')).status).toBe(200);
  });

  it('refuses a binary header length that is not a number, and invalid base64', async () => {
    const x = { inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [1] }] };
    const r = await post('/v2/models/half/infer', JSON.stringify(x), { 'Inference-Header-Content-Length': '-5' });
    expect(r.status).toBe(400);
    const b64 = await postJson('/v2/models/f_mnist/infer', { inputs: [{ name: 'input_images', shape: [1], datatype: 'BYTES', data: [{ b64: '***' }] }] });
    expect(b64.status).toBe(400);
    expect(b64.json.error).toContain('is not valid base64 in "b64"');
  });
});
