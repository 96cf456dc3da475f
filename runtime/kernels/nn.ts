/**
 * Neural-network kernels (tensorflow/core/ops/nn_ops.cc): BiasAdd,
 * Softmax/LogSoftmax, Conv2D, DepthwiseConv2dNative, Conv2DBackpropInput,
 * MaxPool/MaxPoolV2/AvgPool, FusedBatchNorm(V2/V3), L2Loss and LRN (the
 * grappler fusions _FusedConv2D... are in nn_fused.ts).
 *
 * float32 (and half types) run on tfjs; NCHW inputs are transposed to NHWC
 * and back. Window geometry (SAME/VALID/EXPLICIT padding, strides, dilations)
 * is computed here with TF's rules and error texts, then handed to tfjs as
 * explicit paddings. Strided *and* dilated convolutions (which tfjs refuses)
 * run dilated at stride 1 and are subsampled. Grouped convolutions (input
 * depth a multiple of the filter depth) run group by group. float64 (and
 * int32 for Conv2D/BiasAdd) run on the host with straightforward loops.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DType } from '../dtypes.js';
import { invalidArgument } from '../errors.js';
import { checkTensorSize } from '../limits.js';
import { type Shape, Tensor, allocHost, shapeString, sizeOf } from '../tensor.js';
import type { Attrs } from './attrs.js';
import { type NumArray, unsupportedDtype } from './host_math.js';
import {
  BINARY,
  FLOAT_TYPES,
  NUMERIC_TYPES,
  applyBinary,
  batchMatMul,
  checkSameDtype,
  runTf,
  tfKind,
  transposeHost,
} from './math.js';
import { runKernel, smallHostMath } from './dispatch.js';
import { simdConv2D, type ConvGeometry } from '../simd/simd_kernels.js';
import { registerKernel } from './registry.js';

const isTfFloat = (d: DType) => tfKind(d) === 'float';

/** A copy of a tensor that does not share storage with it. */
function copyOf(t: Tensor): Tensor {
  if (t.isOnBackend) return Tensor.fromTf(tf.clone(t.toTf()), t.dtype);
  return Tensor.fromHost(t.dtype, t.shape, (t.values() as NumArray).slice());
}

// ---------------------------------------------------------------------------
// BiasAdd

function biasAdd(op: string, value: Tensor, bias: Tensor, format: string): Tensor {
  checkSameDtype(op, [value, bias]);
  if (!NUMERIC_TYPES.includes(value.dtype)) throw unsupportedDtype(op, value.dtype);
  if (value.rank < 2) throw invalidArgument(`Input tensor must be at least 2D: ${shapeString(value.shape)}`);
  if (bias.rank !== 1) throw invalidArgument(`Biases must be 1D: ${shapeString(bias.shape)}`);
  const nchw = format === 'NCHW';
  const channelDim = nchw ? 1 : value.rank - 1;
  if (bias.shape[0] !== value.shape[channelDim]) {
    throw invalidArgument(
      `Must provide as many biases as the last dimension of the input tensor: ${shapeString(bias.shape)} vs. ${shapeString(value.shape)}`,
    );
  }
  const biasShape = nchw ? [bias.shape[0], ...new Array<number>(value.rank - 2).fill(1)] : [bias.shape[0]];
  const kind = tfKind(value.dtype);
  if (!nchw && value.dtype === 'float32' && value.isOnHost && bias.isOnHost && smallHostMath(value.size)) return applyBinary(op, BINARY.add, value, bias);
  if (kind === 'float' || kind === 'int') {
    if (!nchw) return Tensor.fromTf(runKernel('Add', { a: value.toTf(), b: bias.toTf() }), value.dtype);
    return runTf(value.dtype, [value, bias], (x, b) => tf.add(x, tf.reshape(b, biasShape)));
  }
  const b = Tensor.fromHost(bias.dtype, biasShape, bias.values());
  return applyBinary(op, BINARY.add, value, b);
}

registerKernel({
  op: 'BiasAdd',
  kernel: (ctx) => [biasAdd('BiasAdd', ctx.inputs[0], ctx.inputs[1], ctx.attrs.string('data_format', 'NHWC'))],
});
registerKernel({
  op: 'BiasAddV1',
  kernel: (ctx) => [biasAdd('BiasAddV1', ctx.inputs[0], ctx.inputs[1], 'NHWC')],
});

// ---------------------------------------------------------------------------
// Softmax, LogSoftmax, L2Loss

