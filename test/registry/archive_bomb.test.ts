// Finding 5 (archive half) of issue 13: tar and zip bombs expanded to
// 1.7–4.3 GB in memory before the size limit tripped. Each archive here is a
// few MB that expands to 4 GiB (or declares it, or lies about it, or holds
// more entries than allowed); extraction must refuse it while streaming,
// with RESOURCE_EXHAUSTED, leave no folder behind, and keep the process's
// resident memory flat.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectArchive, extractArchive, type ArchiveLimits } from '../../registry/archive.js';
import { StatusError } from '../../runtime/errors.js';
import { startServer } from '../../server/serve.js';
import { rawTar, rawZip, tarHeader } from './archive_helpers.js';

const MiB = 1 << 20;
const CHUNK = 32 * MiB;
const COUNT = 128; // 128 × 32 MiB = 4 GiB expanded

let tmp: string;
/** 32 MiB of zeros as one gzip member, and as raw deflate (for zip entries). */
let zerosGz: Buffer;
let zerosDeflated: Buffer;
let zerosCrc: number;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-bomb-'));
  const zeros = Buffer.alloc(CHUNK);
  zerosGz = zlib.gzipSync(zeros);
  zerosDeflated = zlib.deflateRawSync(zeros);
  zerosCrc = zlib.crc32(zeros);
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A .tar.gz as concatenated gzip members (gunzip reads them as one stream): each entry's header, then its zeros. */
function tarBomb(entries: number, declaredSize = CHUNK): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < entries; i++) {
    parts.push(zlib.gzipSync(tarHeader({ name: `variables/variables.data-${String(i).padStart(5, '0')}-of-${entries}` }, declaredSize)));
    for (let sent = 0; sent < declaredSize; sent += CHUNK) parts.push(zerosGz);
  }
  parts.push(zlib.gzipSync(Buffer.alloc(1024)));
  return Buffer.concat(parts);
}

interface ZipEntrySpec {
  name: string;
  /** Offset of a local entry already written to share (an overlapping bomb), instead of a new one. */
  shareOffset?: number;
  declaredSize?: number;
  /** How many times the 32 MiB zero block is repeated in the deflate stream. */
  blocks?: number;
}

