/**
 * Image kernels: decoding (DecodeImage, DecodePng, DecodeJpeg,
 * DecodeAndCropJpeg, DecodeGif, DecodeBmp, ExtractJpegShape), EncodePng, and
 * the numeric ResizeBilinear, ResizeNearestNeighbor and AdjustContrastv2.
 *
 * Decoding follows TF's DecodeImageV2Op: the format is sniffed from the
 * bytes whatever the op's name (so DecodePng reads a JPEG, as in TF), except
 * that DecodeBmp only reads BMP and BMP only decodes through DecodeBmp or
 * DecodeImage. Shapes: [h, w, c]; DecodeGif always [frames, h, w, 3];
 * DecodeImage of a GIF [frames, h, w, 3] with expand_animations, else the
 * first frame. dtype uint8 (host Uint8Array), uint16 (PNG at 16 bits; other
 * formats scaled by 256) or, for DecodeImage, float32 scaled by 1/255 (1/65535
 * for PNG). Resize and contrast run as tfjs ops on float32.
 */
import * as tf from '@tensorflow/tfjs-core';
import { dtypeShortName, type DType } from '../dtypes.js';
import { internal, invalidArgument } from '../errors.js';
import { checkTensorSize } from '../limits.js';
import { hasTfStorage, shapeString, Tensor } from '../tensor.js';
import { decodeBmp } from './image_bmp.js';
import { sniffImageFormat, type DecodedImage } from './image_codecs.js';
import { decodeGif } from './image_gif.js';
import { decodeJpeg, JPEG_FAILED, readJpegInfo } from './image_jpeg.js';
import { decodePng } from './image_png.js';
import { encodePngLikeTf } from './image/encode_png_tf.js';
import type { KernelContext } from './registry.js';
import { registerKernel } from './registry.js';

type DecodeOp = 'DecodeImage' | 'DecodePng' | 'DecodeJpeg' | 'DecodeAndCropJpeg' | 'DecodeGif' | 'DecodeBmp';

const FORMAT_NAME = { jpeg: 'JPEG', png: 'PNG', gif: 'GIF', bmp: 'BMP' } as const;

function decodeKernel(op: DecodeOp, ctx: KernelContext): Tensor {
  const attrs = ctx.attrs;
  const channels = op === 'DecodeGif' ? 3 : attrs.int('channels', 0);
  if (![0, 1, 3, 4].includes(channels)) throw invalidArgument(`\`channels\` must be 0, 1, 3 or 4 but got ${channels}`);
  const dtype: DType = op === 'DecodePng' || op === 'DecodeImage' ? attrs.type('dtype', 'uint8') : 'uint8';
  if (op === 'DecodePng' && dtype !== 'uint8' && dtype !== 'uint16') {
    throw invalidArgument(`\`dtype\` for \`DecodePng\` must be unit8, unit16 but got: ${dtypeShortName(dtype)}`);
  }
  if (op === 'DecodeImage' && dtype !== 'uint8' && dtype !== 'uint16' && dtype !== 'float32') {
    throw invalidArgument(`\`dtype\` for \`DecodeImage\` must be unit8, unit16, float but got: ${dtypeShortName(dtype)}`);
  }
  const expand = op === 'DecodeImage' ? attrs.bool('expand_animations', true) : true;
  const ratio = op === 'DecodeJpeg' || op === 'DecodeAndCropJpeg' ? attrs.int('ratio', 1) : 1;
  if (![1, 2, 4, 8].includes(ratio)) throw invalidArgument(`ratio must be 1, 2, 4, or 8, got ${ratio}`);
  const dct = op === 'DecodeJpeg' || op === 'DecodeAndCropJpeg' ? attrs.string('dct_method', '') : '';
  if (dct !== '' && dct !== 'INTEGER_FAST' && dct !== 'INTEGER_ACCURATE') {
    throw invalidArgument("dct_method must be one of {'', 'INTEGER_FAST', 'INTEGER_ACCURATE'}");
  }

  const contents = ctx.inputs[0];
  if (contents.rank !== 0) throw invalidArgument(`\`contents\` must be scalar but got shape${shapeString(contents.shape)}`);
  const bytes = (contents.values() as Uint8Array[])[0];
  if (bytes.length === 0) throw invalidArgument('Input is empty.');
  const format = sniffImageFormat(bytes);
  if (format === 'unknown') throw invalidArgument('Unknown image file format. One of JPEG, PNG, GIF, BMP required.');
  if (op === 'DecodeBmp' && format !== 'bmp') {
    const name = FORMAT_NAME[format];
    throw invalidArgument(
      `Trying to decode ${name} format using DecodeBmp op. Use \`decode_${format}\` or \`decode_image\` instead.`,
    );
  }
  if (op === 'DecodeAndCropJpeg' && format !== 'jpeg') {
    throw invalidArgument(`DecodeAndCropJpeg operation can run on JPEG only, but detected ${FORMAT_NAME[format]}.`);
  }

  let img: DecodedImage;
  let fourD = op === 'DecodeGif';
  let fromSixteen = false;
  switch (format) {
    case 'jpeg': {
      if (channels === 4) throw invalidArgument('JPEG does not support 4 channels');
      let crop: [number, number, number, number] | undefined;
      if (op === 'DecodeAndCropJpeg') {
        const win = ctx.inputs[1];
        if (win.rank !== 1) throw invalidArgument(`crop_window must be 1-D, got shape ${shapeString(win.shape)}`);
        if (win.size !== 4) throw invalidArgument(`crop_size must have four elements ${shapeString(win.shape)}`);
        const [y, x, h, w] = win.numbers();
        crop = [y, x, h, w];
      }
      img = decodeJpeg(bytes, {
        channels,
        ratio,
        fancyUpscaling: attrs.bool('fancy_upscaling', true),
        dctMethod: dct,
        tryRecoverTruncated: attrs.bool('try_recover_truncated', false),
        acceptableFraction: attrs.float('acceptable_fraction', 1),
        crop,
      });
      break;
    }
    case 'png':
      img = decodePng(bytes, channels, dtype === 'uint8' ? 8 : 16);
      fromSixteen = dtype !== 'uint8';
      break;
    case 'gif':
      if (channels !== 0 && channels !== 3) throw invalidArgument(`channels must be 0 or 3 for GIF, got ${channels}`);
      img = decodeGif(bytes, expand);
      if (op === 'DecodePng' || op === 'DecodeJpeg') {
        if (img.frames !== 1) {
          throw invalidArgument(
            `Got ${img.frames} frames, but animated gifs can only be decoded by tf.io.decode_gif or tf.io.decode_image`,
          );
        }
      } else if (op === 'DecodeImage' && expand) fourD = true;
      break;
    case 'bmp':
      if (op !== 'DecodeBmp' && op !== 'DecodeImage') {
        throw invalidArgument(
          `Trying to decode BMP format using a wrong op. Use \`decode_bmp\` or \`decode_image\` instead. Op used: ${op}`,
        );
      }
      img = decodeBmp(bytes, channels);
      break;
  }

  const shape = fourD ? [img.frames, img.height, img.width, img.channels] : [img.height, img.width, img.channels];
  return convertDtype(img.data, shape, dtype, fromSixteen);
}

