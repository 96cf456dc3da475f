/**
 * What a model's base path holds: the numbered version folders (all digits;
 * `00000123` is version 123) and a cheap fingerprint of each folder's files.
 * Everything else (files, dot or temp folders, `123.tmp`) is ignored. When two
 * folders name the same version (`123` and `0123`), the one that sorts last
 * wins, as in TF Serving.
 */
import fs from 'node:fs/promises';
import path from 'node:path';

export interface VersionDir {
  version: number;
  dir: string;
}

/** The version a folder name stands for, or undefined when it is not a version folder. */
export function parseVersionDirName(name: string): number | undefined {
  if (!/^\d+$/.test(name)) return undefined;
  const v = Number(name);
  return Number.isSafeInteger(v) ? v : undefined;
}

/**
 * The version folders under `basePath`, highest version first, or undefined
 * when the base path does not exist (yet).
 */
export async function listVersionDirs(basePath: string): Promise<VersionDir[] | undefined> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fs.readdir(basePath, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw e;
  }
  const byVersion = new Map<number, string>();
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const version = parseVersionDirName(entry.name);
    if (version === undefined) continue;
    const dir = path.join(basePath, entry.name);
    if (!(entry.isDirectory() || (entry.isSymbolicLink() && (await isDirectory(dir))))) continue;
    byVersion.set(version, dir);
  }
  return [...byVersion].map(([version, dir]) => ({ version, dir })).sort((a, b) => b.version - a.version);
}

async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await fs.stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * A string that changes when any file under `dir` is added, removed, resized
 * or rewritten (relative path, size and mtime of every file).
 */
export async function fingerprintDir(dir: string): Promise<string> {
  const parts: string[] = [];
  async function walk(rel: string): Promise<void> {
    const entries = await fs.readdir(path.join(dir, rel), { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      const st = await fs.stat(path.join(dir, child)).catch(() => undefined);
      if (!st) continue;
      if (st.isDirectory()) await walk(child);
      else parts.push(`${child}:${st.size}:${st.mtimeMs}`);
    }
  }
  await walk('');
  return parts.join('|');
}
