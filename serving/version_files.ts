/**
 * The content identity of a version folder: total size in bytes, and a
 * SHA-256 over every regular file in it, in sorted relative-path order (for
 * each file: its POSIX relative path, a NUL byte, its length in decimal, a
 * NUL byte, then its bytes). Two folders holding the same files hash the same
 * wherever they live; renaming, adding or changing any file changes the hash.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';

export interface FolderDigest {
  sha256: string;
  sizeBytes: number;
  fileCount: number;
}

/** Relative POSIX paths of the regular files under `dir` (following links), sorted. */
export async function listFiles(dir: string): Promise<{ rel: string; size: number }[]> {
  const out: { rel: string; size: number }[] = [];
  async function walk(rel: string): Promise<void> {
    const names = (await fs.promises.readdir(path.join(dir, rel))).sort();
    for (const name of names) {
      const child = rel ? `${rel}/${name}` : name;
      const st = await fs.promises.stat(path.join(dir, child));
      if (st.isDirectory()) await walk(child);
      else if (st.isFile()) out.push({ rel: child, size: st.size });
    }
  }
  await walk('');
  return out.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}

export async function digestFolder(dir: string): Promise<FolderDigest> {
  const hash = createHash('sha256');
  let sizeBytes = 0;
  const files = await listFiles(dir);
  for (const { rel, size } of files) {
    hash.update(`${rel}\0${size}\0`);
    await pipeline(fs.createReadStream(path.join(dir, rel)), async function* (source) {
      for await (const chunk of source) hash.update(chunk as Buffer);
    });
    sizeBytes += size;
  }
  return { sha256: hash.digest('hex'), sizeBytes, fileCount: files.length };
}
