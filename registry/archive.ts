/**
 * Safe extraction of uploaded archives (.tar.gz / .tgz / .tar, read block by
 * block here with node-tar's header parser; .zip with yauzl), recognised by
 * their first bytes, not their names.
 *
 * The rule: this module writes every entry itself, from a streamed read, into
 * a folder it has just created, and it only ever makes regular files and
 * folders. Symbolic links, hard links, devices and FIFOs are refused outright
 * (a SavedModel never needs them), as are absolute paths, `..` segments,
 * control characters, and a file name used twice or a file where a folder
 * is (INVALID_ARGUMENT naming the entry). Since nothing inside the folder can
 * be a link, no write can be redirected outside it; files are also opened
 * with O_EXCL|O_NOFOLLOW and folders made one level at a time.
 *
 * Limits, enforced while the bytes stream (never from what the archive
 * declares, which is only used to refuse early), so memory stays flat
 * (RESOURCE_EXHAUSTED beyond):
 *  - `maxBytes`: bytes the archive may expand to (a tar's whole decompressed
 *    stream; a zip's decompressed entry data) — --max_upload_bytes;
 *  - `maxEntries`: files and folders — --max_archive_entries;
 *  - `maxCompressionRatio`: bytes expanded per byte of archive —
 *    --max_archive_compression_ratio. Deflate (gzip, zip) cannot exceed about
 *    1030:1 even on all-zero variables, so the default refuses no real
 *    archive; it stops archives that reuse compressed data (overlapping zip
 *    entries) from turning a small upload into --max_upload_bytes of work.
 * A refused extraction removes its folder.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pipeline, type Readable } from 'node:stream';
import zlib from 'node:zlib';
import * as tar from 'tar';
import yauzl from 'yauzl';
import { invalidArgument, resourceExhausted, StatusError } from '../runtime/errors.js';
import { safeSegments } from '../serving/safe_path.js';

export type ArchiveKind = 'tar.gz' | 'tar' | 'zip';

export const DEFAULT_MAX_ARCHIVE_ENTRIES = 10_000;
export const DEFAULT_MAX_ARCHIVE_COMPRESSION_RATIO = 1100;

export interface ArchiveLimits {
  /** Bytes the archive may expand to (--max_upload_bytes). */
  maxBytes: number;
  /** Files and folders (--max_archive_entries, default 10000). */
  maxEntries?: number;
  /** Expanded bytes per archive byte (--max_archive_compression_ratio, default 1100). */
  maxCompressionRatio?: number;
}

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

const LINK_ADVICE = 'a SavedModel needs none: archive the files themselves (tar --dereference --hard-dereference, zip without --symlinks)';

/** Extracts `file` into `dest`, a folder that must not exist yet; on any refusal `dest` is removed. */
export async function extractArchive(file: string, dest: string, kind: ArchiveKind, limits: ArchiveLimits): Promise<void> {
  await fs.promises.mkdir(path.dirname(dest), { recursive: true });
  await fs.promises.mkdir(dest, { mode: 0o755 });
  const staging = new Staging(dest, limits, (await fs.promises.stat(file)).size);
  try {
    if (kind === 'zip') await extractZip(file, staging);
    else await extractTar(file, staging, kind === 'tar.gz');
  } catch (e) {
    await fs.promises.rm(dest, { recursive: true, force: true });
    throw e;
  }
}

// ---- the staging folder: the only code that writes

const FILE_FLAGS = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;

/** File system errors that say the entry's name is unusable here (anything else is the server's problem). */
const NAME_ERRORS = new Set(['ENAMETOOLONG', 'EILSEQ', 'EINVAL', 'EEXIST', 'ENOTDIR', 'EISDIR', 'ELOOP']);

class Staging {
  /** Every path made so far (POSIX, relative), and whether it is a folder. */
  private readonly made = new Map<string, 'file' | 'dir'>();
  private entries = 0;
  private expanded = 0;
  private readonly maxBytes: number;
  private readonly maxEntries: number;
  private readonly cap: number;

  constructor(
    private readonly root: string,
    limits: ArchiveLimits,
    private readonly archiveBytes: number,
  ) {
    this.maxBytes = limits.maxBytes;
    this.maxEntries = limits.maxEntries ?? DEFAULT_MAX_ARCHIVE_ENTRIES;
    const ratio = limits.maxCompressionRatio ?? DEFAULT_MAX_ARCHIVE_COMPRESSION_RATIO;
    this.cap = Math.min(this.maxBytes, Math.floor(ratio * archiveBytes));
  }

