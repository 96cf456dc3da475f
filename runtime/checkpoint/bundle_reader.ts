/**
 * Reads a TensorBundle checkpoint (tensorflow/core/util/tensor_bundle), the
 * format of a SavedModel's variables/variables.{index,data-*}:
 *
 *  - `prefix.index`: an SSTable (table.ts) mapping tensor key → serialized
 *    BundleEntryProto; the empty key holds the BundleHeaderProto (num_shards,
 *    endianness, format version);
 *  - `prefix.data-0000K-of-0000N`: the tensors' bytes. Numeric tensors are
 *    raw little-endian elements (bool one byte each, float16/bfloat16 as
 *    16-bit patterns, widened to float32 on the host). String tensors are
 *    every length as a varint64, a masked crc32c of the lengths (each taken
 *    as a little-endian uint32, or uint64 past 4 GiB), then the bytes.
 *
 * The entry's masked crc32c is checked on every read: over the raw bytes for
 * numeric tensors; for strings over the lengths (as above), the stored
 * length checksum and the string bytes. Truncation or corruption of either
 * file is DATA_LOSS naming the file and the tensor key. Partitioned (sliced)
 * variables, variant tensors and big-endian bundles are UNIMPLEMENTED.
 */
import fs from 'node:fs';
import type { DType } from '../dtypes.js';
import { dataLoss, notFound, StatusError, unimplemented } from '../errors.js';
import type { TensorShape } from '../graph/types.js';
import { int64ToNumber } from '../proto/long.js';
import type { BundleEntryProtoMsg, BundleHeaderProtoMsg } from '../proto/messages.js';
import { protoType } from '../proto/schema.js';
import { dataTypeName, dtypeFromProto, shapeFromProto } from '../proto/tensor_proto.js';
import { decodeTensorBytes, rawElementSize } from '../proto/tensor_bytes.js';
import { allocHost, sizeOf, Tensor, type HostData } from '../tensor.js';
import { getFixed32, getVarint } from './coding.js';
import { crc32c, crc32cExtend, unmaskCrc } from './crc32c.js';
import { dataFilename, metaFilename } from './naming.js';
import { readTable } from './table.js';

/** Versions of the bundle format this reader understands (kTensorBundleVersion). */
export const TENSOR_BUNDLE_VERSION = 1;
export const TENSOR_BUNDLE_MIN_PRODUCER = 0;

export interface BundleEntry {
  dtype: DType;
  shape: number[];
  shardId: number;
  offset: number;
  size: number;
  /** The stored (masked) crc32c of the entry's bytes. */
  crc32c: number;
  /** True for the metadata entry of a partitioned variable (its data lives in slice entries). */
  sliced: boolean;
}

interface RawEntry {
  key: string;
  proto: BundleEntryProtoMsg;
}

const utf8 = new TextDecoder();

/** Dtypes whose host storage (tensor.ts) is byte for byte the checkpoint's raw little-endian layout. */
const RAW_IS_HOST_LAYOUT: ReadonlySet<DType> = new Set<DType>(['float32', 'float64', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'complex64', 'complex128']);

function fmtCrc(v: number): string {
  return String(v).padStart(8, '0');
}

export class BundleReader {
  private constructor(
    readonly prefix: string,
    readonly numShards: number,
    private readonly entries: Map<string, RawEntry>,
    private readonly shardSizes: number[],
  ) {}

  /**
   * Host arrays of tensors read before, while something still holds them:
   * reading a key again (a TF2 SavedModel's restore function and its object
   * graph often restore two variables from one key) shares the array instead
   * of holding the bytes twice. Tensor storage is never written in place.
   * Weak, so the reader (kept by the model for run-time RestoreV2) pins nothing.
   */
  private readonly recent = new Map<string, WeakRef<HostData>>();

  /** Opens `prefix.index` and checks the header and the data shards' presence. */
  static async open(prefix: string): Promise<BundleReader> {
    const indexPath = metaFilename(prefix);
    let bytes: Uint8Array;
    try {
      bytes = await fs.promises.readFile(indexPath);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'ENOENT') throw notFound(`Checkpoint index ${indexPath} not found: ${err.message}`);
      throw new StatusError('UNKNOWN', `Could not read checkpoint index ${indexPath}: ${err.message}`);
    }
    const table = readTable(bytes, indexPath);
    if (table.length === 0 || table[0].key.length !== 0) {
      throw dataLoss(`Unable to read checkpoint index ${indexPath}: failed to seek to header entry`);
    }
    let header: BundleHeaderProtoMsg;
    try {
      header = protoType('tensorflow.BundleHeaderProto').decode(table[0].value) as BundleHeaderProtoMsg;
    } catch {
      throw dataLoss(`Unable to read checkpoint index ${indexPath}: unable to parse header`);
    }
    checkHeader(header, indexPath);
    const numShards = header.numShards ?? 0;

