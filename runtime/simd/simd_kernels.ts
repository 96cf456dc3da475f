/**
 * modelhost's own WebAssembly SIMD kernels (assembly/gemm.ts, compiled by
 * `npm run build:simd` into dist/runtime/simd/), bound to the memory of
 * tfjs-backend-wasm on this thread: they read tfjs tensors where they lie
 * and write into tensors the backend allocated, with no copies.
 *
 * Why: tfjs-backend-wasm 4.22 hands XNNPACK only un-transposed, unbatched
 * products; every batched or transposed BatchMatMul (attention, Einsum)
 * runs a scalar triple loop at ~2 GFLOP/s. These kernels run all of them
 * (and the rest, whose weights they keep packed between calls as XNNPACK
 * does) through one packed GEMM, and with relaxed SIMD's fused multiply-add
 * (`f32x4.relaxed_madd`, one rounding per step as in TF's Eigen/oneDNN
 * kernels) they outrun XNNPACK's single-threaded SIMD128 convolutions too.
 *
 * Modes (`setSimdKernels`, `--simd_kernels`, $MODELHOST_SIMD_KERNELS): 'auto' (the default) takes the
 * FMA build when this V8 can compile relaxed SIMD (Node 20 needs
 * --experimental-wasm-relaxed-simd, set here before compiling; later Node
 * versions have it on), else the plain SIMD128 build; 'fma' and 'plain'
 * force one; 'off' leaves every product to tfjs.
 */
import * as tf from '@tensorflow/tfjs-core';
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import { internal, invalidArgument, StatusError } from '../errors.js';
import { oomError } from '../limits.js';
import { packageRoot } from '../package_root.js';

/** The parts of the WebAssembly JS API used here (the ES2022 lib this project compiles against has no typings for it). */
interface WebAssemblyApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { exports: unknown };
}
type WasmModule = { readonly wasmModule: unique symbol };
type WasmMemory = { readonly buffer: ArrayBuffer };
const WebAssembly = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

export const SIMD_KERNEL_MODES = ['auto', 'fma', 'plain', 'off'] as const;
export type SimdKernelMode = (typeof SIMD_KERNEL_MODES)[number];

interface GemmExports {
  matmul(a: number, ars: number, acs: number, b: number, brs: number, bcs: number, c: number, m: number, n: number, k: number, bias: number, lo: number, hi: number, scratch: number, packed: number): void;
  packB_all(b: number, brs: number, bcs: number, k: number, n: number, dst: number): void;
  packedFloats(k: number, n: number): number;
  tanh(x: number, out: number, n: number): void;
  elementwise(prog: number, n: number, exts: number, outs: number, rows: number, cols: number, regs: number): void;
  conv2d(
    x: number, batch: number, h: number, w: number, cin: number,
    filter: number, kh: number, kw: number, cout: number,
    sh: number, sw: number, dh: number, dw: number, padTop: number, padLeft: number, oh: number, ow: number,
    out: number, bias: number, lo: number, hi: number, scratch: number, packed: number,
  ): void;
  SCRATCH_BYTES: { value: number };
}

