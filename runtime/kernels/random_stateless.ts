/**
 * Stateless random ops and the remaining stateful ones, bit-exact with
 * TensorFlow's CPU kernels:
 *  - StatelessRandomGetKeyCounter(Alg), StatelessRandomGetAlg,
 *    StatelessRandom{Uniform,Normal}V2, StatelessTruncatedNormalV2,
 *    StatelessRandomUniformIntV2, StatelessRandomUniformFullIntV2
 *    (stateless_random_ops_v2.cc) and the V1 forms StatelessRandomUniform,
 *    StatelessRandomNormal, StatelessTruncatedNormal, StatelessRandomUniformInt
 *    (stateless_random_ops.cc: the seed is scrambled into a Philox key and
 *    counter by one Philox round, GenerateKey);
 *  - StatelessMultinomial (stateless_random_ops.cc), RandomShuffle and
 *    StatelessShuffle (random_shuffle_op.cc, shuffle_common.h);
 *  - tf.random.Generator's ops: StatefulUniform, StatefulStandardNormalV2,
 *    StatefulTruncatedNormal, StatefulUniformInt, StatefulUniformFullInt,
 *    RngSkip, RngReadAndSkip (stateful_random_ops.cc; state in a variable);
 *  - TruncatedNormal and Multinomial (stateful, seeded per op like
 *    RandomUniform in random.ts).
 * Sampling follows random_distributions.h (Uint32ToFloat, Uint64ToDouble,
 * Box-Muller in float32 step by step, truncated normal by rejection with 256
 * reserved Philox blocks per group of 4 outputs) and random_op_cpu.h
 * (FillPhiloxRandom: group g of outputs uses the generator skipped by g).
 * Multinomial follows multinomial_op.cc; TF shards its batch rows across
 * threads, each shard restarting from the reserved generator skipped by
 * start_row*(num_samples+3)/4, so only one-row batches (one shard) are
 * guaranteed to give TF's exact draws; we generate every row from one
 * stream as TF does when the batch runs in one shard.
 */
import type { DType } from '../dtypes.js';
import { dtypeShortName } from '../dtypes.js';
import { invalidArgument, unimplemented } from '../errors.js';
import { checkTensorSize } from '../limits.js';
import { allocHost, shapeString, Tensor } from '../tensor.js';
import { makeShape } from './array_util.js';
import { generatorFor, Philox } from './random.js';
import { registerKernel, type KernelContext } from './registry.js';
import { variableOf } from './state.js';

const f = Math.fround;
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const f64 = new Float64Array(1);
const u32x2 = new Uint32Array(f64.buffer);

function uint32ToFloat(x: number): number {
  u32[0] = (x & 0x7fffff) | 0x3f800000;
  return f32[0] - 1;
}

/** TF's Uint64ToDouble: 52 mantissa bits from x0 (20) and x1 (32) → [0, 1). */
function uint64ToDouble(x0: number, x1: number): number {
  u32x2[0] = x1 >>> 0;
  u32x2[1] = ((x0 & 0xfffff) | (1023 << 20)) >>> 0;
  return f64[0] - 1;
}

const EPS_F = f(1e-7);

/** TF's BoxMullerFloat, rounding to float32 where C++ does. */
function boxMullerFloat(x0: number, x1: number, out: number[]): void {
  let u1 = uint32ToFloat(x0);
  if (u1 < EPS_F) u1 = EPS_F;
  const v1 = f(2 * Math.PI * uint32ToFloat(x1));
  const u2 = f(Math.sqrt(f(-2 * f(Math.log(u1)))));
  out[0] = f(f(Math.sin(v1)) * u2);
  out[1] = f(f(Math.cos(v1)) * u2);
}

function boxMullerDouble(x0: number, x1: number, x2: number, x3: number, out: number[]): void {
  let u1 = uint64ToDouble(x0, x1);
  if (u1 < 1e-7) u1 = 1e-7;
  const v1 = 2 * Math.PI * uint64ToDouble(x2, x3);
  const u2 = Math.sqrt(-2 * Math.log(u1));
  out[0] = Math.sin(v1) * u2;
  out[1] = Math.cos(v1) * u2;
}

