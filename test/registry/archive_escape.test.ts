// Finding 1 of issue 13: archives whose entries chain links (a link to a
// folder then a file written through it, a link to a link, a hard link to a
// link, a folder replaced by a link) must never write outside the staging
// folder. Each archive is built byte by byte as an attacker would; the
// extraction must refuse it (INVALID_ARGUMENT naming the entry) and no file
// may appear anywhere next to or above the staging folder.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { detectArchive, extractArchive } from '../../registry/archive.js';
import { StatusError } from '../../runtime/errors.js';
import { paxRecord, rawTar, rawZip, type RawTarEntry, type RawZipEntry } from './archive_helpers.js';

/** The name every hostile archive tries to write, checked for next to and above the staging folder. */
const marker = `evil-${randomBytes(4).toString('hex')}.txt`;
let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-escape-'));
  fs.mkdirSync(path.join(root, 'jail'));
});
afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
  fs.rmSync(path.join(os.tmpdir(), marker), { force: true });
});

/** Every path under `dir` (links not followed), relative to it. */
function tree(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    out.push(p);
    if (e.isDirectory()) out.push(...tree(dir, p));
  }
  return out;
}

async function extract(bytes: Buffer, name: string): Promise<unknown> {
  const file = path.join(root, name);
  fs.writeFileSync(file, bytes);
  const dest = path.join(root, 'jail', 'out');
  try {
    await extractArchive(file, dest, (await detectArchive(file))!, { maxBytes: 1 << 20 });
    return undefined;
  } catch (e) {
    return e;
  }
}

/** Nothing outside jail/out, at any depth up to the system temp folder. */
function expectNothingOutside(archiveName: string): void {
  const outsideOut = tree(root).filter((p) => p !== archiveName && p !== 'jail' && p !== 'jail/out' && !p.startsWith('jail/out/'));
  expect(outsideOut).toEqual([]);
  expect(fs.existsSync(path.join(os.tmpdir(), marker))).toBe(false);
}

const evil = () => marker;

/** Tar archives whose links each pass a check of their own target, but chain to escape. */
const tarCases = (): [string, RawTarEntry[], string][] => [
  [
    'a link to ".", then a link through it to "..", then a file through that',
    [
      { name: 'a', type: '2', linkname: '.' },
      { name: 'a/b', type: '2', linkname: '..' },
      { name: `a/b/${evil()}`, data: 'owned' },
    ],
    'a',
  ],
  [
    'a link to a link',
    [
      { name: 'b', type: '2', linkname: '.' },
      { name: 'a', type: '2', linkname: 'b/..' },
      { name: `a/${evil()}`, data: 'owned' },
    ],
    'b',
  ],
  [
    'a link to "." and a link through it to "../x", then a file written at the dangling link',
    [
      { name: 'l', type: '2', linkname: '.' },
      { name: 'l/up', type: '2', linkname: `../${evil()}` },
      { name: 'up', data: 'owned' },
    ],
    'l',
  ],
  [
    'a hard link to a symbolic link',
    [
      { name: 'sub/', type: '5' },
      { name: 'sub/s', type: '2', linkname: '..' },
      { name: 'h', type: '1', linkname: 'sub/s' },
      { name: `h/${evil()}`, data: 'owned' },
    ],
    'sub/s',
  ],
  [
    'a folder replaced by a link under the same name',
    [
      { name: 'x', type: '2', linkname: '.' },
      { name: 'd/', type: '5' },
      { name: 'd', type: '2', linkname: 'x/..' },
      { name: `d/${evil()}`, data: 'owned' },
    ],
    'x',
  ],
  [
    'a link to a folder, then a file written through it',
    [
      { name: 'sub/', type: '5' },
      { name: 'sub/up', type: '2', linkname: '..' },
      { name: 'sub/up/up2', type: '2', linkname: '..' },
      { name: `sub/up/up2/${evil()}`, data: 'owned' },
    ],
    'sub/up',
  ],
];

const zipCases = (): [string, RawZipEntry[], string][] => [
  [
    'a link to ".", then a link through it to "..", then a file through that',
    [
      { name: 'a', data: '.', symlink: true },
      { name: 'a/b', data: '..', symlink: true },
      { name: `a/b/${evil()}`, data: 'owned' },
    ],
    'a',
  ],
  [
    'a link to a link',
    [
      { name: 'b', data: '.', symlink: true },
      { name: 'a', data: 'b/..', symlink: true },
      { name: `a/${evil()}`, data: 'owned' },
    ],
    'b',
  ],
  [
    'a link to a folder, then a file written through it',
    [
      { name: 'sub/', data: '' },
      { name: 'sub/up', data: '..', symlink: true },
      { name: 'sub/up/up2', data: '..', symlink: true },
      { name: `sub/up/up2/${evil()}`, data: 'owned' },
    ],
    'sub/up',
  ],
];

