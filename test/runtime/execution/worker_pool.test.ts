/**
 * The worker pool runs real models in worker threads (the built
 * dist/runtime/execution/worker_main.js, which `npm test` builds first).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { StatusError } from '../../../runtime/errors.js';
import { WorkerPool } from '../../../runtime/execution/worker_pool.js';
import { Tensor } from '../../../runtime/tensor.js';
import { writeCountingModel, writeLongKernelModel } from '../../helpers/runaway_models.js';
import { waitFor } from '../../server/helpers.js';

const FIXTURES = path.resolve(import.meta.dirname, '../../../../shared/fixtures/tf-serving');
const F_MNIST = path.resolve(import.meta.dirname, '../../../models/f_mnist/2');
const pools: WorkerPool[] = [];
afterAll(async () => {
  for (const p of pools) await p.close();
});

function pool(threads: number, onWorkerExit?: (m: string) => void, copies?: number, maxHeapMb?: number): WorkerPool {
  const p = new WorkerPool({ threads, onWorkerExit, copies, maxHeapMb });
  pools.push(p);
  return p;
}

async function errorOf(p: Promise<unknown>): Promise<StatusError> {
  try {
    await p;
  } catch (e) {
    return e as StatusError;
  }
  throw new Error('expected a failure');
}

describe('worker pool', () => {
  it('loads a model into every worker and spreads concurrent runs over them', async () => {
    const p = pool(2);
    const model = await p.load(path.join(FIXTURES, 'saved_model_half_plus_two_cpu/00000123'), ['serve']);
    expect(Object.keys(model.signatures)).toContain('serving_default');
    const runs = Array.from({ length: 40 }, (_, i) => model.run('serving_default', { x: Tensor.from('float32', [1], [i]) }));
    expect(Math.min(...p.pendingPerWorker())).toBeGreaterThan(0);
    const out = await Promise.all(runs);
    expect(out.map((o) => o.y.numbers()[0])).toEqual(Array.from({ length: 40 }, (_, i) => i / 2 + 2));
    await model.dispose();
  });

  it('with fewer copies, loads each model into the workers holding the fewest models', async () => {
    const p = pool(2, undefined, 1);
    const a = await p.load(path.join(FIXTURES, 'saved_model_half_plus_two_cpu/00000123'), ['serve']);
    const b = await p.load(path.join(FIXTURES, 'saved_model_half_plus_three/00000123'), ['serve']);
    const load = (m: typeof a, x: number) => Array.from({ length: 20 }, () => m.run('serving_default', { x: Tensor.from('float32', [1], [x]) }));
    const runsA = load(a, 2);
    expect(p.pendingPerWorker()).toEqual([20, 0]);
    const runsB = load(b, 2);
    expect(p.pendingPerWorker()).toEqual([20, 20]);
    expect((await Promise.all(runsA)).map((o) => o.y.numbers()[0])).toEqual(Array(20).fill(3));
    expect((await Promise.all(runsB)).map((o) => o.y.numbers()[0])).toEqual(Array(20).fill(4));
  });

  it('returns strings and float outputs of f_mnist unchanged across the thread boundary', async () => {
    const p = pool(1);
    const model = await p.load(F_MNIST, ['serve']);
    const { heldOutImages, imageB64, CLASS_NAMES } = await import('../../../examples/f_mnist/data.js');
    const data = heldOutImages();
    const feed = () => ({ input_images: Tensor.from('string', [2], [imageB64(data, 0), imageB64(data, 1)]) });
    const labels = (await model.run('serving_default', feed())).output_0.strings();
    const probs = (await model.run('probabilities', feed())).output_0;
    expect(probs.shape).toEqual([2, 10]);
    const argmax = (row: number[]) => row.indexOf(Math.max(...row));
    const values = probs.numbers();
    expect(labels).toEqual([argmax(values.slice(0, 10)), argmax(values.slice(10))].map((c) => CLASS_NAMES[c]));
    await model.dispose();
  });

  it('keeps a model that changes its variables in one worker, so its state counts every call', async () => {
    const p = pool(2);
    const counter = await p.load(path.join(FIXTURES, 'saved_model_counter/00000123'), ['serve']);
    const counts = await Promise.all(Array.from({ length: 6 }, () => counter.run('incr_counter', {})));
    expect(counts.map((c) => Object.values(c)[0].numbers()[0]).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(p.pendingPerWorker()).toEqual([0, 0]);
    await counter.dispose();
  });

  it('fails a load with the runtime error, leaving nothing loaded', async () => {
    const p = pool(2);
    const err = await errorOf(p.load(path.join(FIXTURES, 'bad_half_plus_two/00000123'), ['serve']));
    expect(err).toBeInstanceOf(StatusError);
    expect(err.message.length).toBeGreaterThan(0);
    const missing = await errorOf(p.load('/nonexistent/model/1', ['serve']));
    expect(missing.message).toMatch(/nonexistent/);
  });

  it('fails the runs of a worker that dies, replaces it and loads its models again', async () => {
    const exits: string[] = [];
    const p = pool(1, (m) => exits.push(m));
    const model = await p.load(path.join(FIXTURES, 'saved_model_half_plus_two_cpu/00000123'), ['serve']);
    // A run that is surely still going when the worker dies: a while loop of 2^31 - 1 iterations.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pool-count-'));
    await writeCountingModel(path.join(dir, '1'));
    const counting = await p.load(path.join(dir, '1'), ['serve']);
    fs.rmSync(dir, { recursive: true, force: true });
    const inFlight = counting.run('serving_default', { n: Tensor.scalar('int32', 2 ** 31 - 1) });
    await new Promise((r) => setTimeout(r, 100));
    await (p as unknown as { slots: { worker: { terminate(): Promise<number> } }[] }).slots[0].worker.terminate();
    const err = await errorOf(inFlight);
    expect(err.code).toBe('INTERNAL');
    expect(err.message).toMatch(/inference worker 0 stopped unexpectedly/);
    expect(exits[0]).toMatch(/starting a new one/);
    let answer: number | undefined;
    for (let i = 0; i < 100 && answer === undefined; i++) {
      try {
        answer = (await model.run('serving_default', { x: Tensor.from('float32', [1], [4]) })).y.numbers()[0];
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    expect(answer).toBe(4);
  });

  it('answers an aborted run at once with the reason, and its worker stops it between kernels', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pool-count-'));
    try {
      await writeCountingModel(path.join(dir, '1'));
      const p = pool(1);
      const model = await p.load(path.join(dir, '1'), ['serve']);
      const client = new AbortController();
      const looping = model.run('serving_default', { n: Tensor.scalar('int32', 2 ** 31 - 1) }, undefined, { signal: client.signal });
      await new Promise((r) => setTimeout(r, 200));
      client.abort(new StatusError('DEADLINE_EXCEEDED', 'Timed out waiting for notification'));
      const err = await errorOf(looping);
      expect(err.code).toBe('DEADLINE_EXCEEDED');
      // The worker answers the cancelled run (it stopped looping), and runs the next one.
      await waitFor('the worker to stop the cancelled run', () => p.pendingPerWorker()[0] === 0, 1500);
      expect((await model.run('serving_default', { n: Tensor.scalar('int32', 5) })).count.numbers()).toEqual([5]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('replaces a worker over its heap cap; the run that filled it gets RESOURCE_EXHAUSTED', async () => {
    const exits: string[] = [];
    // Room to start and load (every kernel family is loaded), not to run the request below.
    const p = pool(1, (m) => exits.push(m), undefined, 64);
    const model = await p.load(path.join(FIXTURES, 'saved_model_half_plus_two_cpu/00000123'), ['serve']);
    // Each string element becomes a JS object in the worker: two million overflow a 64 MiB heap.
    const huge = Tensor.from('string', [2_000_000], Array(2_000_000).fill(''));
    const err = await errorOf(model.run('regress_x_to_y', { inputs: huge }));
    expect(err.code).toBe('RESOURCE_EXHAUSTED');
    expect(err.message).toMatch(/inference worker 0 stopped unexpectedly \(it ran out of memory \(heap cap 64 MiB, --inference_worker_heap_mb\)\)/);
    expect(exits.join('\n')).toMatch(/starting a new one/);
    const y = await waitFor('the replacement to answer', async () => (await model.run('serving_default', { x: Tensor.from('float32', [1], [4]) })).y.numbers());
    expect(y).toEqual([4]);
  });

  it('replaces a worker whose cancelled run is stuck in one kernel past the grace period', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pool-long-'));
    try {
      const exits: string[] = [];
      const p = pool(1, (m) => exits.push(m));
      await writeLongKernelModel(path.join(dir, 'long'));
      const long = await p.load(path.join(dir, 'long'), ['serve']);
      const half = await p.load(path.join(FIXTURES, 'saved_model_half_plus_two_cpu/00000123'), ['serve']);
      const client = new AbortController();
      const stuck = long.run('serving_default', { x: Tensor.fromHost('float32', [4096, 4096], new Float32Array(4096 * 4096).fill(1)) }, undefined, { signal: client.signal });
      await new Promise((r) => setTimeout(r, 300));
      const t0 = performance.now();
      client.abort(new StatusError('CANCELLED', 'client gone'));
      expect((await errorOf(stuck)).code).toBe('CANCELLED');
      const y = await waitFor('the replacement to answer', async () => (await half.run('serving_default', { x: Tensor.from('float32', [1], [4]) })).y.numbers(), 20_000);
      expect(y).toEqual([4]);
      expect(exits.join('\n')).toMatch(/inference worker 0 is being replaced: a cancelled run did not stop within 2000 ms/);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(2000);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