  /** Counts `n` more expanded bytes; throws once past a limit. */
  expand(n: number): void {
    this.expanded += n;
    if (this.expanded > this.cap) throw this.tooMuch(this.expanded);
  }

  /** Refuses early when an entry declares more bytes than are left. */
  declare(entry: string, size: number): void {
    if (this.expanded + size > this.cap) throw this.tooMuch(this.expanded + size, entry);
  }

  private tooMuch(bytes: number, entry?: string): StatusError {
    const where = entry === undefined ? '' : ` (entry ${JSON.stringify(entry)} alone declares ${bytes - this.expanded} bytes)`;
    if (this.cap === this.maxBytes) return resourceExhausted(`The archive expands to more than ${this.maxBytes} bytes (--max_upload_bytes)${where}.`);
    return resourceExhausted(
      `The archive expands to more than ${this.cap} bytes, over ${Math.round(this.cap / Math.max(1, this.archiveBytes))} times its own ${this.archiveBytes} bytes ` +
        `(--max_archive_compression_ratio)${where}.`,
    );
  }

  /** Refuses early when the archive declares more entries than allowed (a zip's directory). */
  declareEntries(n: number): void {
    if (n > this.maxEntries) throw this.tooMany();
  }

  private tooMany(): StatusError {
    return resourceExhausted(`The archive holds more than ${this.maxEntries} files and folders (--max_archive_entries).`);
  }

  private admit(entry: string): string[] {
    this.entries += 1;
    if (this.entries > this.maxEntries) throw this.tooMany();
    return safeSegments(entry);
  }

  /** A folder entry (named again is fine: archivers list folders they already implied). */
  async dir(entry: string): Promise<void> {
    await this.makeDirs(entry, this.admit(entry));
  }

  /** A file entry: opens it for writing, new, after making its folders. */
  async file(entry: string): Promise<fs.promises.FileHandle> {
    const segments = this.admit(entry);
    if (segments.length === 0) throw refuse(entry, 'a file entry needs a name');
    const rel = segments.join('/');
    if (this.made.has(rel)) throw refuse(entry, `${rel} appears twice in the archive`);
    await this.makeDirs(entry, segments.slice(0, -1));
    this.made.set(rel, 'file');
    try {
      return await fs.promises.open(path.join(this.root, ...segments), FILE_FLAGS, 0o644);
    } catch (e) {
      throw this.fsError(entry, e);
    }
  }

  private async makeDirs(entry: string, segments: string[]): Promise<void> {
    for (let i = 1; i <= segments.length; i++) {
      const rel = segments.slice(0, i).join('/');
      const kind = this.made.get(rel);
      if (kind === 'dir') continue;
      if (kind === 'file') throw refuse(entry, `${rel} is a file in the archive, not a folder`);
      try {
        await fs.promises.mkdir(path.join(this.root, ...segments.slice(0, i)), { mode: 0o755 });
      } catch (e) {
        throw this.fsError(entry, e);
      }
      this.made.set(rel, 'dir');
    }
  }

  private fsError(entry: string, e: unknown): Error {
    const code = (e as NodeJS.ErrnoException).code;
    return code && NAME_ERRORS.has(code) ? refuse(entry, `it cannot be written here (${code})`) : (e as Error);
  }
}

/** Writes chunks to `fh`, passing each one's size to `count` first; closes it either way. */
async function writeChunks(fh: fs.promises.FileHandle, chunks: AsyncIterable<Buffer>, count: (n: number) => void): Promise<void> {
  try {
    for await (const chunk of chunks) {
      count(chunk.length);
      await fh.write(chunk);
    }
  } finally {
    await fh.close();
  }
}

// ---- tar

/** Pulls exact byte counts from a stream; every byte taken is counted as expanded (at most one chunk is read ahead). */
class ByteSource {
  private readonly chunks: Buffer[] = [];
  private buffered = 0;
  private readonly iterator: AsyncIterator<Buffer>;

  constructor(
    stream: Readable,
    private readonly staging: Staging,
  ) {
    this.iterator = stream[Symbol.asyncIterator]();
  }

