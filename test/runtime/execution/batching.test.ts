/**
 * Dynamic batching on real models: concurrent runs merge along dimension 0,
 * run once, and every caller gets exactly what an unbatched run returns.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { heldOutImages, imageB64, type Dataset } from '../../../examples/f_mnist/data.js';
import type { Servable } from '../../../runtime/engine.js';
import { StatusError } from '../../../runtime/errors.js';
import { BatchScheduler } from '../../../runtime/execution/batch_scheduler.js';
import { autoBatchingParameters, defaultBatchingParameters, type BatchingParameters } from '../../../runtime/execution/batching_parameters.js';
import { BatchingServable } from '../../../runtime/execution/batching_servable.js';
import { inlineEngine } from '../../../runtime/execution/serving_engine.js';
import { Tensor } from '../../../runtime/tensor.js';

const FIXTURES = path.resolve(import.meta.dirname, '../../../../shared/fixtures/tf-serving');
const F_MNIST = path.resolve(import.meta.dirname, '../../../models/f_mnist/2');
const engine = inlineEngine();

let halfPlusTwo: Servable;
let matrix: Servable;
let fmnist: Servable;
let images: Dataset;
beforeAll(async () => {
  halfPlusTwo = await engine.load(path.join(FIXTURES, 'saved_model_half_plus_two_cpu/00000123'));
  matrix = await engine.load(path.join(FIXTURES, 'matrix_half_plus_two/1'));
  fmnist = await engine.load(F_MNIST);
  images = heldOutImages();
});
afterAll(async () => {
  for (const s of [halfPlusTwo, matrix, fmnist]) await s.dispose();
});

/** The real servable, recording the dimension-0 size of every run it is given; `gate` holds runs until opened. */
function recording(inner: Servable, gate?: Promise<void>): Servable & { runs: number[] } {
  const runs: number[] = [];
  return {
    ...inner,
    runs,
    run: async (signature, feeds, outputKeys) => {
      runs.push(Object.values(feeds)[0].shape[0]);
      await gate;
      return inner.run(signature, feeds, outputKeys);
    },
    dispose: async () => {},
  };
}

function batching(inner: Servable, params: Partial<BatchingParameters>): BatchingServable {
  return new BatchingServable(inner, new BatchScheduler({ ...defaultBatchingParameters(), numBatchThreads: 1, ...params }));
}

const x = (...values: number[]) => ({ x: Tensor.from('float32', [values.length], values) });
const pngs = (from: number, n: number) => ({ input_images: Tensor.from('string', [n], Array.from({ length: n }, (_, i) => imageB64(images, from + i))) });

async function errorOf(p: Promise<unknown>): Promise<StatusError> {
  try {
    await p;
  } catch (e) {
    return e as StatusError;
  }
  throw new Error('expected a failure');
}

