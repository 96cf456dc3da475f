import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '/work/wt/rnn/dist/runtime/backend.js';
await initBackend();
const e = tf.engine();
const a = tf.randomNormal([1, 256]), b = tf.randomNormal([1, 256]);
const w = tf.randomNormal([64, 256]), h = tf.randomNormal([1, 64]);
function bench(name, fn, n = 20000) {
  for (let i = 0; i < 2000; i++) tf.tidy(fn);
  let best = Infinity;
  for (let r = 0; r < 5; r++) {
    e.startScope(); const t0 = performance.now();
    for (let i = 0; i < n; i++) fn();
    const dt = (performance.now() - t0) / n * 1000; e.endScope(); best = Math.min(best, dt);
  }
  console.log(name.padEnd(30), best.toFixed(2), 'µs');
}
const k = tf.getKernel('Add', 'wasm'); const backend = tf.backend();
bench('tf.add', () => tf.add(a, b));
bench('engine.runKernel Add', () => e.runKernel('Add', { a, b }));
bench('kernelFunc Add + makeTensor', () => e.makeTensorFromTensorInfo(k.kernelFunc({ inputs: { a, b }, backend, attrs: {} })));
bench('tf.sigmoid', () => tf.sigmoid(a));
bench('runKernel Sigmoid', () => e.runKernel('Sigmoid', { x: a }));
bench('tf.matMul 1x64x256', () => tf.matMul(h, w));
const h3 = h.reshape([1,1,64]), w3 = w.reshape([1,64,256]);
bench('runKernel BatchMatMul', () => e.runKernel('BatchMatMul', { a: h3, b: w3 }, { transposeA: false, transposeB: false }));
bench('tf.split 4', () => tf.split(a, 4, 1));
bench('runKernel SplitV', () => e.runKernel('SplitV', { x: a }, { numOrSizeSplits: [64,64,64,64], axis: 1 }));
bench('runKernel Slice', () => e.runKernel('Slice', { x: a }, { begin: [0, 64], size: [1, 64] }));
bench('tf.tidy(add)', () => tf.tidy(() => tf.add(a, b)));
tf.env().set('IS_TEST', false);
bench('IS_TEST off: runKernel Add', () => e.runKernel('Add', { a, b }));
bench('IS_TEST off: tf.add', () => tf.add(a, b));