/** Casts decoded samples to the requested dtype the way TF does after decoding. */
function convertDtype(data: Uint8Array | Uint16Array, shape: number[], dtype: DType, sixteenBit: boolean): Tensor {
  if (dtype === 'uint8') return Tensor.fromHost('uint8', shape, data as Uint8Array);
  if (dtype === 'uint16') {
    if (sixteenBit) return Tensor.fromHost('uint16', shape, data as Uint16Array);
    const out = new Uint16Array(data.length);
    for (let i = 0; i < data.length; i++) out[i] = data[i] * 256;
    return Tensor.fromHost('uint16', shape, out);
  }
  const scale = Math.fround(1 / (sixteenBit ? 65535 : 255));
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i] * scale;
  return Tensor.fromHost('float32', shape, out);
}

for (const op of ['DecodeImage', 'DecodePng', 'DecodeJpeg', 'DecodeAndCropJpeg', 'DecodeGif', 'DecodeBmp'] as const) {
  registerKernel({ op, kernel: (ctx) => [decodeKernel(op, ctx)] });
}

registerKernel({
  op: 'ExtractJpegShape',
  kernel: (ctx) => {
    const contents = ctx.inputs[0];
    if (contents.rank !== 0) throw invalidArgument(`contents must be scalar, got shape ${shapeString(contents.shape)}`);
    const bytes = (contents.values() as Uint8Array[])[0];
    const info = bytes.length > 2 && bytes[0] === 0xff && bytes[1] === 0xd8 ? readJpegInfo(bytes) : undefined;
    if (!info) throw invalidArgument(`Invalid JPEG data, size ${bytes.length}`);
    const outType = ctx.attrs.type('output_type', 'int32');
    return [Tensor.from(outType, [3], [info.height, info.width, info.components.length])];
  },
});

