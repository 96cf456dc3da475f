import { describe, expect, it } from 'vitest';
import { StatusError } from '../../../runtime/errors.js';
import { snappyCompress, snappyUncompress } from '../../../runtime/checkpoint/snappy.js';
import { readTable } from '../../../runtime/checkpoint/table.js';
import { TableBuilder } from '../../../runtime/checkpoint/table_builder.js';

const enc = new TextEncoder();

function build(entries: [string, string][], options = {}): Uint8Array {
  const b = new TableBuilder(options);
  for (const [k, v] of entries) b.add(enc.encode(k), enc.encode(v));
  return b.finish();
}

function entries(n: number): [string, string][] {
  return Array.from({ length: n }, (_, i) => [`layer_${String(i).padStart(4, '0')}/kernel`, `value ${i} `.repeat(1 + (i % 7))]);
}

function expectDataLoss(f: () => unknown, pattern: RegExp): void {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(StatusError);
    expect((e as StatusError).code).toBe('DATA_LOSS');
    expect((e as StatusError).message).toMatch(pattern);
    return;
  }
  throw new Error('expected DATA_LOSS');
}

describe('SSTable', () => {
  for (const compression of ['none', 'snappy'] as const) {
    it(`round-trips many keys across blocks and restart points (${compression})`, () => {
      const input = entries(500);
      const bytes = build(input, { blockSize: 512, restartInterval: 4, compression });
      const out = readTable(bytes, 'x.index').map((e) => [new TextDecoder().decode(e.key), new TextDecoder().decode(e.value)]);
      expect(out).toEqual(input);
    });
  }

  it('round-trips an empty table and the empty key', () => {
    expect(readTable(build([]), 'x')).toEqual([]);
    const t = readTable(build([['', 'header'], ['a', '1']]), 'x');
    expect(t.map((e) => e.key.length)).toEqual([0, 1]);
  });

  it('rejects keys out of order at write time', () => {
    const b = new TableBuilder();
    b.add(enc.encode('b'), enc.encode(''));
    expect(() => b.add(enc.encode('a'), enc.encode(''))).toThrow(/increasing order/);
  });

  it('reports damage as DATA_LOSS naming the file', () => {
    const good = build(entries(50), { blockSize: 256, compression: 'none' });
    expectDataLoss(() => readTable(good.subarray(0, 20), '/ckpt/v.index'), /\/ckpt\/v\.index.*too short/);
    expectDataLoss(() => readTable(good.subarray(0, good.length - 1), '/ckpt/v.index'), /bad magic number/);
    const flipped = good.slice();
    flipped[10] ^= 0x40;
    expectDataLoss(() => readTable(flipped, '/ckpt/v.index'), /block checksum mismatch/);
    // Cut the data blocks off but keep the footer: handles point past the end.
    const cut = new Uint8Array([...good.subarray(0, 100), ...good.subarray(good.length - 48)]);
    expectDataLoss(() => readTable(cut, '/ckpt/v.index'), /truncated block read|checksum/);
  });
});

describe('snappy', () => {
  it('round-trips repetitive, random and boundary-sized inputs', () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
    const inputs = [
      new Uint8Array(0),
      new Uint8Array(14).fill(3),
      enc.encode('abcabcabcabcabcabcabcabcabcabcabcabc'.repeat(50)),
      new Uint8Array(70000).map(rnd),
      new Uint8Array(140000).map((_, i) => (i % 251) ^ (i >> 12)),
      new Uint8Array(3000).fill(0),
    ];
    for (const input of inputs) {
      const c = snappyCompress(input);
      expect(Buffer.from(snappyUncompress(c)).equals(Buffer.from(input))).toBe(true);
    }
    expect(snappyCompress(new Uint8Array(3000)).length).toBeLessThan(200);
  });

  it('rejects malformed streams', () => {
    expect(() => snappyUncompress(Uint8Array.of(10, 0x00, 0x61))).toThrow(/decompressed 1 bytes, expected 10/);
    expect(() => snappyUncompress(Uint8Array.of(4, 0x01 | (0 << 2), 0x05))).toThrow(/offset out of range/);
  });
});
