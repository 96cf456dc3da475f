// AssemblyScript: float32 tanh as TensorFlow's CPU kernel computes it (see simd_kernels.ts).
//
// Eigen's ptanh_float for builds without FMA (TF 2.21's x86 wheels): clamp to
// ±7.90738964080810547, then x · P(x²) / Q(x²), a [9, 8] rational minimax fit,
// with separate multiplies and adds (never fused: a fused step changes bits).
// Bit-identical to tf.math.tanh on 300,000 points (test/runtime/simd/).

const CLAMP: f32 = 7.90738964080810547;
const A0: f32 = 1.394553628e-8;
const A1: f32 = 2.10273356e-5;
const A2: f32 = 3.520756727e-3;
const A3: f32 = 1.3402161e-1;
const B0: f32 = 8.015776984e-7;
const B1: f32 = 3.326951409e-4;
const B2: f32 = 2.597254514e-2;
const B3: f32 = 4.67354834e-1;

@inline
export function tanh4(v: v128): v128 {
  const x = f32x4.max(f32x4.min(v, f32x4.splat(CLAMP)), f32x4.splat(-CLAMP));
  const x2 = f32x4.mul(x, x);
  const x3 = f32x4.mul(x2, x);
  let p = f32x4.add(f32x4.mul(f32x4.splat(A0), x2), f32x4.splat(A1));
  p = f32x4.add(f32x4.mul(p, x2), f32x4.splat(A2));
  p = f32x4.add(f32x4.mul(p, x2), f32x4.splat(A3));
  let q = f32x4.add(f32x4.mul(f32x4.splat(B0), x2), f32x4.splat(B1));
  q = f32x4.add(f32x4.mul(q, x2), f32x4.splat(B2));
  q = f32x4.add(f32x4.mul(q, x2), f32x4.splat(B3));
  q = f32x4.add(f32x4.mul(q, x2), f32x4.splat(1));
  p = f32x4.add(f32x4.mul(x3, p), x);
  return f32x4.div(p, q);
}

/** out[i] = tanh(x[i]) for n floats (out may be x). */
export function tanh(x: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(out + <usize>i * 4, tanh4(v128.load(x + <usize>i * 4)));
  // The tail one element at a time, through the same vector arithmetic.
  for (; i < n; i++) store<f32>(out + <usize>i * 4, f32x4.extract_lane(tanh4(f32x4.splat(load<f32>(x + <usize>i * 4))), 0));
}
