/**
 * The scheduler's adaptive mode (automatic batching): after a batch of
 * several tasks, the next batch waits briefly for as many tasks as the last
 * one had, so clients answered together stay batched together; a lone
 * client never waits, and TF Serving's timeout-0 batching is unchanged.
 */
import { describe, expect, it } from 'vitest';
import { autoBatchingParameters } from '../../../runtime/execution/batching_parameters.js';
import { ADAPTIVE_MAX_WAIT_MS, BatchScheduler } from '../../../runtime/execution/batch_scheduler.js';

interface Task {
  size: number;
  key: string;
  id: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A queue whose batches take `runMs` and are recorded as the task ids they held, with their start times. */
function world(adaptive: boolean, runMs: number) {
  const scheduler = new BatchScheduler({ ...autoBatchingParameters(1), numBatchThreads: 1 }, adaptive);
  const batches: { ids: number[]; at: number }[] = [];
  const queue = scheduler.addQueue<Task>(async (tasks) => {
    batches.push({ ids: tasks.map((t) => t.id), at: performance.now() });
    await sleep(runMs);
  });
  let next = 0;
  const add = (n = 1) => {
    for (let i = 0; i < n; i++) queue.schedule({ size: 1, key: 'k', id: next++ });
  };
  return { scheduler, batches, add };
}

/** Resolves once `batches` holds n batches (polling; bounded). */
async function until(batches: unknown[], n: number): Promise<void> {
  const end = performance.now() + 2000;
  while (batches.length < n && performance.now() < end) await sleep(1);
  expect(batches.length).toBe(n);
}

describe('BatchScheduler adaptive mode', () => {
  it('never holds back a lone client', async () => {
    const w = world(true, 20);
    w.add();
    expect(w.batches.map((b) => b.ids)).toEqual([[0]]); // started at once
    await sleep(30);
    const t0 = performance.now();
    w.add();
    expect(w.batches.length).toBe(2);
    expect(w.batches[1].at - t0).toBeLessThan(2);
    w.scheduler.close();
  });

  it('after a batch of four, gathers the next four into one batch instead of starting with the first', async () => {
    // Batches end when the test says so.
    const scheduler = new BatchScheduler({ ...autoBatchingParameters(1), numBatchThreads: 1 }, true);
    const batches: number[][] = [];
    const ends: (() => void)[] = [];
    const queue = scheduler.addQueue<Task>((tasks) => {
      batches.push(tasks.map((t) => t.id));
      return new Promise<void>((resolve) => ends.push(resolve));
    });
    let next = 0;
    const add = (n = 1) => {
      for (let i = 0; i < n; i++) queue.schedule({ size: 1, key: 'k', id: next++ });
    };
    add(); // runs alone; the next four queue behind it and run together
    add(4);
    ends[0]();
    await sleep(0);
    expect(batches).toEqual([[0], [1, 2, 3, 4]]);
    await sleep(30); // a 30 ms batch: the next one may wait up to 5 ms for its clients
    ends[1]();
    await sleep(0);
    add();
    expect(batches.length).toBe(2); // held back for the others
    add(2);
    expect(batches.length).toBe(2);
    add();
    expect(batches).toEqual([[0], [1, 2, 3, 4], [5, 6, 7, 8]]);
    scheduler.close();
  });

  it('waits at most a quarter of the last batch time', async () => {
    const w = world(true, 12);
    w.add();
    w.add(4);
    await until(w.batches, 2);
    await sleep(20);
    const t0 = performance.now();
    w.add();
    await until(w.batches, 3);
    const waited = w.batches[2].at - t0;
    expect(waited).toBeGreaterThan(0);
    expect(waited).toBeLessThanOrEqual(Math.min(ADAPTIVE_MAX_WAIT_MS, 12 / 4) + 15); // timers are coarse on a loaded machine
    expect(w.batches[2].ids).toEqual([5]);
    w.scheduler.close();
  });

  it("without adaptive mode (TF Serving's batching), starts at once with whatever is queued", async () => {
    const w = world(false, 20);
    w.add();
    w.add(4);
    await until(w.batches, 2);
    await sleep(25);
    w.add();
    expect(w.batches.map((b) => b.ids)).toEqual([[0], [1, 2, 3, 4], [5]]);
    w.scheduler.close();
  });
});
