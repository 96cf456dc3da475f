/**
 * Direct kernel dispatch (runtime/kernels/dispatch.ts): the backend's kernels
 * called without tfjs's op wrappers, and slices/splits copied within the WASM
 * heap, give exactly what the tfjs ops give, for every storage dtype and box,
 * and free their outputs with the enclosing scope.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../runtime/backend.js';
import { runKernel, runKernelMany, setDirectDispatch, setSmallHostMath, SMALL_HOST_ELEMENTS, sliceOnBackend, splitOnBackend } from '../../../runtime/kernels/dispatch.js';

beforeAll(async () => {
  await initBackend();
});

afterEach(() => setDirectDispatch(true));

let seed = 7;
const rand = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
const randInt = (n: number) => Math.floor(rand() * n);

function randomTensor(shape: number[], dtype: 'float32' | 'int32' | 'bool'): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = Array.from({ length: n }, () => (dtype === 'float32' ? rand() * 2 - 1 : dtype === 'int32' ? randInt(2000) - 1000 : randInt(2)));
  return tf.tensor(v, shape, dtype);
}

const same = (a: tf.Tensor, b: tf.Tensor) => {
  expect(a.shape).toEqual(b.shape);
  expect(a.dtype).toBe(b.dtype);
  expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
};

describe('direct kernel dispatch', () => {
  it('runs a kernel as engine.runKernel does, on and off', () => {
    tf.tidy(() => {
      const a = randomTensor([2, 3], 'float32');
      const b = randomTensor([3], 'float32');
      const m = randomTensor([3, 4], 'float32');
      for (const on of [true, false]) {
        setDirectDispatch(on);
        same(runKernel('Add', { a, b }), tf.add(a, b));
        same(runKernel('Sigmoid', { x: a }), tf.sigmoid(a));
        same(runKernel('BatchMatMul', { a, b: m }, { transposeA: false, transposeB: false }), tf.matMul(a, m));
        const parts = runKernelMany('SplitV', { x: m }, { numOrSizeSplits: [1, 3], axis: 1 });
        tf.split(m, [1, 3], 1).forEach((p, i) => same(parts[i], p));
      }
    });
  });

  it('outputs belong to the current scope and are freed with it', () => {
    const a = tf.ones([4, 4]);
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      runKernel('Multiply', { a, b: a });
      sliceOnBackend(a, [1, 1], [2, 2], [4]);
      splitOnBackend(a, 0, [1, 3]);
      expect(tf.memory().numTensors).toBe(before + 4);
    });
    expect(tf.memory().numTensors).toBe(before);
    a.dispose();
  });

  it('slices boxes of any rank and dtype exactly as tf.slice', () => {
    tf.tidy(() => {
      for (let trial = 0; trial < 200; trial++) {
        const rank = 1 + randInt(4);
        const shape = Array.from({ length: rank }, () => 1 + randInt(5));
        const dtype = (['float32', 'int32', 'bool'] as const)[trial % 3];
        const x = randomTensor(shape, dtype);
        const begin = shape.map((d) => randInt(d));
        const size = shape.map((d, i) => 1 + randInt(d - begin[i]));
        const outShape = rank > 1 && trial % 2 ? [size.reduce((a, b) => a * b, 1)] : size;
        same(sliceOnBackend(x, begin, size, outShape), tf.reshape(tf.slice(x, begin, size), outShape));
      }
    });
  });

  it('splits and unstacks along any axis exactly as tf.split / tf.unstack, empty pieces included', () => {
    tf.tidy(() => {
      for (let trial = 0; trial < 120; trial++) {
        const rank = 1 + randInt(4);
        const shape = Array.from({ length: rank }, () => 1 + randInt(5));
        const dtype = (['float32', 'int32', 'bool'] as const)[trial % 3];
        const x = randomTensor(shape, dtype);
        const axis = randInt(rank);
        let left = shape[axis];
        const sizes: number[] = [];
        while (left > 0) {
          const s = trial % 4 === 0 && sizes.length === 1 ? 0 : 1 + randInt(left);
          sizes.push(s);
          left -= s;
        }
        const got = splitOnBackend(x, axis, sizes);
        const want = tf.split(x, sizes, axis);
        expect(got.length).toBe(want.length);
        got.forEach((g, i) => same(g, want[i]));
        const rows = splitOnBackend(x, axis, new Array(shape[axis]).fill(1), true);
        tf.unstack(x, axis).forEach((w, i) => same(rows[i], w));
      }
    });
  });

  it('falls back to the tfjs ops when direct dispatch is off', () => {
    setDirectDispatch(false);
    tf.tidy(() => {
      const x = randomTensor([3, 4], 'float32');
      same(sliceOnBackend(x, [1, 0], [2, 4], [8]), tf.reshape(tf.slice(x, [1, 0], [2, 4]), [8]));
      tf.split(x, [2, 2], 1).forEach((w, i) => same(splitOnBackend(x, 1, [2, 2])[i], w));
    });
  });
});

describe('small host math', () => {
  it('computes small float32 activations of host operands on the host, within an ulp of the backend', async () => {
    const { Tensor } = await import('../../../runtime/tensor.js');
    await import('../../../runtime/kernels/index.js');
    const { kernelFor } = await import('../../../runtime/kernels/registry.js');
    const { Attrs } = await import('../../../runtime/kernels/attrs.js');
    const run = (op: string, x: InstanceType<typeof Tensor>) =>
      kernelFor(op)!.kernel({ node: { name: op, op, input: [], device: '', attr: {} }, attrs: new Attrs({}, op, op), inputs: [x] } as never)[0];
    const values = Array.from({ length: 256 }, (_, i) => (i - 128) / 16);
    for (const op of ['Sigmoid', 'Tanh', 'Relu', 'Exp']) {
      setSmallHostMath(true);
      const host = run(op, Tensor.from('float32', [1, 256], values));
      expect(host.isOnBackend).toBe(false);
      setSmallHostMath(false);
      const backend = run(op, Tensor.from('float32', [1, 256], values));
      expect(backend.isOnBackend).toBe(true);
      const a = host.values() as Float32Array;
      const b = backend.values() as Float32Array;
      for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(2 ** -22 * Math.max(1, Math.abs(b[i])));
      backend.dispose();
    }
    setSmallHostMath(true);
    // Beyond SMALL_HOST_ELEMENTS the backend computes.
    expect(run('Tanh', Tensor.from('float32', [SMALL_HOST_ELEMENTS + 1], new Array(SMALL_HOST_ELEMENTS + 1).fill(0.5))).isOnBackend).toBe(true);
  });
});
