/**
 * Shadow traffic: the candidate of a shadow rollout gets a copy of requests
 * the stable version answers; its answers are compared with the stable
 * ones and never sent to a client.
 *
 * Shadowing must never slow or fail a client's request, so:
 *  - a copy is made only while fewer than `maxQueued` copies wait or run
 *    (--rollout_shadow_queue); past that the copy is dropped and counted;
 *  - the stable run goes first and its answer returns at once; the copies
 *    run afterwards, one at a time, each bounded by SHADOW_RUN_TIMEOUT_MS;
 *  - the candidate's failures are counted, never thrown to the client.
 * The price on the request path is copying the inputs and outputs of the
 * requests that are shadowed (the feeds are handed over to the stable run,
 * which may move their buffers to a worker thread).
 *
 * Agreement per request: every output the stable version returned is there
 * with the same shape, float outputs agree on the argmax of each vector
 * along the last dimension, other dtypes are equal element by element.
 * `max_abs_diff` is the largest |stable − candidate| of any float element
 * so far; p50/p99 are the candidate's run times over the last
 * LATENCY_SAMPLES copies. Figures are this process's (each replica shadows
 * its own requests).
 */
import type { Servable } from '../../runtime/engine.js';
import { Tensor, type HostData } from '../../runtime/tensor.js';
import type { ServableHandle } from '../../serving/servable_handle.js';
import type { RolloutRow } from '../store.js';

export const DEFAULT_SHADOW_QUEUE = 64;
export const SHADOW_RUN_TIMEOUT_MS = 30_000;
const LATENCY_SAMPLES = 1000;

export interface ShadowStats {
  /** Copies the candidate answered and that were compared. */
  requests: number;
  /** Share of those whose outputs agree; null before the first. */
  agreement: number | null;
  max_abs_diff: number | null;
  /** Candidate run time, ms. */
  p50_ms: number | null;
  p99_ms: number | null;
  /** Copies not made: the queue was full, or the candidate was not loaded. */
  dropped: number;
  /** Copies the candidate failed to answer (an error, or past SHADOW_RUN_TIMEOUT_MS). */
  failed: number;
  /** Copies waiting or running now (all models), and the bound. */
  queued: number;
  queue_limit: number;
}

interface Tally {
  /** Which rollout these figures belong to. */
  key: string;
  requests: number;
  agreed: number;
  maxAbsDiff: number | null;
  dropped: number;
  failed: number;
  latencies: Float64Array;
  samples: number;
}

interface Job {
  tally: Tally;
  model: string;
  candidate: number;
  signature: string;
  feeds: Record<string, Tensor>;
  outputKeys: readonly string[] | undefined;
  expected: Record<string, Tensor>;
}

const FLOATS = new Set(['float16', 'bfloat16', 'float32', 'float64']);

export class ShadowTraffic {
  private readonly tallies = new Map<string, Tally>();
  private readonly jobs: Job[] = [];
  private pending = 0;
  private running = false;
  private stopped = false;

  constructor(
    private readonly options: {
      maxQueued: number;
      /** A handle on the candidate, or undefined when it is not loaded (the copy is dropped). */
      candidateHandle: (model: string, version: number) => ServableHandle | undefined;
    },
  ) {}

  /** `handle` (the stable version's), whose runs also queue a copy for the rollout's candidate. */
  wrap(handle: ServableHandle, rollout: RolloutRow): ServableHandle {
    const tally = this.tallyOf(rollout);
    const inner = handle.model;
    const model: Servable = {
      dir: inner.dir,
      tags: inner.tags,
      signatures: inner.signatures,
      signatureDefs: inner.signatureDefs,
      dispose: () => inner.dispose(),
      run: (signature, feeds, outputKeys, options) => this.runAndCopy(inner, tally, rollout, signature, feeds, outputKeys, options),
    };
    return { name: handle.name, version: handle.version, model, release: () => handle.release() };
  }

