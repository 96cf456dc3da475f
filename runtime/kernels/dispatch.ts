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

/** The WASM backend's memory when direct dispatch is on and WASM runs the kernels; else undefined. */
function wasmMemory(x: tf.Tensor): WasmBackendMemory | undefined {
  if (!direct || tf.engine().backendName !== 'wasm' || x.dtype === 'string' || x.dtype === 'complex64') return undefined;
  kernelFunc('Identity'); // sets `backend` for this backend
  return backend as unknown as WasmBackendMemory;
}

/**
 * The box of `x` starting at `begin` with `sizes` (stride 1, within bounds,
 * no size 0), shaped `outShape` (same element count). On WASM the box is
 * copied within the heap, one contiguous run at a time; the backend's own
 * Slice first copies all of `x` out of the heap. Other backends, and direct
 * dispatch off, use tf.slice.
 */
export function sliceOnBackend(x: tf.Tensor, begin: readonly number[], sizes: readonly number[], outShape: readonly number[]): tf.Tensor {
  const b = wasmMemory(x);
  if (!b) return tf.reshape(tf.slice(x, [...begin], [...sizes]), [...outShape]);
  const info = b.makeOutput([...outShape], x.dtype);
  copyBox(b, x, begin, sizes, b.dataIdMap.get(info.dataId)!.memoryOffset);
  return wrap(info);
}

/** Copies a box of `x` (as sliceOnBackend) to `dst` in the heap. */
function copyBox(b: WasmBackendMemory, x: tf.Tensor, begin: readonly number[], sizes: readonly number[], dst: number): void {
  const shape = x.shape;
  const rank = shape.length;
  const bytes = tf.util.bytesPerElement(x.dtype);
  // Trailing dims the box covers whole, plus the first one it does not, form contiguous runs.
  let k = rank - 1;
  let run = 1;
  while (k > 0 && begin[k] === 0 && sizes[k] === shape[k]) run *= shape[k--];
  if (rank > 0) run *= sizes[k];
  const strides = new Array<number>(rank);
  let stride = 1;
  for (let d = rank - 1; d >= 0; d--) {
    strides[d] = stride;
    stride *= shape[d];
  }
  let base = 0;
  for (let d = 0; d < rank; d++) base += begin[d] * strides[d];
  const runBytes = run * bytes;
  if (runBytes === 0) return;
  // Read after makeOutput: its malloc may have grown (and replaced) the heap.
  const src = b.dataIdMap.get(x.dataId)!.memoryOffset;
  const heap = b.wasm.HEAPU8;
  // Odometer over the dims before k.
  const index = new Array<number>(Math.max(k, 0)).fill(0);
  let out = dst;
  for (;;) {
    let at = base;
    for (let d = 0; d < k; d++) at += index[d] * strides[d];
    heap.copyWithin(out, src + at * bytes, src + at * bytes + runBytes);
    out += runBytes;
    let d = k - 1;
    while (d >= 0 && ++index[d] === sizes[d]) index[d--] = 0;
    if (d < 0) return;
  }
}

/**
 * Splits `x` along `axis` into pieces of `sizes` (valid, summing to the
 * dimension), as sliceOnBackend does one box (the backend's own SplitV
 * copies all of `x` out of the heap for each piece: quadratic for a
 * TensorList unstacked into many elements). `dropAxis` (pieces of size 1):
 * the pieces lose that axis, as tf.unstack's do. Other backends, and direct
 * dispatch off, use tf.split / tf.unstack.
 */
export function splitOnBackend(x: tf.Tensor, axis: number, sizes: readonly number[], dropAxis = false): tf.Tensor[] {
  const b = wasmMemory(x);
  if (!b) return dropAxis ? tf.unstack(x, axis) : tf.split(x, [...sizes], axis);
  const out: tf.Tensor[] = new Array(sizes.length);
  const begin = new Array<number>(x.shape.length).fill(0);
  for (let p = 0; p < sizes.length; p++) {
    const box = x.shape.slice();
    box[axis] = sizes[p];
    const shape = box.slice();
    if (dropAxis) shape.splice(axis, 1);
    const info = b.makeOutput(shape, x.dtype);
    if (sizes[p] > 0 && tf.util.sizeFromShape(box) > 0) copyBox(b, x, begin, box, b.dataIdMap.get(info.dataId)!.memoryOffset);
    out[p] = wrap(info);
    begin[axis] += sizes[p];
  }
  return out;
}