/** One uint32 at a time from a Philox stream (TF's SingleSampleAdapter). */
class Single {
  private readonly buf = new Uint32Array(4);
  private used = 4;
  constructor(private readonly gen: Philox) {}
  next(): number {
    if (this.used === 4) {
      this.gen.next(this.buf);
      this.used = 0;
    }
    return this.buf[this.used++];
  }
}

type Fill = (gen: Philox, out: Float64Array | BigInt64Array | Int32Array | Float32Array) => void;

/** Consecutive blocks, each giving `per` outputs (FillPhiloxRandom for fixed-cost distributions). */
function fillBlocks<T extends number | bigint>(gen: Philox, size: number, per: number, sample: (b: Uint32Array, k: number) => T, out: { [i: number]: T }): void {
  const b = new Uint32Array(4);
  for (let i = 0; i < size; i += per) {
    gen.next(b);
    for (let k = 0; k < per && i + k < size; k++) out[i + k] = sample(b, k);
  }
}

function floatUniform(dtype: DType, op: string): (gen: Philox, size: number) => Float32Array | Float64Array {
  switch (dtype) {
    case 'float32':
      return (gen, size) => {
        const out = allocHost('float32', size) as Float32Array;
        fillBlocks(gen, size, 4, (b, k) => uint32ToFloat(b[k]), out);
        return out;
      };
    case 'float64':
      return (gen, size) => {
        const out = allocHost('float64', size) as Float64Array;
        fillBlocks(gen, size, 2, (b, k) => uint64ToDouble(b[2 * k], b[2 * k + 1]), out);
        return out;
      };
    case 'float16':
      return (gen, size) => {
        const out = allocHost('float16', size) as Float32Array;
        fillBlocks(gen, size, 4, (b, k) => (b[k] & 0x3ff) / 1024, out);
        return out;
      };
    case 'bfloat16':
      return (gen, size) => {
        const out = allocHost('bfloat16', size) as Float32Array;
        fillBlocks(gen, size, 4, (b, k) => (b[k] & 0x7f) / 128, out);
        return out;
      };
    default:
      throw invalidArgument(`${op}: unsupported dtype ${dtypeShortName(dtype)}`);
  }
}

function floatNormal(dtype: DType, op: string): (gen: Philox, size: number) => Float32Array | Float64Array {
  const pair = [0, 0];
  // half / bfloat16: TF draws float32 Box-Muller pairs and converts each (the registry rounds half outputs).
  if (dtype === 'float32' || dtype === 'float16' || dtype === 'bfloat16') {
    return (gen, size) => {
      const out = allocHost(dtype, size) as Float32Array;
      fillBlocks(gen, size, 4, (b, k) => {
        if (k % 2 === 0) boxMullerFloat(b[k], b[k + 1], pair);
        return pair[k % 2];
      }, out);
      return out;
    };
  }
  if (dtype === 'float64') {
    return (gen, size) => {
      const out = allocHost('float64', size) as Float64Array;
      fillBlocks(gen, size, 2, (b, k) => {
        if (k === 0) boxMullerDouble(b[0], b[1], b[2], b[3], pair);
        return pair[k];
      }, out);
      return out;
    };
  }
  throw unimplemented(`${op} for ${dtypeShortName(dtype)} is not supported by this runtime (float32 and float64 are)`);
}

/** TF's TruncatedNormalDistribution (|x| < 2), 256 Philox blocks reserved per group of outputs. */
function floatTruncated(dtype: DType, op: string): (gen: Philox, size: number) => Float32Array | Float64Array {
  const group = dtype === 'float64' ? 2 : 4;
  if (dtype !== 'float32' && dtype !== 'float64' && dtype !== 'float16' && dtype !== 'bfloat16') {
    throw unimplemented(`${op} for ${dtypeShortName(dtype)} is not supported by this runtime (float32 and float64 are)`);
  }
  const skipPerGroup = (group * 256) / 4;
  return (gen, size) => {
    const out = allocHost(dtype, size) as Float32Array | Float64Array;
    const pair = [0, 0];
    for (let start = 0, g = 0; start < size; start += group, g++) {
      const local = gen.clone();
      local.skip(g * skipPerGroup);
      const single = new Single(local);
      let n = 0;
      while (n < group) {
        if (dtype !== 'float64') boxMullerFloat(single.next(), single.next(), pair);
        else boxMullerDouble(single.next(), single.next(), single.next(), single.next(), pair);
        for (let k = 0; k < 2 && n < group; k++) {
          if (Math.abs(pair[k]) < 2) {
            if (start + n < size) out[start + n] = pair[k];
            n++;
          }
        }
      }
    }
    return out;
  };
}

