/**
 * A pool of inference worker threads (worker_main.ts), sized to the cores, so
 * that model execution never runs on the HTTP event loop.
 *
 * Every model is loaded into every worker (or into `copies` of them, the
 * workers holding the fewest models, to bound memory for large models; by
 * default as many as fit in a quarter of the machine's memory,
 * model_copies.ts), and
 * each run goes to the least busy worker holding it; a model whose
 * signatures write state (variables)
 * is kept in one worker only, so its runs see each other's effects in order,
 * as in one TensorFlow session. Feeds are moved to the worker, outputs moved
 * back (tensor_transfer.ts). A worker that dies fails the runs it had, is
 * replaced, and gets its models loaded again.
 *
 * Faults and deadlines:
 *  - A run whose AbortSignal fires (deadline, client gone) is answered at
 *    once with the signal's reason; the worker is told through its shared
 *    cancel flags and stops between kernels. One that does not stop within
 *    CANCEL_GRACE_MS (a single endless kernel) gets its worker terminated
 *    and replaced.
 *  - A run that breaks a worker's engine (WASM trap or abort, e.g. out of
 *    memory) fails with the worker's error; the worker bounces the runs
 *    queued behind it, which run on another worker (or the replacement),
 *    and is replaced.
 *  - A run that takes a worker's WASM memory over `maxWasmMb` is stopped at
 *    the next kernel with RESOURCE_EXHAUSTED and the worker is recycled the
 *    same way (WASM memory never shrinks).
 *  - A worker over its heap cap (`maxHeapMb`, Worker resourceLimits) dies
 *    with ERR_WORKER_OUT_OF_MEMORY: the run it was on fails with
 *    RESOURCE_EXHAUSTED, the runs queued behind it with UNAVAILABLE.
 *
 * Not a generic task pool (such as piscina): models are long-lived per-worker
 * state that loads, runs and unloads must address, which a task pool hides.
 */
import fs from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ModelDescription, RunOptions, Servable } from '../engine.js';
import { internal, StatusError } from '../errors.js';
import { runtimeLimits } from '../limits.js';
import { imageLimits } from '../kernels/image_limits.js';
import { graphOptimizations } from '../graph/optimize/options.js';
import { simdKernelMode } from '../simd/simd_kernels.js';
import type { Tensor } from '../tensor.js';
import { defaultModelCopies, folderBytes } from './model_copies.js';
import { fromWireTensors, toWireTensors } from './tensor_transfer.js';
import { CANCEL_SLOTS, markCancelled, type LoadedInfo, type WorkerReply, type WorkerRequest, type WorkerStartData } from './worker_protocol.js';
import type { WireTensors } from './tensor_transfer.js';

/** A request sent to a worker and not answered yet. */
interface Pending {
  kind: WorkerRequest['kind'];
  settle(reply: WorkerReply): void;
  fail(e: Error): void;
}
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

/** How long a cancelled run may take to stop before its worker is terminated and replaced. */
export const CANCEL_GRACE_MS = 2000;
/** How long a worker whose engine broke may take to hand back its queued runs before it is terminated. */
const RETIRE_WAIT_MS = 2000;
/** Default heap cap of an inference worker (V8 old generation, MiB). */
export const DEFAULT_WORKER_HEAP_MB = 2048;
/** Default WASM memory cap of an inference worker (MiB; a WASM instance can address 4096). */
export const DEFAULT_WORKER_WASM_MB = 3072;

interface PoolWorker {
  worker: Worker;
  pending: Map<number, Pending>;
  /** Models this worker holds and can run now. */
  ready: Set<number>;
  exited: boolean;
  /** Cancel flags shared with the worker (see worker_protocol.ts). */
  cancel: Int32Array;
  /** Set when the worker is being replaced (its engine broke, or a cancelled run did not stop): it takes no new work. */
  retiring?: string;
  /** Resolves once the worker has exited and its replacement is in its slot. */
  gone: Promise<void>;
  markGone: () => void;
  /** Reloads into this (replacement) worker still running. */
  reloads: number;
  spawnedAt: number;
  answered: boolean;
}

interface ModelEntry {
  dir: string;
  tags: readonly string[];
  /** Workers (by slot) that hold the model. */
  slots: Set<number>;
}

