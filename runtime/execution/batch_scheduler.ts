/**
 * The dynamic batch scheduler (TF Serving's SharedBatchScheduler): several
 * queues (one per servable and signature) share `numBatchThreads` batch
 * slots. A queue gathers tasks into batches of at most `maxBatchSize`
 * elements; a batch is processed once it is full, once `batchTimeoutMicros`
 * has passed since it opened, or at once when the timeout is 0, whenever a
 * slot is free. Queues take turns. A task larger than a batch is
 * INVALID_ARGUMENT; a task that would need more than `maxEnqueuedBatches`
 * batches waiting is UNAVAILABLE, as in TF Serving.
 *
 * Tasks only share a batch when their `key`s are equal (same dtypes and
 * shapes beyond dimension 0), so every batch concatenates cleanly.
 *
 * Adaptive mode (automatic batching, timeout 0): right after a batch of
 * several tasks was answered, its clients usually send their next requests
 * within a fraction of the batch's run time. Starting the next batch at once
 * with whatever is queued splits the clients into two groups that take
 * turns with half-size batches (measured on recurrent nets at 16
 * connections: batches of 2-8 instead of 16, each paying the per-step cost
 * of a whole run). So the next batch waits until it has as many tasks as the
 * last one, or is full, or a quarter of the last batch's run time (at most
 * ADAPTIVE_MAX_WAIT_MS) has passed since that batch ended. A lone client
 * (last batch of one task) never waits.
 */
import { invalidArgument, unavailable } from '../errors.js';
import type { BatchingParameters } from './batching_parameters.js';

export interface BatchTask {
  /** Elements along dimension 0. */
  readonly size: number;
  /** Tasks with different keys never share a batch. */
  readonly key: string;
}

/**
 * Runs one batch. It may return a function that answers the batch's tasks:
 * the scheduler calls it after freeing the batch slot and starting the next
 * batch, so the model computes the next batch while this one's answers are
 * written.
 */
export type ProcessBatch<T> = (tasks: T[]) => Promise<void | (() => void)>;

interface Batch<T> {
  tasks: T[];
  size: number;
  key: string;
  /** performance.now() when the batch opened. */
  opened: number;
}

/** Longest an adaptive queue holds a batch back for more tasks. */
export const ADAPTIVE_MAX_WAIT_MS = 5;

export class BatchQueue<T extends BatchTask> {
  /** Batches waiting for a slot, oldest first. */
  readonly batches: Batch<T>[] = [];
  /** The last batch run from this queue: its task count, run time and end (performance.now()). */
  lastTasks = 0;
  lastMs = 0;
  lastEnd = -Infinity;

  constructor(
    private readonly scheduler: BatchScheduler,
    readonly process: ProcessBatch<T>,
  ) {}

  /** Adds a task; throws INVALID_ARGUMENT (too large) or UNAVAILABLE (queue full). */
  schedule(task: T): void {
    const p = this.scheduler.params;
    if (task.size > p.maxBatchSize) {
      throw invalidArgument(`Task size ${task.size} is larger than maximum batch size ${p.maxBatchSize}`);
    }
    let batch = this.batches.find((b) => b.key === task.key && b.size + task.size <= p.maxBatchSize);
    if (!batch) {
      if (this.batches.length >= p.maxEnqueuedBatches) {
        throw unavailable('The batch scheduling queue to which this task was submitted is full');
      }
      batch = { tasks: [], size: 0, key: task.key, opened: performance.now() };
      this.batches.push(batch);
    }
    batch.tasks.push(task);
    batch.size += task.size;
    this.scheduler.pump();
  }

  /** Stops scheduling this queue (its servable is unloaded); waiting batches still run. */
  close(): void {
    this.scheduler.removeQueue(this);
  }

  /** When an adaptive queue's first batch may run at the latest (its wait for more tasks ends). */
  adaptiveDeadline(): number {
    return this.lastEnd + Math.min(ADAPTIVE_MAX_WAIT_MS, this.lastMs / 4);
  }

  /** The first batch, taken when it may run now. */
  takeReady(now: number, timeoutMs: number, maxBatchSize: number, adaptive: boolean): Batch<T> | undefined {
    const first = this.batches[0];
    if (!first) return undefined;
    if (first.size >= maxBatchSize || this.batches.length > 1) return this.batches.shift();
    if (adaptive) {
      if (this.lastTasks <= 1 || first.tasks.length >= this.lastTasks || now >= this.adaptiveDeadline()) return this.batches.shift();
      return undefined;
    }
    if (now - first.opened >= timeoutMs) return this.batches.shift();
    return undefined;
  }
}

export class BatchScheduler {
  private readonly queues: BatchQueue<BatchTask>[] = [];
  private running = 0;
  private cursor = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  /** `adaptive`: hold a batch back briefly for the last batch's clients (see the module comment); for timeout-0 automatic batching. */
  constructor(
    readonly params: BatchingParameters,
    readonly adaptive = false,
  ) {}

  addQueue<T extends BatchTask>(process: ProcessBatch<T>): BatchQueue<T> {
    const queue = new BatchQueue<T>(this, process);
    this.queues.push(queue as unknown as BatchQueue<BatchTask>);
    return queue;
  }

  removeQueue(queue: object): void {
    const i = this.queues.indexOf(queue as BatchQueue<BatchTask>);
    if (i < 0) return;
    // Whatever still waits runs first.
    const q = this.queues[i];
    this.queues.splice(i, 1);
    for (const batch of q.batches.splice(0)) this.start(q, batch);
  }

  /** Batches being processed now. */
  get inFlight(): number {
    return this.running;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  /** Starts every batch that may run now, and arms a timer for the next one to time out. */
  pump(): void {
    const timeoutMs = this.params.batchTimeoutMicros / 1000;
    while (this.running < this.params.numBatchThreads && this.queues.length > 0) {
      const now = performance.now();
      let started = false;
      for (let k = 0; k < this.queues.length; k++) {
        const queue = this.queues[(this.cursor + k) % this.queues.length];
        const batch = queue.takeReady(now, timeoutMs, this.params.maxBatchSize, this.adaptive);
        if (!batch) continue;
        this.cursor = (this.cursor + k + 1) % this.queues.length;
        this.start(queue, batch);
        started = true;
        break;
      }
      if (!started) break;
    }
    this.armTimer(timeoutMs);
  }

  private start(queue: BatchQueue<BatchTask>, batch: Batch<BatchTask>): void {
    this.running++;
    const began = performance.now();
    const ended = () => {
      const now = performance.now();
      queue.lastTasks = batch.tasks.length;
      queue.lastMs = now - began;
      queue.lastEnd = now;
    };
    queue.process(batch.tasks).then(
      (answer) => {
        this.running--;
        ended();
        this.pump();
        answer?.();
      },
      () => {
        this.running--;
        ended();
        this.pump();
      },
    );
  }

  private armTimer(timeoutMs: number): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.closed || this.running >= this.params.numBatchThreads) return;
    let earliest = Infinity;
    for (const q of this.queues) {
      if (q.batches.length === 0) continue;
      earliest = Math.min(earliest, this.adaptive ? q.adaptiveDeadline() : q.batches[0].opened + timeoutMs);
    }
    if (earliest === Infinity) return;
    this.timer = setTimeout(() => this.pump(), Math.max(0, earliest - performance.now()));
  }
}