function hostSoftmax(x: Tensor, log: boolean): Tensor {
  const n = x.shape[x.rank - 1];
  const src = x.values() as NumArray;
  const out = allocHost(x.dtype, x.size) as NumArray;
  for (let row = 0; row < x.size / n; row++) {
    const base = row * n;
    let max = -Infinity;
    for (let i = 0; i < n; i++) max = Math.max(max, src[base + i]);
    let sum = 0;
    for (let i = 0; i < n; i++) sum += Math.exp(src[base + i] - max);
    for (let i = 0; i < n; i++) {
      const shifted = src[base + i] - max;
      out[base + i] = log ? shifted - Math.log(sum) : Math.exp(shifted) / sum;
    }
  }
  return Tensor.fromHost(x.dtype, x.shape, out);
}

function registerSoftmax(op: 'Softmax' | 'LogSoftmax'): void {
  registerKernel({
    op,
    kernel: (ctx) => {
      const x = ctx.inputs[0];
      if (!FLOAT_TYPES.includes(x.dtype)) throw unsupportedDtype(op, x.dtype);
      if (x.rank < 1) throw invalidArgument(`logits must have >= 1 dimension, got ${shapeString(x.shape)}`);
      if (isTfFloat(x.dtype) && x.size > 0) {
        return [runTf(x.dtype, [x], (t) => (op === 'Softmax' ? tf.softmax(t) : tf.logSoftmax(t)), false)];
      }
      return [hostSoftmax(x, op === 'LogSoftmax')];
    },
  });
}
registerSoftmax('Softmax');
registerSoftmax('LogSoftmax');

registerKernel({
  op: 'L2Loss',
  kernel: (ctx) => {
    const x = ctx.inputs[0];
    if (!FLOAT_TYPES.includes(x.dtype)) throw unsupportedDtype('L2Loss', x.dtype);
    if (isTfFloat(x.dtype)) return [runTf(x.dtype, [x], (t) => tf.div(tf.sum(tf.square(t)), 2))];
    let sum = 0;
    for (const v of x.values() as NumArray) sum += v * v;
    return [Tensor.scalar(x.dtype, sum / 2)];
  },
});

// ---------------------------------------------------------------------------
// Window geometry

export type Format = 'NHWC' | 'NCHW';

export function dataFormat(attrs: Attrs): Format {
  const f = attrs.string('data_format', 'NHWC');
  if (f !== 'NHWC' && f !== 'NCHW') throw invalidArgument(`Invalid data format: ${f}`);
  return f;
}

/** [h, w] of a 4-element attr laid out in `format`, checking the batch and depth entries are 1. */
function spatial(values: number[], format: Format, what: string, op: string): [number, number] {
  if (values.length !== 4) throw invalidArgument(`Sliding window ${what} field must specify 4 dimensions`);
  const [n, c, h, w] = format === 'NHWC' ? [values[0], values[3], values[1], values[2]] : [values[0], values[1], values[2], values[3]];
  if (n !== 1 || c !== 1) {
    throw invalidArgument(
      op.includes('Pool')
        ? 'Pooling is not yet supported on the batch dimension.'
        : `Current implementation does not yet support ${what} in the batch and depth dimensions.`,
    );
  }
  return [h, w];
}

export interface Window {
  inH: number;
  inW: number;
  kH: number;
  kW: number;
  sH: number;
  sW: number;
  dH: number;
  dW: number;
  /** [top, bottom], [left, right] */
  padH: [number, number];
  padW: [number, number];
  outH: number;
  outW: number;
}

/** TF's GetWindowedOutputSizeVerbose for one spatial dimension. */
function windowDim(
  input: number,
  filter: number,
  dilation: number,
  stride: number,
  padding: string,
  explicit: [number, number],
): { out: number; pad: [number, number] } {
  const eff = (filter - 1) * dilation + 1;
  let out: number;
  let pad: [number, number];
  if (padding === 'VALID') {
    out = Math.floor((input - eff + stride) / stride);
    pad = [0, 0];
  } else if (padding === 'EXPLICIT') {
    out = Math.floor((input + explicit[0] + explicit[1] - eff + stride) / stride);
    pad = explicit;
  } else if (padding === 'SAME') {
    out = Math.floor((input + stride - 1) / stride);
    const total = Math.max((out - 1) * stride + eff - input, 0);
    pad = [Math.floor(total / 2), total - Math.floor(total / 2)];
  } else {
    throw invalidArgument(`Invalid padding: ${padding}`);
  }
  if (out < 0) {
    throw invalidArgument(
      `Computed output size would be negative: ${out} [input_size: ${input}, effective_filter_size: ${eff}, stride: ${stride}]`,
    );
  }
  return { out, pad };
}

