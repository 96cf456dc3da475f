import { initBackend } from '../dist/runtime/backend.js';
import * as tf from '@tensorflow/tfjs-core';
await initBackend();
const data = new Float32Array(64).fill(0.5);
const e = tf.engine();
function bench(label, fn) {
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    for (let i = 0; i < 5000; i++) fn().dispose();
    const dt = (performance.now() - t0) / 5000 * 1000;
    if (r === 2) console.log(label, dt.toFixed(2), 'µs');
  }
}
bench('tf.tensor', () => tf.tensor(data, [1, 64], 'float32'));
bench('engine.makeTensor', () => e.makeTensor(data, [1, 64], 'float32'));
const b = tf.backend();
bench('backend.write + makeTensorFromDataId', () => e.makeTensorFromDataId(b.write(data, [1, 64], 'float32'), [1, 64], 'float32', b));
const { hostArray, Tensor } = await import('../dist/runtime/tensor.js');
bench('tf.tensor slab', () => tf.tensor(hostArray(Float32Array, 64), [1, 64], 'float32'));
bench('Tensor.from+toTf', () => { const t = Tensor.from('float32', [1, 64], new Array(64).fill(0.5)); return t.toTf(); });
const hv = Tensor.from('float32', [1, 64], new Array(64).fill(0.5));
bench('Tensor.fromHost+toTf', () => { const t = Tensor.fromHost('float32', [1, 64], hv.values()); return t.toTf(); });
