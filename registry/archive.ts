/**
 * Safe extraction of uploaded archives (.tar.gz / .tgz / .tar with node-tar,
 * .zip with yauzl), recognised by their first bytes, not their names.
 *
 * Every entry is checked before anything is written (a zip's symbolic link
 * targets, stored as entry data, when the link is made), and the archive
 * is refused (INVALID_ARGUMENT, naming the entry) when one would land outside
 * the target folder: an absolute path, a `..` segment, a symbolic or hard link
 * pointing out, or a device/FIFO. The total size of the extracted files is
 * capped (RESOURCE_EXHAUSTED beyond `maxBytes`), so a small archive cannot
 * expand without bound. After extraction, every link is resolved once more
 * and must stay inside.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import yauzl from 'yauzl';
import { invalidArgument, resourceExhausted, StatusError } from '../runtime/errors.js';

export type ArchiveKind = 'tar.gz' | 'tar' | 'zip';

/** What kind of archive `file` is, from its first bytes; undefined when none we read. */
export async function detectArchive(file: string): Promise<ArchiveKind | undefined> {
  const fd = await fs.promises.open(file, 'r');
  try {
    const head = Buffer.alloc(512);
    const { bytesRead } = await fd.read(head, 0, 512, 0);
    if (bytesRead >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'tar.gz';
    if (bytesRead >= 4 && head.readUInt32LE(0) === 0x04034b50) return 'zip';
    if (bytesRead >= 4 && head.readUInt32LE(0) === 0x06054b50) return 'zip'; // empty zip
    if (bytesRead >= 262 && head.toString('latin1', 257, 262) === 'ustar') return 'tar';
    return undefined;
  } finally {
    await fd.close();
  }
}

const refuse = (entry: string, why: string) => invalidArgument(`Refused archive entry ${JSON.stringify(entry)}: ${why}.`);

/**
 * The entry's path as POSIX segments, or a refusal when it is absolute or
 * climbs out with `..`. Empty and `.` segments are dropped.
 */
export function safeSegments(entryPath: string): string[] {
  if (entryPath.includes('\0')) throw refuse(entryPath, 'the path contains a NUL byte');
  if (entryPath.startsWith('/') || /^[A-Za-z]:/.test(entryPath) || entryPath.startsWith('\\')) {
    throw refuse(entryPath, 'absolute paths are not allowed; paths must be relative to the SavedModel folder');
  }
  const segments = entryPath.split(/[/\\]/).filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) throw refuse(entryPath, '".." would place it outside the upload folder');
  return segments;
}

/** Refuses a link whose target (relative to `fromDir`, POSIX) leaves the archive root. */
function checkLinkTarget(entryPath: string, fromSegments: string[], target: string, kind: string): void {
  if (target.startsWith('/') || /^[A-Za-z]:/.test(target)) throw refuse(entryPath, `${kind} to an absolute path (${target}) points outside the upload`);
  const resolved = path.posix.normalize(path.posix.join(fromSegments.join('/') || '.', target));
  if (resolved === '..' || resolved.startsWith('../')) throw refuse(entryPath, `${kind} to ${target} points outside the upload`);
}

function tooLarge(maxBytes: number): StatusError {
  return resourceExhausted(`The archive expands to more than ${maxBytes} bytes (--max_upload_bytes).`);
}

export async function extractArchive(file: string, dest: string, kind: ArchiveKind, maxBytes: number): Promise<void> {
  await fs.promises.mkdir(dest, { recursive: true });
  if (kind === 'zip') await extractZip(file, dest, maxBytes);
  else await extractTar(file, dest, maxBytes);
  await checkLinksInside(dest);
  await makeOwnerWritable(dest);
}

/** Archived read-only modes would keep the version folder from being moved or purged later. */
async function makeOwnerWritable(dir: string): Promise<void> {
  await fs.promises.chmod(dir, ((await fs.promises.stat(dir)).mode & 0o7777) | 0o700);
  for (const entry of await fs.promises.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) await makeOwnerWritable(p);
    else if (entry.isFile()) await fs.promises.chmod(p, ((await fs.promises.stat(p)).mode & 0o7777) | 0o600);
  }
}

// ---- tar

const TAR_TYPES = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory', 'SymbolicLink', 'Link']);

async function extractTar(file: string, dest: string, maxBytes: number): Promise<void> {
  let total = 0;
  let refusal: StatusError | undefined;
  const check = (entry: tar.ReadEntry) => {
    if (refusal || entry.meta) return;
    try {
      if (!TAR_TYPES.has(entry.type)) throw refuse(entry.path, `${entry.type} entries are not allowed`);
      const segments = safeSegments(entry.path);
      if (entry.type === 'SymbolicLink') checkLinkTarget(entry.path, segments.slice(0, -1), entry.linkpath ?? '', 'symbolic link');
      if (entry.type === 'Link') checkLinkTarget(entry.path, [], entry.linkpath ?? '', 'hard link');
      total += entry.size;
      if (total > maxBytes) throw tooLarge(maxBytes);
    } catch (e) {
      refusal = e as StatusError;
    }
  };
  try {
    await tar.t({ file, onReadEntry: check, strict: true });
  } catch (e) {
    throw refusal ?? invalidArgument(`The archive could not be read as a tar file: ${(e as Error).message}`);
  }
  if (refusal) throw refusal;
  try {
    await tar.x({ file, cwd: dest, strict: true, preservePaths: false, preserveOwner: false, noMtime: false });
  } catch (e) {
    throw invalidArgument(`The archive could not be extracted: ${(e as Error).message}`);
  }
}

