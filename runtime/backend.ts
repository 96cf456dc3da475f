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