/** The compiled worker script; under vitest (TypeScript sources) the built copy in dist/. */
export function workerScriptPath(): string {
  const here = fileURLToPath(import.meta.url);
  const script = here.endsWith('.ts')
    ? fileURLToPath(new URL('../../dist/runtime/execution/worker_main.js', import.meta.url))
    : fileURLToPath(new URL('./worker_main.js', import.meta.url));
  if (!fs.existsSync(script)) throw internal(`The inference worker script ${script} is missing; run \`npm run build\`.`);
  return script;
}

/**
 * One inference thread per core, less the core the HTTP event loop needs:
 * with every core computing, the event loop waits for CPU time and status
 * requests stall behind the model (measured here: 60 ms stalls on 2 cores).
 */
export function defaultThreads(): number {
  return Math.max(1, os.availableParallelism() - 1);
}

export interface WorkerPoolOptions {
  threads: number;
  /** Workers each model is loaded into (default and 0: by the model's size, defaultModelCopies()). */
  copies?: number;
  /** Told when a worker dies and is replaced. */
  onWorkerExit?: (message: string) => void;
  /** Heap cap of each worker in MiB (V8 old generation; default DEFAULT_WORKER_HEAP_MB). WASM memory is apart. */
  maxHeapMb?: number;
  /** WASM memory cap of each worker in MiB (default DEFAULT_WORKER_WASM_MB; 0: none, up to the 4 GiB a WASM instance addresses). */
  maxWasmMb?: number;
}

export class WorkerPool {
  private readonly slots: PoolWorker[] = [];
  private readonly models = new Map<number, ModelEntry>();
  private readonly script = workerScriptPath();
  private nextId = 1;
  private nextModel = 1;
  private rotate = 0;
  private closed = false;
  /** Called whenever a worker becomes ready for a model or stops reloading (runs waiting for a replacement). */
  private readonly waiters = new Set<() => void>();

  constructor(private readonly options: WorkerPoolOptions) {
    if (!Number.isInteger(options.threads) || options.threads < 1) throw internal(`a worker pool needs at least 1 thread, got ${options.threads}`);
    for (let i = 0; i < options.threads; i++) this.slots.push(this.spawn(i));
  }

  get threads(): number {
    return this.slots.length;
  }

  /** Runs in flight or queued per worker (for tests and metrics). */
  pendingPerWorker(): number[] {
    return this.slots.map((w) => w.pending.size);
  }