// ---------------------------------------------------------------------------
// Seeds, keys and counters

function lo32(v: bigint): number {
  return Number(v & 0xffffffffn);
}
function hi32(v: bigint): number {
  return Number((v >> 32n) & 0xffffffffn);
}

/** The stateless V1 seed → Philox generator (GenerateKey in stateless_random_ops.cc). */
function keyCounterFromSeed(seedT: Tensor): { key: number[]; counter: number[] } {
  if (!(seedT.rank === 1 && seedT.shape[0] === 2)) throw invalidArgument(`seed must have shape [2], not ${shapeString(seedT.shape)}`);
  if (seedT.dtype !== 'int32' && seedT.dtype !== 'int64') throw invalidArgument(`seed must be int32 or int64, got ${dtypeShortName(seedT.dtype)}`);
  const v = seedT.values() as ArrayLike<number | bigint>;
  const s0 = BigInt.asUintN(64, BigInt(v[0]));
  const s1 = BigInt.asUintN(64, BigInt(v[1]));
  const mix = new Uint32Array(4);
  Philox.raw([lo32(s0), hi32(s0), lo32(s1), hi32(s1)], [0x3ec8f720, 0x02461e29]).next(mix);
  return { key: [mix[0], mix[1]], counter: [0, 0, mix[2], mix[3]] };
}

const ALG_PHILOX = 1;
const ALG_THREEFRY = 2;
const ALG_AUTO = 3;

function checkAlg(alg: number): void {
  if (alg === ALG_PHILOX || alg === ALG_AUTO) return;
  if (alg === ALG_THREEFRY) throw unimplemented('The ThreeFry random algorithm is not supported by this runtime (Philox is)');
  throw invalidArgument(`Unsupported algorithm id: ${alg}`);
}

/** The V2 ops' (key, counter, alg) inputs → a Philox generator (GetKeyCounterAlgFromInputs). */
function generatorFromInputs(keyT: Tensor, counterT: Tensor, algT: Tensor): Philox {
  if (algT.rank !== 0) throw invalidArgument(`alg must be a scalar, not shape ${shapeString(algT.shape)}`);
  checkAlg(Number((algT.values() as ArrayLike<number>)[0]));
  if (!(keyT.rank === 1 && keyT.shape[0] === 1)) throw invalidArgument(`key must have shape [1], not ${shapeString(keyT.shape)}. (Note that batched keys are not supported yet.)`);
  if (counterT.rank !== 1 || counterT.shape[0] < 2) {
    throw invalidArgument(`counter must be a vector with at least 2 elements, not ${shapeString(counterT.shape)}`);
  }
  const key = BigInt.asUintN(64, BigInt((keyT.values() as ArrayLike<bigint>)[0]));
  const c = counterT.values() as ArrayLike<bigint>;
  const c0 = BigInt.asUintN(64, BigInt(c[0]));
  const c1 = BigInt.asUintN(64, BigInt(c[1]));
  return Philox.raw([lo32(c0), hi32(c0), lo32(c1), hi32(c1)], [lo32(key), hi32(key)]);
}

function keyCounterOutputs(seedT: Tensor): Tensor[] {
  const { key, counter } = keyCounterFromSeed(seedT);
  const k = BigInt(key[0]) | (BigInt(key[1]) << 32n);
  const c0 = BigInt(counter[0]) | (BigInt(counter[1]) << 32n);
  const c1 = BigInt(counter[2]) | (BigInt(counter[3]) << 32n);
  return [Tensor.from('uint64', [1], [k]), Tensor.from('uint64', [2], [c0, c1])];
}

registerKernel({
  op: 'StatelessRandomGetKeyCounter',
  outputs: [{ name: 'key' }, { name: 'counter' }],
  kernel: (ctx) => keyCounterOutputs(ctx.inputs[0]),
});
registerKernel({
  op: 'StatelessRandomGetKeyCounterAlg',
  outputs: [{ name: 'key' }, { name: 'counter' }, { name: 'alg' }],
  kernel: (ctx) => [...keyCounterOutputs(ctx.inputs[0]), Tensor.scalar('int32', ALG_PHILOX)],
});
registerKernel({ op: 'StatelessRandomGetAlg', kernel: () => [Tensor.scalar('int32', ALG_PHILOX)] });

