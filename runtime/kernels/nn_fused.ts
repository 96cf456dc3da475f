/**
 * Grappler's fused ops: _FusedConv2D, _FusedDepthwiseConv2dNative and
 * _FusedMatMul, as TF's remapper writes them and as our own fusion pass
 * (graph/optimize/fusion.ts) does. After the product come `fused_ops`, in
 * order, each taking its operands from the extra inputs:
 *   BiasAdd (1: a [C] vector), Add (1), Mul (1), FusedBatchNorm (4: scale,
 *   offset, mean, variance; `epsilon`), then at most one activation (Relu,
 *   Relu6, Elu, Selu, LeakyRelu with `leakyrelu_alpha`, Tanh, Sigmoid, GeluExact,
 *   GeluApproximate).
 *
 * Fast path (float32, NHWC, ungrouped): when every extra operand is a
 * per-channel vector (or a scalar), the chain is an affine map per output
 * channel, y = act(conv(x, W) * scale + shift); scale is folded into the
 * filter (W * scale) and shift becomes the bias of tfjs's fused WASM kernel
 * (XNNPACK with bias and clamp in one pass). The folded filter and bias are
 * kept in the step's cache while the operands are the same persistent
 * tensors (constants, variables, cached invariants), so they are computed
 * once per model. Otherwise the ops run one by one, with broadcasting, which
 * is what the unfused graph computes.
 */
import * as tf from '@tensorflow/tfjs-core';
import { invalidArgument } from '../errors.js';
import { Tensor, shapeString } from '../tensor.js';
import type { Attrs } from './attrs.js';
import { directDispatch, runKernel, smallHostMath } from './dispatch.js';
import { unsupportedDtype } from './host_math.js';
import { batchMatMul, runTf, tfKind } from './math.js';
import { conv2D, convGeometry, depthwiseConv2D, explicitPad, planConv2D, planDepthwise, type ConvPlan } from './nn.js';
import { registerKernel, type KernelCache } from './registry.js';
import { simdBatchMatMul, simdConv2D, simdTanh } from '../simd/simd_kernels.js';

type FusedOp = '_FusedConv2D' | '_FusedDepthwiseConv2dNative' | '_FusedMatMul';

/** Activations tfjs's fused WASM kernels apply themselves. */
const TFJS_ACTIVATION: Record<string, tf.fused.Activation> = {
  Relu: 'relu',
  Relu6: 'relu6',
  Elu: 'elu',
  LeakyRelu: 'leakyrelu',
  Sigmoid: 'sigmoid',
};

/** Activations runtime/simd's kernels apply as a clamp to [lo, hi] while storing the product. */
const CLAMP: Record<string, [number, number]> = {
  none: [-Infinity, Infinity],
  Relu: [0, Infinity],
  Relu6: [0, 6],
};

/** The activation of a SIMD kernel's result when it is not a clamp the kernel applied. */
function afterClamp(y: tf.Tensor, act: string | undefined, attrs: Attrs): tf.Tensor {
  if (act === undefined || CLAMP[act]) return y;
  const z = tf.tidy(() => activation(act, y, attrs.float('leakyrelu_alpha', 0.2)));
  y.dispose();
  return z;
}

/** Extra operands each fused op takes. */
const ARITY: Record<string, number> = { BiasAdd: 1, Add: 1, Mul: 1, FusedBatchNorm: 4 };

/** Applies an activation to a tfjs tensor. */
function activation(name: string, x: tf.Tensor, alpha: number): tf.Tensor {
  switch (name) {
    case 'Relu':
      return tf.relu(x);
    case 'Relu6':
      return tf.minimum(tf.relu(x), 6);
    case 'Elu':
      return tf.elu(x);
    case 'Selu':
      return tf.selu(x);
    case 'LeakyRelu':
      return tf.leakyRelu(x, alpha);
    case 'Tanh':
      return (x.dtype === 'float32' && simdTanh(x)) || tf.tanh(x);
    case 'Sigmoid':
      return tf.sigmoid(x);
    case 'GeluExact':
      return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
    case 'GeluApproximate': {
      const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
      return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(inner)));
    }
    default:
      throw invalidArgument(`Unsupported fusion: ${name}`);
  }
}

