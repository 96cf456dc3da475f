/**
 * Reads TFRecord files (tensorflow/core/lib/io/record_reader.cc): each record
 * is a little-endian uint64 length, the masked CRC-32C of those 8 bytes, the
 * data, and the masked CRC-32C of the data. A bad checksum or a truncated
 * record is DATA_LOSS.
 */
import { crc32c, maskCrc } from '../runtime/checkpoint/crc32c.js';
import { dataLoss } from '../runtime/errors.js';

const maskedCrc32c = (data: Uint8Array) => maskCrc(crc32c(data));

export function* readTfRecords(bytes: Uint8Array, source = 'TFRecord file'): Generator<Uint8Array> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  while (pos < bytes.length) {
    if (pos + 12 > bytes.length) throw dataLoss(`truncated record at offset ${pos} in ${source}`);
    const header = bytes.subarray(pos, pos + 8);
    if (view.getUint32(pos + 8, true) !== maskedCrc32c(header)) throw dataLoss(`corrupted record at offset ${pos} in ${source}`);
    const length = Number(view.getBigUint64(pos, true));
    const start = pos + 12;
    if (start + length + 4 > bytes.length) throw dataLoss(`truncated record at offset ${pos} in ${source}`);
    const data = bytes.subarray(start, start + length);
    if (view.getUint32(start + length, true) !== maskedCrc32c(data)) throw dataLoss(`corrupted record at offset ${pos} in ${source}`);
    yield data;
    pos = start + length + 4;
  }
}

/** Encodes records as a TFRecord file (for writing warm-up files and tests). */
export function writeTfRecords(records: readonly Uint8Array[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const data of records) {
    const header = new Uint8Array(12);
    const view = new DataView(header.buffer);
    view.setBigUint64(0, BigInt(data.length), true);
    view.setUint32(8, maskedCrc32c(header.subarray(0, 8)), true);
    const footer = new Uint8Array(4);
    new DataView(footer.buffer).setUint32(0, maskedCrc32c(data), true);
    parts.push(header, data, footer);
  }
  return Buffer.concat(parts);
}
