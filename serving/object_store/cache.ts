/**
 * The local cache of versions downloaded from object storage
 * (--model_cache_dir). A version is loaded only from a complete, verified
 * copy:
 *  1. its objects are downloaded into `{cache}/.tmp-*` (same file system),
 *     each checked against the size it was listed or marked with, and
 *     against the marker's sha256 when the version has a marker;
 *  2. a folder without a marker must be complete (version_readiness.ts);
 *  3. a record of what was verified (`.modelhost-cache.json`) is written in
 *     it, every file and folder is fsynced, and the folder is renamed to
 *     `{cache}/{base path folder}/{version}-{content key}`.
 * So a half-downloaded version is never loaded, and a restarted process
 * reuses an entry whose record matches the version's plan and whose files
 * have the recorded sizes. Entries are pruned by the object store
 * (object_store.ts) once no loaded version uses them; `.tmp-*` and
 * `.upload-*` folders a crash left are deleted at startup.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { dataLoss, failedPrecondition } from '../../runtime/errors.js';
import { durableRename, syncTree } from '../durable.js';
import type { Logger } from '../log.js';
import { checkVersionReady } from '../version_readiness.js';
import type { Bucket } from './bucket.js';
import type { DownloadPlan, PlannedFile } from './source.js';
import { parseS3Url } from './s3_url.js';

export const CACHE_RECORD = '.modelhost-cache.json';
/** Objects downloaded at once for one version. */
const PARALLEL_DOWNLOADS = 4;

interface CacheRecord {
  url: string;
  version: number;
  contentKey: string;
  files: { rel: string; size: number; sha256?: string }[];
}

/** The cache folder of a base path: readable, and unique per URL. */
export function baseFolderName(baseUrl: string): string {
  const loc = parseS3Url(baseUrl);
  const slug = `${loc.bucket}${loc.prefix ? `-${loc.prefix}` : ''}`.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 60);
  return `${slug}-${createHash('sha256').update(baseUrl).digest('hex').slice(0, 10)}`;
}

function parentUrl(url: string): string {
  return url.slice(0, url.lastIndexOf('/'));
}

function sameFiles(a: CacheRecord['files'], b: readonly PlannedFile[]): boolean {
  return a.length === b.length && a.every((f, i) => f.rel === b[i].rel && f.size === b[i].size && (f.sha256 ?? null) === (b[i].sha256 ?? null));
}

/** Deletes the temporary folders a crash left in the cache `root` (call at startup). */
export async function removeCacheLeftovers(root: string, log: Logger): Promise<void> {
  let names: string[];
  try {
    names = await fs.readdir(root);
  } catch {
    return;
  }
  for (const name of names) {
    if (name.startsWith('.tmp-') || name.startsWith('.upload-')) {
      await fs.rm(path.join(root, name), { recursive: true, force: true });
      log.info(`Deleted ${path.join(root, name)}, left by an interrupted download or upload.`);
    }
  }
}

export class VersionCache {
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(
    readonly root: string,
    private readonly bucket: Bucket,
    private readonly log: Logger,
  ) {}

  /** Where the uploads to s3:// base paths stage their files (same file system as the entries). */
  get uploadsDir(): string {
    return this.root;
  }

  /** The folder of a base path's entries. */
  baseDir(baseUrl: string): string {
    return path.join(this.root, baseFolderName(baseUrl));
  }

  entryDir(plan: Pick<DownloadPlan, 'url' | 'version' | 'contentKey'>): string {
    return path.join(this.baseDir(parentUrl(plan.url)), `${plan.version}-${plan.contentKey.slice(0, 16)}`);
  }

  /** Runs `fn` for `dir` after any other work on it. */
  private withLock<T>(dir: string, fn: () => Promise<T>): Promise<T> {
    const before = this.locks.get(dir) ?? Promise.resolve();
    const run = before.then(fn, fn);
    const tail = run.catch(() => {});
    this.locks.set(dir, tail);
    void tail.then(() => {
      if (this.locks.get(dir) === tail) this.locks.delete(dir);
    });
    return run;
  }

