// Builds archives for the upload tests: well-formed ones from a folder (with
// node-tar), and hostile ones byte by byte (entries with "..", absolute
// paths, links pointing out), which archivers refuse to write.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import * as tar from 'tar';

/** A .tar.gz of `dir`'s contents, at the archive root or under `prefix/`. */
export async function tarGzOf(dir: string, file: string, prefix?: string): Promise<string> {
  if (prefix) {
    const staging = `${file}.staging`;
    fs.cpSync(dir, path.join(staging, prefix), { recursive: true });
    await tar.c({ gzip: true, file, cwd: staging, portable: true }, [prefix]);
    fs.rmSync(staging, { recursive: true, force: true });
  } else {
    await tar.c({ gzip: true, file, cwd: dir, portable: true }, fs.readdirSync(dir));
  }
  return file;
}

export interface RawTarEntry {
  name: string;
  /**
   * '0' file (default), '2' symbolic link, '1' hard link, '5' directory, '3'/'4' character/block device,
   * '6' FIFO; 'x' a pax header and 'L' a GNU long name for the next entry (their text in `data`).
   */
  type?: '0' | '1' | '2' | '3' | '4' | '5' | '6' | 'x' | 'L';
  data?: Buffer | string;
  linkname?: string;
}

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

/** One 512-byte ustar header for `e`, declaring `size` bytes of data. */
export function tarHeader(e: RawTarEntry, size: number): Buffer {
  const h = Buffer.alloc(512);
  h.write(e.name, 0, 100, 'utf8');
  h.write(octal(e.type === '5' ? 0o755 : 0o644, 8), 100, 'latin1');
  h.write(octal(0, 8), 108, 'latin1');
  h.write(octal(0, 8), 116, 'latin1');
  h.write(octal(size, 12), 124, 'latin1');
  h.write(octal(Math.floor(Date.now() / 1000), 12), 136, 'latin1');
  h.write('        ', 148, 'latin1');
  h.write(e.type ?? '0', 156, 'latin1');
  if (e.linkname) h.write(e.linkname, 157, 100, 'utf8');
  h.write('ustar\0', 257, 'latin1');
  h.write('00', 263, 'latin1');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148, 'latin1');
  return h;
}

/** A tar archive written entry by entry, exactly as given (gzipped unless `gzip` is false). */
export function rawTar(entries: RawTarEntry[], gzip = true): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = Buffer.from(e.data ?? '');
    const size = e.type === undefined || e.type === '0' || e.type === 'x' || e.type === 'L' ? data.length : 0;
    parts.push(tarHeader(e, size));
    if (size > 0) {
      parts.push(data);
      parts.push(Buffer.alloc((512 - (size % 512)) % 512));
    }
  }
  parts.push(Buffer.alloc(1024));
  const out = Buffer.concat(parts);
  return gzip ? zlib.gzipSync(out) : out;
}

export interface RawZipEntry {
  name: string;
  data?: Buffer | string;
  /** Marks the entry as a symbolic link whose target is `data`. */
  symlink?: boolean;
  /** The Unix mode to record (file type bits included), overriding the one implied. */
  mode?: number;
}

/** A pax extended header record ("<len> key=value\n") for rawTar's 'x' entries. */
export function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return `${len}${body}`;
}

/** A zip archive (stored, no compression) written entry by entry, exactly as given. */
export function rawZip(entries: RawZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const data = Buffer.from(e.data ?? '');
    const crc = zlib.crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x800, 6);
    local.writeUInt16LE(0, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, data);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by Unix
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x800, 8);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(name.length, 28);
    const mode = e.mode ?? (e.symlink ? 0o120777 : e.name.endsWith('/') ? 0o040755 : 0o100644);
    central.writeUInt32LE((mode << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += local.length + name.length + data.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

/** A zip (stored) of every file under `dir`, under `prefix/` when given. */
export function zipOf(dir: string, prefix = ''): Buffer {
  const entries: RawZipEntry[] = [];
  const walk = (rel: string) => {
    for (const name of fs.readdirSync(path.join(dir, rel)).sort()) {
      const child = rel ? `${rel}/${name}` : name;
      if (fs.statSync(path.join(dir, child)).isDirectory()) walk(child);
      else entries.push({ name: prefix ? `${prefix}/${child}` : child, data: fs.readFileSync(path.join(dir, child)) });
    }
  };
  walk('');
  return rawZip(entries);
}
