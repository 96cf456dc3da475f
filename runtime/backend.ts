/**
 * Selects the tfjs backend the numeric kernels run on: WASM (SIMD, ~35x the
 * pure-JS CPU backend on these machines), or 'cpu' when MODELHOST_BACKEND=cpu.
 * Call `initBackend()` once before loading models; it is idempotent.
 *
 * It also guards the backend's allocator, the one place every tfjs tensor
 * gets its memory: a shape beyond the runtime limits (limits.ts), a WASM
 * allocation of 4 GiB or more (wasm32 cannot address it; the size would
 * wrap), or a WASM malloc that fails (heap at its maximum; tfjs would use
 * address 0 and corrupt memory) throws RESOURCE_EXHAUSTED instead.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import type { DType } from './dtypes.js';
import { checkTensorSize, oomError } from './limits.js';
import { simdKernelBuild } from './simd/simd_kernels.js';

let ready: Promise<string> | undefined;

export function initBackend(name = process.env.MODELHOST_BACKEND ?? 'wasm'): Promise<string> {
  ready ??= (async () => {
    // tfjs logs a hint about tfjs-node on first use in Node; it does not apply here. PROD silences
    // it (IS_TEST would too, but also makes the engine count buffers around every kernel call).
    tf.env().set('PROD', true);
    const ok = await tf.setBackend(name);
    if (!ok) throw new Error(`tfjs backend '${name}' failed to initialise`);
    await tf.ready();
    guardAllocations(tf.backend());
    return tf.getBackend();
  })();
  return ready;
}

/**
 * Which tfjs backend runs the kernels, and for WASM which binary: tfjs picks
 * tfjs-backend-wasm-simd.wasm when WebAssembly SIMD validates (it does in
 * Node 20: 3-4x the plain binary on convolutions here), and never the
 * threaded one in Node (tfjs-backend-wasm 4.22 turns multithreading off there:
 * its pthreads need browser Web Workers; forcing it on fails to initialise).
 * Parallelism comes from the inference worker threads instead.
 */
export async function backendDescription(): Promise<string> {
  const name = await initBackend();
  if (name !== 'wasm') return name;
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const threads = (tf.backend() as unknown as { wasm: { tfjs: { getThreadsCount(): number } } }).wasm.tfjs.getThreadsCount();
  const own = simdKernelBuild();
  const products = own === 'off' ? "tfjs's kernels" : `modelhost's SIMD kernels, ${own === 'fma' ? 'fused multiply-add' : 'SIMD128'}`;
  return `wasm (${simd ? 'SIMD' : 'no SIMD'}, ${threads} thread${threads === 1 ? '' : 's'}; products and convolutions: ${products})`;
}

const WASM_ADDRESS_SPACE = 2 ** 32;
type TfDType = 'float32' | 'int32' | 'bool' | 'string' | 'complex64';

/** tfjs storage dtypes are TF dtypes of the same name (for the OOM message). */
const tfDType = (d: TfDType): DType => d;

interface WasmBackendInternals {
  wasm: { _malloc(bytes: number): number };
  move(dataId: object, values: unknown, shape: number[], dtype: TfDType, refCount: number): void;
}
interface CpuBackendInternals {
  write(values: unknown, shape: number[], dtype: TfDType): object;
}

/** Wraps the backend's allocation entry point with the checks described above. */
function guardAllocations(backend: tf.KernelBackend): void {
  if (tf.getBackend() === 'wasm') {
    const b = backend as unknown as WasmBackendInternals;
    const move = b.move.bind(b);
    // The tensor being allocated, for the message when malloc fails (move calls malloc before it records anything).
    let current: { shape: number[]; dtype: DType } | undefined;
    // Emscripten's export is a stub that replaces Module._malloc with the real function on first call:
    // keep our guard in front of whatever gets assigned.
    let malloc = b.wasm._malloc;
    const guarded = (bytes: number): number => {
      const at = malloc.call(b.wasm, bytes);
      if (at === 0 && bytes > 0) throw current ? oomError(current.shape, current.dtype) : oomError([bytes], 'uint8');
      return at;
    };
    Object.defineProperty(b.wasm, '_malloc', {
      configurable: true,
      enumerable: true,
      get: () => guarded,
      set: (f: (bytes: number) => number) => {
        malloc = f;
      },
    });
    b.move = (dataId, values, shape, dtype, refCount) => {
      const d = tfDType(dtype);
      const n = checkTensorSize(shape, d);
      if (dtype !== 'string' && n * tf.util.bytesPerElement(dtype) >= WASM_ADDRESS_SPACE) throw oomError(shape, d);
      current = { shape, dtype: d };
      try {
        move(dataId, values, shape, dtype, refCount);
      } finally {
        current = undefined;
      }
    };
  } else {
    const b = backend as unknown as CpuBackendInternals;
    const write = b.write.bind(b);
    b.write = (values, shape, dtype) => {
      checkTensorSize(shape, tfDType(dtype));
      return write(values, shape, dtype);
    };
  }
}

/**
 * False when the backend can no longer compute: a WASM instance that trapped
 * or aborted (out of memory, say) stays unusable, and the thread holding it
 * must be replaced.
 */
export function backendUsable(): boolean {
  // Not set up yet: nothing that could be broken.
  if (!tf.engine().backendName) return true;
  try {
    const sum = tf.tidy(() => tf.add(tf.tensor1d([2, 3]), tf.scalar(4)));
    const values = sum.dataSync();
    sum.dispose();
    return values[0] === 6 && values[1] === 7;
  } catch {
    return false;
  }
}

let wasmModule: { HEAPU8?: Uint8Array } | undefined;

/** Bytes of memory the WASM backend's instance has grown to (it never shrinks); 0 on another backend. Cheap: called between kernels. */
export function wasmMemoryBytes(): number {
  if (wasmModule === undefined) {
    if (tf.engine().backendName !== 'wasm') return 0;
    wasmModule = (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm;
  }
  // HEAPU8 is replaced by a view of the new buffer whenever the memory grows.
  return wasmModule?.HEAPU8?.buffer.byteLength ?? 0;
}
