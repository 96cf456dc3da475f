// Fuzzing the archive extractor (issue 13, "Soak and fuzz"): thousands of
// generated hostile or broken tar, tar.gz and zip files — random bytes,
// mutations of valid archives, and well-formed archives of random entries
// (names with "..", absolute paths, NUL and control characters, backslashes;
// links, hard links, devices, FIFOs, pax and GNU long-name headers; any
// mode). Each must end in a 4xx-class StatusError (INVALID_ARGUMENT or
// RESOURCE_EXHAUSTED) or in an extraction that holds only files and folders,
// all inside its folder: never another error, a hang, or a write outside.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectArchive, extractArchive } from '../../registry/archive.js';
import { StatusError } from '../../runtime/errors.js';
import { paxRecord, rawTar, rawZip, type RawTarEntry, type RawZipEntry } from './archive_helpers.js';

let root: string;
let run = 0;
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-fuzz-'));
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** Every path under `dir` that is not a regular file or folder, or that resolves outside it. */
function strays(dir: string): string[] {
  const out: string[] = [];
  const real = fs.realpathSync(dir);
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (!e.isFile()) out.push(p);
      if (!fs.realpathSync(p).startsWith(real + path.sep)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

const TIMEOUT_MS = 10_000;

/** Extracts `bytes` into a fresh folder and checks the outcome; returns the refusal code or 'ok'. */
async function check(bytes: Buffer): Promise<string> {
  const box = path.join(root, `run-${run++}`);
  fs.mkdirSync(box);
  const file = path.join(box, 'archive');
  fs.writeFileSync(file, bytes);
  const dest = path.join(box, 'out');
  try {
    const kind = await detectArchive(file);
    if (!kind) return 'not an archive';
    let timer: NodeJS.Timeout | undefined;
    const hang = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`extraction did not finish in ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
    });
    let outcome = 'ok';
    try {
      await Promise.race([extractArchive(file, dest, kind, { maxBytes: 1 << 20, maxEntries: 200 }), hang]);
    } catch (e) {
      if (!(e instanceof StatusError)) throw e;
      expect(['INVALID_ARGUMENT', 'RESOURCE_EXHAUSTED'], e.message).toContain(e.code);
      outcome = e.code;
    } finally {
      clearTimeout(timer);
    }
    // Nothing but the archive and (when accepted) the extraction, next to it or in the fuzz root.
    expect(fs.readdirSync(box).sort()).toEqual(outcome === 'ok' ? ['archive', 'out'] : ['archive']);
    expect(fs.readdirSync(root).filter((n) => !n.startsWith('run-'))).toEqual([]);
    if (outcome === 'ok') expect(strays(dest)).toEqual([]);
    return outcome;
  } finally {
    fs.rmSync(box, { recursive: true, force: true });
  }
}

// ---- generators

const segment = fc.oneof(
  fc.constantFrom('..', '.', '', 'saved_model.pb', 'variables', 'variables.index', 'a', 'b', '\\..', '..\\..', 'C:', 'x\0y', 'con', '\u00e9', 'a\nb', ' '),
  fc.string({ maxLength: 12 }),
);
const entryName = fc.oneof(
  { weight: 4, arbitrary: fc.array(segment, { minLength: 1, maxLength: 5 }).map((s) => s.join('/')) },
  { weight: 1, arbitrary: fc.array(segment, { minLength: 1, maxLength: 3 }).map((s) => `${root}/${s.join('/')}`) },
  { weight: 1, arbitrary: fc.array(segment, { minLength: 1, maxLength: 3 }).map((s) => `/${s.join('/')}`) },
);
const linkTarget = fc.oneof(entryName, fc.constantFrom('.', '..', '../..', 'a', 'a/..', root, '/etc/passwd'));
const data = fc.oneof(fc.constant(''), fc.string({ maxLength: 64 }), fc.uint8Array({ maxLength: 2048 }).map((a) => Buffer.from(a)));

const tarEntry: fc.Arbitrary<RawTarEntry> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ name: entryName, data }) },
  { weight: 2, arbitrary: fc.record({ name: entryName, type: fc.constant('5' as const) }) },
  { weight: 2, arbitrary: fc.record({ name: entryName, type: fc.constantFrom('1' as const, '2' as const), linkname: linkTarget }) },
  { weight: 1, arbitrary: fc.record({ name: entryName, type: fc.constantFrom('3' as const, '4' as const, '6' as const) }) },
  { weight: 1, arbitrary: fc.record({ name: fc.constant('pax'), type: fc.constant('x' as const), data: fc.tuple(fc.constantFrom('path', 'linkpath', 'size', 'mtime', 'junk'), fc.oneof(entryName, fc.nat().map(String))).map(([k, v]) => paxRecord(k, v)) }) },
  { weight: 1, arbitrary: fc.record({ name: fc.constant('././@LongLink'), type: fc.constant('L' as const), data: entryName }) },
  { weight: 1, arbitrary: fc.record({ name: entryName, type: fc.constantFrom('7', 'g', 'K', 'S', 'V', 'Z', '\0') as unknown as fc.Arbitrary<'0'>, data }) },
);

const zipEntry: fc.Arbitrary<RawZipEntry> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ name: entryName, data }) },
  { weight: 1, arbitrary: fc.record({ name: entryName.map((n) => `${n}/`) }) },
  { weight: 2, arbitrary: fc.record({ name: entryName, data: linkTarget, symlink: fc.constant(true) }) },
  { weight: 1, arbitrary: fc.record({ name: entryName, data, mode: fc.nat({ max: 0xffff }) }) },
);

/** A valid archive of a small SavedModel-shaped tree, to mutate. */
const VALID_ENTRIES = [
  { name: 'model/', type: '5' as const },
  { name: 'model/saved_model.pb', data: Buffer.alloc(700, 7) },
  { name: 'model/variables/variables.index', data: 'index' },
  { name: 'model/variables/variables.data-00000-of-00001', data: Buffer.alloc(1500, 1) },
];
const VALID = [
  rawTar(VALID_ENTRIES),
  rawTar(VALID_ENTRIES, false),
  rawZip(VALID_ENTRIES.map((e) => ({ name: e.name, data: e.data }))),
  zlib.gzipSync(rawTar(VALID_ENTRIES, false), { level: 1 }),
];

/** Byte-level mutations: overwrite, truncate, insert, duplicate a slice. */
const mutated = fc
  .tuple(
    fc.constantFrom(...VALID),
    fc.array(fc.tuple(fc.constantFrom('set', 'cut', 'insert', 'dup'), fc.nat(), fc.nat({ max: 255 }), fc.nat({ max: 600 })), { minLength: 1, maxLength: 6 }),
  )
  .map(([base, edits]) => {
    let b = Buffer.from(base);
    for (const [op, at, byte, len] of edits) {
      const i = at % Math.max(1, b.length);
      if (op === 'set') b[i] = byte;
      else if (op === 'cut') b = b.subarray(0, i);
      else if (op === 'insert') b = Buffer.concat([b.subarray(0, i), Buffer.alloc(1 + (len % 32), byte), b.subarray(i)]);
      else b = Buffer.concat([b.subarray(0, i), b.subarray(i, i + len), b.subarray(i)]);
    }
    return b;
  });

/** Random bytes behind each archive's magic, so every parser sees garbage. */
const garbage = fc
  .tuple(fc.constantFrom('gzip', 'zip', 'tar'), fc.uint8Array({ maxLength: 2048 }))
  .map(([kind, rest]) => {
    const body = Buffer.from(rest);
    if (kind === 'gzip') return Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]), body]);
    if (kind === 'zip') return Buffer.concat([Buffer.from([0x50, 0x4b, 3, 4]), body]);
    const tar = Buffer.alloc(Math.max(512, body.length));
    body.copy(tar);
    tar.write('ustar', 257, 'latin1');
    return tar;
  });

describe('archive extractor fuzz', () => {
  const seen = new Map<string, number>();
  const property = (arb: fc.Arbitrary<Buffer>) =>
    fc.asyncProperty(arb, async (bytes) => {
      const outcome = await check(bytes);
      seen.set(outcome, (seen.get(outcome) ?? 0) + 1);
    });

  it('tar, tar.gz and zip archives of random entries', async () => {
    await fc.assert(property(fc.tuple(fc.array(tarEntry, { maxLength: 8 }), fc.boolean()).map(([entries, gzip]) => rawTar(entries, gzip))), { numRuns: 600 });
    await fc.assert(property(fc.array(zipEntry, { maxLength: 8 }).map((entries) => rawZip(entries))), { numRuns: 400 });
  });

  it('mutations of valid archives', async () => {
    await fc.assert(property(mutated), { numRuns: 700 });
  });

  it('random bytes behind archive magic', async () => {
    await fc.assert(property(garbage), { numRuns: 400 });
    // Both outcomes occurred: the fuzz reached extraction, not only the first refusal.
    expect(seen.get('ok')).toBeGreaterThan(50);
    expect(seen.get('INVALID_ARGUMENT')).toBeGreaterThan(50);
  });
});