/** TF's checks of the extra operands: count, BiasAdd and BatchNorm vectors of the channel count. */
function checkArgs(op: FusedOp, fused: readonly string[], args: readonly Tensor[], channels: number): void {
  let next = 0;
  for (const name of fused) {
    const n = ARITY[name] ?? 0;
    if (next + n > args.length) throw invalidArgument(`${op}: fused_ops need ${next + n} extra inputs, got ${args.length}`);
    if (name === 'BiasAdd') {
      const b = args[next];
      if (b.rank !== 1) throw invalidArgument(`Biases must be 1D: ${shapeString(b.shape)}`);
      if (b.shape[0] !== channels) throw invalidArgument(`Must provide as many biases as the last dimension of the input tensor: ${shapeString(b.shape)} vs. [${channels}]`);
    } else if (name === 'FusedBatchNorm') {
      for (const t of args.slice(next, next + 4)) {
        if (t.rank !== 1 || t.shape[0] !== channels) {
          throw invalidArgument(`${op}: FusedBatchNorm operands must be vectors of the ${channels} channels, got ${shapeString(t.shape)}`);
        }
      }
    }
    next += n;
  }
}

/** The fused ops after the product, one by one (broadcasting, as the unfused graph does). */
function applyFusedOps(y: tf.Tensor, fused: readonly string[], args: tf.Tensor[], attrs: Attrs, nchw: boolean): tf.Tensor {
  const alpha = attrs.float('leakyrelu_alpha', 0.2);
  const eps = attrs.float('epsilon', 0.0001);
  const channelShape = (t: tf.Tensor) => (nchw ? tf.reshape(t, [t.shape[0], 1, 1]) : t);
  let next = 0;
  let out = y;
  for (const name of fused) {
    if (name === 'BiasAdd') out = tf.add(out, channelShape(args[next++]));
    else if (name === 'Add') out = tf.add(out, args[next++]);
    else if (name === 'Mul') out = tf.mul(out, args[next++]);
    else if (name === 'FusedBatchNorm') {
      const [scale, offset, mean, variance] = args.slice(next, next + 4).map(channelShape);
      next += 4;
      out = tf.add(tf.mul(tf.mul(tf.sub(out, mean), tf.rsqrt(tf.add(variance, eps))), scale), offset);
    } else out = activation(name, out, alpha);
  }
  return out;
}

/**
 * The chain as one affine map per channel, y = x * scale + shift, when every
 * operand is per-channel (size C, all dims but the last 1) or a scalar, and
 * the activation (if any) comes last; undefined otherwise. `outRank` bounds
 * the operands' rank (a higher-rank operand would broadcast the output).
 */
interface Affine {
  scale: Float64Array | undefined;
  shift: Float64Array | undefined;
  activation: string | undefined;
}

function affineOf(fused: readonly string[], args: readonly Tensor[], channels: number, outRank: number, eps: number): Affine | undefined {
  const perChannel = (t: Tensor): ArrayLike<number> | undefined => {
    if (t.dtype !== 'float32' || t.rank > outRank) return undefined;
    if (t.size === 1) {
      return new Float64Array(channels).fill((t.values() as Float32Array)[0]);
    }
    if (t.size !== channels || t.shape[t.rank - 1] !== channels) return undefined;
    return t.values() as Float32Array;
  };
  let scale: Float64Array | undefined;
  let shift: Float64Array | undefined;
  let act: string | undefined;
  let next = 0;
  for (const name of fused) {
    if (act !== undefined) return undefined; // an op after the activation
    if (name === 'BiasAdd' || name === 'Add') {
      const b = perChannel(args[next++]);
      if (!b) return undefined;
      shift ??= new Float64Array(channels);
      for (let c = 0; c < channels; c++) shift[c] += b[c];
    } else if (name === 'Mul') {
      const m = perChannel(args[next++]);
      if (!m) return undefined;
      scale ??= new Float64Array(channels).fill(1);
      for (let c = 0; c < channels; c++) {
        scale[c] *= m[c];
        if (shift) shift[c] *= m[c];
      }
    } else if (name === 'FusedBatchNorm') {
      const [g, beta, mean, variance] = args.slice(next, next + 4).map(perChannel);
      next += 4;
      if (!g || !beta || !mean || !variance) return undefined;
      scale ??= new Float64Array(channels).fill(1);
      shift ??= new Float64Array(channels);
      for (let c = 0; c < channels; c++) {
        // In float32, as TF computes rsqrt(variance + epsilon).
        const m = Math.fround(g[c] * Math.fround(1 / Math.sqrt(Math.fround(variance[c] + eps))));
        scale[c] *= m;
        shift[c] = (shift[c] - mean[c]) * m + beta[c];
      }
    } else {
      act = name;
    }
  }
  return { scale, shift, activation: act };
}

