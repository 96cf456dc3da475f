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

export class BatchQueue<T extends BatchTask> {
  /** Batches waiting for a slot, oldest first. */
  readonly batches: Batch<T>[] = [];

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

  /** The first batch, taken when it may run now. */
  takeReady(now: number, timeoutMs: number, maxBatchSize: number): Batch<T> | undefined {
    const first = this.batches[0];
    if (!first) return undefined;
    if (first.size >= maxBatchSize || this.batches.length > 1 || now - first.opened >= timeoutMs) return this.batches.shift();
    return undefined;
  }
}

export class BatchScheduler {
  private readonly queues: BatchQueue<BatchTask>[] = [];
  private running = 0;
  private cursor = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(readonly params: BatchingParameters) {}

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
        const batch = queue.takeReady(now, timeoutMs, this.params.maxBatchSize);
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
    queue.process(batch.tasks).then(
      (answer) => {
        this.running--;
        this.pump();
        answer?.();
      },
      () => {
        this.running--;
        this.pump();
      },
    );
  }

  private armTimer(timeoutMs: number): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.closed || this.running >= this.params.numBatchThreads) return;
    let earliest = Infinity;
    for (const q of this.queues) if (q.batches.length > 0) earliest = Math.min(earliest, q.batches[0].opened + timeoutMs);
    if (earliest === Infinity) return;
    this.timer = setTimeout(() => this.pump(), Math.max(0, earliest - performance.now()));
  }
}
