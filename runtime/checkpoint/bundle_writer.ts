/**
 * Writes a TensorBundle checkpoint the way TensorFlow's BundleWriter does, so
 * TensorFlow (and bundle_reader.ts) can restore it:
 *
 *  - one data shard `prefix.data-00000-of-00001` holding the tensors in the
 *    order given, back to back (no alignment padding), in the layout
 *    bundle_reader.ts describes;
 *  - `prefix.index`: an SSTable (table_builder.ts) with the
 *    BundleHeaderProto under the empty key (num_shards 1, LITTLE endian,
 *    version producer 1), then each key's BundleEntryProto in byte order,
 *    with the masked crc32c of the bytes written for it.
 *
 * Files are written to temporary names and renamed into place, data first.
 * Resource and variant tensors cannot be saved (UNIMPLEMENTED); an empty or
 * duplicate key is INVALID_ARGUMENT.
 */
import fs from 'node:fs';
import path from 'node:path';
import { dtypeToEnum } from '../dtypes.js';
import { invalidArgument, unimplemented } from '../errors.js';
import type { BundleEntryProtoMsg, BundleHeaderProtoMsg } from '../proto/messages.js';
import { protoType } from '../proto/schema.js';
import { shapeToProto } from '../proto/tensor_proto.js';
import { encodeTensorBytes } from '../proto/tensor_bytes.js';
import type { Tensor } from '../tensor.js';
import { putFixed32, putVarint } from './coding.js';
import { crc32c, crc32cExtend, maskCrc } from './crc32c.js';
import { TENSOR_BUNDLE_VERSION } from './bundle_reader.js';
import { dataFilename, metaFilename } from './naming.js';
import { TableBuilder, type TableOptions } from './table_builder.js';

export interface EncodedBundle {
  /** Contents of `prefix.index`. */
  index: Uint8Array;
  /** Contents of `prefix.data-00000-of-00001`. */
  data: Uint8Array;
}

const utf8 = new TextEncoder();

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/** String tensor bytes and their (unmasked) crc32c: varint64 lengths, masked length crc, bytes. */
function encodeStrings(strings: Uint8Array[]): [Uint8Array, number] {
  const head: number[] = [];
  let crc = 0;
  const word = new Uint8Array(8);
  const view = new DataView(word.buffer);
  for (const s of strings) {
    putVarint(head, s.length);
    view.setUint32(0, s.length, true);
    crc = crc32cExtend(crc, word.subarray(0, 4));
  }
  const lengthCrc: number[] = [];
  putFixed32(lengthCrc, maskCrc(crc));
  crc = crc32cExtend(crc, Uint8Array.from(lengthCrc));
  let total = head.length + 4;
  for (const s of strings) total += s.length;
  const out = new Uint8Array(total);
  out.set(head, 0);
  out.set(lengthCrc, head.length);
  let pos = head.length + 4;
  for (const s of strings) {
    out.set(s, pos);
    pos += s.length;
    crc = crc32cExtend(crc, s);
  }
  return [out, crc];
}

function tensorBytes(key: string, t: Tensor): [Uint8Array, number] {
  if (t.dtype === 'resource' || t.dtype === 'variant') {
    throw unimplemented(`Cannot save tensor ${key}: ${t.dtype} tensors have no checkpoint encoding here`);
  }
  if (t.dtype === 'string') return encodeStrings(t.values() as Uint8Array[]);
  const bytes = encodeTensorBytes(t.dtype, t.values());
  return [bytes, crc32c(bytes)];
}

/** The index and data file contents for `tensors` (data in the given order). */
export function encodeBundle(tensors: Map<string, Tensor> | readonly (readonly [string, Tensor])[], options: TableOptions = {}): EncodedBundle {
  const list = tensors instanceof Map ? [...tensors.entries()] : [...tensors];
  const entries: { key: Uint8Array; entry: BundleEntryProtoMsg }[] = [];
  const seen = new Set<string>();
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [key, tensor] of list) {
    if (key === '') throw invalidArgument('The empty key is reserved for the checkpoint header');
    if (seen.has(key)) throw invalidArgument(`Adding duplicate key: ${key}`);
    seen.add(key);
    const [bytes, crc] = tensorBytes(key, tensor);
    const entry: BundleEntryProtoMsg = { dtype: dtypeToEnum(tensor.dtype), shape: shapeToProto({ unknownRank: false, dims: [...tensor.shape] }) };
    // proto3 defaults (shard 0, offset 0, size 0, crc 0) are left out, as TF's serializer does.
    if (offset !== 0) entry.offset = offset;
    if (bytes.length !== 0) entry.size = bytes.length;
    const masked = maskCrc(crc);
    if (masked !== 0) entry.crc32c = masked;
    entries.push({ key: utf8.encode(key), entry });
    chunks.push(bytes);
    offset += bytes.length;
  }
  entries.sort((a, b) => compareBytes(a.key, b.key));

  const header: BundleHeaderProtoMsg = { numShards: 1, version: { producer: TENSOR_BUNDLE_VERSION } };
  const table = new TableBuilder(options);
  table.add(new Uint8Array(0), protoType('tensorflow.BundleHeaderProto').encode(header).finish());
  const EntryType = protoType('tensorflow.BundleEntryProto');
  for (const { key, entry } of entries) table.add(key, EntryType.encode(entry).finish());

  const data = new Uint8Array(offset);
  let pos = 0;
  for (const c of chunks) {
    data.set(c, pos);
    pos += c.length;
  }
  return { index: table.finish(), data };
}

/**
 * Writes `prefix.index` and `prefix.data-00000-of-00001`, creating the
 * directory if needed. `options` defaults to TensorFlow's (snappy-compressed
 * index blocks, as TF 1.14+ writes them; pass compression 'none' for readers
 * older than TF 1.1).
 */
export async function writeBundle(
  prefix: string,
  tensors: Map<string, Tensor> | readonly (readonly [string, Tensor])[],
  options: TableOptions = {},
): Promise<void> {
  const { index, data } = encodeBundle(tensors, options);
  await fs.promises.mkdir(path.dirname(path.resolve(prefix)), { recursive: true });
  const suffix = `.tempstate${process.pid}${Math.floor(Math.random() * 1e12)}`;
  const dataPath = dataFilename(prefix, 0, 1);
  const indexPath = metaFilename(prefix);
  try {
    await fs.promises.writeFile(dataPath + suffix, data);
    await fs.promises.rename(dataPath + suffix, dataPath);
    await fs.promises.writeFile(indexPath + suffix, index);
    await fs.promises.rename(indexPath + suffix, indexPath);
  } finally {
    await fs.promises.rm(dataPath + suffix, { force: true });
    await fs.promises.rm(indexPath + suffix, { force: true });
  }
}
