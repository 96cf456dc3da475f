/**
 * Dynamic batching of one servable's runs (TF Serving's BatchingSession):
 * concurrent runs of the same signature, with the same outputs and inner
 * shapes, are concatenated along dimension 0, run once, and split back.
 * Padding up to `allowed_batch_sizes` repeats the first row of the last task.
 *
 * Runs that cannot join a batch go straight to the servable: an output
 * subset other than the whole signature (as TF Serving bypasses its batcher
 * for an unknown tensor signature), or feeds that do not match the signature
 * (so the model reports its own error). When a batch of several tasks fails,
 * each task is retried alone, so one bad request never fails the others and
 * every answer equals the unbatched one.
 *
 * A task whose signal aborts is answered at once; still queued, it is left
 * out of its batch; a batch is stopped only once every task in it has been
 * abandoned.
 *
 * Automatic batching (`auto`, modelhost's default without --enable_batching,
 * see batching_parameters.ts autoBatchingParameters) adds no outcome TF
 * Serving without batching would not give: it merges only signatures whose
 * every input and output has an unknown leading (batch) dimension, of models
 * that write no state; a run larger than a batch, or of size 0, runs alone
 * instead of being refused; its queue is never full.
 */
import type { RunOptions, Servable, SignatureInfo } from '../engine.js';
import { failedPrecondition, invalidArgument, toStatusError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import type { BatchQueue, BatchScheduler, BatchTask } from './batch_scheduler.js';
import { concatRows, splitRows } from './batch_tensors.js';

/** What one processed batch was, for metrics (TF Serving's batching_session metrics). */
export interface BatchReport {
  model: string;
  signature: string;
  /** Tasks merged. */
  tasks: number;
  /** Elements along dimension 0, before padding. */
  size: number;
  /** Rows added to reach an allowed batch size. */
  padding: number;
  /** Seconds each task waited in the queue. */
  queuedSeconds: number[];
}

interface RunTask extends BatchTask {
  feeds: Record<string, Tensor>;
  /** performance.now() at enqueue. */
  enqueued: number;
  resolve: (outputs: Record<string, Tensor>) => void;
  reject: (e: unknown) => void;
  signal?: AbortSignal;
  /** Set once the task was answered by its signal's abort. */
  abandoned: boolean;
}

/** A signal that aborts once every task's signal has (undefined when some task has none: never). */
function allAbandoned(tasks: readonly RunTask[]): AbortSignal | undefined {
  if (tasks.some((t) => !t.signal)) return undefined;
  const controller = new AbortController();
  let left = tasks.length;
  for (const t of tasks) {
    const onAbort = () => {
      if (--left === 0) controller.abort(t.signal!.reason);
    };
    if (t.signal!.aborted) onAbort();
    else t.signal!.addEventListener('abort', onAbort, { once: true });
  }
  return controller.signal;
}

/** Elements along dimension 0 that every input shares (TF Serving's ComputeInputSize). */
export function batchSizeOf(feeds: Record<string, Tensor>): number {
  const tensors = Object.values(feeds);
  if (tensors.length === 0) throw invalidArgument('Batching session Run() must have at least one input tensor');
  let size: number | undefined;
  for (const t of tensors) {
    if (t.rank === 0) throw invalidArgument('Batching session Run() input tensors must have at least one dimension');
    if (size === undefined) size = t.shape[0];
    else if (t.shape[0] !== size) throw invalidArgument('Batching session Run() input tensors must have equal 0th-dimension size');
  }
  return size!;
}

function feedsMatch(signature: SignatureInfo, feeds: Record<string, Tensor>): boolean {
  const names = Object.keys(feeds);
  if (names.length !== Object.keys(signature.inputs).length) return false;
  return names.every((n) => signature.inputs[n]?.dtype === feeds[n].dtype);
}

/** A signature automatic batching may merge: every input and output has an unknown leading dimension. */
export function autoBatchable(signature: SignatureInfo): boolean {
  const specs = [...Object.values(signature.inputs), ...Object.values(signature.outputs)];
  return specs.length > 0 && specs.every((s) => !s.shape.unknownRank && s.shape.dims.length >= 1 && s.shape.dims[0] === -1);
}

function innerShapeKey(feeds: Record<string, Tensor>): string {
  return Object.keys(feeds)
    .sort()
    .map((n) => `${n}:${feeds[n].shape.slice(1).join('x')}`)
    .join(';');
}

function disposeAll(tensors: Record<string, Tensor>): void {
  for (const t of Object.values(tensors)) t.dispose();
}

export class BatchingServable implements Servable {
  readonly dir: string;
  readonly tags: readonly string[];
  readonly signatures: Servable['signatures'];
  readonly signatureDefs: Servable['signatureDefs'];
  readonly mutatesState?: boolean;
  private readonly queues = new Map<string, BatchQueue<RunTask>>();
  /** Automatic batching: the signatures it merges (see the module comment); undefined: configured batching. */
  private readonly autoSignatures?: Set<string>;

  constructor(
    private readonly inner: Servable,
    private readonly scheduler: BatchScheduler,
    private readonly model = inner.dir,
    private readonly onBatch?: (report: BatchReport) => void,
    /** The scheduler is this servable's own (per-model parameters): close it with the servable. */
    private readonly ownsScheduler = false,
    /** Automatic batching (modelhost's default) rather than --enable_batching. */
    auto = false,
  ) {
    ({ dir: this.dir, tags: this.tags, signatures: this.signatures, signatureDefs: this.signatureDefs, mutatesState: this.mutatesState } = inner);
    if (auto) {
      this.autoSignatures = new Set(inner.mutatesState !== false ? [] : Object.keys(inner.signatures).filter((name) => autoBatchable(inner.signatures[name])));
    }
  }

  run(signature: string, feeds: Record<string, Tensor>, outputKeys?: readonly string[], options?: RunOptions): Promise<Record<string, Tensor>> {
    const info = this.signatures[signature];
    const allOutputs = info && (!outputKeys || sameSet(outputKeys, Object.keys(info.outputs)));
    if (!info || !allOutputs || !feedsMatch(info, feeds)) return this.inner.run(signature, feeds, outputKeys, options);
    const auto = this.autoSignatures;
    if (auto && !(auto.has(signature) && autoSizeFits(feeds, this.scheduler.params.maxBatchSize))) return this.inner.run(signature, feeds, outputKeys, options);
    const signal = options?.signal;
    return new Promise((resolve, reject) => {
      if (signal?.aborted) throw signal.reason;
      const size = batchSizeOf(feeds);
      const task: RunTask = { size, key: innerShapeKey(feeds), feeds, enqueued: performance.now(), resolve, reject, signal, abandoned: false };
      const onAbort = () => {
        task.abandoned = true;
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      task.resolve = (outputs) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(outputs);
      };
      task.reject = (e) => {
        signal?.removeEventListener('abort', onAbort);
        reject(e);
      };
      this.queue(signature).schedule(task);
    });
  }

  async dispose(): Promise<void> {
    for (const q of this.queues.values()) q.close();
    this.queues.clear();
    if (this.ownsScheduler) this.scheduler.close();
    await this.inner.dispose();
  }

  private queue(signature: string): BatchQueue<RunTask> {
    let q = this.queues.get(signature);
    if (!q) {
      q = this.scheduler.addQueue<RunTask>((tasks) => this.process(signature, tasks));
      this.queues.set(signature, q);
    }
    return q;
  }

  /** Runs a batch; returns what answers its tasks (the scheduler calls it once the next batch has started). */
  private async process(signature: string, queued: RunTask[]): Promise<void | (() => void)> {
    const tasks = queued.filter((t) => !t.abandoned);
    for (const t of queued) if (t.abandoned) disposeAll(t.feeds);
    if (tasks.length === 0) return;
    if (this.onBatch) {
      const now = performance.now();
      const size = tasks.reduce((n, t) => n + t.size, 0);
      const allowed = this.scheduler.params.allowedBatchSizes;
      const padding = tasks.length > 1 ? (allowed.find((s) => s >= size) ?? size) - size : 0;
      this.onBatch({ model: this.model, signature, tasks: tasks.length, size, padding, queuedSeconds: tasks.map((t) => (now - t.enqueued) / 1000) });
    }
    if (tasks.length === 1) {
      const [task] = tasks;
      return this.inner.run(signature, task.feeds, undefined, { signal: task.signal }).then(
        (outputs) => () => task.resolve(outputs),
        (e: unknown) => () => task.reject(e),
      );
    }
    let outputs: Record<string, Tensor>[];
    try {
      outputs = await this.runBatch(signature, tasks);
    } catch {
      // One task's bad input (or an output that cannot be split) must not fail the others: run each alone.
      await Promise.all(tasks.map((t) => (t.abandoned ? undefined : this.inner.run(signature, t.feeds, undefined, { signal: t.signal }).then(t.resolve, t.reject))));
      return;
    }
    return () => tasks.forEach((t, i) => t.resolve(outputs[i]));
  }

  /** Merges, runs and splits; on failure the tasks' feeds are left intact for a retry. */
  private async runBatch(signature: string, tasks: RunTask[]): Promise<Record<string, Tensor>[]> {
    const sizes = tasks.map((t) => t.size);
    const total = sizes.reduce((a, b) => a + b, 0);
    const allowed = this.scheduler.params.allowedBatchSizes;
    const padded = allowed.find((s) => s >= total) ?? total;
    const merged: Record<string, Tensor> = {};
    for (const name of Object.keys(tasks[0].feeds)) {
      merged[name] = concatRows(tasks.map((t) => t.feeds[name]), padded - total);
    }
    const combined = await this.inner.run(signature, merged, undefined, { signal: allAbandoned(tasks) });
    try {
      const perTask: Record<string, Tensor>[] = tasks.map(() => ({}));
      for (const [name, t] of Object.entries(combined)) {
        if (t.rank === 0) throw failedPrecondition('Batched output tensor has 0 dimensions');
        if (t.shape[0] !== padded) {
          throw failedPrecondition(
            "Batched output tensor's 0th dimension does not equal the sum of the 0th dimension sizes of the input tensors",
          );
        }
        splitRows(t, sizes).forEach((part, i) => (perTask[i][name] = part));
      }
      for (const t of tasks) disposeAll(t.feeds);
      return perTask;
    } catch (e) {
      throw toStatusError(e);
    }
  }
}

/** Automatic batching takes a run whose inputs share a leading size from 1 to `max` (anything else runs alone). */
function autoSizeFits(feeds: Record<string, Tensor>, max: number): boolean {
  let size = -1;
  for (const name in feeds) {
    const t = feeds[name];
    if (t.rank === 0 || (size >= 0 && t.shape[0] !== size)) return false;
    size = t.shape[0];
  }
  return size >= 1 && size <= max;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}
