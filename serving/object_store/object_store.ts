/**
 * Object storage for model base paths (`s3://bucket/prefix/model`), in one
 * object the serving core, the registry and upload intake share:
 *  - `poll(model)`: the Source's view of an s3:// base path (source.ts);
 *  - `wrapEngine(engine)`: loading a version whose folder is an s3:// URL
 *    first materializes its verified local copy (cache.ts), then loads that;
 *    a failed download is a failed load (state and error on the version;
 *    versions already serving are left alone, as for any failed load);
 *  - a load that failed because the store was unreachable is tried again
 *    once the store answers (its fingerprint changes; other failures wait
 *    for the version's objects to change, as on disk);
 *  - cache entries no loaded version uses are deleted at the next poll of
 *    their model (never on its first poll, so a restart reuses them);
 *  - `publish` / `deleteVersion` / `versionNumbers` for uploads and purges
 *    (publish.ts).
 * The S3 client is made on first use, from the environment unless settings
 * are given (s3_config.ts).
 */
import path from 'node:path';
import type { Servable, ServingEngine } from '../../runtime/engine.js';
import { failedPrecondition, toStatusError } from '../../runtime/errors.js';
import { consoleLogger, type Logger } from '../log.js';
import type { ModelConfig } from '../model_config.js';
import type { FolderDigest } from '../version_files.js';
import type { AspiredVersion } from '../version_manager.js';
import { Bucket } from './bucket.js';
import { removeCacheLeftovers, VersionCache } from './cache.js';
import { MANIFEST_NAME, type VersionLimits } from './manifest.js';
import { deleteVersionObjects, publishVersion, versionNumbersAt } from './publish.js';
import { s3SettingsFromEnv, type S3Settings } from './s3_config.js';
import { ObjectStoreSource, type PlannedFile } from './source.js';
import { isObjectStoreUrl, joinS3Url, parseS3Url } from './s3_url.js';

export const DEFAULT_MODEL_CACHE_DIR = 'data/model_cache';
export const DEFAULT_MAX_VERSION_OBJECTS = 10_000;
export const DEFAULT_MAX_VERSION_BYTES = 8 * 1024 * 1024 * 1024;
/** How long an uploaded version's cache entry is kept for its first load. */
const ADOPTED_GRACE_MS = 10 * 60 * 1000;

export interface ObjectStoreOptions {
  /** --model_cache_dir (default data/model_cache). */
  cacheDir?: string;
  /** --object_store_max_version_objects / --object_store_max_version_bytes. */
  maxVersionObjects?: number;
  maxVersionBytes?: number;
  /** Default: from the environment (S3_ENDPOINT, AWS_*...), read on first use. */
  settings?: S3Settings;
  log?: Logger;
}

export class ObjectStore {
  readonly cacheDir: string;
  readonly limits: VersionLimits;
  private readonly log: Logger;
  private bucketClient: Bucket | undefined;
  private sourceImpl: ObjectStoreSource | undefined;
  private cacheImpl: VersionCache | undefined;
  /** Cache entry → loads running or servables alive that use it. */
  private readonly inUse = new Map<string, number>();
  /** Version URL → the cache entry it was last loaded from (warm-up reads it). */
  private readonly localDirs = new Map<string, string>();
  /** Base paths polled at least once. */
  private readonly polled = new Set<string>();
  /**
   * Version URL → loads of it that failed because the store was unreachable. Its fingerprint
   * carries the count, so once the store answers again the registry and the manager (which do not
   * retry a failed version until its files change) try it again.
   */
  private readonly outages = new Map<string, number>();
  /** Version URL → the entry an upload left in the cache, kept until the version's first load (or ADOPTED_GRACE_MS). */
  private readonly adopted = new Map<string, { entry: string; timer: NodeJS.Timeout }>();

  constructor(private readonly options: ObjectStoreOptions = {}) {
    this.cacheDir = path.resolve(options.cacheDir ?? DEFAULT_MODEL_CACHE_DIR);
    this.limits = { maxObjects: options.maxVersionObjects ?? DEFAULT_MAX_VERSION_OBJECTS, maxBytes: options.maxVersionBytes ?? DEFAULT_MAX_VERSION_BYTES };
    this.log = options.log ?? consoleLogger;
  }

  private get bucket(): Bucket {
    this.bucketClient ??= new Bucket(this.options.settings ?? s3SettingsFromEnv());
    return this.bucketClient;
  }

  private get source(): ObjectStoreSource {
    this.sourceImpl ??= new ObjectStoreSource(this.bucket, this.limits, this.log);
    return this.sourceImpl;
  }

  get cache(): VersionCache {
    this.cacheImpl ??= new VersionCache(this.cacheDir, this.bucket, this.log);
    return this.cacheImpl;
  }

  /** Deletes what an interrupted download or upload left in the cache. */
  async init(): Promise<void> {
    await removeCacheLeftovers(this.cacheDir, this.log);
  }

