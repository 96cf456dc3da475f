/**
 * Relative paths that come from outside (archive entries, manifest entries,
 * object keys under a version's prefix), checked before they name a file:
 * used by uploads (registry/archive.ts) and the object store's Source and
 * manifest (serving/object_store/).
 */
import { invalidArgument } from '../runtime/errors.js';

const refuse = (entry: string, why: string) => invalidArgument(`Refused archive entry ${JSON.stringify(entry)}: ${why}.`);

/**
 * The entry's path as POSIX segments, or a refusal when it is absolute,
 * climbs out with `..` or holds control characters. Empty and `.` segments
 * are dropped.
 */
export function safeSegments(entryPath: string): string[] {
  if (entryPath.includes('\0')) throw refuse(entryPath, 'the path contains a NUL byte');
  if (/[\x01-\x1f\x7f]/.test(entryPath)) throw refuse(entryPath, 'the path contains control characters');
  if (entryPath.startsWith('/') || /^[A-Za-z]:/.test(entryPath) || entryPath.startsWith('\\')) {
    throw refuse(entryPath, 'absolute paths are not allowed; paths must be relative to the SavedModel folder');
  }
  const segments = entryPath.split(/[/\\]/).filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) throw refuse(entryPath, '".." would place it outside the upload folder');
  return segments;
}