/** Reads and validates strides/dilations/padding attrs for an input of NHWC shape [N, H, W, C] and a window [kH, kW]. */
function windowOf(op: string, attrs: Attrs, format: Format, nhwc: Shape, kH: number, kW: number, strides: number[], dilations: number[]): Window {
  const [sH, sW] = spatial(strides, format, 'strides', op);
  const [dH, dW] = spatial(dilations, format, 'dilations', op);
  if (sH <= 0 || sW <= 0) throw invalidArgument('Sliding window stride field must be positive.');
  if (dH <= 0 || dW <= 0) throw invalidArgument('Dilated rates should be larger than 0.');
  const padding = attrs.string('padding');
  let eH: [number, number] = [0, 0];
  let eW: [number, number] = [0, 0];
  if (padding === 'EXPLICIT') {
    const p = attrs.ints('explicit_paddings', []);
    if (p.length !== 8) throw invalidArgument(`explicit_paddings attribute must contain 8 values, but got: ${p.length}`);
    const [hi, wi] = format === 'NHWC' ? [1, 2] : [2, 3];
    eH = [p[2 * hi], p[2 * hi + 1]];
    eW = [p[2 * wi], p[2 * wi + 1]];
    if (p.some((v) => v < 0)) throw invalidArgument('All elements of explicit_paddings must be nonnegative');
  }
  const h = windowDim(nhwc[1], kH, dH, sH, padding, eH);
  const w = windowDim(nhwc[2], kW, dW, sW, padding, eW);
  return { inH: nhwc[1], inW: nhwc[2], kH, kW, sH, sW, dH, dW, padH: h.pad, padW: w.pad, outH: h.out, outW: w.out };
}

const toNhwc = (s: Shape, f: Format): number[] => (f === 'NHWC' ? [...s] : [s[0], s[2], s[3], s[1]]);
const fromNhwc = (s: Shape, f: Format): number[] => (f === 'NHWC' ? [...s] : [s[0], s[3], s[1], s[2]]);

export const explicitPad = (w: Window): tf.backend_util.ExplicitPadding => [[0, 0], w.padH, w.padW, [0, 0]];

/** Runs an NHWC tfjs computation on an input in `format`, transposing around it for NCHW. */
function inNhwc(x: tf.Tensor, format: Format, fn: (nhwc: tf.Tensor4D) => tf.Tensor): tf.Tensor {
  if (format === 'NHWC') return fn(x as tf.Tensor4D);
  const y = fn(tf.transpose(x, [0, 2, 3, 1]) as tf.Tensor4D);
  return tf.transpose(y, [0, 3, 1, 2]);
}

/**
 * A tfjs convolution that tfjs cannot do strided and dilated at once:
 * run it at stride 1 (same paddings) and keep every stride-th output.
 */
function stridedDilated(w: Window, run: (strides: [number, number]) => tf.Tensor4D): tf.Tensor4D {
  if ((w.sH === 1 && w.sW === 1) || (w.dH === 1 && w.dW === 1)) return run([w.sH, w.sW]);
  const full = run([1, 1]);
  const [n, , , c] = full.shape;
  return tf.stridedSlice(full, [0, 0, 0, 0], [n, w.outH * w.sH, w.outW * w.sW, c], [1, w.sH, w.sW, 1]) as tf.Tensor4D;
}

// ---------------------------------------------------------------------------
// Conv2D, DepthwiseConv2dNative

function check4d(what: string, t: Tensor): void {
  if (t.rank !== 4) throw invalidArgument(`${what} must be 4-dimensional${shapeString(t.shape)}`);
}

export interface ConvPlan {
  format: Format;
  window: Window;
  groups: number;
  outShape: number[];
}

export function planConv2D(op: string, attrs: Attrs, input: Tensor, filter: Tensor): ConvPlan {
  check4d('input', input);
  if (filter.rank !== 4) throw invalidArgument(`filter must be 4-dimensional: ${shapeString(filter.shape)}`);
  const format = dataFormat(attrs);
  const nhwc = toNhwc(input.shape, format);
  const [kH, kW, fIn, outC] = filter.shape;
  const inC = nhwc[3];
  if (fIn <= 0 || inC % fIn !== 0) {
    throw invalidArgument(`input depth must be evenly divisible by filter depth: ${inC} vs ${fIn}`);
  }
  const groups = inC / fIn;
  if (outC % groups !== 0) {
    throw invalidArgument(`output depth must be evenly divisible by number of groups: ${outC} vs ${groups}`);
  }
  const window = windowOf(op, attrs, format, nhwc, kH, kW, attrs.ints('strides'), attrs.ints('dilations', [1, 1, 1, 1]));
  const outShape = fromNhwc([nhwc[0], window.outH, window.outW, outC], format);
  return { format, window, groups, outShape };
}

function tfConv2D(x: tf.Tensor4D, f: tf.Tensor4D, w: Window, groups: number): tf.Tensor4D {
  const conv = (xs: tf.Tensor4D, fs: tf.Tensor4D) =>
    stridedDilated(w, (strides) => tf.conv2d(xs, fs, strides, explicitPad(w), 'NHWC', [w.dH, w.dW]));
  if (groups === 1) return conv(x, f);
  const xs = tf.split(x, groups, 3) as tf.Tensor4D[];
  const fs = tf.split(f, groups, 3) as tf.Tensor4D[];
  return tf.concat(xs.map((xi, g) => conv(xi, fs[g])), 3);
}