describe('dynamic batching', () => {
  it('merges concurrent runs into one and gives each caller its own rows', async () => {
    const inner = recording(halfPlusTwo);
    const b = batching(inner, { maxBatchSize: 16, batchTimeoutMicros: 20_000 });
    const answers = await Promise.all([b.run('serving_default', x(1)), b.run('serving_default', x(2, 3)), b.run('serving_default', x(10))]);
    expect(inner.runs).toEqual([4]);
    expect(answers.map((a) => a.y.numbers())).toEqual([[2.5], [3, 3.5], [7]]);
    expect(answers.map((a) => a.y.shape)).toEqual([[1], [2], [1]]);
  });

  it('answers f_mnist batches exactly as unbatched runs do, for both signatures', async () => {
    const b = batching(recording(fmnist), { maxBatchSize: 32, batchTimeoutMicros: 20_000 });
    for (const signature of ['serving_default', 'probabilities']) {
      const requests = [pngs(0, 1), pngs(1, 3), pngs(4, 1), pngs(5, 2)];
      const alone = [];
      for (const r of [pngs(0, 1), pngs(1, 3), pngs(4, 1), pngs(5, 2)]) alone.push((await fmnist.run(signature, r)).output_0);
      const batched = await Promise.all(requests.map((r) => b.run(signature, r)));
      batched.forEach((out, i) => {
        expect(out.output_0.shape).toEqual(alone[i].shape);
        expect([...(out.output_0.values() as ArrayLike<unknown>)]).toEqual([...(alone[i].values() as ArrayLike<unknown>)]);
      });
    }
  });

  it('pads up to the next allowed batch size with a real row, and never returns the padding', async () => {
    const inner = recording(halfPlusTwo);
    const b = batching(inner, { maxBatchSize: 8, allowedBatchSizes: [4, 8], batchTimeoutMicros: 20_000 });
    const answers = await Promise.all([b.run('serving_default', x(0)), b.run('serving_default', x(4))]);
    expect(inner.runs).toEqual([4]);
    expect(answers.map((a) => a.y.numbers())).toEqual([[2], [4]]);
  });

  it('keeps tasks whose inner shapes differ in separate batches', async () => {
    const inner = recording(matrix);
    const b = batching(inner, { maxBatchSize: 8, batchTimeoutMicros: 20_000 });
    const m = (rows: number[][]) => ({ x: Tensor.from('float32', [rows.length, rows[0].length], rows.flat()) });
    const [a, c] = await Promise.all([b.run('serving_default', m([[1, 2]])), b.run('serving_default', m([[1, 2, 3]]))]);
    expect(inner.runs.sort()).toEqual([1, 1]);
    expect(a.y.numbers()).toEqual([2.5, 3]);
    expect(c.y.numbers()).toEqual([2.5, 3, 3.5]);
  });

  it('gives a bad request its own error and the others in its batch their answers', async () => {
    const b = batching(fmnist, { maxBatchSize: 8, batchTimeoutMicros: 20_000 });
    const bad = { input_images: Tensor.from('string', [1], ['bm90IGFuIGltYWdl']) };
    const aloneError = await errorOf(fmnist.run('serving_default', { input_images: Tensor.from('string', [1], ['bm90IGFuIGltYWdl']) }));
    const expected = (await fmnist.run('serving_default', pngs(10, 2))).output_0.strings();
    const [good, failed] = await Promise.allSettled([b.run('serving_default', pngs(10, 2)), b.run('serving_default', bad)]);
    expect(good.status === 'fulfilled' && good.value.output_0.strings()).toEqual(expected);
    expect(failed.status === 'rejected' && (failed.reason as StatusError).message).toBe(aloneError.message);
  });

  it("refuses a task larger than a batch, and a task when the queue is full, with TF Serving's errors", async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const b = batching(recording(halfPlusTwo, gate), { maxBatchSize: 2, maxEnqueuedBatches: 2, batchTimeoutMicros: 1_000_000 });
    const tooLarge = await errorOf(b.run('serving_default', x(1, 2, 3)));
    expect([tooLarge.code, tooLarge.message]).toEqual(['INVALID_ARGUMENT', 'Task size 3 is larger than maximum batch size 2']);

    const running = b.run('serving_default', x(1, 2)); // full batch: runs at once, held at the gate
    const queued = [b.run('serving_default', x(3, 4)), b.run('serving_default', x(5, 6))]; // two batches wait
    const full = await errorOf(b.run('serving_default', x(7)));
    expect([full.code, full.message]).toEqual(['UNAVAILABLE', 'The batch scheduling queue to which this task was submitted is full']);
    open();
    expect((await running).y.numbers()).toEqual([2.5, 3]);
    expect((await Promise.all(queued)).map((o) => o.y.numbers())).toEqual([[3.5, 4], [4.5, 5]]);
  });

  it('answers a queued task whose signal aborts at once and leaves it out of its batch', async () => {
    const inner = recording(halfPlusTwo);
    const b = batching(inner, { maxBatchSize: 16, batchTimeoutMicros: 50_000 });
    const client = new AbortController();
    const kept = b.run('serving_default', x(1));
    const dropped = b.run('serving_default', x(2, 3), undefined, { signal: client.signal });
    client.abort(new StatusError('DEADLINE_EXCEEDED', 'Timed out waiting for notification'));
    const err = await errorOf(dropped);
    expect([err.code, err.message]).toEqual(['DEADLINE_EXCEEDED', 'Timed out waiting for notification']);
    expect((await kept).y.numbers()).toEqual([2.5]);
    expect(inner.runs).toEqual([1]);
  });

  it('checks dimension 0 as TF Serving does', async () => {
    const b = batching(halfPlusTwo, { maxBatchSize: 8 });
    const scalar = await errorOf(b.run('serving_default', { x: Tensor.from('float32', [], [1]) }));
    expect(scalar.message).toBe('Batching session Run() input tensors must have at least one dimension');
    expect((await b.run('serving_default', x(2), ['y'])).y.numbers()).toEqual([3]);
  });
});

