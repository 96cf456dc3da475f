/**
 * An inference worker thread: holds its own copy of the models the pool
 * loaded into it and runs their signatures on request, one at a time. Run
 * outputs are copied once into fresh buffers and moved back (see
 * tensor_transfer.ts).
 *
 * A run stops between kernels once the pool marks it cancelled in the shared
 * cancel flags (its deadline passed or its client left). A run that breaks
 * the engine (the WASM instance traps or aborts, e.g. out of memory) is
 * answered with a `fatal` error; from then on every run is bounced back to
 * the pool with its feeds, to run on a healthy worker while this one is
 * replaced.
 *
 * WASM memory only grows: a run that takes the instance over the worker's
 * cap (`wasmCapMb`) is stopped at the next kernel with RESOURCE_EXHAUSTED, and
 * the worker is recycled (answer `fatal`, or `retire` after a run that
 * finished over the cap) to give the memory back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { backendUsable, wasmMemoryBytes } from '../backend.js';
import { runCancelled, withCancellation } from '../cancellation.js';
import type { LoadedModel } from '../engine.js';
import { notFound, resourceExhausted, StatusError, toStatusError } from '../errors.js';
import { setRuntimeLimits } from '../limits.js';
import { setImageLimits } from '../kernels/image_limits.js';
import { setGraphOptimizations } from '../graph/optimize/options.js';
import { setSimdKernels } from '../simd/simd_kernels.js';
import { tsEngine } from '../loader.js';
import type { Tensor } from '../tensor.js';
import { fromWireTensors, toWireTensors } from './tensor_transfer.js';
import { isCancelled, type WorkerReply, type WorkerRequest, type WorkerStartData } from './worker_protocol.js';

const port = parentPort;
if (!port) throw new Error('worker_main.js runs only as a worker thread (see worker_pool.ts)');
const start = workerData as WorkerStartData;
const cancelFlags = new Int32Array(start.cancelFlags);
const wasmCapBytes = start.wasmCapMb * 1024 * 1024;

function overWasmCap(): boolean {
  return wasmCapBytes > 0 && wasmMemoryBytes() > wasmCapBytes;
}

const OVER_CAP_MARK = `more than the ${start.wasmCapMb} MiB of WASM memory an inference worker may use (--inference_worker_wasm_mb)`;
const OVER_CAP_RUN = `The model needed ${OVER_CAP_MARK}; its worker was restarted to give the memory back. Send smaller inputs.`;
const OVER_CAP_LOAD = `Loading the model took the worker's WASM memory to ${OVER_CAP_MARK}; raise the flag to serve it.`;

// The pool's thread's runtime and image decode limits (worker_pool.ts).
setRuntimeLimits(start.limits);
setImageLimits(start.imageLimits);
if (start.graphOptimizations) setGraphOptimizations(start.graphOptimizations);
if (start.simdKernels) setSimdKernels(start.simdKernels);

const models = new Map<number, LoadedModel>();
/** Set once a run broke the engine: nothing runs here any more. */
let broken: string | undefined;

function model(id: number): LoadedModel {
  const m = models.get(id);
  if (!m) throw notFound(`model ${id} is not loaded in this worker`);
  return m;
}

function disposeAll(tensors: Record<string, Tensor>): void {
  for (const t of Object.values(tensors)) t.dispose();
}