/** Direct convolution on the host, NHWC, grouped or depthwise (float64, int32). */
function hostConv(
  x: Tensor,
  f: Tensor,
  w: Window,
  nhwc: number[],
  outC: number,
  filterIndex: (ky: number, kx: number, oc: number) => { base: number; count: number; inStart: number; step: number },
): NumArray {
  const [n, inH, inW, inC] = nhwc;
  const xv = x.values() as NumArray;
  const fv = f.values() as NumArray;
  const out = allocHost(x.dtype, n * w.outH * w.outW * outC) as NumArray;
  let o = 0;
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < w.outH; oy++) {
      for (let ox = 0; ox < w.outW; ox++) {
        for (let oc = 0; oc < outC; oc++) {
          let acc = 0;
          for (let ky = 0; ky < w.kH; ky++) {
            const iy = oy * w.sH - w.padH[0] + ky * w.dH;
            if (iy < 0 || iy >= inH) continue;
            for (let kx = 0; kx < w.kW; kx++) {
              const ix = ox * w.sW - w.padW[0] + kx * w.dW;
              if (ix < 0 || ix >= inW) continue;
              const { base, count, inStart, step } = filterIndex(ky, kx, oc);
              const xBase = ((b * inH + iy) * inW + ix) * inC + inStart;
              for (let c = 0; c < count; c++) acc += xv[xBase + c] * fv[base + c * step];
            }
          }
          out[o++] = acc;
        }
      }
    }
  }
  return out;
}

/** Runs a host NHWC computation on an input in `format`. */
function hostInNhwc(x: Tensor, format: Format, fn: (nhwc: Tensor) => Tensor): Tensor {
  if (format === 'NHWC') return fn(x);
  const y = fn(transposeHost(x, [0, 2, 3, 1]));
  return transposeHost(y, [0, 3, 1, 2]);
}

/** The SIMD kernels' geometry of an NHWC convolution with this window. */
export function convGeometry(xShape: readonly number[], fShape: readonly number[], w: Window): ConvGeometry {
  return {
    batch: xShape[0], inH: xShape[1], inW: xShape[2], inC: xShape[3],
    kH: fShape[0], kW: fShape[1], outC: fShape[3],
    sH: w.sH, sW: w.sW, dH: w.dH, dW: w.dW,
    padTop: w.padH[0], padLeft: w.padW[0], outH: w.outH, outW: w.outW,
  };
}

export function conv2D(op: string, attrs: Attrs, input: Tensor, filter: Tensor): Tensor {
  checkSameDtype(op, [input, filter]);
  const dtype = input.dtype;
  if (![...FLOAT_TYPES, 'int32'].includes(dtype)) throw unsupportedDtype(op, dtype);
  const { format, window: w, groups, outShape } = planConv2D(op, attrs, input, filter);
  if (sizeOf(outShape) === 0 || input.size === 0 || filter.size === 0) {
    return Tensor.fromHost(dtype, outShape, allocHost(dtype, sizeOf(outShape)));
  }
  if (dtype === 'float32' && format === 'NHWC' && groups === 1) {
    const y = simdConv2D(input.toTf(), filter.toTf(), convGeometry(input.shape, filter.shape, w), { lo: -Infinity, hi: Infinity, weight: filter.isPersistent });
    if (y) return Tensor.fromTf(y, 'float32');
  }
  if (isTfFloat(dtype)) {
    return runTf(dtype, [input, filter], (x, f) => inNhwc(x, format, (xx) => tfConv2D(xx, f as tf.Tensor4D, w, groups)));
  }
  const [, , fIn, outC] = filter.shape;
  const perGroup = outC / groups;
  return hostInNhwc(input, format, (x) => {
    const nhwc = [...x.shape];
    const data = hostConv(x, filter, w, nhwc, outC, (ky, kx, oc) => ({
      base: (ky * w.kW + kx) * fIn * outC + oc,
      count: fIn,
      inStart: Math.floor(oc / perGroup) * fIn,
      step: outC,
    }));
    return Tensor.fromHost(dtype, [nhwc[0], w.outH, w.outW, outC], data);
  });
}

registerKernel({ op: 'Conv2D', kernel: (ctx) => [conv2D('Conv2D', ctx.attrs, ctx.inputs[0], ctx.inputs[1])] });

