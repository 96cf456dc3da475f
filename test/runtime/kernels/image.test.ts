import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { encode as pngEncode } from 'fast-png';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../runtime/backend.js';
import { StatusError } from '../../../runtime/errors.js';
import type { AttrValue } from '../../../runtime/graph/types.js';
import { Attrs } from '../../../runtime/kernels/attrs.js';
import '../../../runtime/kernels/image.js';
import { kernelFor, type FunctionCaller, type ResourceManager } from '../../../runtime/kernels/registry.js';
import { Tensor } from '../../../runtime/tensor.js';

const IMAGES = path.resolve(import.meta.dirname, '../../../../shared/fixtures/images');
const file = (name: string) => new Uint8Array(fs.readFileSync(path.join(IMAGES, name)));
const contents = (bytes: Uint8Array) => Tensor.scalar('string', bytes);

beforeAll(async () => {
  await initBackend();
});

function run(op: string, inputs: Tensor[], attr: Record<string, AttrValue> = {}): Tensor[] {
  const def = kernelFor(op);
  if (!def) throw new Error(`no kernel for ${op}`);
  return def.kernel({
    node: { name: 'n', op, input: [], device: '', attr },
    attrs: new Attrs(attr, 'n', op),
    inputs,
    resources: {} as ResourceManager,
    functions: {} as FunctionCaller,
  });
}

const i = (v: number): AttrValue => ({ kind: 'i', i: v });
const b = (v: boolean): AttrValue => ({ kind: 'b', b: v });
const type = (v: 'uint8' | 'uint16' | 'float32'): AttrValue => ({ kind: 'type', type: v });
const values = (t: Tensor) => Array.from(t.values() as ArrayLike<number>);

function decode(op: string, bytes: Uint8Array, attr: Record<string, AttrValue> = {}): Tensor {
  return run(op, [contents(bytes)], attr)[0];
}

function errorOf(fn: () => unknown): StatusError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(StatusError);
    return e as StatusError;
  }
  throw new Error('expected an error');
}

// What TensorFlow returns for these fixtures (tfjs-node's image tests run TF's own kernels).
const RGB = [238, 101, 0, 50, 50, 50, 100, 50, 0, 200, 100, 50];
const RGBA = [238, 101, 0, 255, 50, 50, 50, 255, 100, 50, 0, 255, 200, 100, 50, 255];
const TF_JPEG = [239, 100, 0, 46, 48, 47, 92, 49, 0, 194, 98, 47];
const TF_JPEG_GRAY = [130, 47, 56, 121];
const TF_GIF = [...RGB, 200, 100, 50, 34, 68, 102, 170, 0, 102, 255, 255, 255];
/** libpng's png_set_rgb_to_gray(1, 0.299, 0.587) in fixed point, without gamma. */
const libpngGray = (r: number, g: number, bl: number) => (9797 * r + 19234 * g + 3737 * bl) >> 15;
const GRAY = [0, 1, 2, 3].map((p) => libpngGray(RGB[3 * p], RGB[3 * p + 1], RGB[3 * p + 2]));

