/**
 * 3-D convolution and pooling: Conv3D, MaxPool3D, AvgPool3D (NDHWC, the
 * layout TF's CPU kernels support; conv_ops_3d.cc, pooling_ops_3d.cc), and
 * Conv3DBackpropInput/V2 (Keras Conv3DTranspose; conv_grad_ops_3d.cc): the
 * forward window geometry taken from input_sizes, each out_backprop value
 * scattered through the filter, accumulated in float64 on the host.
 * SAME/VALID geometry as in 2-D per spatial axis; Conv3D takes dilations
 * (TF's CPU kernel accepts them), the pools none. AvgPool3D divides by the
 * number of in-image taps under SAME padding. float32 runs on tfjs (its
 * conv3d/maxPool3d/avgPool3d follow the same geometry); float64 and half
 * types run as host loops.
 */
import * as tf from '@tensorflow/tfjs-core';
import { dtypeShortName } from '../../dtypes.js';
import { invalidArgument } from '../../errors.js';
import { checkTensorSize } from '../../limits.js';
import { allocHost, shapeString, Tensor } from '../../tensor.js';
import type { KernelContext } from '../registry.js';
import { registerKernel } from '../registry.js';
import { windowGeometry } from './patches.js';

const FLOATS = ['float32', 'float64', 'float16', 'bfloat16'];

function five(ctx: KernelContext, name: string, def?: number[]): number[] {
  const v = ctx.attrs.ints(name, def);
  if (v.length !== 5) throw invalidArgument(`Sliding window ${name} field must specify 5 dimensions`);
  return v;
}

function common(ctx: KernelContext, op: string, checkInput = true): { pad: 'SAME' | 'VALID'; strides: number[] } {
  const format = ctx.attrs.string('data_format', 'NDHWC');
  if (format !== 'NDHWC') throw invalidArgument(`${op}: only NDHWC is supported on CPU, got ${format}`);
  const pad = ctx.attrs.string('padding');
  if (pad !== 'SAME' && pad !== 'VALID') throw invalidArgument(`${op}: padding must be SAME or VALID, got ${pad}`);
  const x = ctx.inputs[checkInput ? 0 : 2];
  if (!FLOATS.includes(x.dtype)) throw invalidArgument(`${op} does not support ${dtypeShortName(x.dtype)} input`);
  if (checkInput && x.rank !== 5) throw invalidArgument(`input must be 5-dimensional${shapeString(x.shape)}`);
  const strides = five(ctx, 'strides');
  if (strides[0] !== 1 || strides[4] !== 1) throw invalidArgument('Only supports strides in the spatial dimensions (not batch or depth).');
  if (strides.some((s) => s <= 0)) throw invalidArgument('Sliding window strides field must be positive');
  return { pad, strides };
}

registerKernel({
  op: 'Conv3D',
  kernel: (ctx) => {
    const { pad, strides } = common(ctx, 'Conv3D');
    const [x, f] = ctx.inputs;
    const dil = five(ctx, 'dilations', [1, 1, 1, 1, 1]);
    if (dil[0] !== 1 || dil[4] !== 1) throw invalidArgument('Current implementation does not yet support dilations in the batch and depth dimensions.');
    if (f.rank !== 5) throw invalidArgument(`filter must be 5-dimensional: ${shapeString(f.shape)}`);
    if (f.dtype !== x.dtype) throw invalidArgument('input and filter must have the same type');
    const [B, D, H, W, C] = x.shape;
    const [KD, KH, KW, FC, OC] = f.shape;
    if (FC <= 0 || C % FC !== 0) throw invalidArgument(`Input depth must be evenly divisible by filter depth: ${C} vs ${FC}`);
    if (C !== FC) throw invalidArgument('Grouped Conv3D is not supported');
    const g = [windowGeometry(D, KD, strides[1], dil[1], pad), windowGeometry(H, KH, strides[2], dil[2], pad), windowGeometry(W, KW, strides[3], dil[3], pad)];
    const outShape = [B, g[0].out, g[1].out, g[2].out, OC];
    checkTensorSize(outShape, x.dtype);
    if (x.dtype === 'float32' && outShape.every((d) => d > 0) && C > 0) {
      const padding = pad === 'SAME' ? 'same' : 'valid';
      const y = tf.conv3d(x.toTf() as tf.Tensor5D, f.toTf() as tf.Tensor5D, [strides[1], strides[2], strides[3]], padding, 'NDHWC', [dil[1], dil[2], dil[3]]);
      return [Tensor.fromTf(y, 'float32')];
    }
    const xv = Float64Array.from(x.numbers());
    const fv = Float64Array.from(f.numbers());
    const out = allocHost(x.dtype, outShape.reduce((a, b) => a * b, 1)) as Float32Array | Float64Array;
    let o = 0;
    for (let b = 0; b < B; b++)
      for (let od = 0; od < g[0].out; od++)
        for (let oh = 0; oh < g[1].out; oh++)
          for (let ow = 0; ow < g[2].out; ow++)
            for (let oc = 0; oc < OC; oc++) {
              let acc = 0;
              for (let kd = 0; kd < KD; kd++) {
                const id = od * strides[1] + kd * dil[1] - g[0].before;
                if (id < 0 || id >= D) continue;
                for (let kh = 0; kh < KH; kh++) {
                  const ih = oh * strides[2] + kh * dil[2] - g[1].before;
                  if (ih < 0 || ih >= H) continue;
                  for (let kw = 0; kw < KW; kw++) {
                    const iw = ow * strides[3] + kw * dil[3] - g[2].before;
                    if (iw < 0 || iw >= W) continue;
                    const xb = (((b * D + id) * H + ih) * W + iw) * C;
                    const fb = ((kd * KH + kh) * KW + kw) * C * OC + oc;
                    for (let c = 0; c < C; c++) acc += xv[xb + c] * fv[fb + c * OC];
                  }
                }
              }
              out[o++] = acc;
            }
    return [Tensor.fromHost(x.dtype, outShape, out)];
  },
});