/** Validates a depthwise convolution's operands and attrs (TF's checks and wording) and computes its geometry. */
export function planDepthwise(op: string, attrs: Attrs, input: Tensor, filter: Tensor): ConvPlan {
  check4d('input', input);
  if (filter.rank !== 4) throw invalidArgument(`filter must be 4-dimensional: ${shapeString(filter.shape)}`);
  const format = dataFormat(attrs);
  const nhwc = toNhwc(input.shape, format);
  const [kH, kW, fIn, mult] = filter.shape;
  if (nhwc[3] !== fIn) throw invalidArgument(`input and filter must have the same depth: ${nhwc[3]} vs ${fIn}`);
  const window = windowOf(op, attrs, format, nhwc, kH, kW, attrs.ints('strides'), attrs.ints('dilations', [1, 1, 1, 1]));
  return { format, window, groups: 1, outShape: fromNhwc([nhwc[0], window.outH, window.outW, fIn * mult], format) };
}

export function depthwiseConv2D(op: string, attrs: Attrs, input: Tensor, filter: Tensor): Tensor {
  checkSameDtype(op, [input, filter]);
  const dtype = input.dtype;
  if (!FLOAT_TYPES.includes(dtype)) throw unsupportedDtype(op, dtype);
  const { format, window: w, outShape } = planDepthwise(op, attrs, input, filter);
  const [kH, kW, fIn, mult] = filter.shape;
  const outC = fIn * mult;
  if (sizeOf(outShape) === 0 || input.size === 0) return Tensor.fromHost(dtype, outShape, allocHost(dtype, sizeOf(outShape)));
  if (isTfFloat(dtype)) {
    return runTf(dtype, [input, filter], (x, f) =>
      inNhwc(x, format, (xx) =>
        stridedDilated(w, (strides) => tf.depthwiseConv2d(xx, f as tf.Tensor4D, strides, explicitPad(w), 'NHWC', [w.dH, w.dW])),
      ),
    );
  }
  return hostInNhwc(input, format, (x) => {
    const data = hostConv(x, filter, w, [...x.shape], outC, (ky, kx, oc) => ({
      base: (ky * kW + kx) * fIn * mult + oc,
      count: 1,
      inStart: Math.floor(oc / mult),
      step: 0,
    }));
    return Tensor.fromHost(dtype, [x.shape[0], w.outH, w.outW, outC], data);
  });
}

registerKernel({
  op: 'DepthwiseConv2dNative',
  kernel: (ctx) => [depthwiseConv2D('DepthwiseConv2dNative', ctx.attrs, ctx.inputs[0], ctx.inputs[1])],
});

// ---------------------------------------------------------------------------
// Conv2DBackpropInput (the op behind Conv2DTranspose)

