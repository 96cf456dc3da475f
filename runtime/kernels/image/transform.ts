/**
 * ImageProjectiveTransformV2 / V3 (the op behind Keras RandomRotation,
 * RandomTranslation, RandomZoom and keras.ops.image.affine_transform), after
 * tensorflow/core/kernels/image/image_ops.h: each output pixel (x, y) reads
 * the input at ((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k) with
 * k = c0 x + c1 y + 1 (fill_value when k is 0); fill_mode maps that
 * coordinate back into the image (REFLECT, WRAP, NEAREST; CONSTANT keeps it),
 * then NEAREST rounds half away from zero and
 * BILINEAR mixes the four neighbours; each neighbour outside the image reads
 * fill_value (TF 2.21 has no whole-pixel out-of-bounds test, so a sample just
 * outside the border still blends with the edge). float32 arithmetic as in TF; integer outputs truncate.
 * V2 has no fill_value input (0).
 */
import { dtypeShortName } from '../../dtypes.js';
import { invalidArgument } from '../../errors.js';
import { checkTensorSize } from '../../limits.js';
import { allocHost, shapeString, Tensor } from '../../tensor.js';
import type { KernelContext } from '../registry.js';
import { kernelFor, registerKernel } from '../registry.js';
import { f32 } from './common.js';

type Mode = 'REFLECT' | 'WRAP' | 'CONSTANT' | 'NEAREST';

function mapCoord(mode: Mode, c: number, len: number): number {
  let v = c;
  if (mode === 'CONSTANT') return v;
  if (mode === 'REFLECT') {
    if (v < 0) {
      if (len <= 1) v = 0;
      else {
        const sz2 = 2 * len;
        // TF's test here is `in_coord < sz2`, always true for a negative coordinate.
        v = f32(sz2 * Math.trunc(f32(-v / sz2)) + v);
        v = v < -len ? f32(v + sz2) : f32(-v - 1);
      }
    } else if (v > len - 1) {
      if (len <= 1) v = 0;
      else {
        const sz2 = 2 * len;
        v = f32(v - sz2 * Math.trunc(f32(v / sz2)));
        if (v >= len) v = f32(sz2 - v - 1);
      }
    }
  } else if (mode === 'WRAP') {
    if (v < 0) {
      if (len <= 1) v = 0;
      else v = f32(v + len * (Math.trunc(f32(-v / (len - 1))) + 1));
    } else if (v > len - 1) {
      if (len <= 1) v = 0;
      else v = f32(v - len * Math.trunc(f32(v / (len - 1))));
    }
  }
  return Math.min(Math.max(v, 0), len - 1);
}

const ROUND = (v: number) => (v < 0 ? -Math.round(-v) : Math.round(v));
const ALLOWED = ['uint8', 'int32', 'int64', 'float16', 'bfloat16', 'float32', 'float64'];

