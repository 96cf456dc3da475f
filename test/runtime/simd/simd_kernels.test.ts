/**
 * runtime/simd's WebAssembly kernels, through the runtime ops that use them
 * (MatMul, BatchMatMulV2, Einsum, _FusedMatMul, Conv2D, _FusedConv2D),
 * against float64 reference loops, in each build: 'fma' (relaxed SIMD),
 * 'plain' (SIMD128) and 'off' (tfjs's own kernels). Shapes cross every
 * blocking edge of the kernels (the 4 × 8 tile, K blocks of 256, N blocks of
 * 2048), transposes, broadcast batches, strides, dilations, paddings.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../runtime/backend.js';
import type { AttrValue } from '../../../runtime/graph/types.js';
import '../../../runtime/kernels/math.js';
import '../../../runtime/kernels/nn.js';
import '../../../runtime/kernels/nn_fused.js';
import { packedWeightCount, setSimdKernels, simdKernelBuild, type SimdKernelMode } from '../../../runtime/simd/simd_kernels.js';
import { Tensor } from '../../../runtime/tensor.js';
import { run1 as run } from '../kernels/array_harness.js';

beforeAll(async () => {
  await initBackend();
});
afterAll(() => setSimdKernels('auto'));

const b = (v: boolean): AttrValue => ({ kind: 'b', b: v });
const s = (v: string): AttrValue => ({ kind: 's', s: new TextEncoder().encode(v) });
const list = (i: number[], strs: string[] = []): AttrValue => ({
  kind: 'list',
  list: { s: strs.map((x) => new TextEncoder().encode(x)), i, f: [], b: [], type: [], shape: [], tensor: [], func: [] },
});

/** Deterministic values in [-1, 1). */
function random(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = ((x >>> 0) / 2 ** 32) * 2 - 1;
  }
  return out;
}

const sizeOf = (shape: number[]) => shape.reduce((p, d) => p * d, 1);
const input = (shape: number[], seed: number) => Tensor.from('float32', shape, random(sizeOf(shape), seed));

/** Largest |got - want| relative to the sum of |terms| that made each element (float32 rounding scale). */
function expectClose(got: Tensor, want: Float64Array, scale: Float64Array, shape: number[]): void {
  expect(got.shape).toEqual(shape);
  const g = got.values() as Float32Array;
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(g[i] - want[i]) / (scale[i] + 1e-30);
    if (!(err <= worst)) worst = err; // NaN sticks
  }
  expect(worst).toBeLessThan(1e-5);
}

interface Product {
  aShape: number[];
  bShape: number[];
  ta?: boolean;
  tb?: boolean;
}

/** Reference BatchMatMulV2 (broadcast batches) in float64: values and the |a||b| sums. */
function referenceMatMul(a: Float32Array, b: Float32Array, p: Product): { out: Float64Array; scale: Float64Array; shape: number[] } {
  const ar = p.aShape.length;
  const br = p.bShape.length;
  const [aRows, aCols] = p.aShape.slice(-2);
  const [bRows, bCols] = p.bShape.slice(-2);
  const m = p.ta ? aCols : aRows;
  const k = p.ta ? aRows : aCols;
  const n = p.tb ? bRows : bCols;
  const aBatch = p.aShape.slice(0, -2);
  const bBatch = p.bShape.slice(0, -2);
  const rank = Math.max(aBatch.length, bBatch.length);
  const pad = (x: number[]) => [...new Array(rank - x.length).fill(1), ...x];
  const [pa, pb] = [pad(aBatch), pad(bBatch)];
  const batch = pa.map((d, i) => Math.max(d, pb[i]));
  const batches = sizeOf(batch);
  const out = new Float64Array(batches * m * n);
  const scale = new Float64Array(batches * m * n);
  const flat = (own: number[], idx: number[]) => own.reduce((at, d, i) => at * d + (d === 1 ? 0 : idx[i]), 0);
  for (let q = 0; q < batches; q++) {
    const idx: number[] = [];
    for (let d = rank - 1, r = q; d >= 0; d--) {
      idx[d] = r % batch[d];
      r = Math.floor(r / batch[d]);
    }
    const ao = flat(pa, idx) * aRows * aCols;
    const bo = flat(pb, idx) * bRows * bCols;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let acc = 0;
        let abs = 0;
        for (let t = 0; t < k; t++) {
          const x = a[ao + (p.ta ? t * aCols + i : i * aCols + t)];
          const y = b[bo + (p.tb ? j * bCols + t : t * bCols + j)];
          acc += x * y;
          abs += Math.abs(x * y);
        }
        out[(q * m + i) * n + j] = acc;
        scale[(q * m + i) * n + j] = abs;
      }
    }
  }
  void ar;
  void br;
  return { out, scale, shape: [...batch, m, n] };
}