  /** The figures of the model's current rollout (zeros before any copy). */
  stats(rollout: RolloutRow): ShadowStats {
    const t = this.tallyOf(rollout);
    const sorted = [...t.latencies.subarray(0, Math.min(t.samples, LATENCY_SAMPLES))].sort((a, b) => a - b);
    const pct = (q: number) => (sorted.length === 0 ? null : round3(sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]));
    return {
      requests: t.requests,
      agreement: t.requests === 0 ? null : Math.round((t.agreed / t.requests) * 1e6) / 1e6,
      max_abs_diff: t.maxAbsDiff,
      p50_ms: pct(0.5),
      p99_ms: pct(0.99),
      dropped: t.dropped,
      failed: t.failed,
      queued: this.pending,
      queue_limit: this.options.maxQueued,
    };
  }

  /** Drops the copies not run yet (shutdown). */
  stop(): void {
    this.stopped = true;
    for (const job of this.jobs.splice(0)) this.finish(job);
  }

  private tallyOf(rollout: RolloutRow): Tally {
    const key = `${rollout.startedAt}/${rollout.candidate}`;
    let t = this.tallies.get(rollout.model);
    if (!t || t.key !== key) {
      t = { key, requests: 0, agreed: 0, maxAbsDiff: null, dropped: 0, failed: 0, latencies: new Float64Array(LATENCY_SAMPLES), samples: 0 };
      this.tallies.set(rollout.model, t);
    }
    return t;
  }

  private async runAndCopy(
    inner: Servable,
    tally: Tally,
    rollout: RolloutRow,
    signature: string,
    feeds: Record<string, Tensor>,
    outputKeys: readonly string[] | undefined,
    options: Parameters<Servable['run']>[3],
  ): Promise<Record<string, Tensor>> {
    if (this.stopped || this.pending >= this.options.maxQueued) {
      tally.dropped++;
      return inner.run(signature, feeds, outputKeys, options);
    }
    this.pending++;
    let copy: Record<string, Tensor>;
    try {
      copy = copyTensors(feeds);
    } catch {
      this.pending--;
      tally.dropped++;
      return inner.run(signature, feeds, outputKeys, options);
    }
    let outputs: Record<string, Tensor>;
    try {
      outputs = await inner.run(signature, feeds, outputKeys, options);
    } catch (e) {
      this.pending--;
      disposeAll(copy);
      throw e;
    }
    let expected: Record<string, Tensor>;
    try {
      expected = copyTensors(outputs);
    } catch {
      this.pending--;
      disposeAll(copy);
      tally.dropped++;
      return outputs;
    }
    this.jobs.push({ tally, model: rollout.model, candidate: rollout.candidate, signature, feeds: copy, outputKeys, expected });
    if (!this.running) setImmediate(() => void this.pump());
    return outputs;
  }

  /** Runs the queued copies one at a time, after the event loop has had its turn. */
  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (let job = this.jobs.shift(); job; job = this.jobs.shift()) {
        await this.runCopy(job);
        await new Promise((r) => setImmediate(r));
      }
    } finally {
      this.running = false;
    }
  }

  private async runCopy(job: Job): Promise<void> {
    const { tally } = job;
    let handle: ServableHandle | undefined;
    try {
      handle = this.options.candidateHandle(job.model, job.candidate);
    } catch {
      handle = undefined;
    }
    if (!handle) {
      tally.dropped++;
      return this.finish(job);
    }
    const started = performance.now();
    let outputs: Record<string, Tensor> | undefined;
    try {
      const feeds = job.feeds;
      job.feeds = {};
      const answered = await handle.model.run(job.signature, feeds, job.outputKeys, { signal: AbortSignal.timeout(SHADOW_RUN_TIMEOUT_MS) });
      outputs = answered;
      const ms = performance.now() - started;
      tally.latencies[tally.samples % LATENCY_SAMPLES] = ms;
      tally.samples++;
      const { agree, maxAbsDiff } = compareOutputs(job.expected, answered);
      tally.requests++;
      if (agree) tally.agreed++;
      if (maxAbsDiff !== null) tally.maxAbsDiff = Math.max(tally.maxAbsDiff ?? 0, maxAbsDiff);
    } catch {
      tally.failed++;
    } finally {
      if (outputs) disposeAll(outputs);
      handle.release();
      this.finish(job);
    }
  }

  private finish(job: Job): void {
    disposeAll(job.feeds);
    disposeAll(job.expected);
    this.pending--;
  }
}

const round3 = (x: number) => Math.round(x * 1e3) / 1e3;

function disposeAll(tensors: Record<string, Tensor>): void {
  for (const t of Object.values(tensors)) t.dispose();
}

/** Deep copies (their own buffers), so a run that moves the originals' buffers leaves these intact. */
export function copyTensors(tensors: Record<string, Tensor>): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(tensors)) out[k] = Tensor.fromHost(t.dtype, t.shape, copyHost(t.values()));
  return out;
}

function copyHost(data: HostData): HostData {
  if (ArrayBuffer.isView(data)) return (data as Float32Array).slice() as HostData;
  return (data as unknown[]).map((v) => (v instanceof Uint8Array ? v.slice() : v)) as HostData;
}

/** Whether `actual` agrees with `expected` (see the module comment), and the largest float difference. */
export function compareOutputs(expected: Record<string, Tensor>, actual: Record<string, Tensor>): { agree: boolean; maxAbsDiff: number | null } {
  let agree = true;
  let maxAbsDiff: number | null = null;
  for (const [k, e] of Object.entries(expected)) {
    const a = actual[k];
    if (!a || a.dtype !== e.dtype || a.shape.length !== e.shape.length || a.shape.some((d, i) => d !== e.shape[i])) {
      agree = false;
      continue;
    }
    const ev = e.values();
    const av = a.values();
    if (FLOATS.has(e.dtype)) {
      const x = ev as ArrayLike<number>;
      const y = av as ArrayLike<number>;
      let diff = 0;
      for (let i = 0; i < x.length; i++) diff = Math.max(diff, Math.abs(x[i] - y[i]));
      maxAbsDiff = Math.max(maxAbsDiff ?? 0, diff);
      const width = e.shape.length === 0 ? 1 : e.shape[e.shape.length - 1];
      if (e.shape.length === 0) {
        if (x[0] !== y[0]) agree = false;
      } else if (width > 0) {
        for (let row = 0; row < x.length / width && agree; row++) if (argmax(x, row * width, width) !== argmax(y, row * width, width)) agree = false;
      }
    } else if (!equalElements(ev, av)) {
      agree = false;
    }
  }
  return { agree, maxAbsDiff };
}

function argmax(v: ArrayLike<number>, from: number, width: number): number {
  let best = 0;
  for (let i = 1; i < width; i++) if (v[from + i] > v[from + best]) best = i;
  return best;
}

function equalElements(a: HostData, b: HostData): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = (a as ArrayLike<unknown>)[i];
    const y = (b as ArrayLike<unknown>)[i];
    if (x instanceof Uint8Array && y instanceof Uint8Array) {
      if (x.length !== y.length || x.some((c, j) => c !== y[j])) return false;
    } else if (x !== y) return false;
  }
  return true;
}