/** What the kernels need of tfjs-backend-wasm's BackendWasm. */
interface WasmBackend {
  wasm: { asm: { memory: WasmMemory }; _malloc(bytes: number): number; _free(at: number): void };
  dataIdMap: { get(dataId: tf.DataId): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  disposeData(dataId: tf.DataId, force?: boolean): boolean;
}

/**
 * Products with fewer rows of A than this read a weight's B packed once and
 * kept (packing B costs about as much as a product of a few dozen rows;
 * above this it is under 1% of the product): batch-1 convolutions on small
 * images, recurrent steps, attention projections. The panels live in the
 * backend's heap until tfjs frees the weight's storage.
 */
export const PACKED_WEIGHT_MAX_ROWS = 256;

/** One packed layout of a weight's storage (a reshaped view shares the storage, not always the layout). */
interface PackedWeight {
  at: number;
  brs: number;
  bcs: number;
  k: number;
  n: number;
}

interface Bound {
  backend: WasmBackend;
  kernels: GemmExports;
  scratch: number;
  build: 'fma' | 'plain';
}

/** From $MODELHOST_SIMD_KERNELS when it names a mode (child processes of benchmarks), else 'auto'. */
/** Packed weights by tfjs storage, per backend; freed when the backend frees the storage (disposeData is wrapped once). */
const packedWeights = new WeakMap<WasmBackend, Map<tf.DataId, PackedWeight[]>>();

function packedStore(backend: WasmBackend): Map<tf.DataId, PackedWeight[]> {
  let store = packedWeights.get(backend);
  if (store) return store;
  const created = new Map<tf.DataId, PackedWeight[]>();
  store = created;
  packedWeights.set(backend, created);
  const dispose = backend.disposeData.bind(backend);
  backend.disposeData = (dataId, force) => {
    const freed = dispose(dataId, force);
    const packed = freed ? created.get(dataId) : undefined;
    if (packed) {
      for (const p of packed) backend.wasm._free(p.at);
      created.delete(dataId);
    }
    return freed;
  };
  return created;
}

/** The panels of weight `b` in this layout, packed on first use. */
function packedWeight(bound: Bound, b: tf.Tensor, brs: number, bcs: number, k: number, n: number): number {
  const store = packedStore(bound.backend);
  const mine = store.get(b.dataId);
  const hit = mine?.find((p) => p.brs === brs && p.bcs === bcs && p.k === k && p.n === n);
  if (hit) return hit.at;
  const at = bound.backend.wasm._malloc(bound.kernels.packedFloats(k, n) * 4);
  bound.kernels.packB_all(offsetOf(bound, b), brs, bcs, k, n, at);
  const entry = { at, brs, bcs, k, n };
  if (mine) mine.push(entry);
  else store.set(b.dataId, [entry]);
  return at;
}

/** Count of weights with packed panels on this thread's backend (for tests). */
export function packedWeightCount(): number {
  const backend = tf.engine().backend as unknown as WasmBackend;
  return packedWeights.get(backend)?.size ?? 0;
}

let mode: SimdKernelMode = (SIMD_KERNEL_MODES as readonly string[]).includes(process.env.MODELHOST_SIMD_KERNELS ?? '')
  ? (process.env.MODELHOST_SIMD_KERNELS as SimdKernelMode)
  : 'auto';
let bound: Bound | undefined;
/** Set once binding failed on this backend (no build, no relaxed SIMD when forced): tfjs runs the products. */
let unavailable: tf.KernelBackend | undefined;

/** Chooses the kernels for this thread (before the first product; later calls rebind). */
export function setSimdKernels(m: SimdKernelMode): void {
  if (!SIMD_KERNEL_MODES.includes(m)) throw invalidArgument(`--simd_kernels must be one of ${SIMD_KERNEL_MODES.join(', ')}, got '${m}'`);
  mode = m;
  bound = undefined;
  unavailable = undefined;
}

export function simdKernelMode(): SimdKernelMode {
  return mode;
}

function wasmFile(build: 'fma' | 'plain'): string {
  return path.join(packageRoot(), 'dist', 'runtime', 'simd', build === 'fma' ? 'simd-fma.wasm' : 'simd.wasm');
}

const compiled = new Map<string, WasmModule>();

function compile(build: 'fma' | 'plain'): WasmModule | undefined {
  const hit = compiled.get(build);
  if (hit) return hit;
  const file = wasmFile(build);
  if (!fs.existsSync(file)) {
    if (mode === 'auto') return undefined;
    throw internal(`modelhost's SIMD kernels are not built (${file} missing): run npm run build`);
  }
  const bytes = fs.readFileSync(file);
  if (build === 'fma') {
    // Relaxed SIMD is a finished proposal that V8 11.3 (Node 20) still keeps behind this flag;
    // wasm features are read when a module is compiled, so setting it now takes effect.
    if (!WebAssembly.validate(bytes)) v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
    if (!WebAssembly.validate(bytes)) {
      if (mode === 'fma') throw internal('this V8 cannot compile relaxed SIMD (--simd_kernels=fma); use plain or auto');
      return undefined;
    }
  }
  const module = new WebAssembly.Module(bytes);
  compiled.set(build, module);
  return module;
}

/** The kernels bound to this thread's tfjs WASM backend; undefined when tfjs should run the product. */
function kernels(): Bound | undefined {
  if (mode === 'off') return undefined;
  const engine = tf.engine();
  if (engine.backendName !== 'wasm') return undefined;
  const backend = engine.backend as unknown as WasmBackend;
  if (bound?.backend === backend) return bound;
  if (unavailable === engine.backend) return undefined;
  const builds: ('fma' | 'plain')[] = mode === 'auto' ? ['fma', 'plain'] : [mode];
  for (const build of builds) {
    const module = compile(build);
    if (!module) continue;
    const instance = new WebAssembly.Instance(module, { env: { memory: backend.wasm.asm.memory } });
    const exports = instance.exports as unknown as GemmExports;
    // Kept for the thread's life: 2 MiB, the packed blocks of one product.
    const scratch = backend.wasm._malloc(exports.SCRATCH_BYTES.value);
    bound = { backend, kernels: exports, scratch, build };
    return bound;
  }
  unavailable = engine.backend;
  return undefined;
}

/** Which build runs the products on this thread: 'fma', 'plain', or 'off' (tfjs runs them). */
export function simdKernelBuild(): 'fma' | 'plain' | 'off' {
  return kernels()?.build ?? 'off';
}

function offsetOf(b: Bound, t: tf.Tensor): number {
  const data = b.backend.dataIdMap.get(t.dataId);
  if (!data) throw internal('SIMD kernel operand is not in the WASM backend');
  return data.memoryOffset;
}

function output(b: Bound, shape: number[]): { tensor: tf.Tensor; at: number } {
  let info: tf.TensorInfo;
  try {
    info = b.backend.makeOutput(shape, 'float32');
  } catch (e) {
    // The allocator guard (backend.ts) names the bytes it could not get; TF names the tensor.
    if (e instanceof StatusError && e.code === 'RESOURCE_EXHAUSTED') throw oomError(shape, 'float32');
    throw e;
  }
  const at = b.backend.dataIdMap.get(info.dataId)!.memoryOffset;
  return { tensor: tf.engine().makeTensorFromTensorInfo(info), at };
}

/**
 * bias + clamp after the product: a [n] float32 vector or none, and
 * [lo, hi] (±Infinity for none); `weight`: the right operand is a weight
 * (the same storage run after run), whose packed panels may be kept.
 */
export interface Epilogue {
  bias?: tf.Tensor;
  lo: number;
  hi: number;
  weight?: boolean;
}

const NO_EPILOGUE: Epilogue = { lo: -Infinity, hi: Infinity };

/**
 * op(A) · op(B) over broadcast batch dims, as TF's BatchMatMulV2 computes it:
 * `a` [...aBatch, rows, cols], `b` likewise, op() transposing the last two
 * dims when ta/tb; shapes already checked (batchShape is the broadcast of the
 * two batch shapes, [m, k] · [k, n] the matrices). `batchIndex`: for each
 * batch, the operand's own batch (kernels/host_math.ts broadcastIndex of its
 * batch dims onto batchShape); absent: batch i is i. Float32 tensors of the
 * WASM backend. Undefined when these kernels are off: run tfjs's.
 */
export function simdBatchMatMul(
  a: tf.Tensor, b: tf.Tensor, ta: boolean, tb: boolean,
  batchShape: readonly number[], m: number, k: number, n: number,
  epilogue: Epilogue = NO_EPILOGUE,
  batchIndex: { a?: Int32Array; b?: Int32Array } = {},
): tf.Tensor | undefined {
  const bound = kernels();
  if (!bound) return undefined;
  const { tensor, at } = output(bound, [...batchShape, m, n]);
  const batches = batchShape.reduce((p, d) => p * d, 1);
  if (m === 0 || n === 0 || batches === 0) return tensor;
  const aRows = a.shape[a.rank - 2];
  const aCols = a.shape[a.rank - 1];
  const bRows = b.shape[b.rank - 2];
  const bCols = b.shape[b.rank - 1];
  // Strides of op(A) (i, p) and op(B) (p, j) in elements.
  const [ars, acs] = ta ? [1, aCols] : [aCols, 1];
  const [brs, bcs] = tb ? [1, bCols] : [bCols, 1];
  const aAt = offsetOf(bound, a);
  const bAt = offsetOf(bound, b);
  const biasAt = epilogue.bias ? offsetOf(bound, epilogue.bias) : 0;
  const { matmul } = bound.kernels;
  const scratch = bound.scratch;
  // One right-hand matrix for every batch: the batches are rows of one product when A is dense
  // (not transposed, not broadcast).
  const bShared = b.size === bRows * bCols;
  const fold = bShared && !ta && batchIndex.a === undefined;
  const rows = fold ? batches * m : m;
  const packed = epilogue.weight && bShared && rows < PACKED_WEIGHT_MAX_ROWS && k > 0 ? packedWeight(bound, b, brs, bcs, k, n) : 0;
  if (fold) {
    matmul(aAt, ars, acs, bAt, brs, bcs, at, rows, n, k, biasAt, epilogue.lo, epilogue.hi, scratch, packed);
    return tensor;
  }
  for (let i = 0; i < batches; i++) {
    const ai = batchIndex.a?.[i] ?? i;
    const bi = bShared ? 0 : (batchIndex.b?.[i] ?? i);
    matmul(
      aAt + ai * aRows * aCols * 4, ars, acs,
      bAt + bi * bRows * bCols * 4, brs, bcs,
      at + i * m * n * 4, m, n, k, biasAt, epilogue.lo, epilogue.hi, scratch, packed,
    );
  }
  return tensor;
}

/** A 2-D convolution's geometry, NHWC input and HWIO filter (TF's layouts). */
export interface ConvGeometry {
  batch: number;
  inH: number;
  inW: number;
  inC: number;
  kH: number;
  kW: number;
  outC: number;
  sH: number;
  sW: number;
  dH: number;
  dW: number;
  padTop: number;
  padLeft: number;
  outH: number;
  outW: number;
}

/**
 * conv2d(x, filter) + bias, clamped, as one implicit GEMM (ungrouped, NHWC,
 * any strides, dilations and paddings); geometry already checked, sizes
 * non-zero. Undefined when these kernels are off.
 */
export function simdConv2D(x: tf.Tensor, filter: tf.Tensor, g: ConvGeometry, epilogue: Epilogue = NO_EPILOGUE): tf.Tensor | undefined {
  const bound = kernels();
  if (!bound) return undefined;
  const { tensor, at } = output(bound, [g.batch, g.outH, g.outW, g.outC]);
  const k = g.kH * g.kW * g.inC;
  const rows = g.batch * g.outH * g.outW;
  const packed = epilogue.weight && rows < PACKED_WEIGHT_MAX_ROWS ? packedWeight(bound, filter, g.outC, 1, k, g.outC) : 0;
  bound.kernels.conv2d(
    offsetOf(bound, x), g.batch, g.inH, g.inW, g.inC,
    offsetOf(bound, filter), g.kH, g.kW, g.outC,
    g.sH, g.sW, g.dH, g.dW, g.padTop, g.padLeft, g.outH, g.outW,
    at, epilogue.bias ? offsetOf(bound, epilogue.bias) : 0, epilogue.lo, epilogue.hi, bound.scratch, packed,
  );
  return tensor;
}

/**
 * tanh of a float32 tensor exactly as TF's CPU kernel computes it (Eigen's
 * rational approximation, assembly/tanh.ts); tfjs-backend-wasm's Tanh is a
 * scalar libm loop, 30x slower and not TF's bits. Undefined when these
 * kernels are off.
 */
export function simdTanh(x: tf.Tensor): tf.Tensor | undefined {
  const bound = kernels();
  if (!bound) return undefined;
  const { tensor, at } = output(bound, [...x.shape]);
  bound.kernels.tanh(offsetOf(bound, x), at, x.size);
  return tensor;
}

/**
 * An operand of simdElementwise: a float32 backend tensor, or host values
 * (copied into the scratch block), read row by row (`rowBytes`, 0 for a
 * per-column vector) or as a scalar.
 */
export type ElementwiseInput = ({ tensor: tf.Tensor; host?: undefined } | { host: Float32Array; tensor?: undefined }) & {
  rowBytes: number;
  scalar: boolean;
};

/**
 * Runs an elementwise program (assembly/elementwise.ts: five i32 per
 * instruction) over rows × cols elements (cols a multiple of 4), writing
 * `outputs` new float32 tensors of `shape`. Undefined when these kernels
 * are off or the program does not fit the scratch block.
 */
export function simdElementwise(program: Int32Array, inputs: readonly ElementwiseInput[], outputs: number, shape: readonly number[], rows: number, cols: number): tf.Tensor[] | undefined {
  const bound = kernels();
  if (!bound) return undefined;
  const n = program.length / 5;
  const hostBytes = inputs.reduce((s, x) => s + (x.host ? (x.host.length * 4 + 15) & ~15 : 0), 0);
  const bytes = program.length * 4 + inputs.length * 12 + outputs * 4 + n * 256 + 16 + hostBytes;
  if (bytes > bound.kernels.SCRATCH_BYTES.value || cols % 4 !== 0) return undefined;
  const outs = Array.from({ length: outputs }, () => output(bound, [...shape]));
  // Views after every allocation: a malloc may have grown (and replaced) the heap's buffer.
  const heap = new Int32Array(bound.backend.wasm.asm.memory.buffer);
  const prog = bound.scratch;
  const exts = prog + program.length * 4;
  const outTable = exts + inputs.length * 12;
  const regs = (outTable + outputs * 4 + 15) & ~15;
  heap.set(program, prog >> 2);
  let hostAt = regs + n * 256;
  const floats = new Float32Array(heap.buffer);
  inputs.forEach((x, i) => {
    const at = (exts >> 2) + i * 3;
    let address: number;
    if (x.host) {
      address = hostAt;
      floats.set(x.host, hostAt >> 2);
      hostAt += (x.host.length * 4 + 15) & ~15;
    } else address = offsetOf(bound, x.tensor);
    heap[at] = address;
    heap[at + 1] = x.rowBytes;
    heap[at + 2] = x.scalar ? 1 : 0;
  });
  outs.forEach((o, i) => (heap[(outTable >> 2) + i] = o.at));
  bound.kernels.elementwise(prog, n, exts, outTable, rows, cols, regs);
  return outs.map((o) => o.tensor);
}