describe('PNG decoding', () => {
  it('decodes the RGB fixture to uint8 [2,2,3] with the file channels', () => {
    const t = decode('DecodePng', file('image_png_test.png'));
    expect(t.dtype).toBe('uint8');
    expect(t.shape).toEqual([2, 2, 3]);
    expect(values(t)).toEqual(RGB);
    expect(values(decode('DecodePng', file('image_png_test.png'), { channels: i(4) }))).toEqual(RGBA);
  });

  it('keeps, drops or converts channels of the RGBA fixture as libpng does', () => {
    const png = file('image_png_4_channel_test.png');
    const rgba = decode('DecodeImage', png);
    expect(rgba.shape).toEqual([2, 2, 4]);
    expect(values(rgba)).toEqual(RGBA);
    const rgb = decode('DecodeImage', png, { channels: i(3) });
    expect(rgb.shape).toEqual([2, 2, 3]);
    expect(values(rgb)).toEqual(RGB);
    const gray = decode('DecodePng', png, { channels: i(1) });
    expect(gray.shape).toEqual([2, 2, 1]);
    expect(values(gray)).toEqual(GRAY);
    expect(GRAY).toEqual([130, 50, 59, 124]);
  });

  it('synthesizes 16-bit samples as v*257 and scales float32 by 1/65535', () => {
    const png = file('image_png_test.png');
    const u16 = decode('DecodePng', png, { dtype: type('uint16') });
    expect(u16.dtype).toBe('uint16');
    expect(values(u16)).toEqual(RGB.map((v) => v * 257));
    const f = decode('DecodeImage', png, { dtype: type('float32') });
    expect(f.dtype).toBe('float32');
    values(f).forEach((v, k) => expect(v).toBeCloseTo(RGB[k] / 255, 6));
  });

  it('round-trips EncodePng for uint8 and uint16 images', () => {
    const img = Tensor.from('uint8', [3, 5, 2], Array.from({ length: 30 }, (_, k) => (k * 37) % 256));
    const [png] = run('EncodePng', [img], { compression: i(9) });
    expect(png.dtype).toBe('string');
    expect(png.shape).toEqual([]);
    expect(values(decode('DecodePng', (png.values() as Uint8Array[])[0]))).toEqual(values(img));
    const deep = Tensor.from('uint16', [2, 2, 1], [0, 258, 65535, 4097]);
    const [png16] = run('EncodePng', [deep]);
    const bytes = (png16.values() as Uint8Array[])[0];
    expect(values(decode('DecodePng', bytes, { dtype: type('uint16') }))).toEqual([0, 258, 65535, 4097]);
    // Down to 8 bits libpng keeps the high byte.
    expect(values(decode('DecodePng', bytes))).toEqual([0, 1, 255, 16]);
  });

  it('expands palette images, with tRNS as alpha', () => {
    const palette = [
      [255, 0, 0, 0],
      [0, 255, 0, 255],
      [0, 0, 255, 255],
    ];
    const data = Uint8Array.of(0, 1, 2, 1);
    const withAlpha = pngEncode({ width: 2, height: 2, depth: 8, channels: 1, data, palette });
    const rgba = decode('DecodePng', withAlpha);
    expect(rgba.shape).toEqual([2, 2, 4]);
    expect(values(rgba)).toEqual([255, 0, 0, 0, 0, 255, 0, 255, 0, 0, 255, 255, 0, 255, 0, 255]);
    const opaque = pngEncode({ width: 2, height: 2, depth: 8, channels: 1, data, palette: palette.map((c) => c.slice(0, 3)) });
    expect(values(decode('DecodePng', opaque))).toEqual([255, 0, 0, 0, 255, 0, 0, 0, 255, 0, 255, 0]);
  });

  it('scales 1-bit gray to 0/255 and gives libpng filler alpha', () => {
    // Row bytes: 0b10000000 and 0b01000000 → pixels [1,0] and [0,1].
    const png = pngEncode({ width: 2, height: 2, depth: 1, channels: 1, data: Uint8Array.of(0x80, 0x40) });
    expect(values(decode('DecodePng', png))).toEqual([255, 0, 0, 255]);
    expect(values(decode('DecodePng', png, { channels: i(3) }))).toEqual([255, 255, 255, 0, 0, 0, 0, 0, 0, 255, 255, 255]);
    // png_set_add_alpha(filler = (1 << bit_depth) - 1): 1 for a 1-bit file.
    const rgba = values(decode('DecodePng', png, { channels: i(4) }));
    expect([rgba[3], rgba[7]]).toEqual([1, 1]);
  });

  it('converts to gray through the gamma tables when the file is sRGB', () => {
    const plain = pngEncode({ width: 1, height: 1, depth: 8, channels: 3, data: Uint8Array.of(255, 0, 0) });
    expect(values(decode('DecodePng', plain, { channels: i(1) }))).toEqual([libpngGray(255, 0, 0)]);
    // Insert an sRGB chunk after IHDR (8 + 25 bytes).
    const body = Uint8Array.of(0x73, 0x52, 0x47, 0x42, 0);
    const crc = zlib.crc32(body);
    const chunk = Uint8Array.of(0, 0, 0, 1, ...body, crc >>> 24, (crc >>> 16) & 255, (crc >>> 8) & 255, crc & 255);
    const srgb = new Uint8Array([...plain.subarray(0, 33), ...chunk, ...plain.subarray(33)]);
    // Linear light: 255 * (0.2990 in fixed point) = 76, back through gamma 1/2.2 → 147.
    const expected = Math.floor(255 * Math.pow(((9797 * 255 + 16384) >> 15) / 255, 0.45455) + 0.5);
    expect(expected).toBe(147);
    expect(values(decode('DecodePng', srgb, { channels: i(1) }))).toEqual([expected]);
  });

  it('reports corrupt or truncated PNG data with TF wording', () => {
    const png = file('image_png_test.png');
    expect(errorOf(() => decode('DecodePng', png.subarray(0, 20))).message).toBe(
      'Invalid PNG. Failed to initialize decoder.',
    );
    const cut = png.subarray(0, png.length - 30);
    const err = errorOf(() => decode('DecodePng', cut));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toBe(`Invalid PNG data, size ${cut.length}`);
  });
});

