import { initBackend } from '../dist/runtime/backend.js';
import '../dist/runtime/kernels/index.js';
import { kernelFor } from '../dist/runtime/kernels/registry.js';
import { Tensor } from '../dist/runtime/tensor.js';
import { Attrs } from '../dist/runtime/kernels/attrs.js';
import * as tf from '@tensorflow/tfjs-core';
await initBackend();
const mm = kernelFor('MatMul');
const w = Tensor.from('float32', [64, 192], Array.from({ length: 64 * 192 }, () => Math.random())).keep();
w.toTf();
const attrs = new Attrs({ transpose_a: { kind: 'b', b: false }, transpose_b: { kind: 'b', b: false } });
function bench(label, mk) {
  for (let r = 0; r < 3; r++) {
    tf.engine().startScope();
    const t0 = performance.now();
    for (let i = 0; i < 2000; i++) mm.kernel({ node: { name: 'm', op: 'MatMul' }, attrs, inputs: [mk(), w] });
    const dt = (performance.now() - t0) / 2000 * 1000;
    tf.engine().endScope();
    if (r === 2) console.log(label, dt.toFixed(2), 'µs');
  }
}
bench('host h', () => Tensor.from('float32', [1, 64], new Array(64).fill(0.5)));
const hb = Tensor.from('float32', [1, 64], new Array(64).fill(0.5)); hb.toTf();
//bench('backend h', () => hb);
