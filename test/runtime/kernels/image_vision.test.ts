/**
 * Vision kernels (runtime/kernels/image/): error paths with TF's wording and
 * status codes, size limits on request-controlled sizes, and a few exact
 * answers (the conformance corpus, family `vision`, checks the rest).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../runtime/backend.js';
import { StatusError } from '../../../runtime/errors.js';
import '../../../runtime/kernels/index.js';
import { Tensor } from '../../../runtime/tensor.js';
import { StdPriorityQueue, stdSort } from '../../../runtime/kernels/image/std_order.js';
import { attr, f32, i32, run, vals } from './array_harness.js';

beforeAll(async () => {
  await initBackend();
});

function errorOf(fn: () => unknown): StatusError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(StatusError);
    return e as StatusError;
  }
  throw new Error('expected an error');
}

const scalarF = (v: number) => Tensor.scalar('float32', v);
const boxes = f32([3, 4], [0, 0, 1, 1, 0, 0.1, 1, 1.1, 0, 2, 1, 3]);
const scores = f32([3], [0.9, 0.8, 0.7]);

describe('NonMaxSuppression', () => {
  it('selects best first and drops overlaps strictly above the threshold', () => {
    const [sel] = run('NonMaxSuppressionV3', [boxes, scores, Tensor.scalar('int32', 10), scalarF(0.5), scalarF(0)]);
    expect(vals(sel)).toEqual([0, 2]);
  });
  it('keeps the lower index first on equal scores', () => {
    const [sel] = run('NonMaxSuppressionV2', [f32([2, 4], [0, 0, 1, 1, 5, 5, 6, 6]), f32([2], [0.5, 0.5]), Tensor.scalar('int32', 2), scalarF(0.5)]);
    expect(vals(sel)).toEqual([0, 1]);
  });
  it('pads to max_output_size with valid_outputs', () => {
    const [sel, valid] = run('NonMaxSuppressionV4', [boxes, scores, Tensor.scalar('int32', 5), scalarF(0.5), scalarF(0.75)], {
      pad_to_max_output_size: attr.b(true),
    });
    expect(vals(sel)).toEqual([0, 0, 0, 0, 0]);
    expect(vals(valid)).toEqual([1]);
  });
  it('refuses bad shapes and thresholds with TF wording', () => {
    const e1 = errorOf(() => run('NonMaxSuppressionV3', [f32([4], [0, 0, 1, 1]), f32([1], [1]), Tensor.scalar('int32', 1), scalarF(0.5), scalarF(0)]));
    expect(e1.code).toBe('INVALID_ARGUMENT');
    expect(e1.message).toBe('boxes must be 2-D[4] (Shape must be rank 2 but is rank 1)');
    const e2 = errorOf(() => run('NonMaxSuppressionV3', [boxes, f32([2], [1, 2]), Tensor.scalar('int32', 1), scalarF(0.5), scalarF(0)]));
    expect(e2.message).toBe('scores has incompatible shape (Dimensions must be equal, but are 3 and 2)');
    const e3 = errorOf(() => run('NonMaxSuppressionV3', [boxes, scores, Tensor.scalar('int32', 1), scalarF(1.5), scalarF(0)]));
    expect(e3.message).toBe('iou_threshold must be in [0, 1]');
    const e4 = errorOf(() => run('NonMaxSuppressionV3', [boxes, scores, Tensor.scalar('int32', -1), scalarF(0.5), scalarF(0)]));
    expect(e4.message).toBe('output size must be non-negative');
    const e5 = errorOf(() => run('NonMaxSuppressionV5', [boxes, scores, Tensor.scalar('int32', 1), scalarF(0.5), scalarF(0), scalarF(-1)]));
    expect(e5.message).toBe('soft_nms_sigma_val must be non-negative');
  });
  it('refuses an absurd padded size with RESOURCE_EXHAUSTED, not a crash', () => {
    const e = errorOf(() =>
      run('NonMaxSuppressionV4', [boxes, scores, Tensor.scalar('int32', 2 ** 31 - 1), scalarF(0.5), scalarF(0)], { pad_to_max_output_size: attr.b(true) }),
    );
    expect(e.code).toBe('RESOURCE_EXHAUSTED');
  });
  it('CombinedNonMaxSuppression checks its sizes', () => {
    const b4 = f32([1, 3, 1, 4], [...vals(boxes)] as number[]);
    const s3 = f32([1, 3, 2], [0.9, 0.1, 0.8, 0.2, 0.7, 0.3]);
    const e = errorOf(() => run('CombinedNonMaxSuppression', [b4, s3, Tensor.scalar('int32', 0), Tensor.scalar('int32', 3), scalarF(0.5), scalarF(0)]));
    expect(e.message).toBe('max_size_per_class must be greater than 0');
    const big = errorOf(() =>
      run('CombinedNonMaxSuppression', [b4, s3, Tensor.scalar('int32', 2), Tensor.scalar('int32', 2 ** 31 - 1), scalarF(0.5), scalarF(0)]),
    );
    expect(big.code).toBe('RESOURCE_EXHAUSTED');
    const [, sc, cls, valid] = run('CombinedNonMaxSuppression', [b4, s3, Tensor.scalar('int32', 2), Tensor.scalar('int32', 3), scalarF(0.5), scalarF(0.25)]);
    expect(vals(valid)).toEqual([3]);
    expect((vals(sc) as number[]).map((v) => Math.round(v * 10))).toEqual([9, 7, 3]);
    expect(vals(cls)).toEqual([0, 0, 1]);
  });
});

describe('CropAndResize and resizes', () => {
  const image = f32([1, 2, 2, 1], [0, 1, 2, 3]);
  it('interpolates and extrapolates', () => {
    const [y] = run('CropAndResize', [image, f32([2, 4], [0, 0, 1, 1, -1, -1, 0, 0]), i32([2], [0, 0]), i32([2], [2, 2])], {
      extrapolation_value: { kind: 'f', f: 9 },
    });
    expect(vals(y)).toEqual([0, 1, 2, 3, 9, 9, 9, 0]);
  });
  it('refuses box indices outside the batch and empty crops', () => {
    const e = errorOf(() => run('CropAndResize', [image, f32([1, 4], [0, 0, 1, 1]), i32([1], [1]), i32([2], [2, 2])]));
    expect(e.message).toBe('box_index has values outside [0, batch_size)');
    const e2 = errorOf(() => run('CropAndResize', [image, f32([1, 4], [0, 0, 1, 1]), i32([1], [0]), i32([2], [0, 2])]));
    expect(e2.message).toBe('crop dimensions must be positive');
    const e3 = errorOf(() => run('CropAndResize', [image, f32([1, 3], [0, 0, 1]), i32([1], [0]), i32([2], [2, 2])]));
    expect(e3.message).toBe('boxes must have 4 columns');
    const e4 = errorOf(() => run('CropAndResize', [image, f32([1, 4], [0, 0, 1, 1]), i32([2], [0, 0]), i32([2], [2, 2])]));
    expect(e4.message).toBe('box_index has incompatible shape');
  });
  it('refuses absurd output sizes before allocating', () => {
    for (const op of ['ResizeBicubic', 'ResizeArea']) {
      const e = errorOf(() => run(op, [image, i32([2], [100000, 100000])]));
      expect(e.code).toBe('RESOURCE_EXHAUSTED');
    }
    const e = errorOf(() => run('CropAndResize', [image, f32([1, 4], [0, 0, 1, 1]), i32([1], [0]), i32([2], [100000, 100000])]));
    expect(e.code).toBe('RESOURCE_EXHAUSTED');
    const s = errorOf(() => run('ScaleAndTranslate', [image, i32([2], [100000, 100000]), f32([2], [1, 1]), f32([2], [0, 0])]));
    expect(s.code).toBe('RESOURCE_EXHAUSTED');
  });
  it('checks resize arguments with TF wording', () => {
    expect(errorOf(() => run('ResizeBicubic', [image, i32([2], [2, 2])], { align_corners: attr.b(true), half_pixel_centers: attr.b(true) })).message).toBe(
      'If half_pixel_centers is True, align_corners must be False.',
    );
    expect(errorOf(() => run('ResizeArea', [f32([2, 2], [0, 1, 2, 3]), i32([2], [2, 2])])).message).toBe('input must be 4-dimensional[2,2]');
    expect(errorOf(() => run('ResizeBicubic', [image, i32([2], [0, 2])])).message).toBe('output dimensions must be positive');
  });
  it('ResizeArea of a 2x2 image to 1x1 is its mean', () => {
    expect(vals(run('ResizeArea', [image, i32([2], [1, 1])])[0])).toEqual([1.5]);
  });
  it('ScaleAndTranslate refuses unknown kernels and non-positive scales', () => {
    expect(errorOf(() => run('ScaleAndTranslate', [image, i32([2], [2, 2]), f32([2], [1, 1]), f32([2], [0, 0])], { kernel_type: attr.s('sinc') })).message).toBe(
      'Unrecognized kernel type: sinc',
    );
    expect(errorOf(() => run('ScaleAndTranslate', [image, i32([2], [2, 2]), f32([2], [0, 1]), f32([2], [0, 0])])).message).toBe(
      'Scale must be greater than zero.',
    );
  });
});

describe('colour and transforms', () => {
  it('RGBToHSV needs 3 channels', () => {
    expect(errorOf(() => run('RGBToHSV', [f32([1, 2], [0, 1])])).message).toBe('input must have 3 channels but input only has 2 channels.');
    expect(vals(run('RGBToHSV', [f32([3], [1, 0, 0])])[0])).toEqual([0, 1, 1]);
  });
  it('AdjustHue shifts modulo 1 and checks its scalar', () => {
    const [y] = run('AdjustHue', [f32([1, 1, 3], [1, 0, 0]), scalarF(1 / 3)]);
    expect((vals(y) as number[]).map((v) => Math.round(v * 1e5) / 1e5)).toEqual([0, 1, 0]);
    expect(errorOf(() => run('AdjustHue', [f32([1, 1, 3], [1, 0, 0]), f32([1], [0.1])])).code).toBe('INVALID_ARGUMENT');
  });
  it('ImageProjectiveTransformV3: identity, bad interpolation, absurd output shape', () => {
    const img = f32([1, 2, 2, 1], [1, 2, 3, 4]);
    const id = f32([1, 8], [1, 0, 0, 0, 1, 0, 0, 0]);
    const attrs = { interpolation: attr.s('BILINEAR'), fill_mode: attr.s('CONSTANT'), dtype: attr.type('float32') };
    expect(vals(run('ImageProjectiveTransformV3', [img, id, i32([2], [2, 2]), scalarF(0)], attrs)[0])).toEqual([1, 2, 3, 4]);
    const bad = errorOf(() => run('ImageProjectiveTransformV3', [img, id, i32([2], [2, 2]), scalarF(0)], { ...attrs, interpolation: attr.s('CUBIC') }));
    expect(bad.message).toBe('Invalid interpolation CUBIC. Supported types: NEAREST, BILINEAR');
    const big = errorOf(() => run('ImageProjectiveTransformV3', [img, id, i32([2], [100000, 100000]), scalarF(0)], attrs));
    expect(big.code).toBe('RESOURCE_EXHAUSTED');
    const shape = errorOf(() => run('ImageProjectiveTransformV3', [img, f32([1, 6], [1, 0, 0, 0, 1, 0]), i32([2], [2, 2]), scalarF(0)], attrs));
    expect(shape.message).toBe('Input transform should be num_images x 8 or 1 x 8');
  });
});

describe('patches, dilation, 3-D', () => {
  const img = f32([1, 3, 3, 1], [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  it('MaxPoolWithArgmax indexes (y*W + x)*C + c', () => {
    const [y, arg] = run('MaxPoolWithArgmax', [img], { ksize: attr.ints([1, 2, 2, 1]), strides: attr.ints([1, 1, 1, 1]), padding: attr.s('VALID') });
    expect(vals(y)).toEqual([5, 6, 8, 9]);
    expect(vals(arg)).toEqual([4n, 5n, 7n, 8n]);
  });
  it('ExtractImagePatches refuses batch/depth windows', () => {
    const e = errorOf(() =>
      run('ExtractImagePatches', [img], { ksizes: attr.ints([2, 1, 1, 1]), strides: attr.ints([1, 1, 1, 1]), rates: attr.ints([1, 1, 1, 1]), padding: attr.s('VALID') }),
    );
    expect(e.message).toBe('Only support ksizes, strides and rates across rows and cols.');
  });
  it('Dilation2D needs matching depth', () => {
    const e = errorOf(() =>
      run('Dilation2D', [img, f32([1, 1, 2], [0, 0])], { strides: attr.ints([1, 1, 1, 1]), rates: attr.ints([1, 1, 1, 1]), padding: attr.s('SAME') }),
    );
    expect(e.message).toBe('input and filter must have the same depth: 1 vs 2');
  });
  it('Conv3D and pools check rank, format and strides', () => {
    const vol = f32([1, 2, 2, 2, 1], [1, 2, 3, 4, 5, 6, 7, 8]);
    const base = { strides: attr.ints([1, 1, 1, 1, 1]), padding: attr.s('VALID') };
    expect(errorOf(() => run('Conv3D', [img, f32([1, 1, 1, 1, 1], [1])], base)).message).toBe('input must be 5-dimensional[1,3,3,1]');
    expect(errorOf(() => run('MaxPool3D', [vol], { ...base, ksize: attr.ints([1, 2, 2, 2, 1]), data_format: attr.s('NCDHW') })).code).toBe('INVALID_ARGUMENT');
    expect(vals(run('MaxPool3D', [vol], { ...base, ksize: attr.ints([1, 2, 2, 2, 1]) })[0])).toEqual([8]);
    expect(vals(run('AvgPool3D', [vol], { ...base, ksize: attr.ints([1, 2, 2, 2, 1]) })[0])).toEqual([4.5]);
    expect(vals(run('Conv3D', [vol, f32([1, 1, 1, 1, 1], [2])], base)[0])).toEqual([2, 4, 6, 8, 10, 12, 14, 16]);
  });
  it('Conv3DBackpropInputV2 scatters through the filter and checks out_backprop against input_sizes', () => {
    const attrs = { strides: attr.ints([1, 1, 1, 1, 1]), padding: attr.s('VALID') };
    const f = f32([1, 1, 2, 1, 1], [1, 10]);
    const dy = f32([1, 1, 1, 1, 1], [2]);
    expect(vals(run('Conv3DBackpropInputV2', [i32([5], [1, 1, 1, 2, 1]), f, dy], attrs)[0])).toEqual([2, 20]);
    const e = errorOf(() => run('Conv3DBackpropInputV2', [i32([5], [1, 1, 3, 2, 1]), f, dy], attrs));
    expect(e.message).toBe('Conv3DBackpropInput: rows of out_backprop (1) does not match the computed output size (3)');
    // A huge input_sizes whose forward output is one element (stride as large as the image): refused before allocating.
    const wide = { strides: attr.ints([1, 1, 100000, 100000, 1]), padding: attr.s('VALID') };
    const big = errorOf(() => run('Conv3DBackpropInputV2', [i32([5], [1, 1, 100000, 100000, 1]), f32([1, 1, 1, 1, 1], [1]), dy], wide));
    expect(big.code).toBe('RESOURCE_EXHAUSTED');
  });
  it('DrawBoundingBoxes checks ranks, depth and colours', () => {
    const img2 = f32([1, 2, 2, 2], [0, 0, 0, 0, 0, 0, 0, 0]);
    const bx = f32([1, 1, 4], [0, 0, 1, 1]);
    expect(errorOf(() => run('DrawBoundingBoxesV2', [img2, bx, f32([1, 4], [1, 1, 1, 1])])).message).toBe(
      'Channel depth should be either 1 (GRY), 3 (RGB), or 4 (RGBA)',
    );
    const grey = f32([1, 2, 2, 1], [0, 0, 0, 0]);
    expect(errorOf(() => run('DrawBoundingBoxesV2', [grey, f32([1, 4], [0, 0, 1, 1]), f32([1, 1], [1])])).message).toBe(
      'The rank of the boxes tensor should be 3',
    );
    expect(vals(run('DrawBoundingBoxes', [grey, bx])[0])).toEqual([1, 1, 1, 1]);
  });
});

describe('EncodeJpeg', () => {
  const u8 = (shape: number[], v: number[]) => Tensor.from('uint8', shape, v);
  it('encodes an image the decoder reads back at its size', () => {
    const img = u8([3, 5, 3], Array.from({ length: 45 }, (_, i) => (i * 37) % 256));
    const [jpeg] = run('EncodeJpeg', [img], { quality: attr.i(90) });
    const bytes = (jpeg.values() as Uint8Array[])[0];
    expect([bytes[0], bytes[1], bytes[bytes.length - 2], bytes[bytes.length - 1]]).toEqual([0xff, 0xd8, 0xff, 0xd9]);
    const [decoded] = run('DecodeJpeg', [jpeg]);
    expect(decoded.shape).toEqual([3, 5, 3]);
  });
  it('checks quality, channels and format with TF wording', () => {
    const img = u8([2, 2, 3], new Array(12).fill(7));
    expect(errorOf(() => run('EncodeJpeg', [img], { quality: attr.i(101) })).message).toBe('quality must be in [0,100], got 101');
    expect(errorOf(() => run('EncodeJpegVariableQuality', [img, Tensor.scalar('int32', -1)])).code).toBe('INVALID_ARGUMENT');
    expect(errorOf(() => run('EncodeJpeg', [u8([2, 2, 2], new Array(8).fill(0))])).code).toBe('INVALID_ARGUMENT');
    expect(errorOf(() => run('EncodeJpeg', [img], { format: attr.s('grayscale') })).code).toBe('INVALID_ARGUMENT');
    expect(errorOf(() => run('EncodeJpeg', [u8([4], [1, 2, 3, 4])])).message).toBe('image must be 3-dimensional[4]');
    expect(errorOf(() => run('EncodeJpeg', [img], { progressive: attr.b(true) })).code).toBe('UNIMPLEMENTED');
  });
});

describe('libstdc++ orders (std_order.ts)', () => {
  it('std::sort and priority_queue order distinct keys like any sort', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (const n of [0, 1, 5, 16, 17, 40, 300]) {
      const xs = Array.from({ length: n }, (_, i) => rnd() + i * 1e-9);
      const sorted = [...xs];
      stdSort(sorted, (a, b) => a < b);
      expect(sorted).toEqual([...xs].sort((a, b) => a - b));
      const q = new StdPriorityQueue<number>((a, b) => a < b);
      xs.forEach((x) => q.push(x));
      const popped: number[] = [];
      while (q.size > 0) {
        popped.push(q.top());
        q.pop();
      }
      expect(popped).toEqual([...xs].sort((a, b) => b - a));
    }
  });
  it('keeps every element when keys tie (a permutation, not a stable order)', () => {
    const xs = Array.from({ length: 50 }, (_, i) => ({ k: i % 3, i }));
    const sorted = [...xs];
    stdSort(sorted, (a, b) => a.k < b.k);
    expect(sorted.map((x) => x.k)).toEqual([...xs].map((x) => x.k).sort());
    expect(new Set(sorted.map((x) => x.i)).size).toBe(50);
  });
});
