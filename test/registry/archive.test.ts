// Safe archive extraction: hostile entries are refused before anything is
// written, well-formed archives extract intact.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { detectArchive, extractArchive } from '../../registry/archive.js';
import { safeSegments } from '../../serving/safe_path.js';
import { StatusError } from '../../runtime/errors.js';
import { FIXTURES } from '../server/helpers.js';
import { rawTar, rawZip, tarGzOf, zipOf } from './archive_helpers.js';

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-archive-'));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

const MB = 1 << 20;

function write(name: string, bytes: Buffer): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, bytes);
  return file;
}

async function refusal(file: string, maxBytes = MB): Promise<StatusError> {
  const kind = await detectArchive(file);
  const dest = path.join(tmp, 'out');
  try {
    await extractArchive(file, dest, kind!, { maxBytes });
  } catch (e) {
    return e as StatusError;
  }
  throw new Error('extraction was not refused');
}

/** Nothing may appear next to the extraction folder. */
const outside = () => fs.readdirSync(tmp).filter((n) => !['out', 'a.tgz', 'a.tar', 'a.zip'].includes(n));

describe('archive extraction', () => {
  it('recognises archives by their first bytes', async () => {
    expect(await detectArchive(write('x.bin', rawTar([{ name: 'a', data: 'x' }])))).toBe('tar.gz');
    expect(await detectArchive(write('y.bin', rawTar([{ name: 'a', data: 'x' }], false)))).toBe('tar');
    expect(await detectArchive(write('z.bin', rawZip([{ name: 'a', data: 'x' }])))).toBe('zip');
    expect(await detectArchive(write('t.txt', Buffer.from('hello')))).toBeUndefined();
  });

  it('extracts a tar.gz and a zip of a SavedModel intact', async () => {
    const src = path.join(FIXTURES, 'saved_model_half_plus_two_cpu/00000123');
    for (const [file, kind] of [
      [await tarGzOf(src, path.join(tmp, 'a.tgz'), 'model'), 'tar.gz'],
      [write('a.zip', zipOf(src, 'model')), 'zip'],
    ] as const) {
      const dest = path.join(tmp, 'out');
      await extractArchive(file, dest, kind, { maxBytes: MB });
      expect(fs.readFileSync(path.join(dest, 'model/variables/variables.index'))).toEqual(
        fs.readFileSync(path.join(src, 'variables/variables.index')),
      );
      fs.rmSync(dest, { recursive: true });
    }
  });

  it('refuses ".." entries, absolute paths, links pointing out and devices, writing nothing', async () => {
    const cases: [string, Buffer, RegExp][] = [
      ['a.tgz', rawTar([{ name: 'saved_model.pb', data: 'x' }, { name: '../evil.txt', data: 'owned' }]), /"..\/evil.txt".*outside/],
      ['a.tgz', rawTar([{ name: 'ok/../../evil.txt', data: 'owned' }]), /outside the upload folder/],
      ['a.tgz', rawTar([{ name: '/tmp/evil.txt', data: 'owned' }]), /absolute paths are not allowed/],
      ['a.tgz', rawTar([{ name: 'link', type: '2', linkname: '../../etc' }]), /symbolic links are not allowed \(this one points to "..\/..\/etc"\)/],
      ['a.tgz', rawTar([{ name: 'sub/link', type: '2', linkname: '/etc/passwd' }]), /"sub\/link": symbolic links are not allowed/],
      ['a.tgz', rawTar([{ name: 'hard', type: '1', linkname: '../outside' }]), /"hard": hard links are not allowed/],
      ['a.tgz', rawTar([{ name: 'dev', type: '3' }]), /CharacterDevice entries are not allowed/],
      ['a.zip', rawZip([{ name: 'saved_model.pb', data: 'x' }, { name: '../evil.txt', data: 'owned' }]), /invalid relative path|outside/],
      ['a.zip', rawZip([{ name: 'link', data: '../../etc', symlink: true }]), /"link": symbolic links are not allowed/],
    ];
    for (const [name, bytes, message] of cases) {
      const err = await refusal(write(name, bytes));
      expect(err, String(message)).toBeInstanceOf(StatusError);
      expect(err.code).toBe('INVALID_ARGUMENT');
      expect(err.message).toMatch(message);
      expect(outside()).toEqual([]);
      expect(fs.existsSync(path.join(tmp, 'out/saved_model.pb'))).toBe(false);
      fs.rmSync(path.join(tmp, 'out'), { recursive: true, force: true });
    }
  });

  // A SavedModel never needs links, and a link that points inside can be
  // chained into one that points out (test/registry/archive_escape.test.ts),
  // so every link is refused: the client is told to archive the files.
  it('refuses links even when they stay inside', async () => {
    for (const [name, bytes] of [
      ['a.tgz', rawTar([{ name: 'real/file.txt', data: 'hi' }, { name: 'alias', type: '2', linkname: 'real' }])],
      ['a.tgz', rawTar([{ name: 'real/file.txt', data: 'hi' }, { name: 'copy.txt', type: '1', linkname: 'real/file.txt' }])],
      ['a.zip', rawZip([{ name: 'real/file.txt', data: 'hi' }, { name: 'alias', data: 'real', symlink: true }])],
    ] as const) {
      const err = await refusal(write(name, bytes));
      expect(err.code).toBe('INVALID_ARGUMENT');
      expect(err.message).toMatch(/Refused archive entry "(alias|copy.txt)": (symbolic|hard) links are not allowed.*archive the files themselves/);
      expect(fs.existsSync(path.join(tmp, 'out'))).toBe(false);
    }
  });

  it('refuses an archive that expands beyond the size limit', async () => {
    const big = Buffer.alloc(64 * 1024, 0);
    for (const [name, bytes] of [
      ['a.tgz', rawTar([{ name: 'a', data: big }, { name: 'b', data: big }])],
      ['a.zip', rawZip([{ name: 'a', data: big }, { name: 'b', data: big }])],
    ] as const) {
      const err = await refusal(write(name, bytes), 100 * 1024);
      expect(err.code).toBe('RESOURCE_EXHAUSTED');
      expect(err.message).toMatch(/more than 102400 bytes/);
    }
  });

  it('splits entry paths safely', () => {
    expect(safeSegments('./a//b/./c')).toEqual(['a', 'b', 'c']);
    expect(() => safeSegments('a/../../b')).toThrow(/outside/);
    expect(() => safeSegments('C:/x')).toThrow(/absolute/);
    expect(() => safeSegments('a\\..\\..\\b')).toThrow(/outside/);
  });
});