registerKernel({
  op: 'Conv2DBackpropInput',
  kernel: (ctx) => {
    const op = 'Conv2DBackpropInput';
    const [sizes, filter, dy] = ctx.inputs;
    checkSameDtype(op, ctx.inputs, 1);
    const dtype = dy.dtype;
    if (![...FLOAT_TYPES, 'int32'].includes(dtype)) throw unsupportedDtype(op, dtype);
    const format = dataFormat(ctx.attrs);
    if (sizes.rank !== 1) throw invalidArgument(`Conv2DBackpropInput: input_sizes input must be 1-dim, not ${sizes.rank}`);
    check4d('out_backprop', dy);
    if (filter.rank !== 4) throw invalidArgument(`filter must be 4-dimensional: ${shapeString(filter.shape)}`);
    const s = sizes.numbers();
    const dyNhwc = toNhwc(dy.shape, format);
    const [kH, kW, inC, outC] = filter.shape;
    let inNhwcShape: number[];
    if (s.length === 4) inNhwcShape = toNhwc(s, format);
    else if (s.length === 2) inNhwcShape = [dyNhwc[0], s[0], s[1], inC];
    else throw invalidArgument(`Conv2DBackpropInput requires input_sizes to contain 4 values or 2 values, but got: ${s.length}`);
    if (inNhwcShape[3] !== inC) {
      throw invalidArgument(`Conv2DBackpropInput: input and filter must have the same depth: ${inNhwcShape[3]} vs ${inC}`);
    }
    if (dyNhwc[3] !== outC) {
      throw invalidArgument(`Conv2DBackpropInput: filter and out_backprop must have the same out_depth: ${outC} vs ${dyNhwc[3]}`);
    }
    const dilations = ctx.attrs.ints('dilations', [1, 1, 1, 1]);
    if (dilations.some((d) => d !== 1)) {
      throw invalidArgument(
        'Current libxsmm and customized CPU implementations do not yet support dilation rates larger than 1.',
      );
    }
    const w = windowOf(op, ctx.attrs, format, inNhwcShape, kH, kW, ctx.attrs.ints('strides'), dilations);
    for (const [dim, computed, actual] of [
      [1, w.outH, dyNhwc[1]],
      [2, w.outW, dyNhwc[2]],
    ] as const) {
      if (computed !== actual) {
        throw invalidArgument(
          `Conv2DCustomBackpropInput: Size of out_backprop doesn't match computed: actual = ${actual}, computed = ${computed} spatial_dim: ${dim} input: ${inNhwcShape[dim]} filter: ${dim === 1 ? kH : kW} output: ${actual} stride: ${dim === 1 ? w.sH : w.sW} dilation: 1`,
        );
      }
    }
    const outShape = fromNhwc(inNhwcShape, format);
    checkTensorSize(outShape, dtype);
    if (sizeOf(outShape) === 0 || dy.size === 0 || filter.size === 0) {
      return [Tensor.fromHost(dtype, outShape, allocHost(dtype, sizeOf(outShape)))];
    }
    if (isTfFloat(dtype)) {
      const target = inNhwcShape as [number, number, number, number];
      return [
        runTf(dtype, [dy, filter], (g, f) =>
          inNhwc(g, format, (gg) => tf.conv2dTranspose(gg, f as tf.Tensor4D, target, [w.sH, w.sW], explicitPad(w))),
        ),
      ];
    }
    return [
      hostInNhwc(dy, format, (g) => {
        const [n, oH, oW] = g.shape;
        const [, H, W] = inNhwcShape;
        const gv = g.values() as NumArray;
        const fv = filter.values() as NumArray;
        const out = allocHost(dtype, n * H * W * inC) as NumArray;
        for (let b = 0; b < n; b++)
          for (let oy = 0; oy < oH; oy++)
            for (let ox = 0; ox < oW; ox++)
              for (let ky = 0; ky < kH; ky++) {
                const iy = oy * w.sH - w.padH[0] + ky;
                if (iy < 0 || iy >= H) continue;
                for (let kx = 0; kx < kW; kx++) {
                  const ix = ox * w.sW - w.padW[0] + kx;
                  if (ix < 0 || ix >= W) continue;
                  for (let ic = 0; ic < inC; ic++) {
                    let acc = 0;
                    for (let oc = 0; oc < outC; oc++) {
                      acc += gv[((b * oH + oy) * oW + ox) * outC + oc] * fv[((ky * kW + kx) * inC + ic) * outC + oc];
                    }
                    out[((b * H + iy) * W + ix) * inC + ic] += acc;
                  }
                }
              }
        return Tensor.fromHost(dtype, [n, H, W, inC], out);
      }),
    ];
  },
});

// ---------------------------------------------------------------------------
// MaxPool, MaxPoolV2, AvgPool

function hostPool(x: Tensor, w: Window, kind: 'max' | 'avg'): Tensor {
  const [n, inH, inW, c] = x.shape;
  const xv = x.values() as NumArray;
  const out = allocHost(x.dtype, n * w.outH * w.outW * c) as NumArray;
  let o = 0;
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < w.outH; oy++)
      for (let ox = 0; ox < w.outW; ox++)
        for (let ch = 0; ch < c; ch++) {
          let acc = kind === 'max' ? -Infinity : 0;
          let count = 0;
          for (let ky = 0; ky < w.kH; ky++) {
            const iy = oy * w.sH - w.padH[0] + ky;
            if (iy < 0 || iy >= inH) continue;
            for (let kx = 0; kx < w.kW; kx++) {
              const ix = ox * w.sW - w.padW[0] + kx;
              if (ix < 0 || ix >= inW) continue;
              const v = xv[((b * inH + iy) * inW + ix) * c + ch];
              if (kind === 'max') acc = v > acc || v !== v ? v : acc;
              else acc += v;
              count++;
            }
          }
          out[o++] = kind === 'max' ? acc : acc / count;
        }
  return Tensor.fromHost(x.dtype, [n, w.outH, w.outW, c], out);
}

function pool(op: string, kind: 'max' | 'avg', attrs: Attrs, input: Tensor, ksize: number[], strides: number[]): Tensor {
  const dtype = input.dtype;
  const allowed: readonly DType[] = kind === 'max' ? [...FLOAT_TYPES, 'int32', 'uint8', 'int8', 'int16', 'uint16'] : FLOAT_TYPES;
  if (!allowed.includes(dtype)) throw unsupportedDtype(op, dtype);
  check4d('input', input);
  const format = dataFormat(attrs);
  const nhwc = toNhwc(input.shape, format);
  if (ksize.length !== 4) throw invalidArgument('Sliding window ksize field must specify 4 dimensions');
  if (strides.length !== 4) throw invalidArgument('Sliding window stride field must specify 4 dimensions');
  const kc = format === 'NHWC' ? ksize[3] : ksize[1];
  if (kc !== 1) throw invalidArgument(`${op}: pooling across the depth dimension is not supported`);
  const [kH, kW] = spatial(ksize, format, 'ksize', op);
  const padding = attrs.string('padding');
  if (kind === 'avg' && padding !== 'SAME' && padding !== 'VALID') throw invalidArgument(`Invalid padding for ${op}: ${padding}`);
  const w = windowOf(op, attrs, format, nhwc, kH, kW, strides, [1, 1, 1, 1]);
  const outShape = fromNhwc([nhwc[0], w.outH, w.outW, nhwc[3]], format);
  if (sizeOf(outShape) === 0) return Tensor.fromHost(dtype, outShape, allocHost(dtype, 0));
  if (isTfFloat(dtype)) {
    const pad = padding === 'SAME' ? 'same' : padding === 'VALID' ? 'valid' : explicitPad(w);
    return runTf(dtype, [input], (x) =>
      inNhwc(x, format, (xx) =>
        kind === 'max' ? tf.maxPool(xx, [kH, kW], [w.sH, w.sW], pad) : tf.avgPool(xx, [kH, kW], [w.sH, w.sW], pad as 'same' | 'valid'),
      ),
    );
  }
  return hostInNhwc(input, format, (x) => hostPool(x, w, kind));
}