// ---- zip

function openZip(file: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true, decodeStrings: true, validateEntrySizes: true, autoClose: false }, (err, zip) =>
      err ? reject(err) : resolve(zip),
    );
  });
}

/** Every entry of the central directory, each checked before anything is written. */
function readZipEntries(zip: yauzl.ZipFile, maxBytes: number): Promise<yauzl.Entry[]> {
  return new Promise((resolve, reject) => {
    const entries: yauzl.Entry[] = [];
    let declared = 0;
    zip.on('error', reject);
    zip.on('end', () => resolve(entries));
    zip.on('entry', (entry: yauzl.Entry) => {
      try {
        safeSegments(entry.fileName);
        const mode = zipMode(entry);
        if (mode !== 0 && mode !== 0o100000 && mode !== 0o040000 && mode !== 0o120000) {
          throw refuse(entry.fileName, 'only files, folders and links are allowed');
        }
        declared += entry.uncompressedSize;
        if (declared > maxBytes) throw tooLarge(maxBytes);
      } catch (e) {
        reject(e);
        return;
      }
      entries.push(entry);
      zip.readEntry();
    });
    zip.readEntry();
  });
}

const zipMode = (entry: yauzl.Entry) => (entry.externalFileAttributes >>> 16) & 0o170000;

function readStream(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<NodeJS.ReadableStream> {
  return new Promise((resolve, reject) => zip.openReadStream(entry, (err, s) => (err ? reject(err) : resolve(s))));
}

async function streamToString(stream: NodeJS.ReadableStream, limit: number): Promise<string> {
  let out = '';
  for await (const chunk of stream) {
    out += (chunk as Buffer).toString('utf8');
    if (out.length > limit) throw new Error('link target too long');
  }
  return out;
}

class ByteLimit extends Transform {
  constructor(private readonly add: (n: number) => void) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.add(chunk.length);
      cb(null, chunk);
    } catch (e) {
      cb(e as Error);
    }
  }
}

async function extractZip(file: string, dest: string, maxBytes: number): Promise<void> {
  let zip: yauzl.ZipFile;
  try {
    zip = await openZip(file);
  } catch (e) {
    throw invalidArgument(`The archive could not be read as a zip file: ${(e as Error).message}`);
  }
  try {
    let entries: yauzl.Entry[];
    try {
      entries = await readZipEntries(zip, maxBytes);
    } catch (e) {
      throw e instanceof StatusError ? e : invalidArgument(`The zip archive was refused: ${(e as Error).message}`);
    }
    let total = 0;
    const add = (n: number) => {
      total += n;
      if (total > maxBytes) throw tooLarge(maxBytes);
    };
    for (const entry of entries) {
      try {
        await extractZipEntry(zip, entry, dest, add);
      } catch (e) {
        throw e instanceof StatusError ? e : invalidArgument(`The zip entry ${JSON.stringify(entry.fileName)} could not be extracted: ${(e as Error).message}`);
      }
    }
  } finally {
    zip.close();
  }
}

async function extractZipEntry(zip: yauzl.ZipFile, entry: yauzl.Entry, dest: string, add: (n: number) => void): Promise<void> {
  const name = entry.fileName;
  const segments = safeSegments(name);
  const mode = zipMode(entry);
  const target = path.join(dest, ...segments);
  if (name.endsWith('/') || mode === 0o040000) {
    await fs.promises.mkdir(target, { recursive: true });
    return;
  }
  if (segments.length === 0) throw refuse(name, 'the entry has no name');
  await fs.promises.mkdir(path.dirname(target), { recursive: true });
  if (mode === 0o120000) {
    const link = await streamToString(await readStream(zip, entry), 4096);
    checkLinkTarget(name, segments.slice(0, -1), link, 'symbolic link');
    await fs.promises.symlink(link, target);
    return;
  }
  await pipeline(await readStream(zip, entry), new ByteLimit(add), fs.createWriteStream(target, { flags: 'wx' }));
}

// ---- after extraction

/** Every symbolic link under `root` must resolve to a path inside it. */
export async function checkLinksInside(root: string): Promise<void> {
  const realRoot = await fs.promises.realpath(root);
  async function walk(dir: string): Promise<void> {
    for (const entry of await fs.promises.readdir(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      if (entry.isSymbolicLink()) {
        let real: string;
        try {
          real = await fs.promises.realpath(p);
        } catch {
          throw refuse(path.relative(root, p), 'the symbolic link points at nothing');
        }
        if (real !== realRoot && !real.startsWith(realRoot + path.sep)) throw refuse(path.relative(root, p), 'the symbolic link points outside the upload');
      } else if (entry.isDirectory()) {
        await walk(p);
      }
    }
  }
  await walk(root);
}