/**
 * GatherV2 on the backend's heap: out[b, o, j, :] = x[b, o, idx[b, j], :]
 * (x viewed as [batch, outer, gatherDim, inner]; idx already validated,
 * idx.length = batch * perBatch), one row of `inner` elements at a time.
 * tfjs-backend-wasm 4.22's gather computes every element's source index in
 * a scalar loop: 17 ms for 2,048 embedding rows of 128 floats here, this
 * 0.2 ms. Other backends, and direct dispatch off, use tf.gather.
 */
export function gatherOnBackend(
  x: tf.Tensor, idx: Int32Array, batch: number, outer: number, gatherDim: number, inner: number, outShape: readonly number[],
): tf.Tensor {
  const b = wasmMemory(x);
  if (!b) {
    const perBatch = idx.length / batch;
    const indices = tf.tensor(idx, batch > 1 ? [batch, perBatch] : [perBatch], 'int32');
    const params = tf.reshape(x, batch > 1 ? [batch, outer, gatherDim, inner] : [outer, gatherDim, inner]);
    const out = tf.reshape(tf.gather(params, indices, batch > 1 ? 2 : 1, batch > 1 ? 1 : 0), [...outShape]);
    indices.dispose();
    params.dispose();
    return out;
  }
  const info = b.makeOutput([...outShape], x.dtype);
  // Read after makeOutput: its malloc may have grown (and replaced) the heap.
  const dst = b.dataIdMap.get(info.dataId)!.memoryOffset;
  const src = b.dataIdMap.get(x.dataId)!.memoryOffset;
  const heap = b.wasm.HEAPU8;
  const bytes = tf.util.bytesPerElement(x.dtype);
  const row = inner * bytes;
  const perBatch = idx.length / batch;
  let out = dst;
  for (let bi = 0; bi < batch; bi++) {
    for (let o = 0; o < outer; o++) {
      const base = src + (bi * outer + o) * gatherDim * row;
      for (let j = bi * perBatch, end = j + perBatch; j < end; j++) {
        const from = base + idx[j] * row;
        if (row <= 16) for (let e = 0; e < row; e++) heap[out + e] = heap[from + e];
        else heap.copyWithin(out, from, from + row);
        out += row;
      }
    }
  }
  return wrap(info);
}

/**
 * Small float32 results on the host. At batch 1 a recurrent cell's gates are
 * a few hundred elements: a tfjs kernel call costs microseconds of
 * bookkeeping, a typed JS loop over them a fraction of that. With this on
 * (the default), a rank-2 MatMul or _FusedMatMul result of at most
 * SMALL_HOST_ELEMENTS elements also gets a host copy; elementwise ops whose
 * operands are all on the host and that small (Add, Mul, Sub, BiasAdd, the
 * activations with host loops, Split, unit-stride slices) then run as host
 * loops, and their results reach the backend again only when a kernel needs
 * them there (the next MatMul). The host loops of the binary ops give
 * tfjs's bits; Sigmoid/Exp compute in float64 and round to float32 (within
 * an ulp of tfjs's); Tanh follows TF's own float32 arithmetic (TF's bits).
 */
export const SMALL_HOST_ELEMENTS = 1024;
let smallOnHost = true;

export function setSmallHostMath(on: boolean): void {
  smallOnHost = on;
}

/** True when small host operands (`size` elements, all on the host) should stay on the host. */
export function smallHostMath(size: number): boolean {
  return smallOnHost && size <= SMALL_HOST_ELEMENTS;
}
