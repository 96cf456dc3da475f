/**
 * Durable folder moves for the registry, and the crash points between their
 * steps.
 *
 *  - `syncTree(dir)`: every file and folder under `dir` reaches the disk
 *    (fsync), so a folder renamed into place after it never holds empty or
 *    short files after a power loss.
 *  - `durableRename(from, to)`: rename, then fsync both parent folders, so
 *    the rename itself survives a power loss.
 *  - `removeTree(dir)`: delete recursively, then fsync the parent.
 *  - Crash points: the registry calls its CrashHook at each named step of an
 *    upload or purge (registry/registry.ts); tests pass a hook that never
 *    returns, and `MODELHOST_CRASH_AT=<point>[,<point>]` makes the process
 *    SIGKILL itself there (scripts/crash_test.ts). registry/recovery.ts
 *    finishes or undoes a move stopped at any of them.
 */
import fs from 'node:fs/promises';
import path from 'node:path';

export const CRASH_POINTS = [
  /** Upload: the staged files are synced; nothing is recorded yet. */
  'upload:staged',
  /** Upload: the version row and its pending move are committed; the folder is still staged. */
  'upload:recorded',
  /** Upload: the folder is renamed into place; the move is not finished in the registry. */
  'upload:moved',
  /** Upload: finished in the registry; the staging folder is not removed yet. */
  'upload:committed',
  /** Purge: the pending move is committed; the version folder is still in place. */
  'purge:recorded',
  /** Purge: the version folder is renamed to its .purged-* name; the registry still lists it. */
  'purge:moved',
  /** Purge: the version is REMOVED in the registry; the .purged-* folder is not deleted yet. */
  'purge:committed',
] as const;

export type CrashPoint = (typeof CRASH_POINTS)[number];

/** Called at each crash point; a hook that never resolves stops the operation there, as a kill would. */
export type CrashHook = (point: CrashPoint) => void | Promise<void>;

/** Environment variable naming crash points where the process kills itself (SIGKILL); for crash tests only. */
export const CRASH_AT_ENV = 'MODELHOST_CRASH_AT';

/** The hook `MODELHOST_CRASH_AT` asks for, or undefined when it is unset. Throws on an unknown point. */
export function crashHookFromEnv(env: NodeJS.ProcessEnv = process.env): CrashHook | undefined {
  const value = env[CRASH_AT_ENV];
  if (!value) return undefined;
  const points = new Set(value.split(',').map((p) => p.trim()).filter((p) => p !== ''));
  for (const p of points) {
    if (!(CRASH_POINTS as readonly string[]).includes(p)) {
      throw new Error(`${CRASH_AT_ENV}: unknown crash point ${p}; known: ${CRASH_POINTS.join(', ')}.`);
    }
  }
  return (point) => {
    if (points.has(point)) process.kill(process.pid, 'SIGKILL');
  };
}

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
