/**
 * Durable folder moves: what the registry's uploads and purges and the
 * object store's cache rely on to survive a power loss.
 *
 *  - `syncTree(dir)`: every file and folder under `dir` reaches the disk
 *    (fsync), so a folder renamed into place after it never holds empty or
 *    short files after a power loss.
 *  - `durableRename(from, to)`: rename, then fsync both parent folders, so
 *    the rename itself survives a power loss.
 *  - `removeTree(dir)`: delete recursively, then fsync the parent.
 *
 * The crash points between the registry's steps are in registry/crash_points.ts.
 */
import fs from 'node:fs/promises';
import path from 'node:path';

/** Errors fsync of a folder gives on systems that cannot do it (it is skipped there). */
const UNSYNCABLE = new Set(['EISDIR', 'EINVAL', 'EPERM', 'EACCES', 'ENOTSUP']);

async function syncPath(p: string): Promise<void> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(p, 'r');
  } catch (e) {
    if (UNSYNCABLE.has((e as NodeJS.ErrnoException).code ?? '')) return;
    throw e;
  }
  try {
    await handle.sync();
  } catch (e) {
    if (!UNSYNCABLE.has((e as NodeJS.ErrnoException).code ?? '')) throw e;
  } finally {
    await handle.close();
  }
}

/** fsyncs a folder (its entries: names created, renamed or deleted in it). */
export function syncDir(dir: string): Promise<void> {
  return syncPath(dir);
}

/** fsyncs every regular file and folder under `dir`, children before parents, then `dir`. Links are not followed. */
export async function syncTree(dir: string): Promise<void> {
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const child = path.join(dir, entry.name);
    if (entry.isDirectory()) await syncTree(child);
    else if (entry.isFile()) await syncPath(child);
  }
  await syncPath(dir);
}

/** Renames `from` to `to` and fsyncs the folders of both. */
export async function durableRename(from: string, to: string): Promise<void> {
  await fs.rename(from, to);
  await syncDir(path.dirname(to));
  if (path.dirname(from) !== path.dirname(to)) await syncDir(path.dirname(from));
}

/** Deletes `dir` recursively (nothing when it is missing) and fsyncs its parent. */
export async function removeTree(dir: string): Promise<void> {
  await fs.rm(dir, { recursive: true, force: true });
  await syncDir(path.dirname(dir)).catch(() => {});
}

/** Whether something exists at `p` (a link counts, whatever it points at). */
export async function exists(p: string): Promise<boolean> {
  try {
    await fs.lstat(p);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return false;
    throw e;
  }
}
