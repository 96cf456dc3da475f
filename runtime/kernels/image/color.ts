/**
 * Colour-space kernels: RGBToHSV, HSVToRGB, AdjustSaturation, AdjustHue.
 *
 * RGBToHSV and HSVToRGB follow tensorflow/core/kernels/image/colorspace_op.h:
 * V = max, S = range / V (0 for black), H from the channel holding the max
 * (0 when range is 0, wrapped into [0, 1)); HSV → RGB through the piecewise
 * linear ramps of h*6. AdjustSaturation and AdjustHue follow
 * adjust_saturation_op.cc / adjust_hue_op.cc: per pixel RGB → HSV with the
 * sector helpers there, S scaled and clamped to [0, 1] or H shifted modulo 1,
 * then back. All in float32 on the host; float64 input stays float64.
 */
import { invalidArgument } from '../../errors.js';
import { shapeString, Tensor } from '../../tensor.js';
import { registerKernel } from '../registry.js';
import { f32 } from './common.js';

type Round = (v: number) => number;

function rgbArgs(t: Tensor, name = 'input'): { data: Float32Array | Float64Array; r: Round } {
  if (t.rank < 1) throw invalidArgument(`${name} must be at least 1D${shapeString(t.shape)}`);
  const ch = t.shape[t.rank - 1];
  if (ch !== 3) throw invalidArgument(`${name} must have 3 channels but input only has ${ch} channels.`);
  if (t.dtype === 'float64') return { data: t.values() as Float64Array, r: (v) => v };
  return { data: t.dtype === 'float32' ? (t.values() as Float32Array) : Float32Array.from(t.numbers()), r: f32 };
}

function out(t: Tensor, data: Float32Array | Float64Array): Tensor {
  return Tensor.fromHost(t.dtype === 'float64' ? 'float64' : t.dtype, [...t.shape], data as Float32Array);
}

function alloc(t: Tensor, n: number): Float32Array | Float64Array {
  return t.dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
}

/** colorspace_op.h's vectorised RGB → HSV. */
function toHsv(r: number, g: number, b: number, R: Round): [number, number, number] {
  const v = Math.max(r, g, b);
  const range = R(v - Math.min(r, g, b));
  const s = v > 0 ? R(range / v) : 0;
  const norm = R(1 / R(6 * range));
  let h = r === v ? R(norm * R(g - b)) : g === v ? R(R(norm * R(b - r)) + R(2 / 6)) : R(R(norm * R(r - g)) + R(4 / 6));
  if (!(range > 0)) h = 0;
  if (h < 0) h = R(h + 1);
  return [h, s, v];
}

registerKernel({
  op: 'RGBToHSV',
  kernel: (ctx) => {
    const t = ctx.inputs[0];
    const { data, r: R } = rgbArgs(t);
    const o = alloc(t, data.length);
    for (let i = 0; i < data.length; i += 3) {
      const [h, s, v] = toHsv(data[i], data[i + 1], data[i + 2], R);
      o[i] = h;
      o[i + 1] = s;
      o[i + 2] = v;
    }
    return [out(t, o)];
  },
});

registerKernel({
  op: 'HSVToRGB',
  kernel: (ctx) => {
    const t = ctx.inputs[0];
    const { data, r: R } = rgbArgs(t);
    const o = alloc(t, data.length);
    const clamp = (v: number) => Math.min(Math.max(v, 0), 1);
    for (let i = 0; i < data.length; i += 3) {
      const h = data[i];
      const s = data[i + 1];
      const v = data[i + 2];
      const dh = R(h * 6);
      const dr = clamp(R(Math.abs(R(dh - 3)) - 1));
      const dg = clamp(R(2 - Math.abs(R(dh - 2))));
      const db = clamp(R(2 - Math.abs(R(dh - 4))));
      const oms = R(1 - s);
      o[i] = R(R(oms + R(s * dr)) * v);
      o[i + 1] = R(R(oms + R(s * dg)) * v);
      o[i + 2] = R(R(oms + R(s * db)) * v);
    }
    return [out(t, o)];
  },
});

/** The scalar helpers of adjust_saturation_op.cc / adjust_hue_op.cc (float). */
function helperToHsv(r: number, g: number, b: number): [number, number, number] {
  const vv = Math.max(r, g, b);
  const range = f32(vv - Math.min(r, g, b));
  const s = vv > 0 ? f32(range / vv) : 0;
  const norm = f32(1 / f32(6 * range));
  let h: number;
  if (r === vv) h = f32(norm * f32(g - b));
  else if (g === vv) h = f32(f32(norm * f32(b - r)) + 2 / 6);
  else h = f32(f32(norm * f32(r - g)) + 4 / 6);
  if (range <= 0) h = 0;
  if (h < 0) h = f32(h + 1);
  return [h, s, vv];
}

function helperToRgb(h: number, s: number, v: number): [number, number, number] {
  const c = f32(s * v);
  const m = f32(v - c);
  const dh = f32(h * 6);
  const cat = Math.trunc(dh);
  let fm = dh;
  while (fm <= 0) fm = f32(fm + 2);
  while (fm >= 2) fm = f32(fm - 2);
  const x = f32(c * f32(1 - Math.abs(f32(fm - 1))));
  let rgb: [number, number, number];
  switch (cat) {
    case 0: rgb = [c, x, 0]; break;
    case 1: rgb = [x, c, 0]; break;
    case 2: rgb = [0, c, x]; break;
    case 3: rgb = [0, x, c]; break;
    case 4: rgb = [x, 0, c]; break;
    case 5: rgb = [c, 0, x]; break;
    default: rgb = [0, 0, 0];
  }
  return [f32(rgb[0] + m), f32(rgb[1] + m), f32(rgb[2] + m)];
}

function adjustKernel(op: 'AdjustSaturation' | 'AdjustHue') {
  return (ctx: { inputs: Tensor[] }): Tensor[] => {
    const [images, deltaT] = ctx.inputs;
    if (images.rank < 3) throw invalidArgument(`input must be at least 3-D, got shape${shapeString(images.shape)}`);
    const name = op === 'AdjustHue' ? 'delta' : 'scale';
    if (deltaT.rank !== 0) throw invalidArgument(`${name} must be scalar: ${shapeString(deltaT.shape)}`);
    const ch = images.shape[images.rank - 1];
    if (ch !== 3) throw invalidArgument(`input must have 3 channels but instead has ${ch} channels.`);
    const amount = f32(deltaT.numbers()[0]);
    const data = images.dtype === 'float32' ? (images.values() as Float32Array) : Float32Array.from(images.numbers());
    const o = new Float32Array(data.length);
    for (let i = 0; i < data.length; i += 3) {
      let [h, s, v] = helperToHsv(data[i], data[i + 1], data[i + 2]);
      if (op === 'AdjustSaturation') {
        s = Math.min(1, Math.max(0, f32(s * amount)));
      } else {
        h = f32(h + amount);
        h = f32(h % 1);
        if (h < 0) h = f32(h + 1);
      }
      const rgb = helperToRgb(h, s, v);
      o[i] = rgb[0];
      o[i + 1] = rgb[1];
      o[i + 2] = rgb[2];
    }
    if (images.dtype === 'float64') return [Tensor.from('float64', [...images.shape], o)];
    return [Tensor.fromHost(images.dtype === 'float32' ? 'float32' : images.dtype, [...images.shape], o)];
  };
}

registerKernel({ op: 'AdjustSaturation', kernel: adjustKernel('AdjustSaturation') });
registerKernel({ op: 'AdjustHue', kernel: adjustKernel('AdjustHue') });