/** A zip whose entries are deflated zeros, built byte by byte (sizes as declared, data as given). */
function zipBomb(specs: ZipEntrySpec[]): Buffer {
  const flushed = zlib.deflateRawSync(Buffer.alloc(CHUNK), { finishFlush: zlib.constants.Z_FULL_FLUSH });
  const final = zlib.deflateRawSync(Buffer.alloc(0));
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const spec of specs) {
    const name = Buffer.from(spec.name);
    const blocks = spec.blocks ?? 1;
    const data = blocks === 1 ? zerosDeflated : Buffer.concat([...Array(blocks).fill(flushed), final]);
    const size = spec.declaredSize ?? CHUNK * blocks;
    let at = spec.shareOffset;
    if (at === undefined) {
      at = offset;
      const local = Buffer.alloc(30);
      local.writeUInt32LE(0x04034b50, 0);
      local.writeUInt16LE(20, 4);
      local.writeUInt16LE(8, 8); // deflate
      local.writeUInt32LE(zerosCrc, 14);
      local.writeUInt32LE(data.length, 18);
      local.writeUInt32LE(size, 22);
      local.writeUInt16LE(name.length, 26);
      locals.push(local, name, data);
      offset += local.length + name.length + data.length;
    }
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(zerosCrc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE((0o100644 << 16) >>> 0, 38);
    central.writeUInt32LE(at, 42);
    centrals.push(central, name);
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(specs.length, 8);
  end.writeUInt16LE(specs.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

/** Extracts `bytes`, sampling resident memory meanwhile; the error and the peak growth in MiB. */
async function extractMeasured(bytes: Buffer, name: string, limits: ArchiveLimits): Promise<{ err: unknown; growthMiB: number; dest: string }> {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, bytes);
  const dest = path.join(tmp, `out-${name}`);
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
  let err: unknown;
  try {
    await extractArchive(file, dest, (await detectArchive(file))!, limits);
  } catch (e) {
    err = e;
  } finally {
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    fs.rmSync(file);
  }
  return { err, growthMiB: (peak - before) / MiB, dest };
}

function expectRefused(r: { err: unknown; growthMiB: number; dest: string }, code: string, message: RegExp): void {
  expect(r.err, String(r.err)).toBeInstanceOf(StatusError);
  expect((r.err as StatusError).code).toBe(code);
  expect((r.err as StatusError).message).toMatch(message);
  expect(r.growthMiB, `resident memory grew ${r.growthMiB.toFixed(0)} MiB`).toBeLessThan(200);
  expect(fs.existsSync(r.dest)).toBe(false);
}

describe('archive bombs are refused while streaming, in flat memory', () => {
  it('a 4 MB .tar.gz of 128 files of 32 MiB zeros (4 GiB) stops at --max_upload_bytes', async () => {
    const bomb = tarBomb(COUNT);
    expect(bomb.length).toBeLessThan(8 * MiB);
    const r = await extractMeasured(bomb, 'files.tgz', { maxBytes: 64 * MiB });
    expectRefused(r, 'RESOURCE_EXHAUSTED', /expands to more than 67108864 bytes \(--max_upload_bytes\)/);
  });

  it('a .tar.gz whose one entry declares 4 GiB is refused at its header', async () => {
    const r = await extractMeasured(tarBomb(1, COUNT * CHUNK), 'one.tgz', { maxBytes: 1024 * MiB });
    expectRefused(r, 'RESOURCE_EXHAUSTED', /entry "variables\/variables.data-00000-of-1" alone declares 4294967296 bytes/);
  });

  it('a zip of 128 entries of 32 MiB deflated zeros (4 GiB) stops at --max_upload_bytes', async () => {
    const bomb = zipBomb(Array.from({ length: COUNT }, (_, i) => ({ name: `v/${i}` })));
    const r = await extractMeasured(bomb, 'files.zip', { maxBytes: 64 * MiB });
    expectRefused(r, 'RESOURCE_EXHAUSTED', /expands to more than 67108864 bytes/);
  });

  it('a zip whose entries all share one compressed block (an overlapping bomb) trips the compression ratio', async () => {
    const bomb = zipBomb([{ name: 'v/0' }, ...Array.from({ length: COUNT - 1 }, (_, i) => ({ name: `v/${i + 1}`, shareOffset: 0 }))]);
    expect(bomb.length).toBeLessThan(64 * 1024);
    const r = await extractMeasured(bomb, 'shared.zip', { maxBytes: 1024 * MiB });
    expectRefused(r, 'RESOURCE_EXHAUSTED', /over 1100 times its own \d+ bytes \(--max_archive_compression_ratio\)/);
  });

  it('a zip entry that declares 1 KB and inflates to 4 GiB is stopped at the declared size', async () => {
    const bomb = zipBomb([{ name: 'liar', declaredSize: 1024, blocks: COUNT }]);
    const r = await extractMeasured(bomb, 'liar.zip', { maxBytes: 1024 * MiB });
    expectRefused(r, 'INVALID_ARGUMENT', /"liar".*too many bytes/);
  });

  it('more entries than --max_archive_entries are refused (a zip from its directory, a tar while reading)', async () => {
    const entries = Array.from({ length: 10_001 }, (_, i) => ({ name: `assets/${i}` }));
    const zip = await extractMeasured(rawZip(entries), 'many.zip', { maxBytes: 1024 * MiB });
    expectRefused(zip, 'RESOURCE_EXHAUSTED', /more than 10000 files and folders \(--max_archive_entries\)/);
    const tgz = await extractMeasured(rawTar(entries.slice(0, 101)), 'many.tgz', { maxBytes: MiB, maxEntries: 100 });
    expectRefused(tgz, 'RESOURCE_EXHAUSTED', /more than 100 files and folders \(--max_archive_entries\)/);
  });

  it('a real archive at the best ratio deflate reaches (all-zero variables, ~1030:1) passes the default ratio limit', async () => {
    const variables = 'variables/variables.data-00000-of-00001';
    const tgz = zlib.gzipSync(rawTar([{ name: variables, data: Buffer.alloc(CHUNK) }], false), { level: 9 });
    const zip = zipBomb([{ name: variables }]);
    for (const [name, bytes] of [['zeros.tgz', tgz], ['zeros.zip', zip]] as const) {
      expect(CHUNK / bytes.length).toBeGreaterThan(1000);
      const r = await extractMeasured(bytes, name, { maxBytes: CHUNK + 4096 }); // the tar's headers and end blocks count too
      expect(r.err).toBeUndefined();
      expect(fs.statSync(path.join(r.dest, variables)).size).toBe(CHUNK);
      fs.rmSync(r.dest, { recursive: true });
    }
  });

  it('a gzip of 4 GiB of zeros alone ends at the first (zero) tar block', async () => {
    const r = await extractMeasured(Buffer.concat(Array(COUNT).fill(zerosGz)), 'zeros.tgz', { maxBytes: 1024 * MiB });
    expect(r.err).toBeUndefined();
    expect(r.growthMiB).toBeLessThan(200);
    expect(fs.readdirSync(r.dest)).toEqual([]);
  });
});

describe('bombs uploaded through the management API', () => {
  it('answer 413 RESOURCE_EXHAUSTED and leave no upload folder', async () => {
    const modelsDir = path.join(tmp, 'models');
    fs.mkdirSync(modelsDir);
    const server = await startServer({
      models: { kind: 'models_dir', dir: modelsDir, pollSeconds: 0 },
      restApiPort: 0,
      restApiHost: '127.0.0.1',
      registry: { path: ':memory:', modelsDir, maxUploadBytes: 64 * MiB },
      log: { info() {}, warn() {}, error() {} },
    });
    try {
      const bombs: [string, Buffer, RegExp][] = [
        ['bomb.tgz', tarBomb(COUNT), /more than 67108864 bytes \(--max_upload_bytes\)/],
        ['bomb.zip', zipBomb([{ name: 'v/0' }, ...Array.from({ length: COUNT - 1 }, (_, i) => ({ name: `v/${i + 1}`, shareOffset: 0 }))]), /--max_archive_compression_ratio/],
      ];
      for (const [name, bytes, message] of bombs) {
        const before = process.memoryUsage().rss;
        const res = await request(server.url).post('/api/v1/models/bomb/versions').attach('archive', bytes, name);
        expect(res.status, res.text).toBe(413);
        expect(res.body.code).toBe('RESOURCE_EXHAUSTED');
        expect(res.body.error).toMatch(message);
        expect((process.memoryUsage().rss - before) / MiB).toBeLessThan(200);
        expect(fs.readdirSync(modelsDir)).toEqual([]);
      }
    } finally {
      await server.stop();
    }
  });
});