/** What a trapped or aborted WebAssembly instance reports (V8's trap texts and Emscripten's abort). */
const WASM_FAILURE = /Aborted\(|RuntimeError|memory access out of bounds|table index is out of bounds|unreachable|indirect call|function signature mismatch|Cannot enlarge memory|out of memory/i;

/** True when `err` left the engine unusable: a WASM failure, or an internal error after which a tiny computation fails. */
function breaksEngine(err: StatusError): boolean {
  if (err.code !== 'INTERNAL' && err.code !== 'RESOURCE_EXHAUSTED' && err.code !== 'UNKNOWN') return false;
  return (err.code !== 'RESOURCE_EXHAUSTED' && WASM_FAILURE.test(err.message)) || !backendUsable();
}

function fatalReply(id: number, err: StatusError): WorkerReply {
  const memory = /memory|OOM|Cannot enlarge/i.test(err.message);
  const first = err.message.split('\n')[0];
  const message = memory
    ? `The model ran out of memory in the inference engine (${first}); its worker was restarted. Send smaller inputs.`
    : `The model run broke the inference engine (${first}); its worker was restarted.`;
  return { kind: 'error', id, code: memory ? 'RESOURCE_EXHAUSTED' : 'INTERNAL', message, fatal: true };
}

async function handle(msg: WorkerRequest): Promise<void> {
  if (broken !== undefined) {
    if (msg.kind === 'run') {
      const transfer: ArrayBuffer[] = [];
      for (const w of Object.values(msg.feeds)) {
        transfer.push(w.data.buffer as ArrayBuffer);
        if (w.offsets) transfer.push(w.offsets.buffer as ArrayBuffer);
      }
      port!.postMessage({ kind: 'bounced', id: msg.id, feeds: msg.feeds } satisfies WorkerReply, transfer);
    } else {
      port!.postMessage({ kind: 'error', id: msg.id, code: 'UNAVAILABLE', message: `this inference worker is being replaced: ${broken}` } satisfies WorkerReply);
    }
    return;
  }
  try {
    switch (msg.kind) {
      case 'load': {
        const m = await tsEngine.load(msg.dir, { tags: msg.tags });
        if (overWasmCap()) {
          m.dispose();
          throw resourceExhausted(OVER_CAP_LOAD);
        }
        models.set(msg.model, m);
        const loaded = { signatures: m.signatures, signatureDefs: m.signatureDefs, mutatesState: m.mutatesState };
        port!.postMessage({ kind: 'ok', id: msg.id, loaded } satisfies WorkerReply);
        return;
      }
      case 'run': {
        const id = msg.id;
        const check = () => {
          if (isCancelled(cancelFlags, id)) return runCancelled('the request was cancelled (deadline exceeded or client gone)');
          return overWasmCap() ? resourceExhausted(OVER_CAP_RUN) : undefined;
        };
        const stop = check();
        if (stop) throw stop;
        const feeds = fromWireTensors(msg.feeds);
        let outputs: Record<string, Tensor>;
        try {
          outputs = withCancellation(check, () => model(msg.model).run(msg.signature, feeds, msg.outputKeys));
        } finally {
          disposeAll(feeds);
        }
        const transfer: ArrayBuffer[] = [];
        try {
          const wire = toWireTensors(outputs, transfer, false);
          const retire = overWasmCap() ? `a run left its WASM memory over ${start.wasmCapMb} MiB` : undefined;
          if (retire) broken = retire;
          port!.postMessage({ kind: 'ok', id: msg.id, outputs: wire, retire } satisfies WorkerReply, transfer);
        } finally {
          disposeAll(outputs);
        }
        return;
      }
      case 'unload':
        models.get(msg.model)?.dispose();
        models.delete(msg.model);
        port!.postMessage({ kind: 'ok', id: msg.id } satisfies WorkerReply);
        return;
    }
  } catch (e) {
    const err = toStatusError(e);
    if (err.code === 'RESOURCE_EXHAUSTED' && err.message.includes(OVER_CAP_MARK)) {
      // WASM memory never shrinks: only a new worker gives it back.
      broken = `its WASM memory went over ${start.wasmCapMb} MiB`;
      port!.postMessage({ kind: 'error', id: msg.id, code: 'RESOURCE_EXHAUSTED', message: err.message.split('\n')[0], fatal: true } satisfies WorkerReply);
      return;
    }
    if (breaksEngine(err)) {
      broken = err.message.split('\n')[0];
      port!.postMessage(fatalReply(msg.id, err));
      return;
    }
    port!.postMessage({ kind: 'error', id: msg.id, code: err.code, message: err.message } satisfies WorkerReply);
  }
}

port.on('message', (msg: WorkerRequest) => void handle(msg));
