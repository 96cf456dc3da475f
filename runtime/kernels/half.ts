/**
 * float16 / bfloat16 results rounded at every op output, as TensorFlow's CPU
 * kernels do: they compute half ops in float and store half, so each op's
 * output is rounded to half precision (round to nearest even). The runtime
 * keeps half tensors in Float32Array (tensor.ts), so the registry passes every
 * kernel's half outputs through `roundHalfOutputs` (a new tensor; already
 * rounded tensors and buffers are remembered and not rounded again).
 */
import { Tensor } from '../tensor.js';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE half precision, round to nearest even (overflow → ±Infinity). */
export function roundFloat16(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  const exp = (bits >>> 23) & 0xff;
  if (exp === 0xff) return f32[0]; // NaN, ±Infinity
  const e = exp - 127;
  if (e >= -14) {
    const lower = bits & 0x1fff;
    let base = (bits & ~0x1fff) >>> 0;
    if (lower > 0x1000 || (lower === 0x1000 && (base & 0x2000) !== 0)) base = (base + 0x2000) >>> 0;
    u32[0] = base;
    const r = f32[0];
    return Math.abs(r) > 65504 ? (r < 0 ? -Infinity : Infinity) : r;
  }
  // Subnormal half: a fixed quantum of 2^-24 (exact in double).
  const r = Math.abs(f32[0]) * 16777216;
  let fl = Math.floor(r);
  const diff = r - fl;
  if (diff > 0.5 || (diff === 0.5 && (fl & 1) === 1)) fl++;
  const v = fl / 16777216;
  return bits >>> 31 ? -v : v;
}

/** bfloat16, round to nearest even (NaN stays NaN). */
export function roundBfloat16(x: number): number {
  if (x !== x) return x;
  f32[0] = x;
  const bits = u32[0];
  u32[0] = ((bits + 0x7fff + ((bits >>> 16) & 1)) & 0xffff0000) >>> 0;
  return f32[0];
}

const roundedTensors = new WeakSet<Tensor>();
const roundedBuffers = new WeakSet<object>();

/** Marks a tensor whose values are known to be half-representable (decoded from half bits). */
export function markRounded(t: Tensor): Tensor {
  roundedTensors.add(t);
  return t;
}

function roundOne(t: Tensor): Tensor {
  if (roundedTensors.has(t) || t.isDisposed) return t;
  if (t.isOnHost) {
    const v = t.values();
    if (roundedBuffers.has(v)) {
      roundedTensors.add(t);
      return t;
    }
  }
  const src = t.values() as Float32Array;
  const out = new Float32Array(src.length);
  const fn = t.dtype === 'float16' ? roundFloat16 : roundBfloat16;
  let changed = false;
  for (let i = 0; i < src.length; i++) {
    const r = fn(src[i]);
    out[i] = r;
    if (r !== src[i] && !(r !== r && src[i] !== src[i])) changed = true;
  }
  if (!changed) {
    roundedTensors.add(t);
    roundedBuffers.add(src);
    return t;
  }
  const r = Tensor.fromHost(t.dtype, t.shape, out);
  roundedTensors.add(r);
  roundedBuffers.add(out);
  return r;
}

/** The kernel's outputs with float16/bfloat16 tensors rounded to their precision. */
export function roundHalfOutputs(outs: Tensor[]): Tensor[] {
  let result = outs;
  for (let i = 0; i < outs.length; i++) {
    const t = outs[i];
    if (t === undefined || (t.dtype !== 'float16' && t.dtype !== 'bfloat16')) continue;
    const r = roundOne(t);
    if (r !== t) {
      if (result === outs) result = outs.slice();
      result[i] = r;
    }
  }
  return result;
}