describe('JPEG decoding', () => {
  // Bit-exact with TF (libjpeg-turbo); image_jpeg_exact.test.ts covers the
  // full matrix of files and attrs.
  it('decodes to [2,2,3] uint8 exactly as TF does', () => {
    const t = decode('DecodeJpeg', file('image_jpeg_test.jpeg'));
    expect(t.dtype).toBe('uint8');
    expect(t.shape).toEqual([2, 2, 3]);
    expect(values(t)).toEqual(TF_JPEG);
  });

  it('gives the luma plane for channels=1 and shrinks with ratio', () => {
    const jpg = file('image_jpeg_test.jpeg');
    const gray = decode('DecodeImage', jpg, { channels: i(1) });
    expect(gray.shape).toEqual([2, 2, 1]);
    expect(values(gray)).toEqual(TF_JPEG_GRAY);
    const half = decode('DecodeJpeg', jpg, { ratio: i(2) });
    expect(half.shape).toEqual([1, 1, 3]);
    expect(values(half)).toEqual([147, 75, 25]);
  });

  it('crops with DecodeAndCropJpeg and validates the window', () => {
    const jpg = file('image_jpeg_test.jpeg');
    const full = values(decode('DecodeJpeg', jpg));
    const [crop] = run('DecodeAndCropJpeg', [contents(jpg), Tensor.from('int32', [4], [1, 0, 1, 2])]);
    expect(crop.shape).toEqual([1, 2, 3]);
    expect(values(crop)).toEqual(full.slice(6));
    const err = errorOf(() => run('DecodeAndCropJpeg', [contents(jpg), Tensor.from('int32', [4], [1, 1, 2, 1])]));
    expect(err.message).toBe('jpeg::Uncompress failed. Invalid JPEG data or crop window.');
  });

  it('refuses 4 channels and truncated data', () => {
    const jpg = file('image_jpeg_test.jpeg');
    expect(errorOf(() => decode('DecodeJpeg', jpg, { channels: i(4) })).message).toBe('JPEG does not support 4 channels');
    expect(errorOf(() => decode('DecodeJpeg', jpg.subarray(0, 300))).message).toBe(
      'jpeg::Uncompress failed. Invalid JPEG data or crop window.',
    );
  });

  it('reads the shape with ExtractJpegShape', () => {
    const [shape] = run('ExtractJpegShape', [contents(file('image_jpeg_test.jpeg'))]);
    expect(shape.dtype).toBe('int32');
    expect(values(shape)).toEqual([2, 2, 3]);
  });
});

describe('GIF decoding', () => {
  it('returns every frame from DecodeGif and DecodeImage', () => {
    const gif = file('gif_test.gif');
    const t = decode('DecodeGif', gif);
    expect(t.shape).toEqual([2, 2, 2, 3]);
    expect(values(t)).toEqual(TF_GIF);
    expect(values(decode('DecodeImage', gif))).toEqual(TF_GIF);
    const first = decode('DecodeImage', gif, { expand_animations: b(false) });
    expect(first.shape).toEqual([2, 2, 3]);
    expect(values(first)).toEqual(RGB);
  });

  it('refuses animations in DecodePng and 1 channel', () => {
    const gif = file('gif_test.gif');
    expect(errorOf(() => decode('DecodePng', gif)).message).toBe(
      'Got 2 frames, but animated gifs can only be decoded by tf.io.decode_gif or tf.io.decode_image',
    );
    expect(errorOf(() => decode('DecodeImage', gif, { channels: i(1) })).message).toBe(
      'channels must be 0 or 3 for GIF, got 1',
    );
  });

  it('reports a truncated GIF', () => {
    const gif = file('gif_test.gif').subarray(0, 100);
    const err = errorOf(() => decode('DecodeGif', gif));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toMatch(/^Invalid GIF data \(size 100\), failed to slurp gif file: /);
  });

  it('gives a 4-D single frame when DecodeGif reads a PNG', () => {
    const t = decode('DecodeGif', file('image_png_4_channel_test.png'));
    expect(t.shape).toEqual([1, 2, 2, 3]);
    expect(values(t)).toEqual(RGB);
  });
});

