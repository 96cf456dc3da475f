import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { initBackend } from '../dist/runtime/backend.js';
if (process.argv[2] === 'guard') await initBackend(); else { await tf.setBackend('wasm'); await tf.ready(); }
if (process.argv[3] === 'test') tf.env().set('IS_TEST', true);
const e = tf.engine();
const a = tf.randomNormal([1, 256]), b = tf.randomNormal([1, 256]);
const w = tf.randomNormal([64, 256]), h = tf.randomNormal([1, 64]);
function bench(name, fn, n = 5000) {
  for (let i = 0; i < 1000; i++) tf.dispose(fn());
  let best = Infinity;
  for (let r = 0; r < 7; r++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) tf.dispose(fn());
    const dt = (performance.now() - t0) / n * 1000; best = Math.min(best, dt);
  }
  console.log(name.padEnd(30), best.toFixed(2), 'µs');
}
const k = tf.getKernel('Add', 'wasm'); const backend = tf.backend();
bench('tf.add', () => tf.add(a, b));
bench('engine.runKernel Add', () => e.runKernel('Add', { a, b }));
bench('kernelFunc Add + makeTensor', () => e.makeTensorFromTensorInfo(k.kernelFunc({ inputs: { a, b }, backend, attrs: {} })));
bench('kernelFunc Add + disposeData', () => { const i = k.kernelFunc({ inputs: { a, b }, backend, attrs: {} }); backend.disposeData(i.dataId); return []; });
bench('tf.sigmoid', () => tf.sigmoid(a));
bench('runKernel Sigmoid', () => e.runKernel('Sigmoid', { x: a }));
bench('tf.matMul 1x64x256', () => tf.matMul(h, w));
const h3 = tf.reshape(h, [1,1,64]), w3 = tf.reshape(w, [1,64,256]);
bench('runKernel BatchMatMul', () => e.runKernel('BatchMatMul', { a: h3, b: w3 }, { transposeA: false, transposeB: false }));
bench('tf.split 4', () => tf.split(a, 4, 1));
bench('runKernel SplitV', () => e.runKernel('SplitV', { x: a }, { numOrSizeSplits: [64,64,64,64], axis: 1 }));
bench('runKernel Slice', () => e.runKernel('Slice', { x: a }, { begin: [0, 64], size: [1, 64] }));
bench('tf.tidy(add)', () => tf.tidy(() => tf.add(a, b)));
const av = a.dataSync(), bv = b.dataSync();
bench('host add 256 + tensor', () => { const o = new Float32Array(256); for (let i = 0; i < 256; i++) o[i] = av[i] + bv[i]; return []; });
bench('host sigmoid 256', () => { const o = new Float32Array(256); for (let i = 0; i < 256; i++) o[i] = 1 / (1 + Math.exp(-av[i])); return []; });
const hv = h.dataSync(), wv = w.dataSync();
bench('host matmul 1x64x256', () => { const o = new Float32Array(256); for (let k = 0; k < 64; k++) { const x = hv[k]; const off = k * 256; for (let j = 0; j < 256; j++) o[j] += x * wv[off + j]; } return []; });
