/**
 * ScaleAndTranslate (tf.image.resize with lanczos3/lanczos5/gaussian/
 * mitchellcubic/area-less antialiasing, and tf.raw_ops users), after
 * tensorflow/core/kernels/image/scale_and_translate_op.cc and
 * sampling_kernels.h: per axis, output pixel x samples the input at
 * (x + 0.5) / scale - translate / scale; samples outside [0, in] give 0;
 * taps span ceil(s - r*k - 0.5) .. floor(s + r*k - 0.5) clamped to the
 * image, where r is the kernel's radius and k = max(1/scale, 1) with
 * antialias (1 without); weights kernel((tap + 0.5 - s) / k) normalised to
 * sum 1. Rows are resampled first, then columns, in float32. Output float32.
 */
import { invalidArgument } from '../../errors.js';
import { shapeString } from '../../tensor.js';
import { registerKernel } from '../registry.js';
import { f32, floatData, newFloat } from './common.js';

interface SamplingKernel {
  radius: number;
  fn: (x: number) => number;
}

const PI = f32(3.14159265359);

function lanczos(radius: number): SamplingKernel {
  return {
    radius,
    fn: (x) => {
      x = Math.abs(x);
      if (x > radius) return 0;
      if (x <= 1e-3) return 1;
      return f32(f32(f32(radius * f32(Math.sin(f32(PI * x)))) * f32(Math.sin(f32(f32(PI * x) / radius)))) / f32(f32(f32(PI * PI) * x) * x));
    },
  };
}

const KERNELS: Record<string, SamplingKernel> = {
  lanczos1: lanczos(1),
  lanczos3: lanczos(3),
  lanczos5: lanczos(5),
  gaussian: {
    radius: 1.5,
    fn: (x) => {
      x = Math.abs(x);
      if (x >= 1.5) return 0;
      return f32(Math.exp((-x * x) / (2.0 * 0.5 * 0.5)));
    },
  },
  box: { radius: 1, fn: (x) => ((x = Math.abs(x)) < 0.5 ? 1 : x === 0.5 ? 0.5 : 0) },
  triangle: { radius: 1, fn: (x) => ((x = Math.abs(x)) < 1 ? f32(1 - x) : 0) },
  keyscubic: {
    radius: 2,
    fn: (x) => {
      x = Math.abs(x);
      if (x >= 2) return 0;
      if (x >= 1) return f32(f32(f32(f32(f32(-0.5 * x) + 2.5) * x) - 4) * x + 2);
      return f32(f32(f32(f32(1.5 * x) - 2.5) * x) * x + 1);
    },
  },
  mitchellcubic: {
    radius: 2,
    fn: (x) => {
      x = Math.abs(x);
      if (x >= 2) return 0;
      if (x >= 1) return f32(f32(f32(f32(f32(f32(-7 / 18) * x) + 2) * x) - f32(10 / 3)) * x + f32(16 / 9));
      return f32(f32(f32(f32(f32(7 / 6) * x) - 2) * x) * x + f32(8 / 9));
    },
  },
};

/** For each output index: the first input tap and the normalised weights. */
function spans(k: SamplingKernel, outN: number, inN: number, scale: number, translate: number, antialias: boolean): { start: number; w: number[] }[] {
  const inv = f32(1 / scale);
  const invT = f32(-inv * translate);
  const ks = antialias ? Math.max(inv, 1) : 1;
  const oneOver = f32(1 / ks);
  const rk = f32(k.radius * ks);
  const result = [];
  for (let x = 0; x < outN; x++) {
    const s = f32(f32(f32(x + 0.5) * inv) + invT);
    if (s < 0 || s > inN) {
      result.push({ start: 0, w: [] });
      continue;
    }
    const clamp = (v: number) => Math.min(inN - 1, Math.max(0, v));
    const start = clamp(Math.ceil(f32(f32(s - rk) - 0.5)));
    const end = clamp(Math.floor(f32(f32(s + rk) - 0.5))) + 1;
    const w: number[] = [];
    let sum = 0;
    for (let t = start; t < end; t++) {
      const weight = k.fn(f32(f32(f32(t + 0.5) - s) * oneOver));
      sum = f32(sum + weight);
      w.push(weight);
    }
    if (Math.abs(sum) >= 1000 * 1.1754943508222875e-38) {
      const inv_ = f32(1 / sum);
      result.push({ start, w: w.map((v) => f32(v * inv_)) });
    } else {
      result.push({ start, w: w.map(() => 0) });
    }
  }
  return result;
}

function pair(t: { rank: number; size: number; shape: readonly number[]; numbers(): number[] }, name: string): [number, number] {
  if (t.rank !== 1) throw invalidArgument(`${name} must be 1-dimensional${shapeString(t.shape)}`);
  if (t.size !== 2) throw invalidArgument(`${name} must have two elements${shapeString(t.shape)}`);
  const v = t.numbers();
  return [f32(v[0]), f32(v[1])];
}

registerKernel({
  op: 'ScaleAndTranslate',
  kernel: (ctx) => {
    const [input, sizeT, scaleT, transT] = ctx.inputs;
    const antialias = ctx.attrs.bool('antialias', true);
    const kernelType = ctx.attrs.string('kernel_type', 'lanczos3');
    const k = KERNELS[kernelType];
    if (!k) throw invalidArgument(`Unrecognized kernel type: ${kernelType}`);
    if (input.rank !== 4) throw invalidArgument(`input must be 4-dimensional${shapeString(input.shape)}`);
    const [outH, outW] = pair(sizeT, 'output_shape_t');
    const [B, H, W, C] = input.shape;
    if (!(outH > 0 && outW > 0)) throw invalidArgument('output dimensions must be positive');
    if (!(C > 0)) throw invalidArgument('image must have at least one channel');
    if (!(H > 0 && W > 0)) throw invalidArgument('input image must be of non-zero size');
    const [rowScale, colScale] = pair(scaleT, 't');
    if (!(rowScale > 0 && colScale > 0)) throw invalidArgument('Scale must be greater than zero.');
    const [rowT, colT] = pair(transT, 't');
    const out = newFloat([B, outH, outW, C]);
    newFloat([B, outH, W, C]); // the intermediate's size goes through the same limits
    const src = floatData(input);
    const rows = spans(k, outH, H, rowScale, rowT, antialias);
    const cols = spans(k, outW, W, colScale, colT, antialias);
    const mid = new Float32Array(B * outH * W * C);
    for (let b = 0; b < B; b++)
      for (let y = 0; y < outH; y++) {
        const r = rows[y];
        for (let x = 0; x < W; x++)
          for (let c = 0; c < C; c++) {
            let acc = 0;
            for (let j = 0; j < r.w.length; j++) acc = f32(acc + f32(r.w[j] * src[((b * H + r.start + j) * W + x) * C + c]));
            mid[((b * outH + y) * W + x) * C + c] = acc;
          }
      }
    const o = out.data;
    for (let b = 0; b < B; b++)
      for (let y = 0; y < outH; y++)
        for (let x = 0; x < outW; x++) {
          const s = cols[x];
          for (let c = 0; c < C; c++) {
            let acc = 0;
            for (let j = 0; j < s.w.length; j++) acc = f32(acc + f32(s.w[j] * mid[((b * outH + y) * W + s.start + j) * C + c]));
            o[((b * outH + y) * outW + x) * C + c] = acc;
          }
        }
    return [out.make()];
  },
});
