/**
 * Windowed image kernels on the host: ExtractImagePatches,
 * ExtractVolumePatches, Dilation2D, MaxPoolWithArgmax.
 *
 * Window geometry is TF's (tensorflow/core/framework/kernel_shape_util.cc):
 * VALID out = ceil((in - (k-1)*rate) / stride), SAME out = ceil(in / stride)
 * with pad_before = floor(pad_total / 2).
 * ExtractImagePatches (extract_image_patches_op.cc) lays each patch out
 * row, column, channel, with zeros where the window leaves the image.
 * Dilation2D (dilation_ops.cc) is the max of input + filter over the in-image
 * taps (lowest float when there are none). MaxPoolWithArgmax
 * (maxpooling_op.cc) keeps the first maximum in row-major window order; the
 * index is (y*W + x)*C + c, plus b*H*W*C with include_batch_in_index.
 */
import { invalidArgument } from '../../errors.js';
import { checkTensorSize } from '../../limits.js';
import { shapeString, Tensor } from '../../tensor.js';
import { registerKernel } from '../registry.js';
import { f32, floatData, newFloat } from './common.js';

export function windowGeometry(inN: number, k: number, stride: number, rate: number, padding: string): { out: number; before: number } {
  const eff = (k - 1) * rate + 1;
  if (padding === 'VALID') return { out: Math.max(0, Math.ceil((inN - eff + 1) / stride)), before: 0 };
  const out = Math.ceil(inN / stride);
  const total = Math.max((out - 1) * stride + eff - inN, 0);
  return { out, before: Math.floor(total / 2) };
}

function four(ctx: { attrs: { ints(n: string, d?: number[]): number[] } }, name: string, def?: number[]): number[] {
  const v = ctx.attrs.ints(name, def);
  if (v.length !== 4) throw invalidArgument(`${name} attribute must have 4 elements`);
  return v;
}

function padding(ctx: { attrs: { string(n: string, d?: string): string } }): string {
  const p = ctx.attrs.string('padding');
  if (p !== 'SAME' && p !== 'VALID') throw invalidArgument(`padding ${p} is not supported here (SAME or VALID)`);
  return p;
}

registerKernel({
  op: 'ExtractImagePatches',
  kernel: (ctx) => {
    const image = ctx.inputs[0];
    const ks = four(ctx, 'ksizes');
    const st = four(ctx, 'strides');
    const rt = four(ctx, 'rates');
    if (ks[0] !== 1 || ks[3] !== 1 || st[0] !== 1 || st[3] !== 1 || rt[0] !== 1 || rt[3] !== 1) {
      throw invalidArgument('Only support ksizes, strides and rates across rows and cols.');
    }
    const pad = padding(ctx);
    if (image.rank !== 4) throw invalidArgument(`input must be 4-dimensional${shapeString(image.shape)}`);
    const [B, H, W, C] = image.shape;
    const gy = windowGeometry(H, ks[1], st[1], rt[1], pad);
    const gx = windowGeometry(W, ks[2], st[2], rt[2], pad);
    const depth = ks[1] * ks[2] * C;
    const src = image.values() as ArrayLike<number>;
    const n = checkTensorSize([B, gy.out, gx.out, depth], image.dtype);
    const o = new (src.constructor as Float32ArrayConstructor)(n);
    for (let b = 0; b < B; b++)
      for (let y = 0; y < gy.out; y++)
        for (let x = 0; x < gx.out; x++) {
          let at = ((b * gy.out + y) * gx.out + x) * depth;
          for (let ky = 0; ky < ks[1]; ky++) {
            const iy = y * st[1] + ky * rt[1] - gy.before;
            for (let kx = 0; kx < ks[2]; kx++) {
              const ix = x * st[2] + kx * rt[2] - gx.before;
              const inside = iy >= 0 && iy < H && ix >= 0 && ix < W;
              for (let c = 0; c < C; c++, at++) if (inside) o[at] = src[((b * H + iy) * W + ix) * C + c];
            }
          }
        }
    return [Tensor.fromHost(image.dtype, [B, gy.out, gx.out, depth], o)];
  },
});

registerKernel({
  op: 'Dilation2D',
  kernel: (ctx) => {
    const [image, filter] = ctx.inputs;
    const st = four(ctx, 'strides');
    const rt = four(ctx, 'rates');
    const pad = padding(ctx);
    if (image.rank !== 4) throw invalidArgument(`input must be 4-dimensional${shapeString(image.shape)}`);
    if (filter.rank !== 3) throw invalidArgument(`filter must be 3-dimensional: ${shapeString(filter.shape)}`);
    const [B, H, W, C] = image.shape;
    const [FH, FW, FC] = filter.shape;
    if (FC !== C) throw invalidArgument(`input and filter must have the same depth: ${C} vs ${FC}`);
    if (st[0] !== 1 || st[3] !== 1) throw invalidArgument('Only support stride across spatial dimensions.');
    if (rt[0] !== 1 || rt[3] !== 1) throw invalidArgument('Only support rate across spatial dimensions.');
    const gy = windowGeometry(H, FH, st[1], rt[1], pad);
    const gx = windowGeometry(W, FW, st[2], rt[2], pad);
    const src = floatData(image);
    const f = floatData(filter);
    const out = newFloat([B, gy.out, gx.out, C]);
    const o = out.data;
    for (let b = 0; b < B; b++)
      for (let y = 0; y < gy.out; y++)
        for (let x = 0; x < gx.out; x++)
          for (let c = 0; c < C; c++) {
            let best = -3.4028234663852886e38;
            for (let ky = 0; ky < FH; ky++) {
              const iy = y * st[1] + ky * rt[1] - gy.before;
              if (iy < 0 || iy >= H) continue;
              for (let kx = 0; kx < FW; kx++) {
                const ix = x * st[2] + kx * rt[2] - gx.before;
                if (ix < 0 || ix >= W) continue;
                const v = f32(src[((b * H + iy) * W + ix) * C + c] + f[(ky * FW + kx) * C + c]);
                if (v > best) best = v;
              }
            }
            o[((b * gy.out + y) * gx.out + x) * C + c] = best;
          }
    if (image.dtype !== 'float32') return [Tensor.from(image.dtype, out.make().shape, Array.from(o))];
    return [out.make()];
  },
});