/** Entries refused on their own: names that leave the folder, special files, names used twice. */
const tarRefusals = (): [string, RawTarEntry[], RegExp][] => [
  ['"../" in the name', [{ name: `../${evil()}`, data: 'owned' }], /".."/],
  ['an absolute name', [{ name: `${os.tmpdir()}/${evil()}`, data: 'owned' }], /absolute paths are not allowed/],
  ['a pax header renaming the next entry to "../"', [{ name: 'x', type: 'x', data: paxRecord('path', `../${evil()}`) }, { name: 'ok.txt', data: 'owned' }], /".."/],
  ['a GNU long name that climbs out', [{ name: '././@LongLink', type: 'L', data: `../../${evil()}\0` }, { name: 'ok.txt', data: 'owned' }], /".."/],
  ['a FIFO', [{ name: 'fifo', type: '6' }], /"fifo": FIFO entries are not allowed/],
  ['a block device', [{ name: 'disk', type: '4' }], /"disk": BlockDevice entries are not allowed/],
  ['a character device', [{ name: 'tty', type: '3' }], /"tty": CharacterDevice entries are not allowed/],
  ['the same file twice', [{ name: 'a.txt', data: '1' }, { name: './a.txt', data: '2' }], /"\.\/a.txt": a.txt appears twice/],
  ['a file where a folder is', [{ name: 'd/f', data: '1' }, { name: 'd', data: '2' }], /"d": d appears twice/],
  ['a folder where a file is', [{ name: 'd', data: '1' }, { name: 'd/', type: '5' }], /"d\/": d is a file/],
  ['a file under a file', [{ name: 'd', data: '1' }, { name: 'd/f', data: '2' }], /"d\/f": d is a file/],
];

const zipRefusals = (): [string, RawZipEntry[], RegExp][] => [
  ['"../" in the name', [{ name: `../${evil()}`, data: 'owned' }], /invalid relative path/],
  ['an absolute name', [{ name: `${os.tmpdir()}/${evil()}`, data: 'owned' }], /absolute path/],
  ['a FIFO', [{ name: 'fifo', mode: 0o010644 }], /"fifo": only files and folders/],
  ['the same file twice', [{ name: 'a.txt', data: '1' }, { name: 'a.txt', data: '2' }], /"a.txt": a.txt appears twice/],
  ['a folder where a file is', [{ name: 'd', data: '1' }, { name: 'd/' }], /"d\/": d is a file/],
];

describe('archive extraction refuses entries that do not belong in a SavedModel', () => {
  for (const [title, entries, message] of tarRefusals()) {
    it(`tar.gz: ${title}`, async () => {
      const err = await extract(rawTar(entries), 'a.tgz');
      expectNothingOutside('a.tgz');
      expect(fs.existsSync(path.join(root, 'jail/out'))).toBe(false);
      expect(err).toBeInstanceOf(StatusError);
      expect((err as StatusError).code).toBe('INVALID_ARGUMENT');
      expect((err as StatusError).message).toMatch(message);
    });
  }
  for (const [title, entries, message] of zipRefusals()) {
    it(`zip: ${title}`, async () => {
      const err = await extract(rawZip(entries), 'a.zip');
      expectNothingOutside('a.zip');
      expect(err).toBeInstanceOf(StatusError);
      expect((err as StatusError).code).toBe('INVALID_ARGUMENT');
      expect((err as StatusError).message).toMatch(message);
    });
  }
});

describe('archive extraction never writes outside its folder', () => {
  for (const gzip of [true, false]) {
    for (const [title, entries, first] of tarCases()) {
      it(`tar${gzip ? '.gz' : ''}: ${title}`, async () => {
        const name = gzip ? 'a.tgz' : 'a.tar';
        const err = await extract(rawTar(entries, gzip), name);
        expectNothingOutside(name);
        expect(err).toBeInstanceOf(StatusError);
        expect((err as StatusError).code).toBe('INVALID_ARGUMENT');
        expect((err as StatusError).message).toContain(JSON.stringify(first));
      });
    }
  }
  for (const [title, entries, first] of zipCases()) {
    it(`zip: ${title}`, async () => {
      const err = await extract(rawZip(entries), 'a.zip');
      expectNothingOutside('a.zip');
      expect(err).toBeInstanceOf(StatusError);
      expect((err as StatusError).code).toBe('INVALID_ARGUMENT');
      expect((err as StatusError).message).toContain(JSON.stringify(first));
    });
  }
});