describe('BMP decoding', () => {
  it('decodes 24-bit and 32-bit BMPs, copying stored alpha', () => {
    expect(values(decode('DecodeBmp', file('image_bmp_test.bmp')))).toEqual(RGB);
    const four = decode('DecodeBmp', file('image_bmp_4_channel_test.bmp'));
    expect(four.shape).toEqual([2, 2, 4]);
    // The file stores alpha 0 and TF copies it unchanged.
    expect(values(four)).toEqual(RGBA.map((v, k) => (k % 4 === 3 ? 0 : v)));
    expect(values(decode('DecodeImage', file('image_bmp_4_channel_test.bmp'), { channels: i(3) }))).toEqual(RGB);
    expect(values(decode('DecodeBmp', file('image_bmp_test.bmp'), { channels: i(4) }))).toEqual(RGBA);
  });

  it('scales to float32 through DecodeImage', () => {
    const f = decode('DecodeImage', file('image_bmp_test.bmp'), { dtype: type('float32') });
    values(f).forEach((v, k) => expect(v).toBeCloseTo(RGB[k] / 255, 6));
    const u16 = decode('DecodeImage', file('image_bmp_test.bmp'), { dtype: type('uint16') });
    expect(values(u16)).toEqual(RGB.map((v) => v * 256));
  });

  it('keeps BMP and the other formats to their own ops', () => {
    expect(errorOf(() => decode('DecodeBmp', file('image_png_test.png'))).message).toBe(
      'Trying to decode PNG format using DecodeBmp op. Use `decode_png` or `decode_image` instead.',
    );
    expect(errorOf(() => decode('DecodePng', file('image_bmp_test.bmp'))).message).toBe(
      'Trying to decode BMP format using a wrong op. Use `decode_bmp` or `decode_image` instead. Op used: DecodePng',
    );
    const cut = file('image_bmp_test.bmp').subarray(0, 130);
    expect(errorOf(() => decode('DecodeBmp', cut)).message).toBe(
      'Input size should match (header_size + row_size * abs_height) but they differ by -8',
    );
  });
});

describe('format detection', () => {
  it('rejects unknown, empty and non-scalar contents', () => {
    expect(errorOf(() => decode('DecodeImage', new TextEncoder().encode('not an image'))).message).toBe(
      'Unknown image file format. One of JPEG, PNG, GIF, BMP required.',
    );
    expect(errorOf(() => decode('DecodeImage', new Uint8Array(0))).message).toBe('Input is empty.');
    const two = Tensor.from('string', [2], [file('image_png_test.png'), file('image_png_test.png')]);
    expect(errorOf(() => run('DecodeImage', [two])).message).toBe('`contents` must be scalar but got shape[2]');
  });

  it('decodes a JPEG through DecodePng, as TF does', () => {
    const t = decode('DecodePng', file('image_jpeg_test.jpeg'));
    expect(t.shape).toEqual([2, 2, 3]);
  });
});

describe('resize and contrast', () => {
  const img = () => Tensor.from('float32', [1, 2, 2, 1], [1, 2, 3, 4]);
  const size = (h: number, w: number) => Tensor.from('int32', [2], [h, w]);

  it('ResizeBilinear follows TF for half-pixel, aligned and legacy sampling', () => {
    const [half] = run('ResizeBilinear', [img(), size(4, 4)], { half_pixel_centers: b(true) });
    expect(half.dtype).toBe('float32');
    expect(half.shape).toEqual([1, 4, 4, 1]);
    expect(values(half)).toEqual([1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4]);
    const [aligned] = run('ResizeBilinear', [img(), size(3, 3)], { align_corners: b(true) });
    expect(values(aligned)).toEqual([1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4]);
    const [legacy] = run('ResizeBilinear', [img(), size(4, 4)]);
    expect(values(legacy)).toEqual([1, 1.5, 2, 2, 2, 2.5, 3, 3, 3, 3.5, 4, 4, 3, 3.5, 4, 4]);
  });

  it('ResizeNearestNeighbor keeps the input dtype', () => {
    const u8 = Tensor.from('uint8', [1, 2, 2, 1], [10, 20, 30, 40]);
    const [out] = run('ResizeNearestNeighbor', [u8, size(4, 4)]);
    expect(out.dtype).toBe('uint8');
    expect(values(out)).toEqual([10, 10, 20, 20, 10, 10, 20, 20, 30, 30, 40, 40, 30, 30, 40, 40]);
    const [bilinearU8] = run('ResizeBilinear', [u8, size(1, 1)]);
    expect(bilinearU8.dtype).toBe('float32');
  });

  it('rejects align_corners with half_pixel_centers', () => {
    const err = errorOf(() =>
      run('ResizeBilinear', [img(), size(3, 3)], { align_corners: b(true), half_pixel_centers: b(true) }),
    );
    expect(err.message).toBe('If half_pixel_centers is True, align_corners must be False.');
  });

  it('AdjustContrastv2 scales around each channel mean', () => {
    const x = Tensor.from('float32', [2, 2, 1], [1, 2, 3, 6]);
    const [out] = run('AdjustContrastv2', [x, Tensor.scalar('float32', 2)]);
    expect(values(out)).toEqual([-1, 1, 3, 9]);
  });
});
