/**
 * Issue 13, findings 4 and 9 (kernel half): a model whose output sizes come
 * from the request (Fill, Tile, Range) is asked for ~1e10 elements over HTTP.
 * The kernels refuse before allocating, with TF's status and wording (429
 * RESOURCE_EXHAUSTED "OOM when allocating tensor ...", 400 INVALID_ARGUMENT
 * for a bad shape), and the inference worker that ran them keeps serving:
 * the same model and another model answer 200 afterwards. The server runs
 * one real worker thread, so every request goes through the same one.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../serving/log.js';
import { startServer, type RunningServer, type ServeOptions } from '../../server/serve.js';
import { writeAllocModel } from '../helpers/alloc_model.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tensor-limits-test-'));
const servers: RunningServer[] = [];

const CPU = 'on /job:localhost/replica:0/task:0/device:CPU:0 by allocator cpu';

async function serve(limits?: ServeOptions['limits'], threads = 1): Promise<RunningServer> {
  const file = path.join(tmp, `models-${servers.length}.txt`);
  const entries = ['alloc', 'other'].map((name) => `config { name: "${name}" base_path: "${path.join(tmp, name)}" model_platform: "tensorflow" }`);
  fs.writeFileSync(file, `model_config_list { ${entries.join(' ')} }`);
  const s = await startServer({
    models: { kind: 'config_file', file, pollSeconds: 0 },
    restApiPort: 0,
    restApiHost: '127.0.0.1',
    execution: { threads },
    limits,
    log: silentLogger,
  });
  servers.push(s);
  return s;
}

async function predict(s: RunningServer, model: string, body: unknown): Promise<{ status: number; body: { error?: string; outputs?: unknown } }> {
  const res = await fetch(`${s.url}/v1/models/${model}:predict`, { method: 'POST', body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as { error?: string; outputs?: unknown } };
}

let server: RunningServer;

beforeAll(async () => {
  await writeAllocModel(path.join(tmp, 'alloc', '1'));
  await writeAllocModel(path.join(tmp, 'other', '1'));
  server = await serve();
}, 30_000);

afterAll(async () => {
  for (const s of servers) await s.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('request-sized allocations over HTTP', () => {
  it('answers 4xx with TF wording for 1e10-element Fill, Tile and Range, and the worker keeps serving', async () => {
    const fill = await predict(server, 'alloc', { inputs: { dims: [100000, 100000] } });
    expect(fill.status).toBe(429);
    expect(fill.body.error).toContain(`OOM when allocating tensor with shape[100000,100000] and type float ${CPU}`);
    expect(fill.body.error).toContain('[[{{node Fill}}]]');

    const tile = await predict(server, 'alloc', { signature_name: 'tile', inputs: { x: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], multiples: [1000000000] } });
    expect(tile.status).toBe(429);
    expect(tile.body.error).toContain(`OOM when allocating tensor with shape[10000000000] and type float ${CPU}`);

    const range = await predict(server, 'alloc', { signature_name: 'range', inputs: { limit: 10000000000 } });
    expect(range.status).toBe(429);
    expect(range.body.error).toContain(`OOM when allocating tensor with shape[10000000000] and type int64 ${CPU}`);

    // The same worker still runs this model and the other one.
    const ok = await predict(server, 'alloc', { inputs: { dims: [2, 2] } });
    expect(ok).toEqual({ status: 200, body: { outputs: [[1.5, 1.5], [1.5, 1.5]] } });
    const other = await predict(server, 'other', { signature_name: 'range', inputs: { limit: 3 } });
    expect(other).toEqual({ status: 200, body: { outputs: [0, 1, 2] } });
  }, 30_000);

  it('answers 400 INVALID_ARGUMENT for negative and overflowing shapes', async () => {
    const negative = await predict(server, 'alloc', { inputs: { dims: [2, -1] } });
    expect(negative.status).toBe(400);
    expect(negative.body.error).toContain('Dimension -1 must be >= 0');

    const overflow = await predict(server, 'alloc', { inputs: { dims: [2147483647, 2147483647, 2147483647] } });
    expect(overflow.status).toBe(400);
    expect(overflow.body.error).toContain('Shape [2147483647,2147483647,2147483647] would have more than 2**63 - 1 elements');

    const tile = await predict(server, 'alloc', { signature_name: 'tile', inputs: { x: [1], multiples: [-2] } });
    expect(tile.status).toBe(400);
    expect(tile.body.error).toContain('Expected multiples[0] >= 0, but got -2');
  });

  it('applies --max_tensor_elements inside the inference workers', async () => {
    const small = await serve({ maxTensorElements: 100 });
    const refused = await predict(small, 'alloc', { inputs: { dims: [20, 20] } });
    expect(refused.status).toBe(429);
    expect(refused.body.error).toContain(`OOM when allocating tensor with shape[20,20] and type float ${CPU}`);
    expect((await predict(small, 'alloc', { inputs: { dims: [10, 10] } })).status).toBe(200);
    // The first server's workers keep the default limit.
    expect((await predict(server, 'alloc', { inputs: { dims: [20, 20] } })).status).toBe(200);
  }, 30_000);

  it('applies it on the event loop with --inference_threads=0', async () => {
    const inline = await serve({ maxTensorElements: 1000 }, 0);
    const refused = await predict(inline, 'alloc', { signature_name: 'range', inputs: { limit: 1001 } });
    expect(refused.status).toBe(429);
    expect(refused.body.error).toContain(`OOM when allocating tensor with shape[1001] and type int64 ${CPU}`);
    const fill = await predict(inline, 'alloc', { inputs: { dims: [100000, 100000] } });
    expect(fill.status).toBe(429);
    expect((await predict(inline, 'other', { signature_name: 'range', inputs: { limit: 1000 } })).status).toBe(200);
  }, 30_000);
});