  /** The versions to offer for an s3:// model (see source.ts); prunes its unused cache entries. */
  async poll(model: ModelConfig, wanted: (version: number) => boolean = () => true): Promise<AspiredVersion[] | undefined> {
    const listed = await this.source.poll(model, wanted);
    const versions = listed?.map((v) => (this.outages.has(v.dir) ? { ...v, fingerprint: `${v.fingerprint}#retry-${this.outages.get(v.dir)}` } : v));
    if (this.polled.has(model.basePath)) {
      await this.cache.prune(model.basePath, (dir) => (this.inUse.get(dir) ?? 0) > 0).catch((e) => this.log.warn(`Pruning the model cache of ${model.basePath}: ${(e as Error).message}`));
    }
    this.polled.add(model.basePath);
    return versions;
  }

  /** The size and sha256 a version's marker records (undefined for a folder without one, or not seen yet). */
  digestOf(versionUrl: string): FolderDigest | undefined {
    return this.sourceImpl?.plans.get(versionUrl)?.digest;
  }

  /** The local folder a version URL was loaded from (warm-up files are read there); other paths as they are. */
  localDir(dir: string): string {
    return isObjectStoreUrl(dir) ? (this.localDirs.get(dir) ?? dir) : dir;
  }

  /** An engine that loads s3:// version folders from their verified cache entries. */
  wrapEngine(engine: ServingEngine): ServingEngine {
    return {
      name: engine.name,
      close: () => engine.close(),
      load: async (dir, options) => {
        if (!isObjectStoreUrl(dir)) return engine.load(dir, options);
        const plan = this.sourceImpl?.plans.get(dir);
        if (!plan) throw failedPrecondition(`${dir} has not been listed yet; it is loaded after the next poll of its base path.`);
        const entry = this.cache.entryDir(plan);
        this.hold(entry, +1);
        this.releaseAdopted(dir);
        let servable: Servable;
        try {
          const local = await this.cache.materialize(plan);
          this.localDirs.set(dir, local);
          servable = await engine.load(local, options);
        } catch (e) {
          this.hold(entry, -1);
          if (toStatusError(e).code === 'UNAVAILABLE') this.outages.set(dir, (this.outages.get(dir) ?? 0) + 1);
          throw e;
        }
        return this.releasing(servable, entry);
      },
    };
  }

  /** Ends the hold an upload put on its cache entry. */
  private releaseAdopted(url: string): void {
    const a = this.adopted.get(url);
    if (!a) return;
    clearTimeout(a.timer);
    this.adopted.delete(url);
    this.hold(a.entry, -1);
  }

  private hold(entry: string, delta: number): void {
    const n = (this.inUse.get(entry) ?? 0) + delta;
    if (n > 0) this.inUse.set(entry, n);
    else this.inUse.delete(entry);
  }

  /** `servable`, releasing its cache entry once disposed. */
  private releasing(servable: Servable, entry: string): Servable {
    let released = false;
    const dispose = servable.dispose.bind(servable);
    servable.dispose = async () => {
      try {
        await dispose();
      } finally {
        if (!released) {
          released = true;
          this.hold(entry, -1);
        }
      }
    };
    return servable;
  }

  /** Folder where uploads to s3:// base paths stage their files. */
  get uploadsDir(): string {
    return this.cacheDir;
  }

  /** Every version number used under `baseUrl`, including versions being uploaded. */
  versionNumbers(baseUrl: string): Promise<number[]> {
    return versionNumbersAt(this.bucket, baseUrl);
  }

  /**
   * Publishes the validated SavedModel folder `dir` as `version` of
   * `baseUrl` (publish.ts), then moves `dir` into the cache as that
   * version's verified entry.
   */
  async publish(dir: string, baseUrl: string, model: string, version: number): Promise<string> {
    const manifest = await publishVersion(this.bucket, dir, baseUrl, model, version, this.log);
    const url = joinS3Url(baseUrl, String(version));
    const files: PlannedFile[] = manifest.files.map((f) => ({ key: '', rel: f.path, size: f.size, sha256: f.sha256 }));
    const plan = { url, version, contentKey: manifest.sha256, files };
    const entry = this.cache.entryDir(plan);
    // Held until the version's first load, so a poll before it does not prune the entry.
    this.releaseAdopted(url);
    this.hold(entry, +1);
    this.adopted.set(url, { entry, timer: setTimeout(() => this.releaseAdopted(url), ADOPTED_GRACE_MS).unref() });
    await this.cache.adopt(dir, plan).catch((e) =>
      this.log.warn(`Version ${version} of model ${model} is published; keeping its files in the cache failed (it is downloaded instead): ${(e as Error).message}`),
    );
    return url;
  }

  /** Whether the version at `versionUrl` is published: its marker is in the store (recovery of an interrupted upload asks). */
  async versionPublished(versionUrl: string): Promise<boolean> {
    const loc = parseS3Url(versionUrl);
    const key = `${loc.prefix}/${MANIFEST_NAME}`;
    return (await this.bucket.listObjects(loc.bucket, key, 1)).some((o) => o.key === key);
  }

  /** Deletes a version's objects from the store (purge). */
  deleteVersion(versionUrl: string): Promise<void> {
    return deleteVersionObjects(this.bucket, versionUrl, this.limits.maxObjects + 1);
  }

  /** Closes the S3 client. */
  close(): void {
    for (const url of [...this.adopted.keys()]) this.releaseAdopted(url);
    this.bucketClient?.destroy();
  }
}