describe('automatic batching (--auto_batching, without --enable_batching)', () => {
  const auto = (inner: Servable, params: Partial<BatchingParameters> = {}) =>
    new BatchingServable(inner, new BatchScheduler({ ...autoBatchingParameters(1), numBatchThreads: 1, ...params }), inner.dir, undefined, false, true);

  /** Runs `requests` while the first one holds the only batch slot, so the rest pile up behind it. */
  async function pileUp(b: Servable, open: () => void, signature: string, requests: Record<string, Tensor>[]) {
    const answers = requests.map((r) => b.run(signature, r));
    open();
    return Promise.all(answers);
  }

  it('merges concurrent f_mnist runs while a batch is running, and answers each as an unbatched run does', async () => {
    let open!: () => void;
    const inner = recording(fmnist, new Promise<void>((r) => (open = r)));
    const b = auto(inner);
    const alone = [];
    for (const r of [pngs(0, 1), pngs(1, 1), pngs(2, 2), pngs(4, 1)]) alone.push((await fmnist.run('serving_default', r)).output_0.strings());
    const answers = await pileUp(b, open, 'serving_default', [pngs(0, 1), pngs(1, 1), pngs(2, 2), pngs(4, 1)]);
    // A lone request runs at once (timeout 0); the three behind it form one batch.
    expect(inner.runs).toEqual([1, 4]);
    expect(answers.map((a) => a.output_0.strings())).toEqual(alone);
  });

  it('gives a bad image in an automatic batch its own error and the others their answers', async () => {
    let open!: () => void;
    const inner = recording(fmnist, new Promise<void>((r) => (open = r)));
    const bad = () => ({ input_images: Tensor.from('string', [1], ['bm90IGFuIGltYWdl']) });
    const aloneError = await errorOf(fmnist.run('serving_default', bad()));
    const expected = (await fmnist.run('serving_default', pngs(20, 2))).output_0.strings();
    const b = auto(inner);
    const first = b.run('serving_default', pngs(19, 1));
    const settled = Promise.allSettled([b.run('serving_default', pngs(20, 2)), b.run('serving_default', bad())]);
    open();
    await first;
    const [good, failed] = await settled;
    expect(good.status === 'fulfilled' && good.value.output_0.strings()).toEqual(expected);
    expect(failed.status === 'rejected' && (failed.reason as StatusError).message).toBe(aloneError.message);
    // The two were merged (3 rows), failed together, and were retried one by one.
    expect(inner.runs).toEqual([1, 3, 2, 1]);
  });

  it('leaves models that write state alone', async () => {
    const counter = await engine.load(path.join(FIXTURES, 'saved_model_counter/00000123'));
    try {
      expect(counter.mutatesState).toBe(true);
      let open!: () => void;
      const inner = recording(counter, new Promise<void>((r) => (open = r)));
      await pileUp(auto(inner), open, 'incr_counter_by', [1, 2, 3].map((d) => ({ delta: Tensor.from('float32', [], [d]) })));
      expect((await counter.run('get_counter', {})).output.numbers()).toEqual([6]);
    } finally {
      await counter.dispose();
    }
    // A batch-shaped signature of a model said to write state is not merged either.
    let open!: () => void;
    const inner = { ...recording(halfPlusTwo, new Promise<void>((r) => (open = r))), mutatesState: true };
    const answers = await pileUp(auto(inner), open, 'serving_default', [x(1), x(2), x(3)]);
    expect(inner.runs).toEqual([1, 1, 1]);
    expect(answers.map((a) => a.y.numbers())).toEqual([[2.5], [3], [3.5]]);
  });

  it('leaves signatures without a batch dimension alone', async () => {
    const tf2 = await engine.load(path.join(FIXTURES, 'saved_model_half_plus_two_tf2_cpu/00000123'));
    try {
      // serving_default is x: [1] → y: [1]: a fixed size, not a batch dimension.
      let open!: () => void;
      const inner = recording(tf2, new Promise<void>((r) => (open = r)));
      const answers = await pileUp(auto(inner), open, 'serving_default', [x(1), x(2), x(3)]);
      expect(inner.runs).toEqual([1, 1, 1]);
      expect(answers.map((a) => a.y.numbers())).toEqual([[2.5], [3], [3.5]]);
    } finally {
      await tf2.dispose();
    }
  });

  it('runs a request larger than a batch alone instead of refusing it, and its queue is never full', async () => {
    let open!: () => void;
    const inner = recording(halfPlusTwo, new Promise<void>((r) => (open = r)));
    const b = auto(inner, { maxBatchSize: 2, maxEnqueuedBatches: autoBatchingParameters(1).maxEnqueuedBatches });
    const requests = [x(1), x(1, 2, 3), ...Array.from({ length: 20 }, (_, i) => x(i))];
    const answers = await pileUp(b, open, 'serving_default', requests);
    expect(answers[1].y.numbers()).toEqual([2.5, 3, 3.5]);
    expect(answers.slice(2).map((a) => a.y.numbers()[0])).toEqual(Array.from({ length: 20 }, (_, i) => i / 2 + 2));
    // The first runs alone, the large one bypasses the batcher, the 20 others go in batches of 2.
    expect(inner.runs.filter((n) => n === 3)).toEqual([3]);
    expect(inner.runs.filter((n) => n === 2).length).toBe(10);
  });
});
