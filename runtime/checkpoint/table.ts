/**
 * Reads the LevelDB-format SSTable TensorFlow uses for checkpoint indexes
 * (tensorflow/core/lib/io/table*.cc, block.cc, format.cc):
 *
 *   [data block + trailer]* [metaindex block + trailer] [index block + trailer] [footer]
 *   trailer = 1 byte compression type (0 none, 1 snappy) + fixed32 masked
 *             crc32c of the block bytes and the type byte
 *   block   = entries (varint shared, varint non_shared, varint value_len,
 *             key suffix, value), fixed32 restart offsets, fixed32 count
 *   footer  = metaindex handle, index handle (varint64 offset + size each),
 *             zero padding to 40 bytes, fixed64 magic 0xdb4775248b80fb57
 *
 * Every block checksum is verified. Any inconsistency is a DATA_LOSS
 * StatusError naming the file.
 */
import { dataLoss } from '../errors.js';
import { getFixed32, getVarint } from './coding.js';
import { crc32c, unmaskCrc } from './crc32c.js';
import { snappyUncompress } from './snappy.js';

export const TABLE_MAGIC_LO = 0x8b80fb57;
export const TABLE_MAGIC_HI = 0xdb477524;
export const BLOCK_TRAILER_SIZE = 5;
export const FOOTER_SIZE = 48;
export const NO_COMPRESSION = 0;
export const SNAPPY_COMPRESSION = 1;

export interface TableEntry {
  key: Uint8Array;
  value: Uint8Array;
}

interface BlockHandle {
  offset: number;
  size: number;
}

function decodeHandle(buf: Uint8Array, pos: number, limit: number): [BlockHandle, number] {
  const [offset, p1] = getVarint(buf, pos, limit);
  const [size, p2] = getVarint(buf, p1, limit);
  return [{ offset, size }, p2];
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

class TableFile {
  constructor(
    private readonly bytes: Uint8Array,
    private readonly name: string,
  ) {}

  fail(detail: string): never {
    throw dataLoss(`Unable to read checkpoint index ${this.name}: ${detail}`);
  }

  readBlock(h: BlockHandle, what: string): Uint8Array {
    const end = h.offset + h.size + BLOCK_TRAILER_SIZE;
    if (end > this.bytes.length) this.fail(`truncated block read (${what} at offset ${h.offset}, ${h.size} bytes; file has ${this.bytes.length})`);
    const withType = this.bytes.subarray(h.offset, h.offset + h.size + 1);
    const stored = unmaskCrc(getFixed32(this.bytes, h.offset + h.size + 1));
    if (crc32c(withType) !== stored) this.fail(`block checksum mismatch (${what} at offset ${h.offset})`);
    const contents = this.bytes.subarray(h.offset, h.offset + h.size);
    const type = this.bytes[h.offset + h.size];
    if (type === NO_COMPRESSION) return contents;
    if (type === SNAPPY_COMPRESSION) {
      try {
        return snappyUncompress(contents);
      } catch (e) {
        return this.fail(`corrupted compressed block contents (${what} at offset ${h.offset}: ${(e as Error).message})`);
      }
    }
    return this.fail(`bad block type ${type} (${what} at offset ${h.offset})`);
  }

  /** All entries of a block, keys reassembled from their shared prefixes. */
  blockEntries(block: Uint8Array, what: string): TableEntry[] {
    if (block.length < 4) this.fail(`bad block contents (${what})`);
    const numRestarts = getFixed32(block, block.length - 4);
    const maxRestarts = Math.floor((block.length - 4) / 4);
    if (numRestarts > maxRestarts) this.fail(`bad block contents (${what}: ${numRestarts} restart points)`);
    const limit = block.length - 4 - 4 * numRestarts;
    const out: TableEntry[] = [];
    let pos = 0;
    let lastKey = new Uint8Array(0);
    try {
      while (pos < limit) {
        let shared: number;
        let nonShared: number;
        let valueLength: number;
        [shared, pos] = getVarint(block, pos, limit, 5);
        [nonShared, pos] = getVarint(block, pos, limit, 5);
        [valueLength, pos] = getVarint(block, pos, limit, 5);
        if (shared > lastKey.length || pos + nonShared + valueLength > limit) throw new Error('entry overruns the block');
        const key = new Uint8Array(shared + nonShared);
        key.set(lastKey.subarray(0, shared));
        key.set(block.subarray(pos, pos + nonShared), shared);
        pos += nonShared;
        out.push({ key, value: block.subarray(pos, pos + valueLength) });
        pos += valueLength;
        lastKey = key;
      }
    } catch (e) {
      this.fail(`bad entry in block (${what}: ${(e as Error).message})`);
    }
    return out;
  }

  entries(): TableEntry[] {
    const b = this.bytes;
    if (b.length < FOOTER_SIZE) this.fail(`file is too short to be an sstable (${b.length} bytes)`);
    const footer = b.length - FOOTER_SIZE;
    if (getFixed32(b, b.length - 8) !== TABLE_MAGIC_LO || getFixed32(b, b.length - 4) !== TABLE_MAGIC_HI) {
      this.fail('not an sstable (bad magic number)');
    }
    let index: BlockHandle;
    try {
      const [, p] = decodeHandle(b, footer, b.length - 8); // metaindex: unused (TF writes it empty)
      [index] = decodeHandle(b, p, b.length - 8);
    } catch {
      return this.fail('bad block handle in footer');
    }
    const indexEntries = this.blockEntries(this.readBlock(index, 'index block'), 'index block');
    const out: TableEntry[] = [];
    for (const ie of indexEntries) {
      let handle: BlockHandle;
      try {
        [handle] = decodeHandle(ie.value, 0, ie.value.length);
      } catch {
        return this.fail('bad block handle in index block');
      }
      const what = `data block at offset ${handle.offset}`;
      for (const e of this.blockEntries(this.readBlock(handle, what), what)) {
        if (out.length > 0 && compareBytes(out[out.length - 1].key, e.key) >= 0) this.fail(`keys out of order in ${what}`);
        out.push(e);
      }
    }
    return out;
  }
}

/** Every entry of the table in `bytes`, in key order. `fileName` is used in errors. */
export function readTable(bytes: Uint8Array, fileName: string): TableEntry[] {
  return new TableFile(bytes, fileName).entries();
}
