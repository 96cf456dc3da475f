/**
 * Direct calls of the tfjs backend's kernels, for the hot small ops of
 * recurrent loops and other per-op-overhead-bound graphs.
 *
 * A tfjs op function (tf.add, tf.matMul...) opens and closes an engine scope,
 * converts and checks its arguments, then runs the kernel through
 * `engine.runKernel`, which looks the kernel up twice, builds closures for
 * tape and profiling, and wraps the outputs. At batch 1 that costs several
 * times the kernel itself. `runKernel` here calls the registered kernel
 * function with the backend and wraps its outputs as the engine does
 * (`makeTensorFromTensorInfo`, so they belong to the current scope and are
 * freed with it); kernels are looked up once per backend. Callers pass
 * operands that already meet the kernel's contract (same dtype, valid
 * shapes): the kernels of this runtime check them with TF's rules first.
 *
 * `setDirectDispatch(false)` routes the same calls through
 * `engine.runKernel` instead (identical results; for benchmarks that measure
 * the difference, scripts/rnn_bench.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { internal } from '../errors.js';

type KernelFunc = (params: { inputs: tf.NamedTensorMap; attrs: tf.NamedAttrMap; backend: tf.KernelBackend }) => tf.TensorInfo | tf.TensorInfo[];

let direct = true;
let backendName: string | undefined;
let backend: tf.KernelBackend | undefined;
const kernels = new Map<string, KernelFunc>();

/** Turns direct kernel calls on (the default) or off for this thread. */
export function setDirectDispatch(on: boolean): void {
  direct = on;
}

export function directDispatch(): boolean {
  return direct;
}

const NO_ATTRS: tf.NamedAttrMap = {};

function kernelFunc(name: string): KernelFunc {
  const engine = tf.engine();
  if (engine.backendName !== backendName) {
    backendName = engine.backendName;
    backend = engine.backend;
    kernels.clear();
  }
  let k = kernels.get(name);
  if (k === undefined) {
    const config = tf.getKernel(name, backendName);
    if (!config) throw internal(`tfjs kernel '${name}' is not registered for backend '${backendName}'`);
    k = config.kernelFunc as unknown as KernelFunc;
    kernels.set(name, k);
  }
  return k;
}

function wrap(info: tf.TensorInfo): tf.Tensor {
  // Some backends return tensors already (as engine.runKernelFunc allows).
  if ((info as tf.Tensor).rank !== undefined) return info as tf.Tensor;
  return tf.engine().makeTensorFromTensorInfo(info);
}

/** Runs the backend's kernel `name` (a tfjs kernel name: 'Add', 'Multiply', 'BatchMatMul'...) with one output. */
export function runKernel(name: string, inputs: tf.NamedTensorMap, attrs: tf.NamedAttrMap = NO_ATTRS): tf.Tensor {
  if (!direct) return tf.engine().runKernel(name, inputs, attrs) as tf.Tensor;
  const k = kernelFunc(name);
  const out = k({ inputs, attrs, backend: backend! });
  return wrap(Array.isArray(out) ? out[0] : out);
}

/** As runKernel, for kernels with several outputs. */
export function runKernelMany(name: string, inputs: tf.NamedTensorMap, attrs: tf.NamedAttrMap = NO_ATTRS): tf.Tensor[] {
  if (!direct) return tf.engine().runKernel(name, inputs, attrs) as tf.Tensor[];
  const k = kernelFunc(name);
  const out = k({ inputs, attrs, backend: backend! });
  return Array.isArray(out) ? out.map(wrap) : [wrap(out)];
}

/** What splitOnBackend needs of tfjs-backend-wasm's BackendWasm. */
interface WasmBackendMemory {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: tf.DataId): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

/**
 * Splits `x` along `axis` into pieces of `sizes` (valid, summing to the
 * dimension). On WASM each piece is copied within the heap, chunk by chunk;
 * the backend's own SplitV slices one piece at a time, copying all of `x`
 * out of the heap for each (quadratic for a TensorList unstacked into many
 * elements). `dropAxis` (pieces of size 1): the pieces lose that axis, as
 * tf.unstack's do. Other backends, and direct dispatch off, use
 * tf.split / tf.unstack.
 */
export function splitOnBackend(x: tf.Tensor, axis: number, sizes: readonly number[], dropAxis = false): tf.Tensor[] {
  if (!direct || tf.engine().backendName !== 'wasm' || x.dtype === 'string' || x.dtype === 'complex64') {
    return dropAxis ? tf.unstack(x, axis) : tf.split(x, [...sizes], axis);
  }
  kernelFunc('Identity'); // sets `backend` for this backend
  const b = backend as unknown as WasmBackendMemory;
  const bytes = tf.util.bytesPerElement(x.dtype);
  let before = 1;
  for (let i = 0; i < axis; i++) before *= x.shape[i];
  let after = 1;
  for (let i = axis + 1; i < x.shape.length; i++) after *= x.shape[i];
  const rowBytes = x.shape[axis] * after * bytes;
  const out: tf.Tensor[] = new Array(sizes.length);
  let start = 0;
  for (let p = 0; p < sizes.length; p++) {
    const shape = x.shape.slice();
    if (dropAxis) shape.splice(axis, 1);
    else shape[axis] = sizes[p];
    const info = b.makeOutput(shape, x.dtype);
    const chunk = sizes[p] * after * bytes;
    if (chunk > 0 && before > 0) {
      // Read after makeOutput: its malloc may have grown (and replaced) the heap.
      const src = b.dataIdMap.get(x.dataId)!.memoryOffset + start * after * bytes;
      const dst = b.dataIdMap.get(info.dataId)!.memoryOffset;
      const heap = b.wasm.HEAPU8;
      for (let r = 0; r < before; r++) heap.copyWithin(dst + r * chunk, src + r * rowBytes, src + r * rowBytes + chunk);
    }
    out[p] = wrap(info);
    start += sizes[p];
  }
  return out;
}