  /** Loads the SavedModel at `dir` into the workers; rejects with the load error. */
  async load(dir: string, tags: readonly string[]): Promise<Servable> {
    if (this.closed) throw internal('the worker pool is closed');
    const model = this.nextModel++;
    const entry: ModelEntry = { dir, tags, slots: new Set() };
    this.models.set(model, entry);
    const copies = this.options.copies || defaultModelCopies(await folderBytes(dir), this.slots.length);
    const results = await Promise.allSettled(this.slotsForNewModel(copies).map((slot) => this.loadInto(slot, model)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await this.unload(model);
      throw failed.reason;
    }
    const info = (results[0] as PromiseFulfilledResult<LoadedInfo>).value;
    if (info.mutatesState) {
      // One copy only: state changes must be seen by every later run.
      const keep = this.leastLoadedSlot([...entry.slots]);
      await Promise.all([...entry.slots].filter((s) => s !== keep).map((s) => this.unloadFrom(s, model)));
    }
    return new PooledServable(this, model, { dir, tags, signatures: info.signatures, signatureDefs: info.signatureDefs, mutatesState: info.mutatesState });
  }

  /**
   * Runs a signature of `model` on the least busy worker holding it. Feeds are
   * moved (owned by the pool from here). When `signal` aborts, the run is
   * answered with its reason at once and stopped in the worker.
   */
  run(model: number, signature: string, feeds: Record<string, Tensor>, outputKeys?: readonly string[], signal?: AbortSignal): Promise<Record<string, Tensor>> {
    // Dispatched at once when a worker is ready (so the busy counts are current for the next caller).
    const slot = signal?.aborted || this.closed ? -1 : this.pickSlot(model);
    if (slot >= 0) return this.dispatch(slot, model, signature, feeds, outputKeys, signal);
    return this.readySlot(model, signal).then((s) => this.dispatch(s, model, signature, feeds, outputKeys, signal));
  }

  async unload(model: number): Promise<void> {
    const entry = this.models.get(model);
    if (!entry) return;
    this.models.delete(model);
    await Promise.all([...entry.slots].map((s) => this.unloadFrom(s, model)));
  }

  /** Terminates every worker; runs still pending fail with UNAVAILABLE. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.notifyWaiters();
    await Promise.all(this.slots.map((w) => w.worker.terminate()));
  }

  private spawn(slot: number): PoolWorker {
    const cancelFlags = new SharedArrayBuffer(CANCEL_SLOTS * Int32Array.BYTES_PER_ELEMENT);
    const worker = new Worker(this.script, {
      name: `modelhost-inference-${slot}`,
      // The worker applies this thread's runtime limits (limits.ts) at start.
      workerData: { cancelFlags, wasmCapMb: this.options.maxWasmMb ?? DEFAULT_WORKER_WASM_MB, limits: runtimeLimits(), imageLimits: imageLimits(), graphOptimizations: [...graphOptimizations()], simdKernels: simdKernelMode() } satisfies WorkerStartData,
      resourceLimits: { maxOldGenerationSizeMb: this.options.maxHeapMb ?? DEFAULT_WORKER_HEAP_MB },
    });
    let markGone = () => {};
    const gone = new Promise<void>((resolve) => (markGone = resolve));
    const w: PoolWorker = { worker, pending: new Map(), ready: new Set(), exited: false, cancel: new Int32Array(cancelFlags), gone, markGone, reloads: 0, spawnedAt: Date.now(), answered: false };
    worker.on('message', (reply: WorkerReply) => {
      w.answered = true;
      const p = w.pending.get(reply.id);
      if (!p) return;
      w.pending.delete(reply.id);
      if (reply.kind === 'error' && reply.fatal) this.retire(slot, w, reply.message);
      if (reply.kind === 'ok' && reply.retire) this.retire(slot, w, reply.retire);
      p.settle(reply);
      if (w.retiring && w.pending.size === 0) void worker.terminate();
    });
    let lastError: Error | undefined;
    worker.on('error', (e) => (lastError = e));
    worker.on('exit', (code) => this.onExit(slot, w, code, lastError));
    return w;
  }

  /** Takes a worker out of service and terminates it once it has answered what it holds (at most RETIRE_WAIT_MS). */
  private retire(slot: number, w: PoolWorker, why: string): void {
    if (w.retiring || w.exited) return;
    w.retiring = why;
    w.ready.clear();
    this.options.onWorkerExit?.(`inference worker ${slot} is being replaced: ${why}`);
    setTimeout(() => void w.worker.terminate(), RETIRE_WAIT_MS).unref();
  }

  private onExit(slot: number, w: PoolWorker, code: number, error: Error | undefined): void {
    w.exited = true;
    w.ready.clear();
    const outOfMemory = (error as NodeJS.ErrnoException | undefined)?.code === 'ERR_WORKER_OUT_OF_MEMORY';
    const cause = w.retiring ?? (outOfMemory
      ? `it ran out of memory (heap cap ${this.options.maxHeapMb ?? DEFAULT_WORKER_HEAP_MB} MiB, --inference_worker_heap_mb)`
      : error ? error.message : `exit code ${code}`);
    const why = this.closed
      ? 'the server is shutting down'
      : `inference worker ${slot} ${w.retiring ? 'was stopped' : 'stopped unexpectedly'} (${cause})`;
    // The run the worker was on (the oldest it holds) caused the exit; runs queued behind it were never started.
    let first = true;
    for (const p of w.pending.values()) {
      if (this.closed) p.fail(new StatusError('UNAVAILABLE', why));
      else if (outOfMemory && p.kind === 'load') p.fail(new StatusError('RESOURCE_EXHAUSTED', why));
      else if (first && p.kind === 'run' && !w.retiring) p.fail(new StatusError(outOfMemory ? 'RESOURCE_EXHAUSTED' : 'INTERNAL', why));
      else p.fail(new StatusError('UNAVAILABLE', `${why} while this request waited for it; retry`));
      if (p.kind === 'run') first = false;
    }
    w.pending.clear();
    if (this.closed) {
      w.markGone();
      return;
    }
    const quickDeath = !w.answered && Date.now() - w.spawnedAt < 2000;
    this.options.onWorkerExit?.(`${why}; starting a new one`);
    const respawn = () => {
      if (this.closed) return w.markGone();
      const replacement = this.spawn(slot);
      this.slots[slot] = replacement;
      w.markGone();
      for (const [model, entry] of this.models) {
        if (!entry.slots.has(slot)) continue;
        entry.slots.delete(slot);
        replacement.reloads++;
        this.loadInto(slot, model)
          .catch((e: Error) => this.options.onWorkerExit?.(`reloading ${entry.dir} in worker ${slot} failed: ${e.message}`))
          .finally(() => {
            replacement.reloads--;
            this.notifyWaiters();
          });
      }
      this.notifyWaiters();
    };
    // A worker that dies before answering anything (say, a heap cap too small to start) is not respawned in a tight loop.
    if (quickDeath) setTimeout(respawn, 1000).unref();
    else respawn();
  }

  private async loadInto(slot: number, model: number, retried = false): Promise<LoadedInfo> {
    // A worker being replaced takes no new model: wait for its replacement (which reloads only what it held).
    while (this.slots[slot].retiring || this.slots[slot].exited) {
      if (this.closed) throw internal('the worker pool is closed');
      await this.slots[slot].gone;
    }
    const entry = this.models.get(model);
    if (!entry) throw internal(`model ${model} was unloaded while loading`);
    let reply: WorkerReply & { kind: 'ok' };
    try {
      reply = await this.send(slot, { kind: 'load', model, dir: entry.dir, tags: entry.tags });
    } catch (e) {
      // The worker was replaced while the load waited behind another run: load into the replacement, once.
      if (!(e instanceof StatusError && e.code === 'UNAVAILABLE') || this.closed || retried) throw e;
      return this.loadInto(slot, model, true);
    }
    entry.slots.add(slot);
    this.slots[slot].ready.add(model);
    this.notifyWaiters();
    if (!this.models.has(model)) await this.unloadFrom(slot, model);
    return reply.loaded!;
  }

  private async unloadFrom(slot: number, model: number): Promise<void> {
    const w = this.slots[slot];
    w.ready.delete(model);
    this.models.get(model)?.slots.delete(slot);
    if (w.exited) return;
    await this.send(slot, { kind: 'unload', model }).catch(() => {});
  }

  /** The workers a new model goes to: all, or the `copies` holding the fewest models. */
  private slotsForNewModel(copies: number): number[] {
    const all = this.slots.map((_, i) => i);
    if (copies >= all.length) return all;
    const held = (slot: number) => [...this.models.values()].filter((m) => m.slots.has(slot)).length;
    return all.sort((a, b) => held(a) - held(b) || a - b).slice(0, copies);
  }

  private leastLoadedSlot(candidates: number[]): number {
    let best = candidates[0];
    for (const s of candidates) if (this.slots[s].pending.size < this.slots[best].pending.size) best = s;
    return best;
  }

  private notifyWaiters(): void {
    const waiting = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiting) wake();
  }