const PRODUCTS: Product[] = [
  { aShape: [1, 1], bShape: [1, 1] },
  { aShape: [3, 5], bShape: [5, 7] },
  { aShape: [9, 17], bShape: [17, 9] },
  { aShape: [64, 300], bShape: [300, 33] }, // K over one 256 block
  { aShape: [65, 513], bShape: [513, 8] }, // two K blocks and a remainder, M edge
  { aShape: [5, 3], bShape: [3, 2050] }, // N over one 2048 block
  { aShape: [37, 19], bShape: [11, 19], tb: true },
  { aShape: [19, 37], bShape: [19, 11], ta: true },
  { aShape: [19, 37], bShape: [11, 19], ta: true, tb: true },
  { aShape: [8, 64], bShape: [64, 8] },
  { aShape: [4, 6, 10], bShape: [4, 10, 7] },
  { aShape: [2, 3, 6, 10], bShape: [10, 7].length ? [1, 3, 10, 7] : [] }, // a batch dim of 1 broadcast
  { aShape: [2, 1, 5, 4], bShape: [3, 4, 6] }, // batches of different ranks
  { aShape: [6, 9, 16], bShape: [16, 12] }, // one right matrix for every batch
  { aShape: [6, 16, 9], bShape: [16, 12], ta: true },
  { aShape: [2, 32, 64, 32], bShape: [2, 32, 64, 32], tb: true }, // attention scores
];

const MODES: SimdKernelMode[] = ['fma', 'plain', 'off'];

describe('SIMD kernels', () => {
  it('run the FMA build on this Node.js (relaxed SIMD enabled before compiling)', () => {
    setSimdKernels('auto');
    expect(simdKernelBuild()).toBe('fma');
    setSimdKernels('plain');
    expect(simdKernelBuild()).toBe('plain');
    setSimdKernels('off');
    expect(simdKernelBuild()).toBe('off');
  });

  it('refuse an unknown mode, naming the choices', () => {
    expect(() => setSimdKernels('fast' as SimdKernelMode)).toThrow("--simd_kernels must be one of auto, fma, plain, off, got 'fast'");
  });

  for (const mode of MODES) {
    describe(`${mode}`, () => {
      beforeAll(() => setSimdKernels(mode));

      it('BatchMatMulV2 / MatMul equal float64 products over every blocking edge, transposes and broadcast batches', () => {
        PRODUCTS.forEach((p, i) => {
          const a = random(sizeOf(p.aShape), 11 + i);
          const bv = random(sizeOf(p.bShape), 97 + i);
          const want = referenceMatMul(a, bv, p);
          const op = p.aShape.length === 2 && p.bShape.length === 2 ? 'MatMul' : 'BatchMatMulV2';
          const attrs: Record<string, AttrValue> = op === 'MatMul' ? { transpose_a: b(!!p.ta), transpose_b: b(!!p.tb) } : { adj_x: b(!!p.ta), adj_y: b(!!p.tb) };
          const got = run(op, [Tensor.from('float32', p.aShape, a), Tensor.from('float32', p.bShape, bv)], attrs);
          expectClose(got, want.out, want.scale, want.shape);
        });
      });

      it('Einsum contracts through the kernels, reading operands transposed in place', () => {
        // Keras MultiHeadAttention's two einsums, and a projection.
        const q = random(2 * 6 * 3 * 4, 1);
        const k = random(2 * 5 * 3 * 4, 2);
        const scores = run('Einsum', [Tensor.from('float32', [2, 5, 3, 4], k), Tensor.from('float32', [2, 6, 3, 4], q)], { equation: s('aecd,abcd->acbe') });
        const want = new Float64Array(2 * 3 * 6 * 5);
        const scale = new Float64Array(want.length);
        for (let a = 0; a < 2; a++)
          for (let c = 0; c < 3; c++)
            for (let bb = 0; bb < 6; bb++)
              for (let e = 0; e < 5; e++) {
                let acc = 0;
                let abs = 0;
                for (let d = 0; d < 4; d++) {
                  const x = k[((a * 5 + e) * 3 + c) * 4 + d] * q[((a * 6 + bb) * 3 + c) * 4 + d];
                  acc += x;
                  abs += Math.abs(x);
                }
                want[((a * 3 + c) * 6 + bb) * 5 + e] = acc;
                scale[((a * 3 + c) * 6 + bb) * 5 + e] = abs;
              }
        expectClose(scores, want, scale, [2, 3, 6, 5]);
        const x = random(4 * 7 * 16, 3);
        const w = random(16 * 2 * 8, 4);
        const proj = run('Einsum', [Tensor.from('float32', [4, 7, 16], x), Tensor.from('float32', [16, 2, 8], w)], { equation: s('abc,cde->abde') });
        const ref = referenceMatMul(x, w, { aShape: [28, 16], bShape: [16, 16] });
        expectClose(proj, ref.out, ref.scale, [4, 7, 2, 8]);
      });

      it('_FusedMatMul applies bias and Relu6 after any transpose', () => {
        const a = random(13 * 21, 5);
        const w = random(10 * 21, 6);
        const bias = random(10, 7).map((v) => v * 4);
        const got = run('_FusedMatMul', [Tensor.from('float32', [13, 21], a), Tensor.from('float32', [10, 21], w), Tensor.from('float32', [10], bias)], {
          transpose_b: b(true),
          fused_ops: list([], ['BiasAdd', 'Relu6']),
        });
        const ref = referenceMatMul(a, w, { aShape: [13, 21], bShape: [10, 21], tb: true });
        const want = ref.out.map((v, i) => Math.min(Math.max(v + bias[i % 10], 0), 6));
        expectClose(got, want, ref.scale.map((v, i) => v + Math.abs(bias[i % 10])), [13, 10]);
      });
    });
  }
});

