/**
 * The marker of a published version: `{base}/{N}/.modelhost-manifest.json`,
 * written last by an upload (serving/object_store/publish.ts). It lists
 * every file of the version with its size and sha256, plus the folder's
 * size and digest (serving/version_files.ts's algorithm, so the registry
 * records the same sha256 for the version wherever it lives):
 *
 *   { "format": "modelhost-version/1", "model": "m", "version": 3, "created_at": "…",
 *     "size_bytes": 1234, "sha256": "…",
 *     "files": [ { "path": "saved_model.pb", "size": 1000, "sha256": "…" }, … ] }
 *
 * A manifest read back is checked before anything is downloaded: its size,
 * its shape, every path relative and inside the version (no `..`, not
 * absolute), no duplicates, and the object-count and byte limits.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { invalidArgument, resourceExhausted, StatusError } from '../../runtime/errors.js';
import { safeSegments } from '../safe_path.js';
import { listFiles, type FolderDigest } from '../version_files.js';

export const MANIFEST_NAME = '.modelhost-manifest.json';
export const MANIFEST_FORMAT = 'modelhost-version/1';
/** Largest manifest read (a manifest of 10 000 files is about 1.5 MB). */
export const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

export interface ManifestFile {
  /** POSIX path relative to the version folder. */
  path: string;
  size: number;
  sha256: string;
}

export interface Manifest {
  format: string;
  model: string;
  version: number;
  created_at: string;
  size_bytes: number;
  sha256: string;
  files: ManifestFile[];
}

export interface VersionLimits {
  /** Most objects (files) one version may have. */
  maxObjects: number;
  /** Most bytes one version may have. */
  maxBytes: number;
}

/** Hashes every file of `dir` once: the manifest of the version it holds, and its folder digest. */
export async function buildManifest(dir: string, model: string, version: number): Promise<{ manifest: Manifest; digest: FolderDigest }> {
  const folder = createHash('sha256');
  const files: ManifestFile[] = [];
  let sizeBytes = 0;
  for (const { rel, size } of await listFiles(dir)) {
    folder.update(`${rel}\0${size}\0`);
    const file = createHash('sha256');
    for await (const chunk of fs.createReadStream(path.join(dir, rel))) {
      folder.update(chunk as Buffer);
      file.update(chunk as Buffer);
    }
    files.push({ path: rel, size, sha256: file.digest('hex') });
    sizeBytes += size;
  }
  const sha256 = folder.digest('hex');
  const manifest: Manifest = { format: MANIFEST_FORMAT, model, version, created_at: new Date().toISOString(), size_bytes: sizeBytes, sha256, files };
  return { manifest, digest: { sha256, sizeBytes, fileCount: files.length } };
}

function bad(where: string, why: string): StatusError {
  return invalidArgument(`The version marker ${where} is not valid: ${why}. Upload the version again (or delete the marker to serve the folder as a plain TF Serving version).`);
}

/** Parses and checks a manifest's bytes (`where` names it in errors). */
export function parseManifest(bytes: Buffer, where: string, limits: VersionLimits): Manifest {
  if (bytes.length > MAX_MANIFEST_BYTES) throw bad(where, `it is larger than ${MAX_MANIFEST_BYTES} bytes`);
  let m: Partial<Manifest>;
  try {
    m = JSON.parse(bytes.toString('utf8')) as Partial<Manifest>;
  } catch (e) {
    throw bad(where, `it is not JSON (${(e as Error).message})`);
  }
  if (typeof m !== 'object' || m === null || Array.isArray(m)) throw bad(where, 'it is not a JSON object');
  if (m.format !== MANIFEST_FORMAT) throw bad(where, `its format is ${JSON.stringify(m.format)}, expected "${MANIFEST_FORMAT}"`);
  if (typeof m.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(m.sha256)) throw bad(where, 'its sha256 is not 64 hex digits');
  if (!Array.isArray(m.files)) throw bad(where, 'it has no "files" list');
  if (m.files.length > limits.maxObjects) {
    throw resourceExhausted(`Version marker ${where} lists ${m.files.length} files, more than --object_store_max_version_objects=${limits.maxObjects}.`);
  }
  const seen = new Set<string>();
  let total = 0;
  const files: ManifestFile[] = [];
  for (const f of m.files as unknown[]) {
    const entry = f as Partial<ManifestFile>;
    if (typeof entry !== 'object' || entry === null || typeof entry.path !== 'string') throw bad(where, 'a file entry has no "path"');
    let rel: string;
    try {
      rel = safeSegments(entry.path).join('/');
    } catch (e) {
      throw invalidArgument(`Version marker ${where} names a file that would be written outside the version folder: ${(e as Error).message}`);
    }
    if (rel === '' || rel === MANIFEST_NAME) throw bad(where, `it lists the file ${JSON.stringify(entry.path)}`);
    if (seen.has(rel)) throw bad(where, `it lists ${rel} twice`);
    seen.add(rel);
    if (!Number.isSafeInteger(entry.size) || (entry.size as number) < 0) throw bad(where, `the size of ${rel} is not a whole number >= 0`);
    if (typeof entry.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(entry.sha256)) throw bad(where, `the sha256 of ${rel} is not 64 hex digits`);
    total += entry.size as number;
    files.push({ path: rel, size: entry.size as number, sha256: entry.sha256 });
  }
  if (total > limits.maxBytes) {
    throw resourceExhausted(`Version marker ${where} lists ${total} bytes of files, more than --object_store_max_version_bytes=${limits.maxBytes}.`);
  }
  return {
    format: m.format,
    model: String(m.model ?? ''),
    version: Number(m.version),
    created_at: String(m.created_at ?? ''),
    size_bytes: total,
    sha256: m.sha256,
    files,
  };
}