/**
 * W * scale along the output-channel index of the filter: the fastest-varying
 * index (conv filters, MatMul's b), or with `rowLength` the row (a transposed
 * b: channel = i / rowLength). Same products as one multiply per element.
 */
function scaledFilter(w: Tensor, scale: Float64Array, rowLength?: number): Tensor {
  const src = w.values() as Float32Array;
  const out = new Float32Array(src.length);
  const channels = scale.length;
  if (rowLength === undefined) {
    for (let base = 0; base < src.length; base += channels) {
      for (let c = 0; c < channels; c++) out[base + c] = src[base + c] * scale[c];
    }
  } else {
    for (let row = 0, i = 0; i < src.length; row++) {
      const m = scale[row];
      for (const end = i + rowLength; i < end; i++) out[i] = src[i] * m;
    }
  }
  return Tensor.fromHost('float32', w.shape, out);
}

/**
 * The filter and bias the fused WASM kernel takes for this chain, from the
 * step's cache when the operands are the same tensors as last time.
 */
function foldedOperands(
  cache: KernelCache | undefined,
  filter: Tensor,
  args: readonly Tensor[],
  affine: Affine,
  /** How output channels lie in the filter (scaledFilter). */
  rowLength: number | undefined,
): { filter: Tensor; bias: Tensor | undefined } {
  // The bias is always a new rank-1 tensor: the WASM kernels check the shape
  // their storage was allocated with, which a reshaped view (Squeeze of a [1, C] slice) does not change.
  if (!affine.scale && !affine.shift) return { filter, bias: undefined };
  const key = [filter, ...args];
  const hit = cache?.get(key);
  if (hit) return { filter: hit[0], bias: hit[1] };
  const w = affine.scale ? scaledFilter(filter, affine.scale, rowLength) : filter;
  const bias = affine.shift ? Tensor.fromHost('float32', [affine.shift.length], Float32Array.from(affine.shift)) : undefined;
  // An unscaled filter that is a weight goes to the backend itself (dropping its host copy), the clone shares that.
  if (w === filter && filter.isPersistent) filter.toTf();
  const values = [w === filter ? filter.clone() : w, ...(bias ? [bias] : [])];
  // Keep the uploaded copies: the WASM backend caches its packed XNNPACK operator per filter.
  // Kept before the upload, so a folded filter is held on the backend only (tensor.ts).
  const cached = cache !== undefined && key.every((t) => t.isPersistent);
  for (const v of values) (cached ? v.keep() : v).toTf();
  cache?.set(key, values);
  return { filter: values[0], bias };
}

/** tfjs's name for TF's SAME/VALID padding (same arithmetic), else the explicit paddings computed by planConv2D. */
function padOf(attrs: Attrs, w: ConvPlan['window']): 'same' | 'valid' | number {
  const p = attrs.string('padding');
  if (p === 'SAME') return 'same';
  if (p === 'VALID') return 'valid';
  // tfjs's fused ops accept explicit paddings at run time; their typings lag behind.
  return explicitPad(w) as unknown as number;
}