  /** The verified local folder of `plan`'s version: reused when valid, else downloaded (see the module comment). */
  materialize(plan: DownloadPlan): Promise<string> {
    if (plan.error) return Promise.reject(plan.error);
    const dir = this.entryDir(plan);
    return this.withLock(dir, async () => {
      if (await this.valid(dir, plan)) return dir;
      await fs.rm(dir, { recursive: true, force: true });
      await fs.mkdir(this.root, { recursive: true });
      const tmp = path.join(this.root, `.tmp-${randomBytes(6).toString('hex')}`);
      await fs.mkdir(tmp);
      try {
        this.log.info(`Downloading version ${plan.version} of model ${plan.model} from ${plan.url} (${plan.files.length} objects, ${plan.files.reduce((n, f) => n + f.size, 0)} bytes)`);
        await this.downloadAll(plan, tmp);
        if (plan.plain) {
          const notReady = await checkVersionReady(tmp);
          if (notReady) throw failedPrecondition(`${plan.url} is not a complete SavedModel: ${notReady.reason}. It is tried again when its objects change.`);
        }
        const record: CacheRecord = { url: plan.url, version: plan.version, contentKey: plan.contentKey, files: plan.files.map((f) => ({ rel: f.rel, size: f.size, sha256: f.sha256 })) };
        await fs.writeFile(path.join(tmp, CACHE_RECORD), JSON.stringify(record));
        await syncTree(tmp);
        await fs.mkdir(path.dirname(dir), { recursive: true });
        await durableRename(tmp, dir);
      } catch (e) {
        await fs.rm(tmp, { recursive: true, force: true });
        throw e;
      }
      return dir;
    });
  }

  /**
   * Makes `localDir` (a validated upload, on the cache's file system) the
   * entry of `plan`'s version, so the uploading server does not download
   * what it just sent. The folder is moved.
   */
  adopt(localDir: string, plan: Pick<DownloadPlan, 'url' | 'version' | 'contentKey' | 'files'>): Promise<void> {
    const dir = this.entryDir(plan);
    return this.withLock(dir, async () => {
      const record: CacheRecord = { url: plan.url, version: plan.version, contentKey: plan.contentKey, files: plan.files.map((f) => ({ rel: f.rel, size: f.size, sha256: f.sha256 })) };
      await fs.writeFile(path.join(localDir, CACHE_RECORD), JSON.stringify(record));
      await syncTree(localDir);
      await fs.rm(dir, { recursive: true, force: true });
      await fs.mkdir(path.dirname(dir), { recursive: true });
      await durableRename(localDir, dir);
    });
  }

  /** Deletes the entries of `baseUrl` that `keep` does not name. */
  async prune(baseUrl: string, keep: (dir: string) => boolean): Promise<void> {
    const base = this.baseDir(baseUrl);
    let names: string[];
    try {
      names = await fs.readdir(base);
    } catch {
      return;
    }
    for (const name of names) {
      const dir = path.join(base, name);
      if (keep(dir)) continue;
      await this.withLock(dir, async () => {
        if (keep(dir)) return;
        await fs.rm(dir, { recursive: true, force: true });
        this.log.info(`Pruned ${dir} from the model cache: no loaded version uses it.`);
      });
    }
    await fs.rmdir(base).catch(() => {});
  }

  private async valid(dir: string, plan: DownloadPlan): Promise<boolean> {
    let record: CacheRecord;
    try {
      record = JSON.parse(await fs.readFile(path.join(dir, CACHE_RECORD), 'utf8')) as CacheRecord;
    } catch {
      return false;
    }
    if (record.url !== plan.url || record.contentKey !== plan.contentKey || !Array.isArray(record.files) || !sameFiles(record.files, plan.files)) return false;
    for (const f of plan.files) {
      const st = await fs.stat(path.join(dir, f.rel)).catch(() => undefined);
      if (!st?.isFile() || st.size !== f.size) return false;
    }
    return true;
  }

  private async downloadAll(plan: DownloadPlan, tmp: string): Promise<void> {
    let next = 0;
    let failed = false;
    const worker = async () => {
      while (next < plan.files.length && !failed) {
        const f = plan.files[next++];
        const target = path.resolve(tmp, ...f.rel.split('/'));
        // The plan's paths were checked already; this is the last line of defence.
        if (!target.startsWith(tmp + path.sep)) throw failedPrecondition(`Object ${f.key} would be written outside the cache folder; refused.`);
        await fs.mkdir(path.dirname(target), { recursive: true });
        const sha256 = await this.bucket.download(plan.bucket, f.key, target, f.size);
        if (f.sha256 !== undefined && sha256 !== f.sha256) {
          throw dataLoss(`Object ${f.rel} of ${plan.url} has sha256 ${sha256}, but its marker says ${f.sha256}: the object is corrupt or was changed after the upload.`);
        }
      }
    };
    const workers = Array.from({ length: Math.min(PARALLEL_DOWNLOADS, plan.files.length) }, () =>
      worker().catch((e) => {
        failed = true;
        throw e;
      }),
    );
    const results = await Promise.allSettled(workers);
    const rejected = results.find((r) => r.status === 'rejected');
    if (rejected) throw (rejected as PromiseRejectedResult).reason;
  }
}