function shapeOf(t: Tensor, dtype: DType): number[] {
  if (t.rank !== 1) throw invalidArgument(`shape must be a vector of {int32,int64}, got shape ${shapeString(t.shape)}`);
  return makeShape(t, dtype);
}

type FloatSampler = (dtype: DType, op: string) => (gen: Philox, size: number) => Float32Array | Float64Array;

function registerFloat(v1: string, v2: string, sampler: FloatSampler): void {
  registerKernel({
    op: v1,
    kernel: (ctx) => {
      const dtype = ctx.attrs.type('dtype', 'float32');
      const shape = shapeOf(ctx.inputs[0], dtype);
      const { key, counter } = keyCounterFromSeed(ctx.inputs[1]);
      const size = shape.reduce((a, b) => a * b, 1);
      return [Tensor.fromHost(dtype, shape, sampler(dtype, v1)(Philox.raw(counter, key), size))];
    },
  });
  registerKernel({
    op: v2,
    kernel: (ctx) => {
      const dtype = ctx.attrs.type('dtype', 'float32');
      const [shapeT, keyT, counterT, algT] = ctx.inputs;
      const shape = shapeOf(shapeT, dtype);
      const gen = generatorFromInputs(keyT, counterT, algT);
      const size = shape.reduce((a, b) => a * b, 1);
      return [Tensor.fromHost(dtype, shape, sampler(dtype, v2)(gen, size))];
    },
  });
}

registerFloat('StatelessRandomUniform', 'StatelessRandomUniformV2', floatUniform);
registerFloat('StatelessRandomNormal', 'StatelessRandomNormalV2', floatNormal);
registerFloat('StatelessTruncatedNormal', 'StatelessTruncatedNormalV2', floatTruncated);

/** Integers in [lo, hi): TF's UniformDistribution for int32 / int64 (x mod range). */
function uniformInt(gen: Philox, dtype: DType, shape: number[], loT: Tensor, hiT: Tensor, op: string): Tensor {
  if (loT.rank !== 0) throw invalidArgument(`minval must be 0-D, got shape ${shapeString(loT.shape)}`);
  if (hiT.rank !== 0) throw invalidArgument(`maxval must be 0-D, got shape ${shapeString(hiT.shape)}`);
  const size = shape.reduce((a, b) => a * b, 1);
  if (dtype === 'int32' || dtype === 'uint32') {
    const lo = Number((loT.values() as ArrayLike<number>)[0]);
    const hi = Number((hiT.values() as ArrayLike<number>)[0]);
    if (size > 0 && !(lo < hi)) throw invalidArgument(`Need minval < maxval, got ${lo} >= ${hi}`);
    const range = (hi - lo) >>> 0;
    const out = allocHost(dtype, size) as Int32Array;
    fillBlocks(gen, size, 4, (b, k) => (dtype === 'int32' ? (lo + (b[k] % range)) | 0 : (lo + (b[k] % range)) >>> 0), out);
    return Tensor.fromHost(dtype, shape, out);
  }
  if (dtype === 'int64' || dtype === 'uint64') {
    const lo = BigInt((loT.values() as ArrayLike<bigint>)[0]);
    const hi = BigInt((hiT.values() as ArrayLike<bigint>)[0]);
    if (size > 0 && !(lo < hi)) throw invalidArgument(`Need minval < maxval, got ${lo} >= ${hi}`);
    const range = BigInt.asUintN(64, hi - lo);
    const out = allocHost(dtype, size) as BigInt64Array;
    const wrap = dtype === 'int64' ? (v: bigint) => BigInt.asIntN(64, v) : (v: bigint) => BigInt.asUintN(64, v);
    fillBlocks(gen, size, 2, (b, k) => wrap(lo + ((BigInt(b[2 * k]) | (BigInt(b[2 * k + 1]) << 32n)) % range)), out);
    return Tensor.fromHost(dtype, shape, out);
  }
  throw invalidArgument(`${op}: unsupported dtype ${dtypeShortName(dtype)}`);
}

