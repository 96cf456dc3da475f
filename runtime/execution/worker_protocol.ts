/**
 * Messages between the worker pool (main thread) and an inference worker.
 * Every request carries an id; the worker answers each with the same id,
 * either `ok` with a result or `error` with a TF status code and message.
 * An error marked `fatal` means the worker's engine is broken (the WASM
 * instance trapped or aborted): the worker answers every run it still
 * receives with `bounced` (its feeds handed back, to run elsewhere) and the
 * pool replaces it. An `ok` reply with `retire` asks the same (the run
 * succeeded but left the worker holding too much memory).
 *
 * Cancellation does not go through messages (a worker busy in a run reads
 * none): the pool marks a run id in the worker's shared cancel flags, and the
 * worker polls them between kernels (see ../cancellation.ts).
 */
import type { GraphPass } from '../graph/optimize/options.js';
import type { ImageLimits } from '../kernels/image_limits.js';
import type { RuntimeLimits } from '../limits.js';
import type { SimdKernelMode } from '../simd/simd_kernels.js';
import type { SignatureInfo } from '../engine.js';
import type { StatusCode } from '../errors.js';
import type { SignatureDef } from '../graph/types.js';
import type { WireTensors } from './tensor_transfer.js';

export type WorkerRequest =
  | { kind: 'load'; id: number; model: number; dir: string; tags: readonly string[] }
  | { kind: 'run'; id: number; model: number; signature: string; feeds: WireTensors; outputKeys?: readonly string[] }
  | { kind: 'unload'; id: number; model: number };

export interface LoadedInfo {
  signatures: Record<string, SignatureInfo>;
  signatureDefs: Record<string, SignatureDef>;
  mutatesState: boolean;
}

export type WorkerReply =
  | { kind: 'ok'; id: number; loaded?: LoadedInfo; outputs?: WireTensors; retire?: string }
  | { kind: 'error'; id: number; code: StatusCode; message: string; fatal?: boolean }
  | { kind: 'bounced'; id: number; feeds: WireTensors };

/** What a worker is started with (Worker's workerData). */
export interface WorkerStartData {
  /** Int32Array over CANCEL_SLOTS cells: the pool stores a run id in cell id % CANCEL_SLOTS to cancel it. */
  cancelFlags: SharedArrayBuffer;
  /** WASM memory a worker may grow to, in MiB; a run going over fails RESOURCE_EXHAUSTED and the worker is recycled (0: no cap). */
  wasmCapMb: number;
  /** The pool thread's runtime limits (limits.ts), applied at start. */
  limits: RuntimeLimits;
  /** The pool thread's image decode limits (kernels/image_limits.ts), applied at start. */
  imageLimits: ImageLimits;
  /** The pool thread's load-time graph passes (graph/optimize/options.ts), applied at start. */
  graphOptimizations?: GraphPass[];
  /** The pool thread's choice of SIMD kernels (simd/simd_kernels.ts), applied at start. */
  simdKernels?: SimdKernelMode;
}

/** Cancel cells per worker: ids of cancelled runs, hashed by id (enough for the runs one worker has queued). */
export const CANCEL_SLOTS = 4096;

export function markCancelled(flags: Int32Array, id: number): void {
  Atomics.store(flags, id % CANCEL_SLOTS, id);
}

export function isCancelled(flags: Int32Array, id: number): boolean {
  return Atomics.load(flags, id % CANCEL_SLOTS) === (id | 0);
}