registerKernel({
  op: 'MaxPoolWithArgmax',
  outputs: [{ name: 'output' }, { name: 'argmax' }],
  kernel: (ctx) => {
    const image = ctx.inputs[0];
    const ks = four(ctx, 'ksize');
    const st = four(ctx, 'strides');
    const pad = padding(ctx);
    const withBatch = ctx.attrs.bool('include_batch_in_index', false);
    const argType = ctx.attrs.type('Targmax', 'int64');
    if (image.rank !== 4) throw invalidArgument(`tensor_in must be 4-dimensional`);
    if (ks[0] !== 1 || ks[3] !== 1 || st[0] !== 1 || st[3] !== 1) {
      throw invalidArgument('Pooling is not yet supported on the batch dimension.');
    }
    const [B, H, W, C] = image.shape;
    const gy = windowGeometry(H, ks[1], st[1], 1, pad);
    const gx = windowGeometry(W, ks[2], st[2], 1, pad);
    const src = floatData(image);
    const n = B * gy.out * gx.out * C;
    const out = newFloat([B, gy.out, gx.out, C]);
    const arg = new Float64Array(n);
    for (let b = 0; b < B; b++)
      for (let y = 0; y < gy.out; y++)
        for (let x = 0; x < gx.out; x++)
          for (let c = 0; c < C; c++) {
            let best = -Infinity;
            let where = -1;
            for (let ky = 0; ky < ks[1]; ky++) {
              const iy = y * st[1] + ky - gy.before;
              if (iy < 0 || iy >= H) continue;
              for (let kx = 0; kx < ks[2]; kx++) {
                const ix = x * st[2] + kx - gx.before;
                if (ix < 0 || ix >= W) continue;
                const idx = ((b * H + iy) * W + ix) * C + c;
                if (where < 0 || src[idx] > best) {
                  best = src[idx];
                  where = withBatch ? idx : idx - b * H * W * C;
                }
              }
            }
            const o = ((b * gy.out + y) * gx.out + x) * C + c;
            out.data[o] = best;
            arg[o] = where;
          }
    const shape = [B, gy.out, gx.out, C];
    const values = out.make();
    const output = image.dtype === 'float32' ? values : Tensor.from(image.dtype, shape, Array.from(out.data));
    return [output, Tensor.from(argType, shape, argType === 'int64' ? Array.from(arg, (v) => BigInt(v)) : arg)];
  },
});

/** ExtractVolumePatches (extract_volume_patches_op.cc): the 3-D form, NDHWC, patches laid out plane, row, column, channel. */
registerKernel({
  op: 'ExtractVolumePatches',
  kernel: (ctx) => {
    const input = ctx.inputs[0];
    const ks = ctx.attrs.ints('ksizes');
    const st = ctx.attrs.ints('strides');
    if (ks.length !== 5) throw invalidArgument('ksizes attribute must have 5 elements');
    if (st.length !== 5) throw invalidArgument('strides attribute must have 5 elements');
    if (ks[0] !== 1 || ks[4] !== 1 || st[0] !== 1 || st[4] !== 1) {
      throw invalidArgument('Only support ksizes and strides across planes, rows and cols.');
    }
    const pad = padding(ctx);
    if (input.rank !== 5) throw invalidArgument(`input must be 5-dimensional${shapeString(input.shape)}`);
    const [B, P, H, W, C] = input.shape;
    const g = [windowGeometry(P, ks[1], st[1], 1, pad), windowGeometry(H, ks[2], st[2], 1, pad), windowGeometry(W, ks[3], st[3], 1, pad)];
    const depth = ks[1] * ks[2] * ks[3] * C;
    const n = checkTensorSize([B, g[0].out, g[1].out, g[2].out, depth], input.dtype);
    const src = input.values() as ArrayLike<number>;
    const o = new (src.constructor as Float32ArrayConstructor)(n);
    let at = 0;
    for (let b = 0; b < B; b++)
      for (let op = 0; op < g[0].out; op++)
        for (let oy = 0; oy < g[1].out; oy++)
          for (let ox = 0; ox < g[2].out; ox++)
            for (let kp = 0; kp < ks[1]; kp++) {
              const ip = op * st[1] + kp - g[0].before;
              for (let ky = 0; ky < ks[2]; ky++) {
                const iy = oy * st[2] + ky - g[1].before;
                for (let kx = 0; kx < ks[3]; kx++) {
                  const ix = ox * st[3] + kx - g[2].before;
                  const inside = ip >= 0 && ip < P && iy >= 0 && iy < H && ix >= 0 && ix < W;
                  const base = (((b * P + ip) * H + iy) * W + ix) * C;
                  for (let c = 0; c < C; c++, at++) if (inside) o[at] = src[base + c];
                }
              }
            }
    return [Tensor.fromHost(input.dtype, [B, g[0].out, g[1].out, g[2].out, depth], o)];
  },
});