registerKernel({
  op: 'MaxPool',
  kernel: (ctx) => [pool('MaxPool', 'max', ctx.attrs, ctx.inputs[0], ctx.attrs.ints('ksize'), ctx.attrs.ints('strides'))],
});
registerKernel({
  op: 'MaxPoolV2',
  kernel: (ctx) => [pool('MaxPoolV2', 'max', ctx.attrs, ctx.inputs[0], ctx.inputs[1].numbers(), ctx.inputs[2].numbers())],
});
registerKernel({
  op: 'AvgPool',
  kernel: (ctx) => [pool('AvgPool', 'avg', ctx.attrs, ctx.inputs[0], ctx.attrs.ints('ksize'), ctx.attrs.ints('strides'))],
});

// ---------------------------------------------------------------------------
// FusedBatchNorm, FusedBatchNormV2, FusedBatchNormV3

interface BatchNormResult {
  y: Tensor;
  mean: Tensor;
  variance: Tensor;
  savedMean: Tensor;
  savedVariance: Tensor;
}

/** Per-channel mean and (biased) variance of an NHWC-flattened host array. */
function channelMoments(v: NumArray, c: number): { mean: Float64Array; variance: Float64Array } {
  const mean = new Float64Array(c);
  const variance = new Float64Array(c);
  const rows = v.length / c;
  for (let i = 0; i < v.length; i++) mean[i % c] += v[i];
  for (let ch = 0; ch < c; ch++) mean[ch] /= rows;
  for (let i = 0; i < v.length; i++) {
    const d = v[i] - mean[i % c];
    variance[i % c] += d * d;
  }
  for (let ch = 0; ch < c; ch++) variance[ch] /= rows;
  return { mean, variance };
}

function fusedBatchNorm(op: string, attrs: Attrs, inputs: Tensor[]): BatchNormResult {
  const [x, scale, offset, mean, variance] = inputs;
  if (!FLOAT_TYPES.includes(x.dtype)) throw unsupportedDtype(op, x.dtype);
  if (x.rank !== 4) throw invalidArgument(`input must be 4-dimensional${shapeString(x.shape)}`);
  for (const [name, t] of [
    ['scale', scale],
    ['offset', offset],
    ['mean', mean],
    ['variance', variance],
  ] as const) {
    if (t.rank !== 1) throw invalidArgument(`${name} must be 1-dimensional${shapeString(t.shape)}`);
  }
  const eps = attrs.float('epsilon', 0.0001);
  const training = attrs.bool('is_training', true);
  const factor = attrs.float('exponential_avg_factor', 1);
  const format = dataFormat(attrs);
  const c = format === 'NHWC' ? x.shape[3] : x.shape[1];
  if (scale.shape[0] !== c || offset.shape[0] !== c) {
    throw invalidArgument(
      `scale and offset must have the same number of elements as the channels of x, got ${scale.shape[0]} and ${offset.shape[0]} for ${c} channels`,
    );
  }
  if (!training && (mean.shape[0] !== c || variance.shape[0] !== c)) {
    throw invalidArgument(
      `When is_training=false, mean and variance must have the same number of elements as the channels of x, got ${mean.shape[0]} and ${variance.shape[0]} for ${c} channels`,
    );
  }
  const u = scale.dtype;
  if (!training) {
    const y = isTfFloat(x.dtype)
      ? runTf(x.dtype, [x, mean, variance, offset, scale], (xx, m, v, o, s) =>
          inNhwc(xx, format, (t) => tf.batchNorm(t, m as tf.Tensor1D, v as tf.Tensor1D, o as tf.Tensor1D, s as tf.Tensor1D, eps)),
        )
      : hostInNhwc(x, format, (t) => hostNormalize(t, mean.values() as NumArray, variance.values() as NumArray, scale, offset, eps));
    return { y, mean: copyOf(mean), variance: copyOf(variance), savedMean: copyOf(mean), savedVariance: copyOf(variance) };
  }
  // Training mode: normalise with the batch's own moments.
  return hostInNhwcTraining(x, format, (t) => {
    const { mean: bm, variance: bv } = channelMoments(t.values() as NumArray, c);
    const y = hostNormalize(t, bm, bv, scale, offset, eps);
    const n = t.size / c;
    const unbiased = bv.map((v) => (n > 1 ? (v * n) / (n - 1) : v));
    const old = (s: Tensor) => (s.size === c ? (s.values() as NumArray) : undefined);
    const oldMean = old(mean);
    const oldVar = old(variance);
    const runMean = bm.map((m, i) => (factor === 1 || !oldMean ? m : (1 - factor) * oldMean[i] + factor * m));
    const runVar = unbiased.map((v, i) => (factor === 1 || !oldVar ? v : (1 - factor) * oldVar[i] + factor * v));
    const vec = (d: Float64Array) => {
      const data = allocHost(u, c) as NumArray;
      data.set(d);
      return Tensor.fromHost(u, [c], data);
    };
    return { y, mean: vec(runMean), variance: vec(runVar), savedMean: vec(bm), savedVariance: vec(bv) };
  });
}