function pool3d(kind: 'max' | 'avg') {
  const op = kind === 'max' ? 'MaxPool3D' : 'AvgPool3D';
  return (ctx: KernelContext): Tensor[] => {
    const { pad, strides } = common(ctx, op);
    const ks = five(ctx, 'ksize');
    if (ks[0] !== 1 || ks[4] !== 1) throw invalidArgument('Only supports pooling across spatial dimensions (not batch or depth).');
    const x = ctx.inputs[0];
    const [B, D, H, W, C] = x.shape;
    const g = [windowGeometry(D, ks[1], strides[1], 1, pad), windowGeometry(H, ks[2], strides[2], 1, pad), windowGeometry(W, ks[3], strides[3], 1, pad)];
    const outShape = [B, g[0].out, g[1].out, g[2].out, C];
    checkTensorSize(outShape, x.dtype);
    if (x.dtype === 'float32' && outShape.every((d) => d > 0)) {
      const padding = pad === 'SAME' ? 'same' : 'valid';
      const fn = kind === 'max' ? tf.maxPool3d : tf.avgPool3d;
      const y = fn(x.toTf() as tf.Tensor5D, [ks[1], ks[2], ks[3]], [strides[1], strides[2], strides[3]], padding, undefined, 'NDHWC');
      return [Tensor.fromTf(y, 'float32')];
    }
    const xv = Float64Array.from(x.numbers());
    const out = allocHost(x.dtype, outShape.reduce((a, b) => a * b, 1)) as Float32Array | Float64Array;
    let o = 0;
    for (let b = 0; b < B; b++)
      for (let od = 0; od < g[0].out; od++)
        for (let oh = 0; oh < g[1].out; oh++)
          for (let ow = 0; ow < g[2].out; ow++)
            for (let c = 0; c < C; c++) {
              let acc = kind === 'max' ? -Infinity : 0;
              let n = 0;
              for (let kd = 0; kd < ks[1]; kd++) {
                const id = od * strides[1] + kd - g[0].before;
                if (id < 0 || id >= D) continue;
                for (let kh = 0; kh < ks[2]; kh++) {
                  const ih = oh * strides[2] + kh - g[1].before;
                  if (ih < 0 || ih >= H) continue;
                  for (let kw = 0; kw < ks[3]; kw++) {
                    const iw = ow * strides[3] + kw - g[2].before;
                    if (iw < 0 || iw >= W) continue;
                    const v = xv[(((b * D + id) * H + ih) * W + iw) * C + c];
                    if (kind === 'max') acc = v > acc ? v : acc;
                    else acc += v;
                    n++;
                  }
                }
              }
              out[o++] = kind === 'max' ? acc : acc / n;
            }
    return [Tensor.fromHost(x.dtype, outShape, out)];
  };
}

