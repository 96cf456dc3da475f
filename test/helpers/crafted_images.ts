/**
 * Small image files whose headers declare what an attacker wants (huge
 * dimensions, thousands of frames), for the decode-limit tests: each is a
 * few hundred bytes, well-formed as far as its header goes.
 */
import zlib from 'node:zlib';

function pngChunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** An 8-bit PNG (colour type `colorType`) declaring width x height, with `idat` as its image data. */
export function craftedPng(width: number, height: number, idat: Uint8Array = zlib.deflateSync(Buffer.alloc(64)), colorType = 0): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = colorType;
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', idat),
    pngChunk('IEND', new Uint8Array(0)),
  ]);
}

/** A baseline JPEG with `components` components declaring width x height (at most 65535 each), with a scan of a few bytes. */
export function craftedJpeg(width: number, height: number, components = 1): Buffer {
  const sof = [0xff, 0xc0, 0, 8 + 3 * components, 8, height >> 8, height & 255, width >> 8, width & 255, components];
  for (let c = 0; c < components; c++) sof.push(c + 1, 0x11, 0);
  const dqt = [0xff, 0xdb, 0, 67, 0, ...new Array<number>(64).fill(1)];
  // One DC and one AC Huffman table with a single 1-bit code each.
  const dht = (cls: number) => [0xff, 0xc4, 0, 20, cls, 1, ...new Array<number>(15).fill(0), 0];
  const sos = [0xff, 0xda, 0, 6 + 2 * components, components];
  for (let c = 0; c < components; c++) sos.push(c + 1, 0);
  sos.push(0, 63, 0);
  return Buffer.from([0xff, 0xd8, ...dqt, ...sof, ...dht(0x00), ...dht(0x10), ...sos, 0, 0, 0, 0, 0xff, 0xd9]);
}

/** A GIF of `frames` frames of width x height (at most 65535 each), 2-colour, each frame a tiny LZW stream. */
export function craftedGif(width: number, height: number, frames = 1): Buffer {
  const u16 = (v: number) => [v & 255, v >> 8];
  const parts: number[] = [0x47, 0x49, 0x46, 0x38, 0x39, 0x61, ...u16(width), ...u16(height), 0x80, 0, 0, 0, 0, 0, 255, 255, 255];
  for (let f = 0; f < frames; f++) {
    parts.push(0x2c, ...u16(0), ...u16(0), ...u16(width), ...u16(height), 0);
    // LZW min code size 2; one sub-block: clear, index 0, end of information.
    parts.push(2, 2, 0x44, 0x01, 0);
  }
  parts.push(0x3b);
  return Buffer.from(parts);
}