function transformKernel(v3: boolean) {
  return (ctx: KernelContext): Tensor[] => {
    const [images, transformsT, shapeT] = ctx.inputs;
    const interp = ctx.attrs.string('interpolation');
    if (interp !== 'NEAREST' && interp !== 'BILINEAR') throw invalidArgument(`Invalid interpolation ${interp}. Supported types: NEAREST, BILINEAR`);
    const mode = ctx.attrs.string('fill_mode', 'CONSTANT') as Mode;
    if (!['REFLECT', 'WRAP', 'CONSTANT', 'NEAREST'].includes(mode)) {
      throw invalidArgument(`Invalid mode ${mode}. Supported types: REFLECT, WRAP, CONSTANT, NEAREST`);
    }
    if (!ALLOWED.includes(images.dtype)) throw invalidArgument(`images of type ${dtypeShortName(images.dtype)} are not supported`);
    if (images.rank !== 4) throw invalidArgument(`Input images must have rank 4${shapeString(images.shape)}`);
    if (transformsT.rank !== 2 || (transformsT.shape[0] !== images.shape[0] && transformsT.shape[0] !== 1) || transformsT.shape[1] !== 8) {
      throw invalidArgument('Input transform should be num_images x 8 or 1 x 8');
    }
    if (shapeT.rank !== 1 || shapeT.shape[0] !== 2) throw invalidArgument(`output shape must be 1-dimensional${shapeString(shapeT.shape)}`);
    const [outH, outW] = shapeT.numbers();
    if (!(outH > 0 && outW > 0)) throw invalidArgument('output dimensions must be positive');
    let fill = 0;
    if (v3) {
      const fv = ctx.inputs[3];
      if (fv.rank !== 0) throw invalidArgument(`fill_value must be a scalar${shapeString(fv.shape)}`);
      fill = fv.numbers()[0];
    }
    const [B, H, W, C] = images.shape;
    const shape = [B, outH, outW, C];
    checkTensorSize(shape, images.dtype);
    const isInt = images.dtype === 'uint8' || images.dtype === 'int32' || images.dtype === 'int64';
    const cast = (v: number) => (isInt ? Math.trunc(v) : images.dtype === 'float64' ? v : f32(v));
    const fillT = cast(fill);
    const src = Float64Array.from(images.numbers());
    const tr = Float32Array.from(transformsT.numbers());
    const n = B * outH * outW * C;
    const out = new Float64Array(n);
    const read = (b: number, y: number, x: number, c: number) => (y >= 0 && y < H && x >= 0 && x < W ? src[((b * H + y) * W + x) * C + c] : fillT);
    for (let b = 0; b < B; b++) {
      const t = tr.subarray(transformsT.shape[0] === 1 ? 0 : b * 8, (transformsT.shape[0] === 1 ? 0 : b * 8) + 8);
      for (let oy = 0; oy < outH; oy++)
        for (let ox = 0; ox < outW; ox++) {
          const at = ((b * outH + oy) * outW + ox) * C;
          const k = f32(f32(f32(t[6] * ox) + f32(t[7] * oy)) + 1);
          if (k === 0) {
            out.fill(fillT, at, at + C);
            continue;
          }
          const ix = f32(f32(f32(f32(t[0] * ox) + f32(t[1] * oy)) + t[2]) / k);
          const iy = f32(f32(f32(f32(t[3] * ox) + f32(t[4] * oy)) + t[5]) / k);
          const x = mapCoord(mode, ix, W);
          const y = mapCoord(mode, iy, H);
          for (let c = 0; c < C; c++) {
            if (interp === 'NEAREST') {
              out[at + c] = read(b, ROUND(y), ROUND(x), c);
              continue;
            }
            const yf = Math.floor(y);
            const xf = Math.floor(x);
            const yc = yf + 1;
            const xc = xf + 1;
            const top = f32(f32(f32(xc - x) * f32(read(b, yf, xf, c))) + f32(f32(x - xf) * f32(read(b, yf, xc, c))));
            const bot = f32(f32(f32(xc - x) * f32(read(b, yc, xf, c))) + f32(f32(x - xf) * f32(read(b, yc, xc, c))));
            out[at + c] = cast(f32(f32(f32(yc - y) * top) + f32(f32(y - yf) * bot)));
          }
        }
    }
    if (images.dtype === 'int64') return [Tensor.from('int64', shape, Array.from(out, (v) => BigInt(v)))];
    const data = allocHost(images.dtype, n) as Float32Array;
    data.set(out);
    return [Tensor.fromHost(images.dtype, shape, data)];
  };
}

// Another branch (kernels/image_transform.ts) may register these too: whichever family loads first keeps them.
if (!kernelFor('ImageProjectiveTransformV2')) registerKernel({ op: 'ImageProjectiveTransformV2', kernel: transformKernel(false) });
if (!kernelFor('ImageProjectiveTransformV3')) registerKernel({ op: 'ImageProjectiveTransformV3', kernel: transformKernel(true) });