registerKernel({
  op: 'StatelessRandomUniformInt',
  kernel: (ctx) => {
    const [shapeT, seedT, loT, hiT] = ctx.inputs;
    const dtype = ctx.attrs.type('dtype');
    const { key, counter } = keyCounterFromSeed(seedT);
    return [uniformInt(Philox.raw(counter, key), dtype, shapeOf(shapeT, dtype), loT, hiT, 'StatelessRandomUniformInt')];
  },
});

registerKernel({
  op: 'StatelessRandomUniformIntV2',
  kernel: (ctx) => {
    const [shapeT, keyT, counterT, algT, loT, hiT] = ctx.inputs;
    const dtype = ctx.attrs.type('dtype');
    const gen = generatorFromInputs(keyT, counterT, algT);
    return [uniformInt(gen, dtype, shapeOf(shapeT, dtype), loT, hiT, 'StatelessRandomUniformIntV2')];
  },
});

/** Full-range integers (UniformFullIntDistribution): raw bits. */
function fullInt(gen: Philox, dtype: DType, shape: number[], op: string): Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const out = allocHost(dtype, size);
  if (dtype === 'int32' || dtype === 'uint32') {
    fillBlocks(gen, size, 4, (b, k) => (dtype === 'int32' ? b[k] | 0 : b[k]), out as Int32Array);
  } else if (dtype === 'int64' || dtype === 'uint64') {
    const conv = dtype === 'int64' ? (v: bigint) => BigInt.asIntN(64, v) : (v: bigint) => v;
    fillBlocks(gen, size, 2, (b, k) => conv(BigInt(b[2 * k]) | (BigInt(b[2 * k + 1]) << 32n)), out as BigInt64Array);
  } else {
    throw invalidArgument(`${op}: unsupported dtype ${dtypeShortName(dtype)}`);
  }
  return Tensor.fromHost(dtype, shape, out);
}

registerKernel({
  op: 'StatelessRandomUniformFullIntV2',
  kernel: (ctx) => {
    const [shapeT, keyT, counterT, algT] = ctx.inputs;
    const dtype = ctx.attrs.type('dtype');
    return [fullInt(generatorFromInputs(keyT, counterT, algT), dtype, shapeOf(shapeT, dtype), 'StatelessRandomUniformFullIntV2')];
  },
});
registerKernel({
  op: 'StatelessRandomUniformFullInt',
  kernel: (ctx) => {
    const [shapeT, seedT] = ctx.inputs;
    const dtype = ctx.attrs.type('dtype');
    const { key, counter } = keyCounterFromSeed(seedT);
    return [fullInt(Philox.raw(counter, key), dtype, shapeOf(shapeT, dtype), 'StatelessRandomUniformFullInt')];
  },
});

// ---------------------------------------------------------------------------
// Stateful: TruncatedNormal, Multinomial

/** TF's GuardedPhiloxRandom::ReserveRandomOutputs(count, 256): this run's stream; the op's moves past it. */
function reserve(ctx: KernelContext, count: number): Philox {
  const g = generatorFor(ctx);
  const local = g.clone();
  g.skip(count * 256);
  return local;
}

registerKernel({
  op: 'TruncatedNormal',
  stateful: true,
  kernel: (ctx) => {
    const dtype = ctx.attrs.type('dtype', 'float32');
    const shape = shapeOf(ctx.inputs[0], dtype);
    const size = shape.reduce((a, b) => a * b, 1);
    const sampler = floatTruncated(dtype, 'TruncatedNormal');
    return [Tensor.fromHost(dtype, shape, sampler(reserve(ctx, size), size))];
  },
});