  /**
   * The least busy worker ready for `model`; while none is but one is being
   * replaced (and will reload the model), waits for it, or until `signal` aborts.
   */
  private async readySlot(model: number, signal?: AbortSignal): Promise<number> {
    for (;;) {
      if (signal?.aborted) throw signal.reason;
      if (this.closed) throw new StatusError('UNAVAILABLE', 'the server is shutting down');
      const slot = this.pickSlot(model);
      if (slot >= 0) return slot;
      const replacing = this.slots.some((w) => w.retiring !== undefined || w.exited || w.reloads > 0);
      if (!this.models.has(model) || !replacing) throw internal(`model ${model} is not loaded in any inference worker`);
      await new Promise<void>((resolve) => {
        this.waiters.add(resolve);
        signal?.addEventListener('abort', () => resolve(), { once: true });
      });
    }
  }

  /** Sends one run to `slot`; see run(). */
  private dispatch(slot: number, model: number, signature: string, feeds: Record<string, Tensor>, outputKeys: readonly string[] | undefined, signal: AbortSignal | undefined): Promise<Record<string, Tensor>> {
    const w = this.slots[slot];
    const transfer: ArrayBuffer[] = [];
    const wire = toWireTensors(feeds, transfer, true);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      let done = false;
      let grace: NodeJS.Timeout | undefined;
      const finish = (): boolean => {
        clearTimeout(grace);
        if (done) return false;
        done = true;
        signal?.removeEventListener('abort', onAbort);
        return true;
      };
      const onAbort = () => {
        if (!finish()) return;
        reject(signal!.reason);
        // The run stays pending (its worker is busy with it) until the worker notices the flag and answers.
        markCancelled(w.cancel, id);
        grace = setTimeout(() => {
          if (!w.pending.has(id)) return;
          // Stuck in one kernel: nothing will come back from this worker.
          this.retire(slot, w, `a cancelled run did not stop within ${CANCEL_GRACE_MS} ms`);
          void w.worker.terminate();
        }, CANCEL_GRACE_MS);
        grace.unref();
      };
      const retryElsewhere = (back: WireTensors) => {
        this.run(model, signature, fromWireTensors(back), outputKeys, signal).then(resolve, reject);
      };
      w.pending.set(id, {
        kind: 'run',
        settle: (reply) => {
          if (!finish()) return;
          if (reply.kind === 'ok') resolve(fromWireTensors(reply.outputs ?? {}));
          else if (reply.kind === 'bounced') retryElsewhere(reply.feeds);
          else reject(new StatusError(reply.code, reply.message));
        },
        fail: (e) => {
          if (finish()) reject(e);
        },
      });
      signal?.addEventListener('abort', onAbort, { once: true });
      w.worker.postMessage({ kind: 'run', id, model, signature, feeds: wire, outputKeys } satisfies WorkerRequest, transfer);
    });
  }

  /** The least busy worker ready for `model`, or -1. */
  private pickSlot(model: number): number {
    const n = this.slots.length;
    let best = -1;
    // Start the scan at a rotating slot so equally idle workers share the work.
    const start = this.rotate++ % n;
    for (let k = 0; k < n; k++) {
      const s = (start + k) % n;
      const w = this.slots[s];
      if (!w.ready.has(model)) continue;
      if (best < 0 || w.pending.size < this.slots[best].pending.size) best = s;
    }
    return best;
  }

  /** Sends a load or unload to `slot`'s worker. */
  private send(slot: number, request: WithoutId<WorkerRequest & { kind: 'load' | 'unload' }>): Promise<WorkerReply & { kind: 'ok' }> {
    const w = this.slots[slot];
    if (w.exited) return Promise.reject(new StatusError('UNAVAILABLE', `inference worker ${slot} is not running`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      w.pending.set(id, {
        kind: request.kind,
        settle: (reply) => {
          if (reply.kind === 'ok') resolve(reply);
          else if (reply.kind === 'error') reject(new StatusError(reply.code, reply.message));
          else reject(internal(`unexpected ${reply.kind} reply to a ${request.kind}`));
        },
        fail: reject,
      });
      w.worker.postMessage({ ...request, id });
    });
  }
}

/** A model loaded into the pool. */
class PooledServable implements Servable {
  readonly dir: string;
  readonly tags: readonly string[];
  readonly signatures: ModelDescription['signatures'];
  readonly signatureDefs: ModelDescription['signatureDefs'];
  readonly mutatesState?: boolean;
  private disposed = false;

  constructor(
    private readonly pool: WorkerPool,
    private readonly model: number,
    description: ModelDescription,
  ) {
    ({ dir: this.dir, tags: this.tags, signatures: this.signatures, signatureDefs: this.signatureDefs, mutatesState: this.mutatesState } = description);
  }

  run(signature: string, feeds: Record<string, Tensor>, outputKeys?: readonly string[], options?: RunOptions): Promise<Record<string, Tensor>> {
    if (this.disposed) return Promise.reject(internal(`model ${this.dir} has been unloaded`));
    return this.pool.run(this.model, signature, feeds, outputKeys, options?.signal);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.pool.unload(this.model);
  }
}
