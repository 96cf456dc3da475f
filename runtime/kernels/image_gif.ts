/**
 * GIF decoding as TensorFlow's gif_io.cc does it on giflib: every frame is
 * composited on a canvas the size of the largest frame, starting from the
 * previous frame (disposal methods are ignored, as TF ignores them); pixels
 * with the frame's transparent index keep the previous frame's colour (black
 * on the first frame); output is RGB, [frames, height, width, 3], or only the
 * first frame when expand_animations is false.
 *
 * The container (blocks, colour tables, graphic control extensions) is walked
 * here so that truncated or malformed files fail like giflib's DGifSlurp;
 * gifuct-js does the LZW decompression and de-interlacing of each frame.
 * Errors are INVALID_ARGUMENT "Invalid GIF data (size N), <reason>".
 */
import { decompressFrame } from 'gifuct-js';
import { invalidArgument } from '../errors.js';
import type { DecodedImage } from './image_codecs.js';
import { checkGifFrames, checkImagePixels } from './image_limits.js';

interface GifFrame {
  left: number;
  top: number;
  width: number;
  height: number;
  interlaced: boolean;
  colorTable: [number, number, number][] | undefined;
  transparentIndex: number;
  minCodeSize: number;
  lzw: Uint8Array;
}

class GifReadError extends Error {}

const READ_FAILED = 'Failed to read from given file';

function readColorTable(b: Uint8Array, o: number, packed: number): [number, number, number][] {
  const n = 1 << ((packed & 7) + 1);
  if (o + 3 * n > b.length) throw new GifReadError(READ_FAILED);
  const table: [number, number, number][] = [];
  for (let i = 0; i < n; i++) table.push([b[o + 3 * i], b[o + 3 * i + 1], b[o + 3 * i + 2]]);
  return table;
}

/** Reads data sub-blocks starting at `o`; returns their concatenation and the offset after the terminator. */
function readSubBlocks(b: Uint8Array, o: number): [Uint8Array, number] {
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    if (o >= b.length) throw new GifReadError(READ_FAILED);
    const n = b[o++];
    if (n === 0) break;
    if (o + n > b.length) throw new GifReadError(READ_FAILED);
    parts.push(b.subarray(o, o + n));
    total += n;
    o += n;
  }
  const out = new Uint8Array(total);
  let k = 0;
  for (const p of parts) {
    out.set(p, k);
    k += p.length;
  }
  return [out, o];
}

/** Parses the GIF container like giflib's DGifOpen + DGifSlurp. */
function parseGif(b: Uint8Array): { frames: GifFrame[]; global: [number, number, number][] | undefined } {
  if (b.length < 13) throw new GifReadError(`failed to open gif file: ${READ_FAILED}`);
  const packed = b[10];
  let o = 13;
  let global: [number, number, number][] | undefined;
  try {
    if (packed & 0x80) {
      global = readColorTable(b, o, packed);
      o += 3 * global.length;
    }
  } catch {
    throw new GifReadError(`failed to open gif file: ${READ_FAILED}`);
  }
  const frames: GifFrame[] = [];
  let transparentIndex = -1;
  const slurpError = (reason: string) => new GifReadError(`failed to slurp gif file: ${reason}`);
  try {
    for (;;) {
      if (o >= b.length) {
        // No trailer: giflib reports a read failure, which TF tolerates once a frame was read.
        if (frames.length > 0) break;
        throw new GifReadError(READ_FAILED);
      }
      const record = b[o++];
      if (record === 0x3b) break;
      if (record === 0x21) {
        if (o >= b.length) throw new GifReadError(READ_FAILED);
        const label = b[o++];
        const [data, next] = readSubBlocks(b, o);
        if (label === 0xf9 && data.length >= 4) transparentIndex = data[0] & 1 ? data[3] : -1;
        o = next;
        continue;
      }
      if (record !== 0x2c) throw new GifReadError('Wrong record type detected');
      if (o + 9 > b.length) throw new GifReadError(READ_FAILED);
      const u16 = (k: number) => b[o + k] | (b[o + k + 1] << 8);
      const frame: GifFrame = {
        left: u16(0),
        top: u16(2),
        width: u16(4),
        height: u16(6),
        interlaced: (b[o + 8] & 0x40) !== 0,
        colorTable: global,
        transparentIndex,
        minCodeSize: 0,
        lzw: new Uint8Array(0),
      };
      const fpacked = b[o + 8];
      o += 9;
      if (fpacked & 0x80) {
        frame.colorTable = readColorTable(b, o, fpacked);
        o += 3 * frame.colorTable.length;
      }
      if (o >= b.length) throw new GifReadError(READ_FAILED);
      frame.minCodeSize = b[o++];
      if (frame.minCodeSize < 1 || frame.minCodeSize > 11) throw new GifReadError('Image is defective, decoding aborted');
      [frame.lzw, o] = readSubBlocks(b, o);
      if (frame.width * frame.height > 0 && frame.lzw.length === 0) throw new GifReadError('Image EOF detected before image complete');
      checkImagePixels('GIF', frame.width, frame.height);
      checkGifFrames(frames.length + 1);
      frames.push(frame);
      transparentIndex = -1;
    }
  } catch (e) {
    if (e instanceof GifReadError) throw slurpError(e.message);
    throw e;
  }
  if (frames.length === 0) throw new GifReadError('gif file does not contain any image');
  return { frames, global };
}