/** MultinomialFunctor<CPU>: one stream for the batch's rows (one shard), inverse-CDF by upper_bound. */
function multinomial(ctx: KernelContext, op: string, gen: (batch: number, numSamples: number) => Philox): Tensor[] {
  const [logitsT, numT] = ctx.inputs;
  if (logitsT.rank !== 2) throw invalidArgument(`logits should be a matrix, got shape ${shapeString(logitsT.shape)}`);
  if (numT.rank !== 0) throw invalidArgument(`num_samples should be a scalar, got shape ${shapeString(numT.shape)}`);
  const numSamples = Number((numT.values() as ArrayLike<number>)[0]);
  if (numSamples < 0) throw invalidArgument(`num_samples should be nonnegative, got ${numSamples}`);
  const [batch, classes] = logitsT.shape;
  if (classes <= 0) throw invalidArgument(`num_classes should be positive, got ${classes}`);
  if (!['float32', 'float64', 'float16', 'bfloat16'].includes(logitsT.dtype)) {
    throw invalidArgument(`${op} does not support logits of type ${dtypeShortName(logitsT.dtype)}`);
  }
  const outType = ctx.attrs.type('output_dtype', 'int64');
  const outShape = [batch, numSamples];
  const size = checkTensorSize(outShape, outType);
  const out = allocHost(outType, size);
  const g = gen(batch, numSamples);
  if (size === 0) return [Tensor.fromHost(outType, outShape, out)];
  const single = new Single(g);
  const logits = logitsT.values() as ArrayLike<number>;
  const cdf = new Float64Array(classes);
  for (let b = 0; b < batch; b++) {
    // std::numeric_limits<T>::lowest() when no logit is finite.
    let max = logitsT.dtype === 'float64' ? -Number.MAX_VALUE : logitsT.dtype === 'float16' ? -65504 : -3.4028234663852886e38;
    for (let j = 0; j < classes; j++) {
      const v = logits[b * classes + j];
      if (Number.isFinite(v)) max = Math.max(max, v);
    }
    let total = 0;
    for (let j = 0; j < classes; j++) {
      const v = logits[b * classes + j];
      if (Number.isFinite(v)) total += Math.exp(v - max);
      cdf[j] = total;
    }
    for (let j = 0; j < numSamples; j++) {
      const x0 = single.next();
      const x1 = single.next();
      const target = uint64ToDouble(x0, x1) * total;
      // std::upper_bound: the first class whose running total exceeds target.
      let lo = 0;
      let hi = classes;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (!(target < cdf[mid])) lo = mid + 1;
        else hi = mid;
      }
      if (outType === 'int64') (out as BigInt64Array)[b * numSamples + j] = BigInt(lo);
      else (out as Int32Array)[b * numSamples + j] = lo;
    }
  }
  return [Tensor.fromHost(outType, outShape, out)];
}

registerKernel({
  op: 'Multinomial',
  stateful: true,
  // CPU draws doubles (2 samples each) for ceil4(num_samples) per row.
  kernel: (ctx) => multinomial(ctx, 'Multinomial', (batch, ns) => reserve(ctx, batch * Math.ceil(ns / 4) * 4 * 2)),
});

registerKernel({
  op: 'StatelessMultinomial',
  kernel: (ctx) =>
    multinomial(ctx, 'StatelessMultinomial', () => {
      const { key, counter } = keyCounterFromSeed(ctx.inputs[2]);
      return Philox.raw(counter, key);
    }),
});

// ---------------------------------------------------------------------------
// RandomShuffle / StatelessShuffle (random_shuffle_op.cc, shuffle_common.h):
// Fisher-Yates from the front with exactly size-1 draws of `uint32 % n`,
// applied to a permutation of dimension 0.