function fusedConv(op: '_FusedConv2D' | '_FusedDepthwiseConv2dNative', attrs: Attrs, inputs: Tensor[], cache: KernelCache | undefined): Tensor {
  const [x, filter, ...args] = inputs;
  if (tfKind(x.dtype) !== 'float') throw unsupportedDtype(op, x.dtype);
  const fused = attrs.strings('fused_ops', []);
  const depthwise = op === '_FusedDepthwiseConv2dNative';
  const plan: ConvPlan = depthwise ? planDepthwise(op, attrs, x, filter) : planConv2D(op, attrs, x, filter);
  const nchw = plan.format === 'NCHW';
  const channels = nchw ? plan.outShape[1] : plan.outShape[3];
  checkArgs(op, fused, args, channels);
  const w = plan.window;
  const fast =
    x.dtype === 'float32' &&
    !nchw &&
    plan.groups === 1 &&
    ((w.sH === 1 && w.sW === 1) || (w.dH === 1 && w.dW === 1)) &&
    plan.outShape.every((d) => d > 0) &&
    x.size > 0;
  const ownConv = !depthwise && x.dtype === 'float32' && !nchw && plan.groups === 1 && plan.outShape.every((d) => d > 0) && x.size > 0;
  const affine = fast || ownConv ? affineOf(fused, args, channels, 4, attrs.float('epsilon', 0.0001)) : undefined;
  if (affine && ownConv) {
    const folded = foldedOperands(cache, filter, args, affine, undefined);
    const [lo, hi] = CLAMP[affine.activation ?? 'none'] ?? CLAMP.none;
    const y = simdConv2D(x.toTf(), folded.filter.toTf(), convGeometry(x.shape, filter.shape, w), { bias: folded.bias?.toTf(), lo, hi, weight: folded.filter.isPersistent });
    if (y) return Tensor.fromTf(afterClamp(y, affine.activation, attrs), 'float32');
  }
  if (affine && fast) {
    const folded = foldedOperands(cache, filter, args, affine, undefined);
    const act = affine.activation === undefined ? 'linear' : TFJS_ACTIVATION[affine.activation];
    const operands = folded.bias ? [x, folded.filter, folded.bias] : [x, folded.filter];
    return runTf('float32', operands, (xx, ff, bb) => {
      const args = {
        x: xx as tf.Tensor4D,
        filter: ff as tf.Tensor4D,
        strides: [w.sH, w.sW] as [number, number],
        pad: padOf(attrs, w),
        dataFormat: 'NHWC' as const,
        dilations: [w.dH, w.dW] as [number, number],
        bias: bb,
        activation: act ?? 'linear',
        leakyreluAlpha: attrs.float('leakyrelu_alpha', 0.2),
      };
      const y = depthwise ? tf.fused.depthwiseConv2d(args) : tf.fused.conv2d(args);
      return act === undefined ? activation(affine.activation!, y, 0) : y;
    });
  }
  const conv = depthwise ? depthwiseConv2D(op, attrs, x, filter) : conv2D(op, attrs, x, filter);
  try {
    return runTf(x.dtype, [conv, ...args], (y, ...rest) => applyFusedOps(y, fused, rest, attrs, nchw));
  } finally {
    conv.dispose();
  }
}

