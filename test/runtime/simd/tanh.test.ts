/**
 * Tanh on float32 gives TF 2.21's bits (Eigen's rational approximation), on
 * the backend through runtime/simd's kernel and on the host for small
 * tensors, against values TensorFlow computed
 * (tools/conformance/make_tanh_fixture.py). tfjs's own Tanh (libm) agrees
 * with TF on about a third of them.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../runtime/backend.js';
import '../../../runtime/kernels/math.js';
import { setSimdKernels } from '../../../runtime/simd/simd_kernels.js';
import { Tensor } from '../../../runtime/tensor.js';
import { run1 } from '../kernels/array_harness.js';

const fixture = JSON.parse(fs.readFileSync(new URL('./fixtures/tanh_tf.json', import.meta.url), 'utf8')) as { x_f32_le_base64: string; y_f32_le_base64: string; tf_version: string };
const floats = (b64: string) => {
  const bytes = Buffer.from(b64, 'base64');
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
};
const x = floats(fixture.x_f32_le_base64);
const want = floats(fixture.y_f32_le_base64);

function tanh(input: Tensor): Float32Array {
  return run1('Tanh', [input]).values() as Float32Array;
}

/** Indices where got and want differ in bits (NaN equals NaN). */
function mismatches(got: Float32Array, expected: Float32Array): number[] {
  const g = new Uint32Array(got.buffer, got.byteOffset, got.length);
  const w = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  const bad: number[] = [];
  for (let i = 0; i < w.length; i++) if (g[i] !== w[i] && !(Number.isNaN(got[i]) && Number.isNaN(expected[i]))) bad.push(i);
  return bad;
}

beforeAll(async () => {
  await initBackend();
});
afterAll(() => setSimdKernels('auto'));

describe(`Tanh equals TensorFlow ${fixture.tf_version} bit for bit`, () => {
  it('on the backend (SIMD kernel), the tail past the last full vector included', () => {
    setSimdKernels('auto');
    expect(x.length % 4).not.toBe(0);
    const t = Tensor.from('float32', [x.length], x);
    t.toTf(); // on the backend, as a large tensor is
    expect(mismatches(tanh(t), want)).toEqual([]);
  });

  it('on the host for small tensors, with the same float32 arithmetic', () => {
    for (let at = 0; at < x.length; at += 500) {
      const part = x.slice(at, at + 500);
      expect(mismatches(tanh(Tensor.from('float32', [part.length], part)), want.slice(at, at + 500))).toEqual([]);
    }
  });

  it("tfjs's libm Tanh (--simd_kernels=off) is not TF's arithmetic: within 8 ulps, not equal", () => {
    setSimdKernels('off');
    const t = Tensor.from('float32', [x.length], x);
    t.toTf();
    const got = tanh(t);
    const bad = mismatches(got, want);
    expect(bad.length).toBeGreaterThan(x.length / 4);
    for (const i of bad) expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(8 * 2 ** -24);
    setSimdKernels('auto');
  });
});
