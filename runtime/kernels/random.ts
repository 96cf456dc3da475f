/**
 * Random kernels with TensorFlow's generator: Philox4x32-10 seeded from the
 * op's `seed`/`seed2` attrs (both 0 = nondeterministic), each run reserving
 * 256 samples per output element like TF's PhiloxRandomOp, so seeded ops give
 * TensorFlow's numbers. RandomUniform, RandomStandardNormal, RandomUniformInt.
 * The generator state belongs to the node and persists across runs.
 */
import { randomBytes } from 'node:crypto';
import type { DType } from '../dtypes.js';
import { invalidArgument } from '../errors.js';
import { allocHost, Tensor } from '../tensor.js';
import { makeShape } from './array_util.js';
import type { KernelContext } from './registry.js';
import { registerKernel } from './registry.js';

const W32A = 0x9e3779b9;
const W32B = 0xbb67ae85;
const M4x32A = 0xd2511f53;
const M4x32B = 0xcd9e8d57;

/** Philox4x32 with 10 rounds over a 128-bit counter and 64-bit key. */
export class Philox {
  private readonly counter = new Uint32Array(4);
  private readonly key = new Uint32Array(2);

  constructor(seedLo: bigint, seedHi: bigint) {
    this.key[0] = Number(seedLo & 0xffffffffn);
    this.key[1] = Number((seedLo >> 32n) & 0xffffffffn);
    this.counter[2] = Number(seedHi & 0xffffffffn);
    this.counter[3] = Number((seedHi >> 32n) & 0xffffffffn);
  }

  clone(): Philox {
    const p = new Philox(0n, 0n);
    p.counter.set(this.counter);
    p.key.set(this.key);
    return p;
  }

  /** Advances the 128-bit counter by `count` blocks. */
  skip(count: number): void {
    const c = this.counter;
    let v = (BigInt(c[3]) << 96n) | (BigInt(c[2]) << 64n) | (BigInt(c[1]) << 32n) | BigInt(c[0]);
    v = BigInt.asUintN(128, v + BigInt(count));
    for (let i = 0; i < 4; i++) c[i] = Number((v >> BigInt(32 * i)) & 0xffffffffn);
  }

  /** Sets counter and key directly (test vectors). */
  static raw(counter: readonly number[], key: readonly number[]): Philox {
    const p = new Philox(0n, 0n);
    p.counter.set(counter);
    p.key.set(key);
    return p;
  }

