/**
 * ImageProjectiveTransformV2 / V3 (tensorflow/core/kernels/image/image_ops.cc
 * and image_ops.h): each output pixel (x, y) reads the input at
 * ((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k), k = c0 x + c1 y + 1,
 * with NEAREST or BILINEAR interpolation and the REFLECT / WRAP / CONSTANT /
 * NEAREST fill modes, following TF's coordinate mapping (scipy's ndimage)
 * in float32 step by step (CONSTANT mode interpolates against the fill value
 * at the border, as TF 2.21 does). Keras' RandomRotation / RandomZoom /
 * RandomTranslation and keras.ops.image.affine_transform compile to V3.
 * Registered only if no other family registered the op first.
 */
import { dtypeShortName } from '../dtypes.js';
import { invalidArgument } from '../errors.js';
import { allocHost, shapeString, Tensor } from '../tensor.js';
import { checkTensorSize } from '../limits.js';
import { kernelFor, registerKernel, type KernelContext } from './registry.js';

const f = Math.fround;
type Mode = 'REFLECT' | 'WRAP' | 'CONSTANT' | 'NEAREST';
const clamp = (v: number, len: number) => Math.min(Math.max(v, 0), len - 1);
const trunc = Math.trunc;

function mapCoord(mode: Mode, c: number, len: number): number {
  switch (mode) {
    case 'CONSTANT':
      return c;
    case 'NEAREST':
      return clamp(c, len);
    case 'REFLECT': {
      let v = c;
      if (v < 0) {
        if (len <= 1) v = 0;
        else {
          const sz2 = 2 * len;
          if (v < sz2) v = f(sz2 * trunc(f(-v / sz2)) + v);
          v = v < -len ? f(v + sz2) : f(-v - 1);
        }
      } else if (v > len - 1) {
        if (len <= 1) v = 0;
        else {
          const sz2 = 2 * len;
          v = f(v - sz2 * trunc(f(v / sz2)));
          if (v >= len) v = f(sz2 - v - 1);
        }
      }
      return clamp(v, len);
    }
    case 'WRAP': {
      let v = c;
      if (v < 0) {
        if (len <= 1) v = 0;
        else v = f(v + len * (trunc(f(-v / (len - 1))) + 1));
      } else if (v > len - 1) {
        if (len <= 1) v = 0;
        else v = f(v - len * trunc(f(v / (len - 1))));
      }
      return clamp(v, len);
    }
  }
}

/** std::round: half away from zero. */
const stdRound = (v: number) => Math.sign(v) * Math.round(Math.abs(v));

function transform(ctx: KernelContext, op: string, v3: boolean): Tensor[] {
  const [images, transformsT, shapeT, fillT] = ctx.inputs;
  if (images.rank !== 4) throw invalidArgument(`Input images must have rank 4`);
  if (!(transformsT.rank === 2 && (transformsT.shape[0] === images.shape[0] || transformsT.shape[0] === 1) && transformsT.shape[1] === 8)) {
    throw invalidArgument(`Input transform should be num_images x 8 or 1 x 8`);
  }
  if (shapeT.rank !== 1) throw invalidArgument(`output shape must be 1-dimensional, got ${shapeString(shapeT.shape)}`);
  if (shapeT.shape[0] !== 2) throw invalidArgument(`output shape must have two elements, got ${shapeT.shape[0]}`);
  const [outH, outW] = shapeT.numbers();
  if (!(outH > 0 && outW > 0)) throw invalidArgument(`output dimensions must be positive`);
  const dtype = images.dtype;
  if (!['uint8', 'int32', 'int64', 'float16', 'bfloat16', 'float32', 'float64'].includes(dtype)) {
    throw invalidArgument(`${op} does not support ${dtypeShortName(dtype)} images`);
  }
  const interp = ctx.attrs.string('interpolation');
  if (interp !== 'NEAREST' && interp !== 'BILINEAR') throw invalidArgument(`Invalid interpolation ${interp}`);
  const mode = ctx.attrs.string('fill_mode', 'CONSTANT') as Mode;
  if (!['REFLECT', 'WRAP', 'CONSTANT', 'NEAREST'].includes(mode)) throw invalidArgument(`Invalid fill_mode ${mode}`);
  let fill = 0;
  if (v3) {
    if (fillT.rank !== 0) throw invalidArgument(`fill_value must be a scalar, got ${shapeString(fillT.shape)}`);
    fill = (fillT.values() as Float32Array)[0];
  }
  const [n, h, w, c] = images.shape;
  const outShape = [n, outH, outW, c];
  const size = checkTensorSize(outShape, dtype);
  const isInt = dtype === 'uint8' || dtype === 'int32' || dtype === 'int64';
  const big = dtype === 'int64';
  const src = images.values() as ArrayLike<number | bigint>;
  const read = (b: number, y: number, x: number, ch: number, fillV: number): number =>
    y >= 0 && y < h && x >= 0 && x < w ? Number(src[((b * h + y) * w + x) * c + ch]) : fillV;
  // static_cast<T>(float): integers truncate toward zero.
  const cast = (v: number) => (isInt ? trunc(v) : v);
  const fillValue = cast(f(fill));
  const out = allocHost(dtype, size) as unknown as { [i: number]: number | bigint };
  const tr = transformsT.values() as Float32Array;
  let o = 0;
  for (let b = 0; b < n; b++) {
    const t = transformsT.shape[0] === 1 ? 0 : b * 8;
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++) {
        const projection = f(f(f(tr[t + 6] * ox) + f(tr[t + 7] * oy)) + 1);
        let px: number[] | undefined;
        if (projection !== 0) {
          const inX = f(f(f(f(tr[t] * ox) + f(tr[t + 1] * oy)) + tr[t + 2]) / projection);
          const inY = f(f(f(f(tr[t + 3] * ox) + f(tr[t + 4] * oy)) + tr[t + 5]) / projection);
          const x = mapCoord(mode, inX, w);
          const y = mapCoord(mode, inY, h);
          {
            px = new Array(c);
            for (let ch = 0; ch < c; ch++) {
              if (interp === 'NEAREST') {
                px[ch] = read(b, stdRound(y), stdRound(x), ch, fillValue);
              } else {
                const yf = Math.floor(y);
                const xf = Math.floor(x);
                const yc = yf + 1;
                const xc = xf + 1;
                const top = f(f(f(xc - x) * read(b, yf, xf, ch, fillValue)) + f(f(x - xf) * read(b, yf, xc, ch, fillValue)));
                const bottom = f(f(f(xc - x) * read(b, yc, xf, ch, fillValue)) + f(f(x - xf) * read(b, yc, xc, ch, fillValue)));
                px[ch] = cast(f(f(f(yc - y) * top) + f(f(y - yf) * bottom)));
              }
            }
          }
        }
        for (let ch = 0; ch < c; ch++) {
          const v = px ? px[ch] : fillValue;
          out[o++] = big ? BigInt(v) : v;
        }
      }
    }
  }
  return [Tensor.fromHost(dtype, outShape, out as never)];
}

if (!kernelFor('ImageProjectiveTransformV3')) {
  registerKernel({ op: 'ImageProjectiveTransformV3', kernel: (ctx) => transform(ctx, 'ImageProjectiveTransformV3', true) });
}
if (!kernelFor('ImageProjectiveTransformV2')) {
  registerKernel({ op: 'ImageProjectiveTransformV2', kernel: (ctx) => transform(ctx, 'ImageProjectiveTransformV2', false) });
}