    const EntryType = protoType('tensorflow.BundleEntryProto');
    const entries = new Map<string, RawEntry>();
    for (const { key: keyBytes, value } of table.slice(1)) {
      const key = utf8.decode(keyBytes);
      let proto: BundleEntryProtoMsg;
      try {
        proto = EntryType.decode(value) as BundleEntryProtoMsg;
      } catch {
        throw dataLoss(`Unable to read checkpoint index ${indexPath}: entry for key ${key} not parseable`);
      }
      entries.set(key, { key, proto });
    }

    const shardSizes: number[] = [];
    for (let shard = 0; shard < numShards; shard++) {
      const file = dataFilename(prefix, shard, numShards);
      try {
        shardSizes.push((await fs.promises.stat(file)).size);
      } catch (e) {
        throw notFound(`Checkpoint data file ${file} is missing: ${(e as Error).message}`);
      }
    }
    return new BundleReader(prefix, numShards, entries, shardSizes);
  }

  /** Tensor keys in the checkpoint (sorted; the header entry is not a key). */
  keys(): string[] {
    return [...this.entries.keys()];
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** Metadata of one entry; NOT_FOUND for an unknown key. */
  entry(key: string): BundleEntry {
    const raw = this.entries.get(key);
    if (!raw) throw notFound(`Key ${key} not found in checkpoint`);
    const p = raw.proto;
    const shape = this.validShape(key, p);
    return {
      dtype: dtypeFromProto(p.dtype, `checkpoint ${this.prefix}, key ${key}`),
      shape,
      shardId: p.shardId ?? 0,
      offset: int64ToNumber(p.offset ?? 0, `offset of ${key}`),
      size: int64ToNumber(p.size ?? 0, `size of ${key}`),
      crc32c: p.crc32c ?? 0,
      sliced: (p.slices ?? []).length > 0,
    };
  }

  /** Reads one tensor (host storage), verifying its checksum (once per array: see `recent`). */
  read(key: string): Tensor {
    const e = this.entry(key);
    if (e.sliced) {
      throw unimplemented(`Checkpoint ${this.prefix}: tensor ${key} is saved as partitioned slices, which is not supported`);
    }
    if (e.dtype === 'variant' || e.dtype === 'resource') {
      throw unimplemented(`Checkpoint ${this.prefix}: tensor ${key} has type ${dataTypeName(this.entries.get(key)!.proto.dtype ?? 0)}, which cannot be restored`);
    }
    if (e.shardId < 0 || e.shardId >= this.numShards) {
      throw dataLoss(`Checkpoint ${metaFilename(this.prefix)}: tensor ${key} names shard ${e.shardId} of ${this.numShards}`);
    }
    const n = sizeOf(e.shape);
    const file = dataFilename(this.prefix, e.shardId, this.numShards);
    if (e.dtype !== 'string') {
      const expected = n * rawElementSize(e.dtype)!;
      if (e.size !== expected) {
        throw dataLoss(`Invalid size in bundle entry: key ${key}; stored size ${e.size}; expected size ${expected}`);
      }
    } else if (e.size < n) {
      throw dataLoss(`Invalid size in bundle entry: key ${key}; stored size ${e.size}; expected size is at least ${n}`);
    }
    const shared = this.recent.get(key)?.deref();
    if (shared) return Tensor.fromHost(e.dtype, e.shape, shared);
    let actual: number;
    let data: HostData;
    if (e.dtype === 'string') {
      const bytes = this.readRange(file, key, e.offset, e.size, this.shardSizes[e.shardId]);
      const [strings, crc] = this.decodeStrings(bytes, n, file, key);
      actual = crc;
      data = strings;
    } else if (RAW_IS_HOST_LAYOUT.has(e.dtype)) {
      // The file's bytes are the host layout: read them straight into the tensor's own array.
      data = allocHost(e.dtype, n);
      const view = data as Uint8Array;
      const bytes = this.readRange(file, key, e.offset, e.size, this.shardSizes[e.shardId], new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
      actual = crc32c(bytes);
    } else {
      const bytes = this.readRange(file, key, e.offset, e.size, this.shardSizes[e.shardId]);
      actual = crc32c(bytes);
      data = decodeTensorBytes(e.dtype, bytes, n);
    }
    if (unmaskCrc(e.crc32c) !== actual) {
      throw dataLoss(
        `TensorBundle at ${this.prefix} shard ${e.shardId} (${e.size} bytes): Checksum does not match: stored ` +
          `${fmtCrc(unmaskCrc(e.crc32c))} vs. calculated on the restored bytes ${actual} (tensor ${key} in ${file})`,
      );
    }
    if (n > 0) this.recent.set(key, new WeakRef(data));
    return Tensor.fromHost(e.dtype, e.shape, data);
  }

  private validShape(key: string, p: BundleEntryProtoMsg): number[] {
    let shape: TensorShape;
    try {
      shape = shapeFromProto(p.shape);
    } catch {
      throw dataLoss(`Invalid tensor shape: ${key}`);
    }
    if (shape.unknownRank || shape.dims.some((d) => d < 0)) {
      throw dataLoss(`Invalid tensor shape: ${key} (${shape.unknownRank ? 'unknown rank' : `[${shape.dims.join(',')}]`})`);
    }
    return shape.dims;
  }

  /** Reads `size` bytes at `offset` into `into` (when given: exactly `size` long) or a new array. */
  private readRange(file: string, key: string, offset: number, size: number, fileSize: number, into?: Uint8Array): Uint8Array {
    if (offset + size > fileSize) {
      throw dataLoss(`Checkpoint data file ${file} is truncated: tensor ${key} needs bytes [${offset}, ${offset + size}) but the file has ${fileSize}`);
    }
    const out = into ?? new Uint8Array(size);
    if (size === 0) return out;
    const fd = fs.openSync(file, 'r');
    try {
      let done = 0;
      while (done < size) {
        const n = fs.readSync(fd, out, done, size - done, offset + done);
        if (n === 0) throw dataLoss(`Checkpoint data file ${file} is truncated: short read for tensor ${key}`);
        done += n;
      }
    } finally {
      fs.closeSync(fd);
    }
    return out;
  }

  /** [varint64 len]*n, fixed32 masked crc of lengths, bytes. Returns the strings and the running crc. */
  private decodeStrings(bytes: Uint8Array, n: number, file: string, key: string): [Uint8Array[], number] {
    const corrupt = (detail: string) => dataLoss(`Checkpoint data file ${file}: string tensor ${key} is corrupt: ${detail}`);
    if (bytes.length === 0) return [Array.from({ length: n }, () => new Uint8Array(0)), 0];
    const lengths: number[] = new Array(n);
    let crc = 0;
    let pos = 0;
    const word = new Uint8Array(8);
    const view = new DataView(word.buffer);
    for (let i = 0; i < n; i++) {
      try {
        [lengths[i], pos] = getVarint(bytes, pos);
      } catch (e) {
        throw corrupt((e as Error).message);
      }
      if (lengths[i] <= 0xffffffff) {
        view.setUint32(0, lengths[i], true);
        crc = crc32cExtend(crc, word.subarray(0, 4));
      } else {
        view.setBigUint64(0, BigInt(lengths[i]), true);
        crc = crc32cExtend(crc, word);
      }
    }
    if (pos + 4 > bytes.length) throw corrupt('string lengths run past the entry');
    const storedLengthCrc = getFixed32(bytes, pos);
    if (unmaskCrc(storedLengthCrc) !== crc) {
      throw dataLoss(
        `The length checksum does not match: expected ${fmtCrc(unmaskCrc(storedLengthCrc))} but actual is ${fmtCrc(crc)} (tensor ${key} in ${file})`,
      );
    }
    crc = crc32cExtend(crc, bytes.subarray(pos, pos + 4));
    pos += 4;
    const out: Uint8Array[] = new Array(n);
    for (let i = 0; i < n; i++) {
      if (pos + lengths[i] > bytes.length) throw corrupt('string bytes run past the entry');
      out[i] = bytes.slice(pos, pos + lengths[i]);
      crc = crc32cExtend(crc, out[i]);
      pos += lengths[i];
    }
    return [out, crc];
  }
}

function checkHeader(h: BundleHeaderProtoMsg, indexPath: string): void {
  if ((h.endianness ?? 0) !== 0) {
    throw unimplemented(`Checkpoint ${indexPath} was written on a big-endian machine; byte-swapping checkpoints is not supported`);
  }
  const v = h.version ?? {};
  const producer = v.producer ?? 0;
  const minConsumer = v.minConsumer ?? 0;
  if (producer < TENSOR_BUNDLE_MIN_PRODUCER) {
    throw failedVersion(`Checkpoint producer version ${producer} below min producer ${TENSOR_BUNDLE_MIN_PRODUCER} supported by this reader for checkpoint ${indexPath}. Please regenerate it.`);
  }
  if (TENSOR_BUNDLE_VERSION < minConsumer) {
    throw failedVersion(`Checkpoint min consumer version ${minConsumer} above current version ${TENSOR_BUNDLE_VERSION} for checkpoint ${indexPath}.`);
  }
  if ((v.badConsumers ?? []).includes(TENSOR_BUNDLE_VERSION)) {
    throw failedVersion(`Checkpoint ${indexPath} disallows consumer version ${TENSOR_BUNDLE_VERSION}.`);
  }
  if ((h.numShards ?? 0) < 1) throw dataLoss(`Unable to read checkpoint index ${indexPath}: header has num_shards ${h.numShards ?? 0}`);
}

function failedVersion(msg: string): StatusError {
  return new StatusError('INVALID_ARGUMENT', msg);
}