function fusedMatMul(attrs: Attrs, inputs: Tensor[], cache: KernelCache | undefined): Tensor {
  const [a, b, ...args] = inputs;
  const fused = attrs.strings('fused_ops', []);
  const ta = attrs.bool('transpose_a', false);
  const tb = attrs.bool('transpose_b', false);
  if (tfKind(a.dtype) !== 'float') throw unsupportedDtype('_FusedMatMul', a.dtype);
  if (a.rank !== 2 || b.rank !== 2) throw invalidArgument(`In[0] and In[1] ndims must be == 2: ${a.rank}`);
  const inner = [ta ? a.shape[0] : a.shape[1], tb ? b.shape[1] : b.shape[0]];
  if (inner[0] !== inner[1]) {
    throw invalidArgument(`Matrix size-incompatible: In[0]: ${shapeString(a.shape)}, In[1]: ${shapeString(b.shape)}`);
  }
  const channels = tb ? b.shape[0] : b.shape[1];
  checkArgs('_FusedMatMul', fused, args, channels);
  const rows = ta ? a.shape[1] : a.shape[0];
  const fast = a.dtype === 'float32' && rows > 0 && channels > 0 && inner[0] > 0;
  const affine = fast ? affineOf(fused, args, channels, 2, 0) : undefined;
  const k = inner[0];
  if (affine) {
    const folded = foldedOperands(cache, b, args, affine, tb ? k : undefined);
    const [lo, hi] = CLAMP[affine.activation ?? 'none'] ?? CLAMP.none;
    const y = simdBatchMatMul(a.toTf(), folded.filter.toTf(), ta, tb, [], rows, k, channels, { bias: folded.bias?.toTf(), lo, hi, weight: folded.filter.isPersistent });
    if (y) {
      const out = Tensor.fromTf(afterClamp(y, affine.activation, attrs), 'float32');
      if (smallHostMath(out.size)) out.values();
      return out;
    }
  }
  // tfjs-backend-wasm 4.22's _FusedMatMul adds the bias at wrong offsets when an operand is transposed (and M > 1).
  if (affine && !((ta || tb) && affine.shift)) {
    const folded = foldedOperands(cache, b, args, affine, tb ? k : undefined);
    const act = affine.activation === undefined ? 'linear' : TFJS_ACTIVATION[affine.activation];
    if (act !== undefined && directDispatch()) {
      const y = Tensor.fromTf(directFusedMatMul(a.toTf(), folded.filter.toTf(), folded.bias?.toTf(), ta, tb, act, attrs.float('leakyrelu_alpha', 0.2), [rows, channels]));
      // A small result also goes to the host, where the elementwise ops after it run (dispatch.ts smallHostMath).
      if (smallHostMath(y.size)) y.values();
      return y;
    }
    const operands = folded.bias ? [a, folded.filter, folded.bias] : [a, folded.filter];
    return runTf('float32', operands, (aa, bb, bias) => {
      const y = tf.fused.matMul({ a: aa, b: bb, transposeA: ta, transposeB: tb, bias, activation: act ?? 'linear', leakyreluAlpha: attrs.float('leakyrelu_alpha', 0.2) });
      return act === undefined ? activation(affine.activation!, y, 0) : y;
    });
  }
  const product = batchMatMul('_FusedMatMul', a, b, ta, tb);
  try {
    return runTf(a.dtype, [product, ...args], (p, ...rest) => applyFusedOps(p, fused, rest, attrs, false));
  } finally {
    product.dispose();
  }
}

/**
 * What tf.fused.matMul runs for rank-2 operands without its op wrapper and
 * custom-gradient machinery (dispatch.ts): the backend's _FusedMatMul on
 * rank-3 views, reshaped back to [rows, channels].
 */
function directFusedMatMul(
  a: tf.Tensor,
  b: tf.Tensor,
  bias: tf.Tensor | undefined,
  transposeA: boolean,
  transposeB: boolean,
  activation: tf.fused.Activation,
  leakyreluAlpha: number,
  outShape: number[],
): tf.Tensor {
  const a3 = runKernel('Reshape', { x: a }, { shape: [1, ...a.shape] });
  const b3 = runKernel('Reshape', { x: b }, { shape: [1, ...b.shape] });
  const y3 = runKernel('_FusedMatMul', bias ? { a: a3, b: b3, bias } : { a: a3, b: b3 }, { transposeA, transposeB, activation, leakyreluAlpha });
  const y = runKernel('Reshape', { x: y3 }, { shape: outShape });
  a3.dispose();
  b3.dispose();
  y3.dispose();
  return y;
}

registerKernel({ op: '_FusedMatMul', cache: true, kernel: (ctx) => [fusedMatMul(ctx.attrs, ctx.inputs, ctx.cache)] });
registerKernel({ op: '_FusedConv2D', cache: true, kernel: (ctx) => [fusedConv('_FusedConv2D', ctx.attrs, ctx.inputs, ctx.cache)] });
registerKernel({
  op: '_FusedDepthwiseConv2dNative',
  cache: true,
  kernel: (ctx) => [fusedConv('_FusedDepthwiseConv2dNative', ctx.attrs, ctx.inputs, ctx.cache)],
});