  /** Four fresh uint32 samples. */
  next(out: Uint32Array): void {
    let c0 = this.counter[0], c1 = this.counter[1], c2 = this.counter[2], c3 = this.counter[3];
    let k0 = this.key[0], k1 = this.key[1];
    for (let round = 0; round < 10; round++) {
      const p0 = BigInt(M4x32A) * BigInt(c0);
      const p1 = BigInt(M4x32B) * BigInt(c2);
      const lo0 = Number(p0 & 0xffffffffn), hi0 = Number(p0 >> 32n);
      const lo1 = Number(p1 & 0xffffffffn), hi1 = Number(p1 >> 32n);
      const n0 = (hi1 ^ c1 ^ k0) >>> 0;
      const n2 = (hi0 ^ c3 ^ k1) >>> 0;
      c0 = n0; c1 = lo1; c2 = n2; c3 = lo0;
      k0 = (k0 + W32A) >>> 0;
      k1 = (k1 + W32B) >>> 0;
    }
    out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
    this.skip(1);
  }
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
/** TF's Uint32ToFloat: 23 random mantissa bits → [0, 1). */
function uint32ToFloat(x: number): number {
  u32[0] = (x & 0x7fffff) | 0x3f800000;
  return f32[0] - 1;
}

const generators = new WeakMap<object, Philox>();

export function generatorFor(ctx: KernelContext): Philox {
  let g = generators.get(ctx.node);
  if (!g) {
    let seed = BigInt(ctx.attrs.int('seed', 0));
    let seed2 = BigInt(ctx.attrs.int('seed2', 0));
    if (seed === 0n && seed2 === 0n) {
      seed = randomBytes(8).readBigUInt64LE();
      seed2 = randomBytes(8).readBigUInt64LE();
    }
    g = new Philox(BigInt.asUintN(64, seed), BigInt.asUintN(64, seed2));
    generators.set(ctx.node, g);
  }
  return g;
}

/** The output shape from a shape tensor, checked (TF's MakeShape, then the runtime limits for `dtype`). */
function outputShape(t: Tensor, dtype: DType): number[] {
  if (t.rank !== 1) throw invalidArgument(`shape must be a vector of {int32,int64}, got shape [${t.shape.join(',')}]`);
  return makeShape(t, dtype);
}

/** Fills `size` samples, four per Philox block, after reserving 256 blocks per element (TF's PhiloxRandomOp). */
function samples(ctx: KernelContext, size: number, perBlock: (block: Uint32Array, emit: (v: number) => void) => void): Float64Array {
  const g = generatorFor(ctx);
  const local = g.clone();
  g.skip(size * 256);
  // A typed array, not a JS array: V8 aborts the process when a JS array outgrows ~2^27 elements.
  const out = new Float64Array(size);
  let n = 0;
  const block = new Uint32Array(4);
  while (n < size) {
    local.next(block);
    perBlock(block, (v) => {
      if (n < size) out[n++] = v;
    });
  }
  return out;
}

function floatTensor(dtype: DType, shape: number[], values: Float64Array): Tensor {
  const data = allocHost(dtype, values.length) as Float32Array;
  data.set(values);
  return Tensor.fromHost(dtype, shape, data);
}

registerKernel({
  op: 'RandomUniform',
  stateful: true,
  kernel: (ctx) => {
    const shape = outputShape(ctx.inputs[0], ctx.attrs.type('dtype'));
    const size = shape.reduce((a, b) => a * b, 1);
    const v = samples(ctx, size, (b, emit) => b.forEach((x) => emit(uint32ToFloat(x))));
    return [floatTensor(ctx.attrs.type('dtype'), shape, v)];
  },
});

registerKernel({
  op: 'RandomStandardNormal',
  stateful: true,
  kernel: (ctx) => {
    const shape = outputShape(ctx.inputs[0], ctx.attrs.type('dtype'));
    const size = shape.reduce((a, b) => a * b, 1);
    const v = samples(ctx, size, (b, emit) => {
      for (let i = 0; i < 4; i += 2) {
        // TF's BoxMullerFloat.
        const u1 = Math.max(uint32ToFloat(b[i]), 1e-7);
        const v1 = 2 * Math.PI * uint32ToFloat(b[i + 1]);
        const u2 = Math.sqrt(-2 * Math.log(u1));
        emit(Math.fround(Math.sin(v1) * u2));
        emit(Math.fround(Math.cos(v1) * u2));
      }
    });
    return [floatTensor(ctx.attrs.type('dtype'), shape, v)];
  },
});

registerKernel({
  op: 'RandomUniformInt',
  stateful: true,
  kernel: (ctx) => {
    const [shapeT, minT, maxT] = ctx.inputs;
    const shape = outputShape(shapeT, ctx.attrs.type('Tout'));
    const lo = minT.numbers()[0];
    const hi = maxT.numbers()[0];
    if (!(lo < hi)) throw invalidArgument(`Need minval < maxval, got ${lo} >= ${hi}`);
    const range = hi - lo;
    const size = shape.reduce((a, b) => a * b, 1);
    const v = samples(ctx, size, (b, emit) => b.forEach((x) => emit(lo + (x % range))));
    const dtype = ctx.attrs.type('Tout');
    return [Tensor.from(dtype, shape, dtype === 'int64' ? Array.from(v, (x) => BigInt(x)) : v)];
  },
});
