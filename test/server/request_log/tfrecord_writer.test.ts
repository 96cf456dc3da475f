// The background TFRecord writer on a real folder: framing checked against
// @aws-crypto/crc32c, rotation by size with fsync'ed files, a full queue
// dropping (and reporting) records without waiting, a symbolic link out of
// the log folder refused, and the reader's errors for damaged files.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { crc32c as referenceCrc32c } from '@aws-crypto/crc32c';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger, type Logger } from '../../../serving/log.js';
import { logFiles, readRecords } from '../../../server/request_log/log_reader.js';
import { TfRecordFileWriter, type DropReason } from '../../../server/request_log/tfrecord_writer.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-tfrecord-writer-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** TF's masked CRC, from the reference implementation. */
const masked = (b: Uint8Array) => {
  const crc = referenceCrc32c(b);
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
};

function writer(dir: string, options: { maxFileBytes?: number; maxQueueBytes?: number; log?: Logger } = {}) {
  const written = new Map<string, number>();
  const dropped: [string, DropReason][] = [];
  const w = new TfRecordFileWriter({
    prefix: path.join(dir, 'm', 'requests'),
    root: dir,
    maxFileBytes: options.maxFileBytes ?? 1 << 20,
    maxQueueBytes: options.maxQueueBytes ?? 1 << 20,
    log: options.log ?? silentLogger,
    onWritten: (tag, n) => written.set(tag, (written.get(tag) ?? 0) + n),
    onDropped: (tag, reason) => dropped.push([tag, reason]),
  });
  return { w, written, dropped };
}

async function readAll(target: string): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (const file of await logFiles(target)) for await (const r of readRecords(file)) out.push(Buffer.from(r.data));
  return out;
}

const record = (i: number, size = 100) => Buffer.alloc(size, i % 251);