interface Conv {
  x: number[];
  f: number[];
  strides: number[];
  dilations: number[];
  padding: 'SAME' | 'VALID' | number[];
}

/** Reference NHWC convolution in float64, TF's SAME/VALID/explicit padding. */
function referenceConv(x: Float32Array, f: Float32Array, c: Conv): { out: Float64Array; scale: Float64Array; shape: number[] } {
  const [n, h, w, cin] = c.x;
  const [kh, kw, , cout] = c.f;
  const [sh, sw] = c.strides;
  const [dh, dw] = c.dilations;
  const eh = (kh - 1) * dh + 1;
  const ew = (kw - 1) * dw + 1;
  let oh: number, ow: number, top: number, left: number;
  if (c.padding === 'VALID') {
    oh = Math.ceil((h - eh + 1) / sh);
    ow = Math.ceil((w - ew + 1) / sw);
    top = left = 0;
  } else if (c.padding === 'SAME') {
    oh = Math.ceil(h / sh);
    ow = Math.ceil(w / sw);
    top = Math.floor(Math.max((oh - 1) * sh + eh - h, 0) / 2);
    left = Math.floor(Math.max((ow - 1) * sw + ew - w, 0) / 2);
  } else {
    const [t, bo, l, r] = c.padding;
    oh = Math.floor((h + t + bo - eh) / sh) + 1;
    ow = Math.floor((w + l + r - ew) / sw) + 1;
    top = t;
    left = l;
  }
  const out = new Float64Array(n * oh * ow * cout);
  const scale = new Float64Array(out.length);
  for (let b0 = 0; b0 < n; b0++)
    for (let y = 0; y < oh; y++)
      for (let x0 = 0; x0 < ow; x0++)
        for (let o = 0; o < cout; o++) {
          let acc = 0;
          let abs = 0;
          for (let ky = 0; ky < kh; ky++)
            for (let kx = 0; kx < kw; kx++) {
              const iy = y * sh - top + ky * dh;
              const ix = x0 * sw - left + kx * dw;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
              for (let i = 0; i < cin; i++) {
                const v = x[((b0 * h + iy) * w + ix) * cin + i] * f[((ky * kw + kx) * cin + i) * cout + o];
                acc += v;
                abs += Math.abs(v);
              }
            }
          out[((b0 * oh + y) * ow + x0) * cout + o] = acc;
          scale[((b0 * oh + y) * ow + x0) * cout + o] = abs;
        }
  return { out, scale, shape: [n, oh, ow, cout] };
}

const CONVS: Conv[] = [
  { x: [1, 5, 5, 1], f: [3, 3, 1, 1], strides: [1, 1], dilations: [1, 1], padding: 'SAME' },
  { x: [2, 9, 7, 3], f: [3, 3, 3, 10], strides: [1, 1], dilations: [1, 1], padding: 'SAME' },
  { x: [2, 9, 7, 3], f: [3, 2, 3, 9], strides: [2, 3], dilations: [1, 1], padding: 'VALID' },
  { x: [1, 11, 12, 5], f: [3, 3, 5, 8], strides: [2, 2], dilations: [2, 2], padding: 'SAME' }, // strided and dilated at once
  { x: [1, 8, 8, 4], f: [3, 3, 4, 6], strides: [1, 2], dilations: [1, 1], padding: [2, 0, 1, 3] }, // explicit, asymmetric
  { x: [3, 6, 6, 40], f: [1, 1, 40, 33], strides: [1, 1], dilations: [1, 1], padding: 'VALID' },
  { x: [1, 7, 7, 300], f: [3, 3, 300, 12], strides: [1, 1], dilations: [1, 1], padding: 'SAME' }, // K over 256, runs split across blocks
];

