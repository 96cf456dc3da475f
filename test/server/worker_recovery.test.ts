/**
 * Poisoned inference workers (finding 4 of the hardening issue), over HTTP
 * with a real worker thread. The bomb model's intermediate tensors are each
 * within a per-tensor element limit of 2^28 (2^26 or 16383^2 float32) but
 * together need more memory than a worker may use:
 *  - under --inference_worker_wasm_mb the run is stopped at the next kernel
 *    with 429 RESOURCE_EXHAUSTED and the worker recycled;
 *  - with no cap, they take the WASM instance past what it can address and
 *    its engine traps or aborts; the request gets an error.
 * Either way a request queued behind it on the same worker is run again on
 * the replacement, the worker is replaced with its models reloaded, and
 * later requests to both models answer 200.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../serving/log.js';
import { startServer, type RunningServer } from '../../server/serve.js';
import { writeMemoryBombModel } from '../helpers/runaway_models.js';
import { copyVersion } from './helpers.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'worker-recovery-test-'));
const servers: RunningServer[] = [];

beforeAll(async () => {
  await writeMemoryBombModel(path.join(tmp, 'bomb/1'));
  copyVersion('saved_model_half_plus_two_cpu/00000123', path.join(tmp, 'half/1'));
  fs.writeFileSync(
    path.join(tmp, 'models.config'),
    `model_config_list {
      config { name: "bomb" base_path: "${tmp}/bomb" model_platform: "tensorflow" }
      config { name: "half" base_path: "${tmp}/half" model_platform: "tensorflow" }
    }`,
  );
});

afterAll(async () => {
  for (const s of servers) await s.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function serve(workerWasmMb: number, news: string[]): Promise<RunningServer> {
  const s = await startServer({
    models: { kind: 'config_file', file: path.join(tmp, 'models.config'), pollSeconds: 0 },
    restApiPort: 0,
    restApiHost: '127.0.0.1',
    fileSystemPollWaitSeconds: 0,
    restApiTimeoutMs: 120_000,
    execution: { threads: 1, workerWasmMb },
    log: { ...silentLogger, error: (m: string) => news.push(m) },
  });
  servers.push(s);
  return s;
}

async function post(s: RunningServer, model: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${s.url}/v1/models/${model}:predict`, { method: 'POST', body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Sends the bomb with `elements` inputs and a small request queued behind it; returns the bomb's answer once both are in. */
async function bombThenRecover(s: RunningServer, elements: number): Promise<{ status: number; body: Record<string, unknown> }> {
  expect(await post(s, 'bomb', { inputs: [1, 2, 3] })).toEqual({ status: 200, body: { outputs: 135 } });
  const bomb = post(s, 'bomb', { inputs: Array(elements).fill(1) });
  await new Promise((r) => setTimeout(r, 100));
  // Queued behind the bomb on the only worker: handed back when the worker is given up, run on the replacement.
  const queued = post(s, 'half', { instances: [1, 2] });
  const broken = await bomb;
  expect(await queued).toEqual({ status: 200, body: { predictions: [2.5, 3] } });
  expect(await post(s, 'bomb', { inputs: [1, 2, 3] })).toEqual({ status: 200, body: { outputs: 135 } });
  expect(await post(s, 'half', { instances: [5] })).toEqual({ status: 200, body: { predictions: [4.5] } });
  return broken;
}

describe('a worker whose memory a request blows up is replaced', () => {
  it('stops a run over --inference_worker_wasm_mb with 429 and recycles the worker', async () => {
    const news: string[] = [];
    const s = await serve(256, news);
    // 8192 elements: each outer product is 2^26 float32 (256 MiB).
    const broken = await bombThenRecover(s, 8192);
    expect(broken.status).toBe(429);
    expect(broken.body.error).toMatch(/^The model needed more than the 256 MiB of WASM memory an inference worker may use \(--inference_worker_wasm_mb\)/);
    expect(news.join('\n')).toMatch(/inference worker 0 is being replaced/);
  }, 60_000);

  it('survives a request that fills the 4 GiB WASM memory: a clean OOM, or a restarted worker', async () => {
    const news: string[] = [];
    const s = await serve(0, news);
    // 16383 elements: each outer product is just under 2^28 float32 (1 GiB); five do not fit in 4 GiB.
    const broken = await bombThenRecover(s, 16383);
    if (broken.status === 429 && /^OOM when allocating tensor/.test(String(broken.body.error))) {
      // The allocator guard (runtime/backend.ts) refused the allocation that did not fit: the engine never broke.
      // TF's shape of the product (tfjs's own kernel names its rank-3 view, [1,16383,16383]).
      expect(broken.body.error).toMatch(/OOM when allocating tensor with shape\[(1,)?16383,16383\] and type float/);
    } else {
      // An abort the guard did not see: the worker is replaced.
      expect([429, 500]).toContain(broken.status);
      expect(broken.body.error).toMatch(/^The model run broke the inference engine \(.+\); its worker was restarted/);
      expect(news.join('\n')).toMatch(/inference worker 0 is being replaced/);
    }
  }, 120_000);
});