registerKernel({ op: 'MaxPool3D', kernel: pool3d('max') });
registerKernel({ op: 'AvgPool3D', kernel: pool3d('avg') });

function conv3dBackpropInput(ctx: KernelContext, v2: boolean): Tensor[] {
  const { pad, strides } = common(ctx, v2 ? 'Conv3DBackpropInputV2' : 'Conv3DBackpropInput', false);
  const [sizesT, f, dy] = ctx.inputs;
  const dil = five(ctx, 'dilations', [1, 1, 1, 1, 1]);
  if (dil[0] !== 1 || dil[4] !== 1) throw invalidArgument('Current implementation does not yet support dilations in the batch and depth dimensions.');
  let sizes: number[];
  if (v2) {
    if (sizesT.rank !== 1 || sizesT.size !== 5) throw invalidArgument(`input_sizes must be 1-D with 5 elements, got ${shapeString(sizesT.shape)}`);
    sizes = sizesT.numbers();
  } else {
    sizes = [...sizesT.shape];
  }
  if (sizes.length !== 5) throw invalidArgument('input must be 5-dimensional');
  if (f.rank !== 5) throw invalidArgument(`filter must be 5-dimensional: ${shapeString(f.shape)}`);
  if (dy.rank !== 5) throw invalidArgument(`out_backprop must be 5-dimensional${shapeString(dy.shape)}`);
  const [B, D, H, W, C] = sizes;
  const [KD, KH, KW, FC, OC] = f.shape;
  if (FC !== C) throw invalidArgument(`Input depth must be equal to filter depth: ${C} vs ${FC}`);
  if (dy.shape[4] !== OC) throw invalidArgument(`out_backprop depth must be equal to filter output depth: ${dy.shape[4]} vs ${OC}`);
  if (dy.shape[0] !== B) throw invalidArgument(`out_backprop batch must equal input batch: ${dy.shape[0]} vs ${B}`);
  const g = [windowGeometry(D, KD, strides[1], dil[1], pad), windowGeometry(H, KH, strides[2], dil[2], pad), windowGeometry(W, KW, strides[3], dil[3], pad)];
  const names = ['planes', 'rows', 'cols'];
  for (let a = 0; a < 3; a++) {
    if (dy.shape[a + 1] !== g[a].out) {
      throw invalidArgument(`Conv3DBackpropInput: ${names[a]} of out_backprop (${dy.shape[a + 1]}) does not match the computed output size (${g[a].out})`);
    }
  }
  checkTensorSize(sizes, dy.dtype);
  const fv = Float64Array.from(f.numbers());
  const gv = Float64Array.from(dy.numbers());
  const acc = new Float64Array(sizes.reduce((a, b) => a * b, 1));
  for (let b = 0; b < B; b++)
    for (let od = 0; od < g[0].out; od++)
      for (let oh = 0; oh < g[1].out; oh++)
        for (let ow = 0; ow < g[2].out; ow++) {
          const gb = (((b * g[0].out + od) * g[1].out + oh) * g[2].out + ow) * OC;
          for (let kd = 0; kd < KD; kd++) {
            const id = od * strides[1] + kd * dil[1] - g[0].before;
            if (id < 0 || id >= D) continue;
            for (let kh = 0; kh < KH; kh++) {
              const ih = oh * strides[2] + kh * dil[2] - g[1].before;
              if (ih < 0 || ih >= H) continue;
              for (let kw = 0; kw < KW; kw++) {
                const iw = ow * strides[3] + kw * dil[3] - g[2].before;
                if (iw < 0 || iw >= W) continue;
                const xb = (((b * D + id) * H + ih) * W + iw) * C;
                const fb = ((kd * KH + kh) * KW + kw) * C * OC;
                for (let c = 0; c < C; c++) {
                  let sum = 0;
                  for (let oc = 0; oc < OC; oc++) sum += gv[gb + oc] * fv[fb + c * OC + oc];
                  acc[xb + c] += sum;
                }
              }
            }
          }
        }
  const out = allocHost(dy.dtype, acc.length) as Float32Array | Float64Array;
  out.set(acc);
  return [Tensor.fromHost(dy.dtype, sizes, out)];
}

registerKernel({ op: 'Conv3DBackpropInputV2', kernel: (ctx) => conv3dBackpropInput(ctx, true) });
registerKernel({ op: 'Conv3DBackpropInput', kernel: (ctx) => conv3dBackpropInput(ctx, false) });