/** LZW-decodes one frame's colour indices (row-major, de-interlaced). */
function framePixels(frame: GifFrame): ArrayLike<number> {
  const decoded = decompressFrame(
    {
      image: {
        code: 0x2c,
        descriptor: {
          left: frame.left,
          top: frame.top,
          width: frame.width,
          height: frame.height,
          lct: { exists: false, future: 0, interlaced: frame.interlaced, size: 0, sort: false },
        },
        // gifuct-js only indexes the blocks: the bytes as they are, not a JS array 8x their size.
        data: { minCodeSize: frame.minCodeSize, blocks: frame.lzw as unknown as number[] },
      },
      gce: {
        byteSize: 4,
        codes: [],
        delay: 0,
        terminator: 0,
        transparentColorIndex: 0,
        extras: { userInput: false, transparentColorGiven: false, future: 0, disposal: 0 },
      },
    },
    [],
    false,
  );
  return decoded.pixels;
}

/** Decodes GIF bytes to RGB frames as TF's gif::Decode does. */
export function decodeGif(bytes: Uint8Array, expandAnimations: boolean): DecodedImage {
  const fail = (reason: string) => invalidArgument(`Invalid GIF data (size ${bytes.length}), ${reason}`);
  let parsed: ReturnType<typeof parseGif>;
  try {
    parsed = parseGif(bytes);
  } catch (e) {
    if (e instanceof GifReadError) throw fail(e.message);
    throw e;
  }
  const frames = parsed.frames;
  let width = 0;
  let height = 0;
  for (const f of frames) {
    width = Math.max(width, f.width);
    height = Math.max(height, f.height);
  }
  const count = expandAnimations ? frames.length : 1;
  checkImagePixels('GIF', width, height, count);
  const frameSize = width * height * 3;
  const out = new Uint8Array(count * frameSize);
  for (let k = 0; k < count; k++) {
    const f = frames[k];
    const base = k * frameSize;
    if (k > 0) out.copyWithin(base, base - frameSize, base);
    const table = f.colorTable;
    if (!table) throw fail(`missing color map for frame ${k}`);
    const pixels = framePixels(f);
    const top = Math.max(f.top, 0);
    const left = Math.max(f.left, 0);
    const bottom = Math.min(f.top + f.height, height);
    const right = Math.min(f.left + f.width, width);
    for (let y = top; y < bottom; y++) {
      for (let x = left; x < right; x++) {
        const index = pixels[(y - f.top) * f.width + (x - f.left)];
        // LZW data that ends before the frame does leaves pixels undecoded, as giflib reports.
        if (index === undefined) throw fail('Image is defective, decoding aborted');
        const o = base + (y * width + x) * 3;
        if (index === f.transparentIndex) {
          if (k === 0) out.fill(0, o, o + 3);
          continue;
        }
        if (index >= table.length) throw fail(`found color index ${index} outside of color map range ${table.length}`);
        out[o] = table[index][0];
        out[o + 1] = table[index][1];
        out[o + 2] = table[index][2];
      }
    }
  }
  return { frames: count, height, width, channels: 3, data: out };
}