describe('TfRecordFileWriter', () => {
  it('writes TFRecord framing (length, masked CRC-32C of length, data, masked CRC-32C of data)', async () => {
    const dir = path.join(tmp, 'framing');
    const { w, written } = writer(dir);
    const data = Buffer.from('a PredictionLog would be here');
    expect(w.enqueue(data, 'm')).toBe(true);
    await w.close();
    const [file] = fs.readdirSync(path.join(dir, 'm'));
    expect(file).toMatch(/^requests\.\d{8}T\d{6}Z\.\d+\.000000\.tfrecord$/);
    const bytes = fs.readFileSync(path.join(dir, 'm', file));
    expect(bytes.length).toBe(12 + data.length + 4);
    expect(bytes.readBigUInt64LE(0)).toBe(BigInt(data.length));
    expect(bytes.readUInt32LE(8)).toBe(masked(bytes.subarray(0, 8)));
    expect(bytes.subarray(12, 12 + data.length)).toEqual(data);
    expect(bytes.readUInt32LE(12 + data.length)).toBe(masked(data));
    expect(written.get('m')).toBe(1);
  });

  it('rotates before a file would pass the size limit, keeping every record once and in order', async () => {
    const dir = path.join(tmp, 'rotation');
    const { w, written } = writer(dir, { maxFileBytes: 1000 });
    const records = Array.from({ length: 40 }, (_, i) => record(i, 100 + i));
    for (const [i, r] of records.entries()) {
      w.enqueue(r, 'm');
      if (i % 7 === 0) await w.flush(); // batches of different sizes
    }
    // One record larger than a whole file gets a file of its own.
    w.enqueue(record(99, 3000), 'm');
    await w.close();
    const files = await logFiles(path.join(dir, 'm', 'requests'));
    expect(files.length).toBeGreaterThan(5);
    const sizes = files.map((f) => fs.statSync(f).size);
    expect(sizes.filter((s) => s > 1000)).toEqual([3016]);
    expect(await readAll(path.join(dir, 'm', 'requests'))).toEqual([...records, record(99, 3000)]);
    expect(written.get('m')).toBe(41);
    expect(files.map((f) => f.match(/\.(\d{6})\.tfrecord$/)?.[1])).toEqual(files.map((_, i) => String(i).padStart(6, '0')));
  });

  it('drops what does not fit in the queue at once, and reports each drop', async () => {
    const dir = path.join(tmp, 'queue');
    // Each framed record is 116 bytes: three fit in 400.
    const { w, written, dropped } = writer(dir, { maxQueueBytes: 400 });
    const accepted = Array.from({ length: 10 }, (_, i) => w.enqueue(record(i), i < 5 ? 'a' : 'b'));
    expect(accepted).toEqual([true, true, true, false, false, false, false, false, false, false]);
    expect(dropped).toEqual([...Array(2).fill(['a', 'queue_full']), ...Array(5).fill(['b', 'queue_full'])]);
    expect(w.queuedBytes).toBe(348);
    await w.flush();
    expect(w.queuedBytes).toBe(0);
    // Room again once written.
    expect(w.enqueue(record(10), 'a')).toBe(true);
    await w.close();
    expect(written.get('a')).toBe(4);
    expect((await readAll(path.join(dir, 'm', 'requests'))).length).toBe(4);
    expect(w.enqueue(record(11), 'a')).toBe(false);
    expect(dropped.at(-1)).toEqual(['a', 'closed']);
  });

  it('refuses a folder that a symbolic link takes out of the log folder', async () => {
    const dir = path.join(tmp, 'symlink');
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-outside-'));
    try {
      fs.mkdirSync(dir, { recursive: true });
      fs.symlinkSync(outside, path.join(dir, 'm'));
      const errors: string[] = [];
      const { w, dropped } = writer(dir, { log: { ...silentLogger, error: (m) => errors.push(m) } });
      w.enqueue(record(1), 'm');
      await w.close();
      expect(dropped).toEqual([['m', 'write_error']]);
      expect(errors.join('\n')).toMatch(/resolves to .*outside the request log folder/);
      expect(fs.readdirSync(outside)).toEqual([]);
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });
});

describe('reading damaged files', () => {
  async function errorOf(file: string): Promise<{ message: string; records: number }> {
    let records = 0;
    try {
      for await (const _ of readRecords(file)) records++;
    } catch (e) {
      return { message: (e as Error).message, records };
    }
    throw new Error('read without error');
  }

  async function threeRecords(name: string): Promise<string> {
    const dir = path.join(tmp, name);
    const { w } = writer(dir);
    for (let i = 0; i < 3; i++) w.enqueue(record(i), 'm');
    await w.close();
    return (await logFiles(path.join(dir, 'm', 'requests')))[0];
  }

  it('names the record whose data checksum fails, after the good ones', async () => {
    const file = await threeRecords('bad-data');
    const bytes = fs.readFileSync(file);
    bytes[116 + 12 + 50] ^= 1;
    fs.writeFileSync(file, bytes);
    expect(await errorOf(file)).toEqual({ message: `Corrupted record 1 at offset 116 of ${file}: the checksum of its 100 data bytes does not match.`, records: 1 });
  });

  it('names a damaged length', async () => {
    const file = await threeRecords('bad-length');
    const bytes = fs.readFileSync(file);
    bytes[232 + 2] ^= 0x40;
    fs.writeFileSync(file, bytes);
    expect(await errorOf(file)).toEqual({ message: expect.stringMatching(/^Corrupted record 2 at offset 232 of .*: the checksum of its length does not match/), records: 2 });
  });

  it('names a file cut inside a record', async () => {
    const file = await threeRecords('truncated');
    fs.truncateSync(file, 116 * 3 - 10);
    expect(await errorOf(file)).toEqual({ message: expect.stringMatching(/^Truncated record 2 at offset 232 of .*: a 100-byte record, but the file ends 94 bytes into it/), records: 2 });
  });

  it('says a file that is not TFRecord is not', async () => {
    const file = path.join(tmp, 'not-tfrecord.tfrecord');
    fs.writeFileSync(file, 'hello, this is a text file and not a TFRecord file at all');
    expect((await errorOf(file)).message).toMatch(/^Corrupted record 0 at offset 0 .*not a TFRecord file, or damaged/);
  });
});