registerKernel({
  op: 'EncodePng',
  kernel: (ctx) => {
    const compression = ctx.attrs.int('compression', -1);
    if (compression < -1 || compression > 9) throw invalidArgument(`compression should be in [-1,9], got ${compression}`);
    const image = ctx.inputs[0];
    if (image.dtype !== 'uint8' && image.dtype !== 'uint16') {
      throw invalidArgument(`image must have type uint8 or uint16, got ${dtypeShortName(image.dtype)}`);
    }
    if (image.rank < 3) throw invalidArgument(`images must be at least rank 3${shapeString(image.shape)}`);
    const [height, width, channels] = image.shape.slice(-3);
    if (channels < 1 || channels > 4) throw invalidArgument(`image must have 1, 2, 3, or 4 channels, got ${channels}`);
    const batchShape = image.shape.slice(0, -3);
    const batches = batchShape.reduce((a, b) => a * b, 1);
    const per = height * width * channels;
    const data = image.values() as Uint8Array | Uint16Array;
    const out: Uint8Array[] = [];
    const bad: number[] = [];
    for (let i = 0; i < batches; i++) {
      if (height === 0 || width === 0) {
        bad.push(i);
        continue;
      }
      const pixels = data.subarray(i * per, (i + 1) * per);
      out.push(encodePngLikeTf(pixels, height, width, channels, compression));
    }
    if (bad.length > 0) throw internal(`PNG encoding failed at the following flattened batch indices: ${bad.join(', ')}`);
    return [Tensor.fromHost('string', batchShape, out)];
  },
});

/**
 * A float32 tfjs view of any real tensor; `owned` tells whether the caller must
 * dispose it (a cast or conversion) or not (the input's own backend value).
 * Never called inside tf.tidy: a lazily uploaded input must outlive the scope.
 */
function floatView(t: Tensor): { x: tf.Tensor; owned: boolean } {
  if (t.dtype === 'float32') return { x: t.toTf(), owned: false };
  if (hasTfStorage(t.dtype) && t.dtype !== 'int64') return { x: tf.cast(t.toTf(), 'float32'), owned: true };
  return { x: tf.tensor(Float32Array.from(t.numbers()), [...t.shape], 'float32'), owned: true };
}

function resizeArgs(ctx: KernelContext, outDtype: DType): { images: Tensor; size: [number, number]; align: boolean; half: boolean } {
  const [images, sizeT] = ctx.inputs;
  if (images.rank !== 4) throw invalidArgument(`input must be 4-dimensional${shapeString(images.shape)}`);
  if (sizeT.rank !== 1) throw invalidArgument(`shape_t must be 1-dimensional${shapeString(sizeT.shape)}`);
  if (sizeT.size !== 2) throw invalidArgument(`shape_t must have two elements${shapeString(sizeT.shape)}`);
  const [h, w] = sizeT.numbers();
  if (h <= 0 || w <= 0) throw invalidArgument('output dimensions must be positive');
  const align = ctx.attrs.bool('align_corners', false);
  const half = ctx.attrs.bool('half_pixel_centers', false);
  if (align && half) throw invalidArgument('If half_pixel_centers is True, align_corners must be False.');
  if (images.shape[1] <= 0 || images.shape[2] <= 0) throw invalidArgument('input image must be of non-zero size');
  checkTensorSize([images.shape[0], h, w, images.shape[3]], outDtype);
  return { images, size: [h, w], align, half };
}

registerKernel({
  op: 'ResizeBilinear',
  kernel: (ctx) => {
    const { images, size, align, half } = resizeArgs(ctx, 'float32');
    const { x, owned } = floatView(images);
    const y = tf.image.resizeBilinear(x as tf.Tensor4D, size, align, half);
    if (owned) x.dispose();
    return [Tensor.fromTf(y, 'float32')];
  },
});

registerKernel({
  op: 'ResizeNearestNeighbor',
  kernel: (ctx) => {
    const { images, size, align, half } = resizeArgs(ctx, ctx.inputs[0].dtype);
    if (!hasTfStorage(images.dtype) || images.dtype === 'int64' || images.dtype === 'bool') {
      // Host-only dtypes (float64, int64 beyond int32...) go through float32 and back.
      const { x, owned } = floatView(images);
      const y = tf.image.resizeNearestNeighbor(x as tf.Tensor4D, size, align, half);
      if (owned) x.dispose();
      const out = Tensor.fromTf(y, 'float32');
      const values = out.numbers();
      out.dispose();
      return [Tensor.from(images.dtype, out.shape, images.dtype === 'int64' ? values.map((v) => BigInt(v)) : values)];
    }
    const y = tf.image.resizeNearestNeighbor(images.toTf() as tf.Tensor4D, size, align, half);
    return [Tensor.fromTf(y, images.dtype)];
  },
});

registerKernel({
  op: 'AdjustContrastv2',
  kernel: (ctx) => {
    const [images, factorT] = ctx.inputs;
    if (images.rank < 3) throw invalidArgument(`input must be at least 3-D, got shape${shapeString(images.shape)}`);
    if (factorT.rank !== 0) throw invalidArgument(`contrast_factor must be scalar: ${factorT.rank}`);
    const img = floatView(images);
    const factor = floatView(factorT);
    const y = tf.tidy(() => {
      const mean = tf.mean(img.x, [images.rank - 3, images.rank - 2], true);
      return tf.add(tf.mul(tf.sub(img.x, mean), factor.x), mean);
    });
    if (img.owned) img.x.dispose();
    if (factor.owned) factor.x.dispose();
    return [Tensor.fromTf(y, 'float32')];
  },
});