function shuffle(x: Tensor, rng: (samples: number) => Philox): Tensor {
  if (x.rank === 0) throw invalidArgument('value must be at least 1-dimensional');
  const size = x.shape[0];
  if (x.size <= 1 || size <= 1) return x;
  const single = new Single(rng(size - 1));
  const perm = new Array<number>(size);
  for (let i = 0; i < size; i++) perm[i] = i;
  for (let i = 0; i < size - 1; i++) {
    const j = i + (single.next() % (size - i));
    const t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  const width = x.dtype === 'complex64' || x.dtype === 'complex128' ? 2 : 1;
  const row = (x.size / size) * width;
  const src = x.values();
  const out = allocHost(x.dtype, x.size);
  for (let i = 0; i < size; i++) {
    const from = perm[i] * row;
    if (ArrayBuffer.isView(src)) (out as Float64Array).set((src as Float64Array).subarray(from, from + row), i * row);
    else for (let k = 0; k < row; k++) (out as unknown[])[i * row + k] = (src as unknown[])[from + k];
  }
  return Tensor.fromHost(x.dtype, x.shape, out);
}

registerKernel({
  op: 'RandomShuffle',
  stateful: true,
  kernel: (ctx) =>
    [shuffle(ctx.inputs[0], (samples) => {
      // GuardedPhiloxRandom::ReserveSamples32(samples): ceil(samples / 4) blocks.
      const g = generatorFor(ctx);
      const local = g.clone();
      g.skip(Math.ceil(samples / 4));
      return local;
    })],
});

registerKernel({
  op: 'StatelessShuffle',
  kernel: (ctx) => {
    const [x, keyT, counterT, algT] = ctx.inputs;
    return [shuffle(x, () => generatorFromInputs(keyT, counterT, algT))];
  },
});

// ---------------------------------------------------------------------------
// tf.random.Generator ops (stateful_random_ops.cc): the Philox state lives in
// an int64[3] resource variable (128-bit counter, 64-bit key); each op draws
// from it as FillPhiloxRandom does, then moves the counter 256 blocks per
// output element (UpdateMemWithPhiloxRandom). RngSkip / RngReadAndSkip move
// it by 256 * delta.

function generatorState(ctx: KernelContext, op: string): { gen: Philox; advance: (outputs: number) => void; old: Tensor } {
  const v = variableOf(ctx.inputs[0], op);
  const algT = ctx.inputs[1];
  const alg = Number((algT.values() as ArrayLike<number | bigint>)[0]);
  checkAlg(alg);
  const state = v.read();
  if (state.dtype !== 'int64') throw invalidArgument(`dtype of RNG state variable must be int64, not ${dtypeShortName(state.dtype)}`);
  if (state.rank !== 1) throw invalidArgument(`RNG state must have one and only one dimension, not ${state.rank}`);
  if (state.size < 3) throw invalidArgument(`The size of the state must be at least 3; got ${state.size}`);
  const s = state.values() as BigInt64Array;
  const c0 = BigInt.asUintN(64, s[0]);
  const c1 = BigInt.asUintN(64, s[1]);
  const key = BigInt.asUintN(64, s[2]);
  const gen = Philox.raw([lo32(c0), hi32(c0), lo32(c1), hi32(c1)], [lo32(key), hi32(key)]);
  const advance = (outputs: number) => {
    let counter = (c1 << 64n) | c0;
    counter = BigInt.asUintN(128, counter + BigInt(outputs) * 256n);
    const next = Array.from(s);
    next[0] = BigInt.asIntN(64, counter & 0xffffffffffffffffn);
    next[1] = BigInt.asIntN(64, counter >> 64n);
    v.assign(Tensor.from('int64', [next.length], next));
  };
  return { gen, advance, old: state };
}

function registerStateful(op: string, draw: (ctx: KernelContext, gen: Philox, dtype: DType, shape: number[]) => Tensor): void {
  registerKernel({
    op,
    stateful: true,
    kernel: (ctx) => {
      const dtype = ctx.attrs.type('dtype', 'float32');
      const shape = shapeOf(ctx.inputs[2], dtype);
      const { gen, advance } = generatorState(ctx, op);
      const out = draw(ctx, gen, dtype, shape);
      advance(out.size);
      return [out];
    },
  });
}

const floatDraw = (sampler: FloatSampler, op: string) => (_ctx: KernelContext, gen: Philox, dtype: DType, shape: number[]) =>
  Tensor.fromHost(dtype, shape, sampler(dtype, op)(gen, shape.reduce((a, b) => a * b, 1)));

registerStateful('StatefulUniform', floatDraw(floatUniform, 'StatefulUniform'));
registerStateful('StatefulStandardNormalV2', floatDraw(floatNormal, 'StatefulStandardNormalV2'));
registerStateful('StatefulTruncatedNormal', floatDraw(floatTruncated, 'StatefulTruncatedNormal'));
registerStateful('StatefulUniformInt', (ctx, gen, dtype, shape) => uniformInt(gen, dtype, shape, ctx.inputs[3], ctx.inputs[4], 'StatefulUniformInt'));
registerStateful('StatefulUniformFullInt', (_ctx, gen, dtype, shape) => fullInt(gen, dtype, shape, 'StatefulUniformFullInt'));

registerKernel({
  op: 'RngSkip',
  stateful: true,
  kernel: (ctx) => {
    const { advance } = generatorState(ctx, 'RngSkip');
    advance(Number((ctx.inputs[2].values() as ArrayLike<number | bigint>)[0]));
    return [];
  },
});

registerKernel({
  op: 'RngReadAndSkip',
  stateful: true,
  kernel: (ctx) => {
    const { advance, old } = generatorState(ctx, 'RngReadAndSkip');
    advance(Number((ctx.inputs[2].values() as ArrayLike<number | bigint>)[0]));
    return [old];
  },
});
