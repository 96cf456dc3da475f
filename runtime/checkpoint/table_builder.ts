/**
 * Writes the SSTable format table.ts reads, block for block the way
 * TensorFlow's TableBuilder does with its default options (which BundleWriter
 * uses): 256 KiB blocks, a restart point every 16 keys in data blocks and
 * every key in the index block, shortest-separator index keys, an empty
 * metaindex block, the 48-byte footer, and snappy compression of a block
 * only when it saves at least 1/8 of its size. Keys must be added in
 * strictly increasing byte order.
 */
import { internal } from '../errors.js';
import { putFixed32, putVarint } from './coding.js';
import { crc32cExtend, maskCrc } from './crc32c.js';
import { snappyCompress } from './snappy.js';
import { NO_COMPRESSION, SNAPPY_COMPRESSION, TABLE_MAGIC_HI, TABLE_MAGIC_LO } from './table.js';

export interface TableOptions {
  /** Approximate uncompressed bytes per data block (TF default 262144). */
  blockSize?: number;
  /** Keys between restart points in data blocks (TF default 16). */
  restartInterval?: number;
  /** Block compression (TF default 'snappy'; TensorFlow before 1.1 can only read 'none'). */
  compression?: 'none' | 'snappy';
}

const MAX_HANDLE_LENGTH = 20;

class BlockBuilder {
  private buffer: number[] = [];
  private restarts: number[] = [0];
  private counter = 0;
  private lastKey: Uint8Array = new Uint8Array(0);

  constructor(private readonly restartInterval: number) {}

  get empty(): boolean {
    return this.buffer.length === 0;
  }

  add(key: Uint8Array, value: Uint8Array): void {
    let shared = 0;
    if (this.counter < this.restartInterval) {
      const n = Math.min(this.lastKey.length, key.length);
      while (shared < n && this.lastKey[shared] === key[shared]) shared++;
    } else {
      this.restarts.push(this.buffer.length);
      this.counter = 0;
    }
    putVarint(this.buffer, shared);
    putVarint(this.buffer, key.length - shared);
    putVarint(this.buffer, value.length);
    for (let i = shared; i < key.length; i++) this.buffer.push(key[i]);
    for (let i = 0; i < value.length; i++) this.buffer.push(value[i]);
    this.lastKey = key;
    this.counter++;
  }

  sizeEstimate(): number {
    return this.buffer.length + this.restarts.length * 4 + 4;
  }

  finish(): Uint8Array {
    const out = this.buffer;
    for (const r of this.restarts) putFixed32(out, r);
    putFixed32(out, this.restarts.length);
    const bytes = Uint8Array.from(out);
    this.buffer = [];
    this.restarts = [0];
    this.counter = 0;
    this.lastKey = new Uint8Array(0);
    return bytes;
  }
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/** A short key k with start <= k < limit (table_builder.cc FindShortestSeparator). */
function shortestSeparator(start: Uint8Array, limit: Uint8Array): Uint8Array {
  const n = Math.min(start.length, limit.length);
  let i = 0;
  while (i < n && start[i] === limit[i]) i++;
  if (i >= n) return start;
  const b = start[i];
  if (b < 0xff && b + 1 < limit[i]) {
    const out = start.slice(0, i + 1);
    out[i]++;
    return out;
  }
  return start;
}

/** A short key k >= key (FindShortSuccessor). */
function shortSuccessor(key: Uint8Array): Uint8Array {
  for (let i = 0; i < key.length; i++) {
    if (key[i] !== 0xff) {
      const out = key.slice(0, i + 1);
      out[i]++;
      return out;
    }
  }
  return key;
}

function encodeHandle(offset: number, size: number): Uint8Array {
  const out: number[] = [];
  putVarint(out, offset);
  putVarint(out, size);
  return Uint8Array.from(out);
}

export class TableBuilder {
  private readonly chunks: Uint8Array[] = [];
  private offset = 0;
  private readonly blockSize: number;
  private readonly compress: boolean;
  private readonly data: BlockBuilder;
  private readonly index = new BlockBuilder(1);
  private lastKey: Uint8Array | undefined;
  private pendingHandle: Uint8Array | undefined;
  private finished = false;

  constructor(options: TableOptions = {}) {
    this.blockSize = options.blockSize ?? 262144;
    this.compress = (options.compression ?? 'snappy') === 'snappy';
    this.data = new BlockBuilder(options.restartInterval ?? 16);
  }

  add(key: Uint8Array, value: Uint8Array): void {
    if (this.finished) throw internal('TableBuilder.add after finish');
    if (this.lastKey !== undefined) {
      if (compareBytes(key, this.lastKey) <= 0) throw internal('table keys must be added in strictly increasing order');
      if (key.length + value.length >= 2 * this.blockSize) this.flush();
    }
    if (this.pendingHandle) {
      this.index.add(shortestSeparator(this.lastKey!, key), this.pendingHandle);
      this.pendingHandle = undefined;
    }
    this.lastKey = key;
    this.data.add(key, value);
    if (this.data.sizeEstimate() >= this.blockSize) this.flush();
  }

  private flush(): void {
    if (this.data.empty) return;
    this.pendingHandle = this.writeBlock(this.data.finish());
  }

  private writeBlock(raw: Uint8Array): Uint8Array {
    let contents = raw;
    let type = NO_COMPRESSION;
    if (this.compress) {
      const compressed = snappyCompress(raw);
      if (compressed.length < raw.length - Math.floor(raw.length / 8)) {
        contents = compressed;
        type = SNAPPY_COMPRESSION;
      }
    }
    const handle = encodeHandle(this.offset, contents.length);
    const crc = maskCrc(crc32cExtend(crc32cExtend(0, contents), Uint8Array.of(type)));
    const trailer: number[] = [type];
    putFixed32(trailer, crc);
    this.chunks.push(contents, Uint8Array.from(trailer));
    this.offset += contents.length + trailer.length;
    return handle;
  }

  /** Writes the remaining blocks and the footer; returns the whole file. */
  finish(): Uint8Array {
    if (this.finished) throw internal('TableBuilder.finish called twice');
    this.flush();
    this.finished = true;
    const metaindex = this.writeBlock(new BlockBuilder(16).finish());
    if (this.pendingHandle) {
      this.index.add(shortSuccessor(this.lastKey!), this.pendingHandle);
      this.pendingHandle = undefined;
    }
    const index = this.writeBlock(this.index.finish());
    const footer = new Uint8Array(2 * MAX_HANDLE_LENGTH + 8);
    footer.set(metaindex, 0);
    footer.set(index, metaindex.length);
    const magic: number[] = [];
    putFixed32(magic, TABLE_MAGIC_LO);
    putFixed32(magic, TABLE_MAGIC_HI);
    footer.set(magic, 2 * MAX_HANDLE_LENGTH);
    this.chunks.push(footer);
    const out = new Uint8Array(this.offset + footer.length);
    let pos = 0;
    for (const c of this.chunks) {
      out.set(c, pos);
      pos += c.length;
    }
    return out;
  }
}
