/**
 * Resampling kernels: CropAndResize, ResizeBicubic, ResizeArea.
 *
 * CropAndResize follows tensorflow/core/kernels/image/crop_and_resize_op.cc:
 * box corners are normalised (y1 > y2 flips the crop), a sample at
 * y1*(h-1) + y*(y2-y1)*(h-1)/(crop_h-1) (the box centre when crop_h is 1)
 * outside [0, h-1] gets extrapolation_value; bilinear interpolates along x
 * then y, nearest rounds half away from zero. Output float32.
 *
 * ResizeBicubic follows resize_bicubic_op.cc: a 1024-entry table of the cubic
 * convolution kernel with a = -0.75 (legacy and align_corners) or Keys'
 * a = -0.5 with half_pixel_centers, where taps outside the image weigh 0 and
 * the four weights are renormalised (legacy modes clamp the taps instead).
 * Interpolates along y first, then x, in float32.
 *
 * ResizeArea follows resize_area_op.cc: each output pixel averages the input
 * area it covers (scale = in/out, or (in-1)/(out-1) with align_corners),
 * partial pixels weighted by their covered fraction, in float32.
 * Host loops (tfjs has no bicubic/area; its cropAndResize is float32 only).
 */
import { invalidArgument } from '../../errors.js';
import { shapeString, Tensor } from '../../tensor.js';
import { registerKernel } from '../registry.js';
import { f32, floatData, newFloat } from './common.js';

function roundHalfAway(v: number): number {
  return v < 0 ? -Math.round(-v) : Math.round(v);
}

registerKernel({
  op: 'CropAndResize',
  kernel: (ctx) => {
    const [image, boxesT, boxIndT, cropT] = ctx.inputs;
    const method = ctx.attrs.string('method', 'bilinear');
    if (method !== 'bilinear' && method !== 'nearest') throw invalidArgument('method must be \'bilinear\' or \'nearest\'');
    const extrapolation = f32(ctx.attrs.float('extrapolation_value', 0));
    if (image.rank !== 4) throw invalidArgument(`input image must be 4-D${shapeString(image.shape)}`);
    const [batch, h, w, depth] = image.shape;
    if (!(h > 0 && w > 0)) throw invalidArgument('image dimensions must be positive');
    let numBoxes = 0;
    if (boxesT.size !== 0 || boxIndT.size !== 0) {
      if (boxesT.rank !== 2) throw invalidArgument(`boxes must be 2-D${shapeString(boxesT.shape)}`);
      numBoxes = boxesT.shape[0];
      if (boxesT.shape[1] !== 4) throw invalidArgument('boxes must have 4 columns');
      if (boxIndT.rank !== 1) throw invalidArgument(`box_index must be 1-D${shapeString(boxIndT.shape)}`);
      if (boxIndT.shape[0] !== numBoxes) throw invalidArgument('box_index has incompatible shape');
    }
    if (cropT.rank !== 1 || cropT.shape[0] !== 2) throw invalidArgument(`crop_size must be a length-2 vector, got ${shapeString(cropT.shape)}`);
    const [ch, cw] = cropT.numbers();
    if (!(ch > 0 && cw > 0)) throw invalidArgument('crop dimensions must be positive');
    const boxInd = boxIndT.numbers();
    for (const b of boxInd) if (!(b >= 0 && b < batch)) throw invalidArgument(`box_index has values outside [0, batch_size)`);
    const out = newFloat([numBoxes, ch, cw, depth]);
    if (numBoxes === 0) return [out.make()];
    const img = floatData(image);
    const boxes = floatData(boxesT);
    const o = out.data;
    for (let bi = 0; bi < numBoxes; bi++) {
      const y1 = boxes[bi * 4], x1 = boxes[bi * 4 + 1], y2 = boxes[bi * 4 + 2], x2 = boxes[bi * 4 + 3];
      const base = boxInd[bi] * h * w * depth;
      const hs = ch > 1 ? f32(f32(f32(y2 - y1) * (h - 1)) / (ch - 1)) : 0;
      const ws = cw > 1 ? f32(f32(f32(x2 - x1) * (w - 1)) / (cw - 1)) : 0;
      for (let y = 0; y < ch; y++) {
        const inY = ch > 1 ? f32(f32(y1 * (h - 1)) + f32(y * hs)) : f32(0.5 * (y1 + y2) * (h - 1));
        const rowOut = ((bi * ch + y) * cw) * depth;
        if (inY < 0 || inY > h - 1) {
          o.fill(extrapolation, rowOut, rowOut + cw * depth);
          continue;
        }
        const top = Math.floor(inY);
        const bottom = Math.ceil(inY);
        const yl = f32(inY - top);
        const topRow = base + top * w * depth;
        const bottomRow = base + bottom * w * depth;
        const nearRow = base + roundHalfAway(inY) * w * depth;
        for (let x = 0; x < cw; x++) {
          const inX = cw > 1 ? f32(f32(x1 * (w - 1)) + f32(x * ws)) : f32(0.5 * (x1 + x2) * (w - 1));
          const at = rowOut + x * depth;
          if (inX < 0 || inX > w - 1) {
            o.fill(extrapolation, at, at + depth);
            continue;
          }
          if (method === 'nearest') {
            const src = nearRow + roundHalfAway(inX) * depth;
            for (let d = 0; d < depth; d++) o[at + d] = img[src + d];
            continue;
          }
          const left = Math.floor(inX) * depth;
          const right = Math.ceil(inX) * depth;
          const xl = f32(inX - Math.floor(inX));
          const tl0 = topRow + left, tr0 = topRow + right, bl0 = bottomRow + left, br0 = bottomRow + right;
          for (let d = 0; d < depth; d++) {
            const tl = img[tl0 + d];
            const bl = img[bl0 + d];
            const t = f32(tl + f32(f32(img[tr0 + d] - tl) * xl));
            const b = f32(bl + f32(f32(img[br0 + d] - bl) * xl));
            o[at + d] = f32(t + f32(f32(b - t) * yl));
          }
        }
      }
    }
    return [out.make()];
  },
});