describe('SIMD convolutions', () => {
  for (const mode of MODES) {
    describe(`${mode}`, () => {
      beforeAll(() => setSimdKernels(mode));

      it('Conv2D equals float64 convolutions: strides, dilations, SAME, VALID and explicit pads', () => {
        CONVS.forEach((c, i) => {
          const x = random(sizeOf(c.x), 31 + i);
          const f = random(sizeOf(c.f), 71 + i);
          const want = referenceConv(x, f, c);
          const explicit = Array.isArray(c.padding);
          const got = run('Conv2D', [Tensor.from('float32', c.x, x), Tensor.from('float32', c.f, f)], {
            strides: list([1, ...c.strides, 1]),
            dilations: list([1, ...c.dilations, 1]),
            padding: s(explicit ? 'EXPLICIT' : (c.padding as string)),
            ...(explicit ? { explicit_paddings: list([0, 0, ...(c.padding as number[]), 0, 0]) } : {}),
          });
          expectClose(got, want.out, want.scale, want.shape);
        });
      });

      it('_FusedConv2D folds BatchNorm and clamps with Relu', () => {
        const c = CONVS[3];
        const x = random(sizeOf(c.x), 5);
        const f = random(sizeOf(c.f), 6);
        const ch = c.f[3];
        const [scale, offset, mean] = [7, 8, 9].map((seed) => random(ch, seed));
        const variance = random(ch, 10).map((v) => v + 1.5);
        const got = run(
          '_FusedConv2D',
          [Tensor.from('float32', c.x, x), Tensor.from('float32', c.f, f), ...[scale, offset, mean, variance].map((v) => Tensor.from('float32', [ch], v))],
          { strides: list([1, 2, 2, 1]), dilations: list([1, 2, 2, 1]), padding: s('SAME'), fused_ops: list([], ['FusedBatchNorm', 'Relu']), epsilon: { kind: 'f', f: 0.001 } },
        );
        const ref = referenceConv(x, f, c);
        const want = ref.out.map((v, i) => {
          const o = i % ch;
          const m = scale[o] / Math.sqrt(variance[o] + 0.001);
          return Math.max((v - mean[o]) * m + offset[o], 0);
        });
        const wantScale = ref.scale.map((v, i) => v * Math.abs(scale[i % ch] / Math.sqrt(variance[i % ch] + 0.001)) + Math.abs(offset[i % ch]) + Math.abs(mean[i % ch]));
        expectClose(got, want, wantScale, ref.shape);
      });
    });
  }

  it("keep a weight's packed panels for few-row products, the same answers, freed with the weight", () => {
    setSimdKernels('fma');
    const before = packedWeightCount();
    const w = Tensor.from('float32', [300, 20], random(6000, 8)).keep();
    const fresh = Tensor.from('float32', [300, 20], random(6000, 8));
    for (const rows of [9, 9, 300]) {
      const a = input([rows, 300], rows);
      const packed = run('MatMul', [a, w]);
      const unpacked = run('MatMul', [a, fresh]);
      expect(Array.from(packed.values() as Float32Array)).toEqual(Array.from(unpacked.values() as Float32Array));
    }
    // One weight packed once (9 rows, twice); 300 rows pack on the fly; a non-weight never.
    expect(packedWeightCount()).toBe(before + 1);
    const x = input([1, 6, 6, 8], 1);
    const f = Tensor.from('float32', [3, 3, 8, 16], random(3 * 3 * 8 * 16, 2)).keep();
    const y1 = run('Conv2D', [x, f], { strides: list([1, 1, 1, 1]), padding: s('SAME') });
    const y2 = run('Conv2D', [x, f], { strides: list([1, 1, 1, 1]), padding: s('SAME') });
    expect(Array.from(y2.values() as Float32Array)).toEqual(Array.from(y1.values() as Float32Array));
    expect(packedWeightCount()).toBe(before + 2);
    w.dispose();
    f.dispose();
    expect(packedWeightCount()).toBe(before);
  });

  it('write nothing outside their output: tensors allocated around a product keep their values', () => {
    setSimdKernels('fma');
    const before = tf.fill([4096], 7);
    const a = input([33, 70], 1);
    const w = input([70, 29], 2);
    const y = run('MatMul', [a, w]);
    const after = tf.fill([4096], 9);
    const x = input([2, 10, 10, 3], 3);
    const f = input([3, 3, 3, 5], 4);
    run('Conv2D', [x, f], { strides: list([1, 1, 1, 1]), padding: s('SAME') });
    expect(y.shape).toEqual([33, 29]);
    expect(Array.from(before.dataSync()).every((v) => v === 7)).toBe(true);
    expect(Array.from(after.dataSync()).every((v) => v === 9)).toBe(true);
  });
});
