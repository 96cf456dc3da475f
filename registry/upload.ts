/**
 * Upload intake: turns an uploaded SavedModel (one archive, or files with
 * relative paths) into a new version, or refuses it leaving nothing behind.
 *
 *   const session = await intake.begin('half_plus_two');   // checks the name
 *   await session.addArchive(stream);                      // or addFile('variables/variables.index', stream) ...
 *   const version = await session.finish({ activate: true, actor: 'api@127.0.0.1' });
 *   // on any error: await session.discard()
 *
 *  1. Bytes go to a work folder on the same file system as the model's base
 *     path (a dot folder inside it, or inside --models_dir for a new model),
 *     counted against `maxUploadBytes` (RESOURCE_EXHAUSTED beyond).
 *  2. An archive is extracted safely (registry/archive.ts); file parts are
 *     placed at their relative paths, which must stay inside.
 *  3. The SavedModel must sit at the root or inside one top-level folder, and
 *     load with the engine (INVALID_ARGUMENT with the load error otherwise).
 *  4. The registry records it and renames the folder to {base_path}/{N}
 *     (Registry.commitUpload: fsync, row + pending move, rename, finish);
 *     for an s3:// base path, the work folder is in --model_cache_dir and
 *     the version is published to the bucket with its marker instead
 *     (serving/object_store/publish.ts), its files kept as its cache entry.
 *     Until then nothing is visible: the watcher ignores dot folders, and no
 *     row exists. A `.upload-*` folder a crash leaves behind is deleted at
 *     the next start (registry/recovery.ts).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ServingEngine } from '../runtime/engine.js';
import { invalidArgument, resourceExhausted, toStatusError } from '../runtime/errors.js';
import { detectArchive, extractArchive } from './archive.js';
import { safeSegments } from '../serving/safe_path.js';
import { consoleLogger, type Logger } from '../serving/log.js';
import { checkModelName } from './model_name.js';
import { signatureRows, type Registry, type VersionInfo } from './registry.js';
import { fingerprintDir } from '../serving/version_dir.js';
import { isObjectStoreUrl } from '../serving/object_store/s3_url.js';
import { digestFolder } from '../serving/version_files.js';
import { applyMetadataPatch, checkMetadata, emptyMetadata, type MetadataPatch } from './version_metadata.js';

export const DEFAULT_MAX_UPLOAD_BYTES = 1024 * 1024 * 1024;

export interface UploadIntakeOptions {
  registry: Registry;
  engine: ServingEngine;
  /** Largest upload, and largest SavedModel an archive may expand to (default 1 GiB). */
  maxUploadBytes?: number;
  /** Files and folders an archive may hold (--max_archive_entries; registry/archive.ts has the default). */
  maxArchiveEntries?: number;
  /** Bytes an archive may expand to per byte uploaded (--max_archive_compression_ratio). */
  maxArchiveCompressionRatio?: number;
  /** MetaGraph tags the validating load uses (default ["serve"]). */
  tags?: readonly string[];
  log?: Logger;
}

export interface FinishOptions {
  version?: number;
  activate: boolean;
  actor: string;
  /** Accept a model whose default serving signature cannot run here (ops the runtime lacks). */
  force?: boolean;
  /** Description, tags, metrics, source of the new version (checked against the registry's metadataLimits first). */
  metadata?: MetadataPatch;
}

const SAVED_MODEL_FILES = ['saved_model.pb', 'saved_model.pbtxt'];
/** The signature TF Serving answers when a request names none. */
const DEFAULT_SERVING_SIGNATURE = 'serving_default';
/** Top-level entries that are not part of an upload (archivers add them). */
const IGNORED_TOP_LEVEL = new Set(['__MACOSX', '.DS_Store']);

export class UploadIntake {
  readonly maxUploadBytes: number;

  constructor(private readonly options: UploadIntakeOptions) {
    this.maxUploadBytes = options.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES;
  }

  /** Starts an upload to model `name` (created on success if the server does not know it). */
  async begin(name: string): Promise<UploadSession> {
    checkModelName(name);
    const { basePath, exists } = this.options.registry.basePathFor(name);
    // Same file system as the final folder, so the last step is an atomic rename (for an s3:// base path: the model cache, where the published version's entry goes).
    const objectStore = isObjectStoreUrl(basePath) ? this.options.registry.core.objectStore : undefined;
    const parent = objectStore ? objectStore.uploadsDir : exists ? basePath : this.options.registry.modelsDir;
    const createdParent = !fs.existsSync(parent);
    await fs.promises.mkdir(parent, { recursive: true });
    const workDir = path.join(parent, `.upload-${exists ? '' : `${name}-`}${randomBytes(6).toString('hex')}`);
    await fs.promises.mkdir(workDir);
    return new UploadSession(this.options, this.maxUploadBytes, name, workDir, createdParent ? parent : undefined);
  }
}

/** Counts bytes through it; fails once more than `max` have passed. */
class ByteCounter extends Transform {
  constructor(private readonly onBytes: (n: number) => void) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.onBytes(chunk.length);
      cb(null, chunk);
    } catch (e) {
      cb(e as Error);
    }
  }
}

export class UploadSession {
  private received = 0;
  private archiveFile: string | undefined;
  private readonly files = new Set<string>();
  private discarded = false;
  private readonly payloadDir: string;
  private readonly log: Logger;

  constructor(
    private readonly options: UploadIntakeOptions,
    private readonly maxBytes: number,
    readonly model: string,
    readonly workDir: string,
    /** A parent folder this session created, removed again on discard when empty. */
    private readonly createdParent: string | undefined,
  ) {
    this.payloadDir = path.join(workDir, 'savedmodel');
    this.log = options.log ?? consoleLogger;
  }