interface ResizeState {
  batch: number;
  inH: number;
  inW: number;
  channels: number;
  outH: number;
  outW: number;
  hScale: number;
  wScale: number;
  align: boolean;
  half: boolean;
}

function resizeState(ctx: Parameters<Parameters<typeof registerKernel>[0]['kernel']>[0], withHalf: boolean): ResizeState {
  const [images, sizeT] = ctx.inputs;
  const align = ctx.attrs.bool('align_corners', false);
  const half = withHalf ? ctx.attrs.bool('half_pixel_centers', false) : false;
  if (half && align) throw invalidArgument('If half_pixel_centers is True, align_corners must be False.');
  if (images.rank !== 4) throw invalidArgument(`input must be 4-dimensional${shapeString(images.shape)}`);
  if (sizeT.rank !== 1) throw invalidArgument(`shape_t must be 1-dimensional${shapeString(sizeT.shape)}`);
  if (sizeT.size !== 2) throw invalidArgument(`shape_t must have two elements${shapeString(sizeT.shape)}`);
  const [outH, outW] = sizeT.numbers();
  const [batch, inH, inW, channels] = images.shape;
  if (!(outH > 0 && outW > 0)) throw invalidArgument('output dimensions must be positive');
  if (!(inH > 0 && inW > 0)) throw invalidArgument('input image must be of non-zero size');
  // TF 2.21 answers as if a one-pixel axis were scaled by in/out even with align_corners (an align scale of 0
  // would divide by zero in ResizeArea); for bicubic the two agree on a one-pixel axis.
  const scale = (i: number, o: number) => f32(align && o > 1 && i > 1 ? (i - 1) / (o - 1) : i / o);
  return { batch, inH, inW, channels, outH, outW, hScale: scale(inH, outH), wScale: scale(inW, outW), align, half };
}

const TABLE = 1024;
const tables = new Map<number, Float32Array>();
function coeffTable(a: number): Float32Array {
  let t = tables.get(a);
  if (t) return t;
  t = new Float32Array((TABLE + 1) * 2);
  for (let i = 0; i <= TABLE; i++) {
    let x = f32(i / TABLE);
    t[i * 2] = ((a + 2) * x - (a + 3)) * x * x + 1;
    x = f32(x + 1);
    t[i * 2 + 1] = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  }
  tables.set(a, t);
  return t;
}

