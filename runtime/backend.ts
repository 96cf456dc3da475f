/**
 * Selects the tfjs backend the numeric kernels run on: WASM (SIMD, ~35x the
 * pure-JS CPU backend on these machines), or 'cpu' when MODELHOST_BACKEND=cpu.
 * Call `initBackend()` once before loading models; it is idempotent.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';

let ready: Promise<string> | undefined;

export function initBackend(name = process.env.MODELHOST_BACKEND ?? 'wasm'): Promise<string> {
  ready ??= (async () => {
    // tfjs logs a hint about tfjs-node on first use in Node; it does not apply here.
    tf.env().set('IS_TEST', true);
    const ok = await tf.setBackend(name);
    if (!ok) throw new Error(`tfjs backend '${name}' failed to initialise`);
    await tf.ready();
    return tf.getBackend();
  })();
  return ready;
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