  get bytesReceived(): number {
    return this.received;
  }

  private count(n: number): void {
    this.received += n;
    if (this.received > this.maxBytes) {
      throw resourceExhausted(`The upload is larger than ${this.maxBytes} bytes (--max_upload_bytes).`);
    }
  }

  private async receive(stream: Readable, file: string): Promise<number> {
    const before = this.received;
    try {
      await pipeline(stream, new ByteCounter((n) => this.count(n)), fs.createWriteStream(file, { flags: 'wx' }));
    } catch (e) {
      stream.resume(); // let the rest of the request flow past
      throw e;
    }
    return this.received - before;
  }

  /** Receives the one archive (.tar.gz, .tgz, .tar or .zip) holding the SavedModel. */
  async addArchive(stream: Readable): Promise<number> {
    if (this.archiveFile !== undefined || this.files.size > 0) {
      stream.resume();
      throw invalidArgument('Send one "archive" part, or "files" parts, not both and not more than one archive.');
    }
    this.archiveFile = path.join(this.workDir, 'upload.archive');
    return this.receive(stream, this.archiveFile);
  }

  /** Receives one file of the SavedModel at `relativePath` ("variables/variables.index"). */
  async addFile(relativePath: string, stream: Readable): Promise<number> {
    try {
      if (this.archiveFile !== undefined) throw invalidArgument('Send one "archive" part, or "files" parts, not both.');
      const segments = safeSegments(relativePath);
      if (segments.length === 0) throw invalidArgument(`A "files" part has no file name (${JSON.stringify(relativePath)}).`);
      const rel = segments.join('/');
      if (this.files.has(rel)) throw invalidArgument(`The file ${rel} was sent twice.`);
      this.files.add(rel);
      const target = path.join(this.payloadDir, ...segments);
      await fs.promises.mkdir(path.dirname(target), { recursive: true });
      return await this.receive(stream, target);
    } catch (e) {
      stream.resume();
      throw e;
    }
  }

  /** Extracts, validates and commits; the session's folder is gone afterwards either way. */
  async finish(options: FinishOptions): Promise<VersionInfo> {
    try {
      const metadata = applyMetadataPatch(emptyMetadata(), options.metadata ?? {});
      checkMetadata(metadata, this.options.registry.metadataLimits);
      if (this.archiveFile !== undefined) {
        const kind = await detectArchive(this.archiveFile);
        if (!kind) throw invalidArgument('The "archive" part is not a .tar.gz, .tgz, .tar or .zip file.');
        await extractArchive(this.archiveFile, this.payloadDir, kind, {
          maxBytes: this.maxBytes,
          maxEntries: this.options.maxArchiveEntries,
          maxCompressionRatio: this.options.maxArchiveCompressionRatio,
        });
        await fs.promises.rm(this.archiveFile);
      } else if (this.files.size === 0) {
        throw invalidArgument('The upload holds no SavedModel: send an "archive" part or "files" parts.');
      }
      const root = await locateSavedModel(this.payloadDir);
      const signatures = await this.validate(root, options.force ?? false);
      const digest = await digestFolder(root);
      const fingerprint = await fingerprintDir(root);
      return await this.options.registry.commitUpload({
        model: this.model,
        dir: root,
        version: options.version,
        activate: options.activate,
        actor: options.actor,
        digest,
        fingerprint,
        signatures,
        metadata,
      });
    } finally {
      await this.discard();
    }
  }

  /** Removes everything this session wrote. Idempotent. */
  async discard(): Promise<void> {
    if (this.discarded) return;
    this.discarded = true;
    await fs.promises.rm(this.workDir, { recursive: true, force: true }).catch((e) => this.log.warn(`Could not remove ${this.workDir}: ${(e as Error).message}`));
    if (this.createdParent) await fs.promises.rmdir(this.createdParent).catch(() => {});
  }

  /**
   * Loads the upload as the server would. Refused when it does not load, or
   * (unless `force`) when its default serving signature cannot run here;
   * other signatures that cannot run (training, save) are recorded as such.
   */
  private async validate(root: string, force: boolean) {
    let model;
    try {
      model = await this.options.engine.load(root, { tags: this.options.tags });
    } catch (e) {
      throw invalidArgument(`The upload is not a SavedModel this server can load: ${toStatusError(e).message}`);
    }
    try {
      const serving = model.signatures[DEFAULT_SERVING_SIGNATURE];
      if (serving?.unavailable && !force) {
        throw invalidArgument(
          `The upload's default serving signature cannot run on this server: ${serving.unavailable}\nSend force=true to accept the model anyway (its other signatures can serve).`,
        );
      }
      return signatureRows(model.signatures);
    } finally {
      await model.dispose();
    }
  }
}

/** The folder holding saved_model.pb: `dir` itself, or its only top-level folder. */
export async function locateSavedModel(dir: string): Promise<string> {
  const hasSavedModel = (d: string) => SAVED_MODEL_FILES.some((f) => fs.existsSync(path.join(d, f)));
  if (!fs.existsSync(dir)) throw invalidArgument('The upload is empty.');
  if (hasSavedModel(dir)) return dir;
  const entries = (await fs.promises.readdir(dir, { withFileTypes: true })).filter((e) => !IGNORED_TOP_LEVEL.has(e.name));
  if (entries.length === 1 && entries[0].isDirectory() && hasSavedModel(path.join(dir, entries[0].name))) {
    return path.join(dir, entries[0].name);
  }
  const listing = entries.map((e) => (e.isDirectory() ? `${e.name}/` : e.name)).slice(0, 10).join(', ');
  throw invalidArgument(
    `No SavedModel found in the upload: expected saved_model.pb at its root or inside one top-level folder (found: ${listing || 'nothing'}).`,
  );
}