/** y = (x - mean) / sqrt(variance + eps) * scale + offset, per channel (last axis), on the host. */
function hostNormalize(x: Tensor, mean: ArrayLike<number>, variance: ArrayLike<number>, scale: Tensor, offset: Tensor, eps: number): Tensor {
  const c = x.shape[x.rank - 1];
  const xv = x.values() as NumArray;
  const s = scale.values() as NumArray;
  const o = offset.values() as NumArray;
  const out = allocHost(x.dtype, x.size) as NumArray;
  for (let i = 0; i < x.size; i++) {
    const ch = i % c;
    out[i] = ((xv[i] - mean[ch]) / Math.sqrt(variance[ch] + eps)) * s[ch] + o[ch];
  }
  return Tensor.fromHost(x.dtype, x.shape, out);
}

function hostInNhwcTraining(x: Tensor, format: Format, fn: (nhwc: Tensor) => BatchNormResult): BatchNormResult {
  if (format === 'NHWC') return fn(x);
  const r = fn(transposeHost(x, [0, 2, 3, 1]));
  const y = transposeHost(r.y, [0, 3, 1, 2]);
  r.y.dispose();
  return { ...r, y };
}

function registerBatchNorm(op: string, v3: boolean): void {
  registerKernel({
    op,
    outputs: [
      { name: 'y' },
      { name: 'batch_mean' },
      { name: 'batch_variance' },
      { name: 'reserve_space_1' },
      { name: 'reserve_space_2' },
      ...(v3 ? [{ name: 'reserve_space_3' }] : []),
    ],
    kernel: (ctx) => {
      const r = fusedBatchNorm(op, ctx.attrs, ctx.inputs);
      const outs = [r.y, r.mean, r.variance, r.savedMean, r.savedVariance];
      if (v3) outs.push(Tensor.scalar(ctx.inputs[1].dtype, 0));
      return outs;
    },
  });
}
registerBatchNorm('FusedBatchNorm', false);
registerBatchNorm('FusedBatchNormV2', false);
registerBatchNorm('FusedBatchNormV3', true);

// ---------------------------------------------------------------------------
// LRN

registerKernel({
  op: 'LRN',
  kernel: (ctx) => {
    const x = ctx.inputs[0];
    if (!FLOAT_TYPES.includes(x.dtype)) throw unsupportedDtype('LRN', x.dtype);
    if (x.rank !== 4) throw invalidArgument(`in must be 4-dimensional`);
    const radius = ctx.attrs.int('depth_radius', 5);
    const bias = ctx.attrs.float('bias', 1);
    const alpha = ctx.attrs.float('alpha', 1);
    const beta = ctx.attrs.float('beta', 0.5);
    if (isTfFloat(x.dtype)) {
      return [runTf(x.dtype, [x], (t) => tf.localResponseNormalization(t as tf.Tensor4D, radius, bias, alpha, beta))];
    }
    const c = x.shape[3];
    const xv = x.values() as NumArray;
    const out = allocHost(x.dtype, x.size) as NumArray;
    for (let i = 0; i < x.size; i++) {
      const ch = i % c;
      const base = i - ch;
      let sum = 0;
      for (let k = Math.max(0, ch - radius); k <= Math.min(c - 1, ch + radius); k++) sum += xv[base + k] * xv[base + k];
      out[i] = xv[i] / Math.pow(bias + alpha * sum, beta);
    }
    return [Tensor.fromHost(x.dtype, x.shape, out)];
  },
});