  private async fill(): Promise<boolean> {
    const next = await this.iterator.next();
    if (next.done) return false;
    this.chunks.push(next.value);
    this.buffered += next.value.length;
    return true;
  }

  /** Exactly `n` bytes, or fewer at the end of the stream. */
  async read(n: number): Promise<Buffer> {
    while (this.buffered < n && (await this.fill()));
    return this.take(Math.min(n, this.buffered));
  }

  /** The next `n` bytes in pieces as they arrive; throws if the stream ends first. */
  async *pieces(n: number, entry: string): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.buffered === 0 && !(await this.fill())) throw refuse(entry, 'the archive ends inside its data (truncated)');
      const piece = this.take(Math.min(left, this.buffered));
      left -= piece.length;
      yield piece;
    }
  }

  private take(n: number): Buffer {
    this.staging.expand(n);
    const out: Buffer[] = [];
    let left = n;
    while (left > 0) {
      const head = this.chunks[0];
      if (head.length <= left) {
        out.push(head);
        this.chunks.shift();
        left -= head.length;
      } else {
        out.push(head.subarray(0, left));
        this.chunks[0] = head.subarray(left);
        left = 0;
      }
    }
    this.buffered -= n;
    return out.length === 1 ? out[0] : Buffer.concat(out);
  }

  /** Stops reading (destroys the stream); never throws, so it cannot hide the error that stopped us. */
  async close(): Promise<void> {
    await this.iterator.return?.().catch(() => {});
  }
}

/** Extended headers (pax, GNU long names) allowed before one entry, and their size. */
const MAX_META_HEADERS = 8;
const MAX_META_BYTES = 64 * 1024;
const META_TYPES = new Set(['ExtendedHeader', 'GlobalExtendedHeader', 'NextFileHasLongPath', 'OldGnuLongPath', 'NextFileHasLongLinkpath']);
const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);

const padding = (size: number) => (512 - (size % 512)) % 512;

async function extractTar(file: string, staging: Staging, gzip: boolean): Promise<void> {
  const input = fs.createReadStream(file);
  const stream: Readable = gzip ? pipeline(input, zlib.createGunzip({ chunkSize: 64 * 1024 }), () => {}) : input;
  const source = new ByteSource(stream, staging);
  try {
    await readTarEntries(source, staging);
  } catch (e) {
    if (e instanceof StatusError) throw e;
    const code = (e as NodeJS.ErrnoException).code ?? '';
    if (code.startsWith('Z_')) throw invalidArgument(`The archive is not valid gzip data: ${(e as Error).message}`);
    throw e;
  } finally {
    await source.close();
    input.destroy();
    stream.destroy();
  }
}

