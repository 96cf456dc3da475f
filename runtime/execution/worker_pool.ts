/**
 * A pool of inference worker threads (worker_main.ts), sized to the cores, so
 * that model execution never runs on the HTTP event loop.
 *
 * Every model is loaded into every worker (or into `copies` of them, the
 * workers holding the fewest models, to bound memory for large models), and
 * each run goes to the least busy worker holding it; a model whose
 * signatures write state (variables)
 * is kept in one worker only, so its runs see each other's effects in order,
 * as in one TensorFlow session. Feeds are moved to the worker, outputs moved
 * back (tensor_transfer.ts). A worker that dies fails the runs it had, is
 * replaced, and gets its models loaded again.
 *
 * Not a generic task pool (such as piscina): models are long-lived per-worker
 * state that loads, runs and unloads must address, which a task pool hides.
 */
import fs from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ModelDescription, Servable } from '../engine.js';
import { internal, StatusError } from '../errors.js';
import { imageLimits } from '../kernels/image_limits.js';
import type { Tensor } from '../tensor.js';
import { fromWireTensors, toWireTensors } from './tensor_transfer.js';
import type { LoadedInfo, WorkerReply, WorkerRequest } from './worker_protocol.js';

type Pending = { resolve: (reply: WorkerReply & { kind: 'ok' }) => void; reject: (e: Error) => void };
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

interface PoolWorker {
  worker: Worker;
  pending: Map<number, Pending>;
  /** Models this worker holds and can run now. */
  ready: Set<number>;
  exited: boolean;
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
  /** Workers each model is loaded into (default and 0: all of them). */
  copies?: number;
  /** Told when a worker dies and is replaced. */
  onWorkerExit?: (message: string) => void;
}

export class WorkerPool {
  private readonly slots: PoolWorker[] = [];
  private readonly models = new Map<number, ModelEntry>();
  private readonly script = workerScriptPath();
  private nextId = 1;
  private nextModel = 1;
  private rotate = 0;
  private closed = false;

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
    const results = await Promise.allSettled(this.slotsForNewModel().map((slot) => this.loadInto(slot, model)));
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
    return new PooledServable(this, model, { dir, tags, signatures: info.signatures, signatureDefs: info.signatureDefs });
  }

  /** Runs a signature of `model` on the least busy worker holding it. Feeds are moved (owned by the pool from here). */
  async run(model: number, signature: string, feeds: Record<string, Tensor>, outputKeys?: readonly string[]): Promise<Record<string, Tensor>> {
    const slot = this.pickSlot(model);
    const transfer: ArrayBuffer[] = [];
    const wire = toWireTensors(feeds, transfer, true);
    const reply = await this.send(slot, { kind: 'run', model, signature, feeds: wire, outputKeys }, transfer);
    return fromWireTensors(reply.outputs ?? {});
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
    await Promise.all(this.slots.map((w) => w.worker.terminate()));
  }

  private spawn(slot: number): PoolWorker {
    const worker = new Worker(this.script, { name: `modelhost-inference-${slot}`, workerData: { imageLimits: imageLimits() } });
    const w: PoolWorker = { worker, pending: new Map(), ready: new Set(), exited: false };
    worker.on('message', (reply: WorkerReply) => {
      const p = w.pending.get(reply.id);
      if (!p) return;
      w.pending.delete(reply.id);
      if (reply.kind === 'ok') p.resolve(reply);
      else p.reject(new StatusError(reply.code, reply.message));
    });
    let lastError: Error | undefined;
    worker.on('error', (e) => (lastError = e));
    worker.on('exit', (code) => this.onExit(slot, w, code, lastError));
    return w;
  }

  private onExit(slot: number, w: PoolWorker, code: number, error: Error | undefined): void {
    w.exited = true;
    const why = this.closed ? 'the server is shutting down' : `inference worker ${slot} stopped unexpectedly (${error ? error.message : `exit code ${code}`})`;
    for (const p of w.pending.values()) p.reject(new StatusError(this.closed ? 'UNAVAILABLE' : 'INTERNAL', why));
    w.pending.clear();
    if (this.closed) return;
    this.options.onWorkerExit?.(`${why}; starting a new one`);
    const replacement = this.spawn(slot);
    this.slots[slot] = replacement;
    for (const [model, entry] of this.models) {
      if (!entry.slots.has(slot)) continue;
      entry.slots.delete(slot);
      this.loadInto(slot, model).catch((e: Error) => this.options.onWorkerExit?.(`reloading ${entry.dir} in worker ${slot} failed: ${e.message}`));
    }
  }

  private async loadInto(slot: number, model: number): Promise<LoadedInfo> {
    const entry = this.models.get(model);
    if (!entry) throw internal(`model ${model} was unloaded while loading`);
    const reply = await this.send(slot, { kind: 'load', model, dir: entry.dir, tags: entry.tags });
    entry.slots.add(slot);
    this.slots[slot].ready.add(model);
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
  private slotsForNewModel(): number[] {
    const all = this.slots.map((_, i) => i);
    const copies = this.options.copies || all.length;
    if (copies >= all.length) return all;
    const held = (slot: number) => [...this.models.values()].filter((m) => m.slots.has(slot)).length;
    return all.sort((a, b) => held(a) - held(b) || a - b).slice(0, copies);
  }

  private leastLoadedSlot(candidates: number[]): number {
    let best = candidates[0];
    for (const s of candidates) if (this.slots[s].pending.size < this.slots[best].pending.size) best = s;
    return best;
  }

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
    if (best < 0) throw internal(`model ${model} is not loaded in any inference worker`);
    return best;
  }

  private send(slot: number, request: WithoutId<WorkerRequest>, transfer: ArrayBuffer[] = []): Promise<WorkerReply & { kind: 'ok' }> {
    const w = this.slots[slot];
    if (w.exited) return Promise.reject(new StatusError('UNAVAILABLE', `inference worker ${slot} is not running`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      w.pending.set(id, { resolve, reject });
      w.worker.postMessage({ ...request, id }, transfer);
    });
  }
}

/** A model loaded into the pool. */
class PooledServable implements Servable {
  readonly dir: string;
  readonly tags: readonly string[];
  readonly signatures: ModelDescription['signatures'];
  readonly signatureDefs: ModelDescription['signatureDefs'];
  private disposed = false;

  constructor(
    private readonly pool: WorkerPool,
    private readonly model: number,
    description: ModelDescription,
  ) {
    ({ dir: this.dir, tags: this.tags, signatures: this.signatures, signatureDefs: this.signatureDefs } = description);
  }

  run(signature: string, feeds: Record<string, Tensor>, outputKeys?: readonly string[]): Promise<Record<string, Tensor>> {
    if (this.disposed) return Promise.reject(internal(`model ${this.dir} has been unloaded`));
    return this.pool.run(this.model, signature, feeds, outputKeys);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.pool.unload(this.model);
  }
}