function cubicTaps(scale: number, outLoc: number, limit: number, keys: boolean): { w: number[]; i: number[] } {
  const inF = keys ? f32(f32(f32(outLoc + 0.5) * scale) - 0.5) : f32(outLoc * scale);
  const inLoc = Math.floor(inF);
  const delta = f32(inF - inLoc);
  const offset = Math.round(f32(delta * TABLE)); // lrintf: ties to even, irrelevant at this resolution
  const t = coeffTable(keys ? -0.5 : -0.75);
  const bound = (v: number) => Math.min(limit - 1, Math.max(0, v));
  const raw = [t[offset * 2 + 1], t[offset * 2], t[(TABLE - offset) * 2], t[(TABLE - offset) * 2 + 1]];
  const idx = [bound(inLoc - 1), bound(inLoc), bound(inLoc + 1), bound(inLoc + 2)];
  if (!keys) return { w: raw, i: idx };
  const w = raw.map((v, k) => (idx[k] === inLoc - 1 + k ? v : 0));
  const sum = f32(f32(f32(w[0] + w[1]) + w[2]) + w[3]);
  if (Math.abs(sum) >= 1000 * 1.1754943508222875e-38) {
    const inv = f32(1 / sum);
    for (let k = 0; k < 4; k++) w[k] = f32(w[k] * inv);
  }
  return { w, i: idx };
}

registerKernel({
  op: 'ResizeBicubic',
  kernel: (ctx) => {
    const s = resizeState(ctx, true);
    const out = newFloat([s.batch, s.outH, s.outW, s.channels]);
    const src = floatData(ctx.inputs[0]);
    const xs = Array.from({ length: s.outW }, (_, x) => cubicTaps(s.wScale, x, s.inW, s.half));
    const C = s.channels;
    const o = out.data;
    for (let b = 0; b < s.batch; b++) {
      const bb = b * s.inH * s.inW * C;
      for (let y = 0; y < s.outH; y++) {
        const ty = cubicTaps(s.hScale, y, s.inH, s.half);
        for (let x = 0; x < s.outW; x++) {
          const tx = xs[x];
          for (let c = 0; c < C; c++) {
            let acc = 0;
            for (let k = 0; k < 4; k++) {
              const col = tx.i[k] * C + c;
              let v = 0;
              for (let j = 0; j < 4; j++) v = f32(v + f32(src[bb + ty.i[j] * s.inW * C + col] * ty.w[j]));
              acc = f32(acc + f32(v * tx.w[k]));
            }
            o[((b * s.outH + y) * s.outW + x) * C + c] = acc;
          }
        }
      }
    }
    return [out.make()];
  },
});

/** The input cells an output cell covers along one axis, with their covered fraction. */
function areaSpans(scale: number, outN: number, inN: number): { idx: number[]; frac: number[] }[] {
  const spans = [];
  for (let o = 0; o < outN; o++) {
    const lo = f32(o * scale);
    const hi = f32((o + 1) * scale);
    const start = Math.floor(lo);
    const end = Math.ceil(hi);
    const idx: number[] = [];
    const frac: number[] = [];
    for (let v = start; v < end; v++) {
      let f: number;
      if (v < lo) f = v + 1 > hi ? scale : f32(v + 1 - lo);
      else f = v + 1 > hi ? f32(hi - v) : 1;
      idx.push(Math.min(v, inN - 1));
      frac.push(f);
    }
    spans.push({ idx, frac });
  }
  return spans;
}

registerKernel({
  op: 'ResizeArea',
  kernel: (ctx) => {
    const s = resizeState(ctx, false);
    const out = newFloat([s.batch, s.outH, s.outW, s.channels]);
    const src = floatData(ctx.inputs[0]);
    const ys = areaSpans(s.hScale, s.outH, s.inH);
    const xs = areaSpans(s.wScale, s.outW, s.inW);
    const norm = f32(1 / f32(s.hScale * s.wScale));
    const C = s.channels;
    const o = out.data;
    for (let b = 0; b < s.batch; b++) {
      const bb = b * s.inH * s.inW * C;
      for (let y = 0; y < s.outH; y++) {
        const ys_ = ys[y];
        for (let x = 0; x < s.outW; x++) {
          const xs_ = xs[x];
          for (let c = 0; c < C; c++) {
            let sum = 0;
            for (let j = 0; j < ys_.idx.length; j++) {
              const row = bb + ys_.idx[j] * s.inW * C + c;
              let sx = 0;
              for (let k = 0; k < xs_.idx.length; k++) sx = f32(sx + f32(src[row + xs_.idx[k] * C] * xs_.frac[k]));
              sum = f32(sum + f32(sx * ys_.frac[j]));
            }
            o[((b * s.outH + y) * s.outW + x) * C + c] = f32(sum * norm);
          }
        }
      }
    }
    return [out.make()];
  },
});