async function readTarEntries(source: ByteSource, staging: Staging): Promise<void> {
  let ex: tar.HeaderData | undefined;
  let gex: tar.HeaderData | undefined;
  let metas = 0;
  let count = 0;
  for (;;) {
    const block = await source.read(512);
    if (block.length === 0) return; // no end-of-archive blocks: accepted, as GNU tar does
    if (block.length < 512) throw invalidArgument(`The tar archive is truncated after ${count} entries.`);
    if (block.every((b) => b === 0)) return; // end-of-archive
    let header: tar.Header;
    try {
      header = new tar.Header(block, 0, ex, gex);
    } catch (e) {
      throw invalidArgument(`The tar archive has an unreadable header after ${count} entries: ${(e as Error).message}`);
    }
    if (!header.cksumValid) throw invalidArgument(`The archive is not a tar file, or is corrupt: a header checksum is wrong after ${count} entries.`);
    const name = header.path ?? '';
    const size = header.size ?? 0;
    if (!Number.isSafeInteger(size) || size < 0) throw refuse(name, `its size (${size}) is not valid`);
    const type = header.type;

    if (META_TYPES.has(type)) {
      if (++metas > MAX_META_HEADERS) throw refuse(name, `more than ${MAX_META_HEADERS} extended headers precede one entry`);
      if (size > MAX_META_BYTES) throw refuse(name, `its extended header is ${size} bytes, more than ${MAX_META_BYTES}`);
      const body = await source.read(size + padding(size));
      if (body.length < size + padding(size)) throw refuse(name, 'the archive ends inside its extended header (truncated)');
      const text = body.subarray(0, size).toString('utf8');
      if (type === 'ExtendedHeader') ex = tar.Pax.parse(text, ex, false);
      else if (type === 'GlobalExtendedHeader') gex = tar.Pax.parse(text, gex, true);
      else if (type === 'NextFileHasLongLinkpath') ex = { ...ex, linkpath: text.replace(/\0[\s\S]*$/, '') };
      else ex = { ...ex, path: text.replace(/\0[\s\S]*$/, '') };
      continue;
    }
    metas = 0;
    ex = undefined;
    count += 1;

    if (type === 'Directory') {
      await staging.dir(name);
      for await (const _ of source.pieces(size + padding(size), name)); // folders carry no data; skip any
    } else if (FILE_TYPES.has(type)) {
      staging.declare(name, size);
      const fh = await staging.file(name);
      await writeChunks(fh, source.pieces(size, name), () => {}); // ByteSource counted them
      if ((await source.read(padding(size))).length < padding(size)) throw refuse(name, 'the archive ends inside its data (truncated)');
    } else if (type === 'SymbolicLink') {
      throw refuse(name, `symbolic links are not allowed (this one points to ${JSON.stringify(header.linkpath ?? '')}); ${LINK_ADVICE}`);
    } else if (type === 'Link') {
      throw refuse(name, `hard links are not allowed (this one links to ${JSON.stringify(header.linkpath ?? '')}); ${LINK_ADVICE}`);
    } else {
      throw refuse(name, `${type} entries are not allowed; an archive of a SavedModel holds only files and folders`);
    }
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

/** The next entry of the central directory, or undefined at its end. */
function nextEntry(zip: yauzl.ZipFile): Promise<yauzl.Entry | undefined> {
  return new Promise((resolve, reject) => {
    const done = () => {
      zip.off('entry', onEntry);
      zip.off('end', onEnd);
      zip.off('error', onError);
    };
    const onEntry = (entry: yauzl.Entry) => (done(), resolve(entry));
    const onEnd = () => (done(), resolve(undefined));
    const onError = (err: Error) => (done(), reject(err));
    zip.on('entry', onEntry);
    zip.on('end', onEnd);
    zip.on('error', onError);
    zip.readEntry();
  });
}

const zipMode = (entry: yauzl.Entry) => (entry.externalFileAttributes >>> 16) & 0o170000;

function readStream(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Readable> {
  return new Promise((resolve, reject) => zip.openReadStream(entry, (err, s) => (err ? reject(err) : resolve(s))));
}

async function extractZip(file: string, staging: Staging): Promise<void> {
  let zip: yauzl.ZipFile;
  try {
    zip = await openZip(file);
  } catch (e) {
    throw invalidArgument(`The archive could not be read as a zip file: ${(e as Error).message}`);
  }
  zip.on('error', () => {}); // each read below reports its own error
  try {
    staging.declareEntries(zip.entryCount);
    for (;;) {
      let entry: yauzl.Entry | undefined;
      try {
        entry = await nextEntry(zip);
      } catch (e) {
        throw invalidArgument(`The zip archive was refused: ${(e as Error).message}`);
      }
      if (!entry) return;
      try {
        await extractZipEntry(zip, entry, staging);
      } catch (e) {
        if (e instanceof StatusError) throw e;
        if ((e as NodeJS.ErrnoException).code && !(e as NodeJS.ErrnoException).code!.startsWith('Z_')) throw e;
        throw invalidArgument(`The zip entry ${JSON.stringify(entry.fileName)} could not be extracted: ${(e as Error).message}`);
      }
    }
  } finally {
    zip.close();
  }
}

async function extractZipEntry(zip: yauzl.ZipFile, entry: yauzl.Entry, staging: Staging): Promise<void> {
  const name = entry.fileName;
  const mode = zipMode(entry);
  if (mode === 0o120000) throw refuse(name, `symbolic links are not allowed; ${LINK_ADVICE}`);
  if (name.endsWith('/') || mode === 0o040000) {
    await staging.dir(name);
    return;
  }
  if (mode !== 0 && mode !== 0o100000) throw refuse(name, 'only files and folders are allowed');
  if (entry.isEncrypted()) throw refuse(name, 'encrypted entries are not supported');
  staging.declare(name, entry.uncompressedSize);
  const fh = await staging.file(name);
  let stream: Readable;
  try {
    stream = await readStream(zip, entry);
  } catch (e) {
    await fh.close();
    throw e;
  }
  await writeChunks(fh, stream, (n) => staging.expand(n));
}
