/**
 * Version discovery on object storage (the Source for s3:// base paths; the
 * watcher calls it for every poll of such a model). One poll lists every
 * object under the base path (ListObjectsV2, 1000 keys a request; at most
 * MAX_LISTED_OBJECTS) and groups them by version folder.
 *
 * Which version prefixes are offered (the rule, docs/OBJECT_STORAGE.md):
 *  - Version folders are named by a number, as on disk (`00000123` is 123;
 *    of `123` and `0123` the one sorting last wins); anything else is ignored.
 *  - With a marker (`{N}/.modelhost-manifest.json`, written last by an
 *    upload): offered at once; its files are the manifest's, verified on
 *    download (size and sha256). A marker that does not parse, or names a
 *    file that is not there, is offered too, so the load fails with why.
 *  - Without a marker, while an upload of N is in progress
 *    (`.modelhost-staging/{N}/` exists): ignored.
 *  - Without a marker otherwise (a plain TF Serving folder, copied with
 *    `aws s3 cp` or `gsutil`): offered once it has `saved_model.pb` (or
 *    `.pbtxt`) and its listing (keys, sizes, ETags) is the same on two polls
 *    in a row (on the model's first poll, at once); downloaded files must
 *    have the listed sizes, and the folder must be complete (registry/
 *    version_readiness.ts) before it is loaded. A folder without
 *    saved_model.pb unchanged for STALE_POLLS polls is offered, so its load
 *    fails with the reason.
 *  - Limits (--object_store_max_version_objects / _bytes) and keys that would
 *    land outside the version folder (`..`, absolute) fail the version's load
 *    with the reason; nothing of it is downloaded.
 *
 * Each offered version is an AspiredVersion whose `dir` is the version's
 * s3:// URL; the DownloadPlan registered for that URL tells the cache what to
 * fetch when the manager loads it (serving/object_store/cache.ts).
 */
import { createHash } from 'node:crypto';
import { invalidArgument, resourceExhausted, toStatusError, type StatusError } from '../../runtime/errors.js';
import { safeSegments } from '../safe_path.js';
import type { Logger } from '../log.js';
import type { ModelConfig } from '../model_config.js';
import { parseVersionDirName } from '../version_dir.js';
import type { FolderDigest } from '../version_files.js';
import type { AspiredVersion } from '../version_manager.js';
import { STALE_POLLS } from '../watcher.js';
import { MAX_LISTED_OBJECTS, type Bucket, type ListedObject } from './bucket.js';
import { MANIFEST_NAME, MAX_MANIFEST_BYTES, parseManifest, type Manifest, type VersionLimits } from './manifest.js';
import { childPrefix, formatS3Url, parseS3Url, type S3Location } from './s3_url.js';

/** The prefix under a base path where uploads stage their objects: `{base}/.modelhost-staging/{N}/{upload id}/...`. */
export const STAGING_FOLDER = '.modelhost-staging';

const SAVED_MODEL_FILES = ['saved_model.pb', 'saved_model.pbtxt'];

export interface PlannedFile {
  key: string;
  /** POSIX path inside the version folder (checked). */
  rel: string;
  size: number;
  /** From the marker; plain folders have none. */
  sha256?: string;
}

/** What loading one version downloads. */
export interface DownloadPlan {
  url: string;
  model: string;
  version: number;
  bucket: string;
  files: PlannedFile[];
  /** Names the content: the marker's sha256, or a hash of a plain folder's listing. */
  contentKey: string;
  /** From the marker. */
  digest?: FolderDigest;
  /** Why the version cannot be downloaded (hostile key, limit, bad marker); its load fails with it. */
  error?: StatusError;
  /** True for a folder without a marker (its completeness is checked after download). */
  plain: boolean;
}

interface VersionSeen {
  fingerprint: string;
  unchangedPolls: number;
  offered: boolean;
  /** The marker's ETag and what it parsed to (read again only when its ETag changes). */
  markerEtag?: string;
  manifest?: Manifest;
  markerError?: StatusError;
  /** Last note logged for this version. */
  note?: string;
}

export class ObjectStoreSource {
  /** Per base path URL: per version: what the last poll saw. */
  private readonly seen = new Map<string, Map<number, VersionSeen>>();
  /** Version URL → the plan of its newest listing. */
  readonly plans = new Map<string, DownloadPlan>();

  constructor(
    private readonly bucket: Bucket,
    private readonly limits: VersionLimits,
    private readonly log: Logger,
  ) {}

  /** Forgets a model's history (it was removed from the config). */
  forget(basePath: string): void {
    this.seen.delete(basePath);
  }

  /**
   * The complete versions under `model.basePath` (its s3:// URL), or
   * undefined when nothing is there yet. `wanted` filters version numbers
   * before their objects are listed. Throws (UNAVAILABLE, PERMISSION_DENIED,
   * NOT_FOUND) when the store cannot be listed; nothing changes then.
   */
  async poll(model: ModelConfig, wanted: (version: number) => boolean): Promise<AspiredVersion[] | undefined> {
    const base = parseS3Url(model.basePath);
    const listing = await listBasePath(this.bucket, base);
    if (!listing) return undefined;
    const { versions, staged, objects: byVersion } = listing;
    const firstPoll = !this.seen.has(model.basePath);
    const before = this.seen.get(model.basePath) ?? new Map<number, VersionSeen>();
    const now = new Map<number, VersionSeen>();
    const ready: AspiredVersion[] = [];
    for (const [version, name] of versions) {
      if (!wanted(version)) continue;
      const loc: S3Location = { bucket: base.bucket, prefix: `${childPrefix(base)}${name}` };
      const url = formatS3Url(loc);
      const objects = byVersion.get(name) ?? [];
      const fingerprint = listingHash(loc, objects);
      const prev = before.get(version);
      const seen: VersionSeen = {
        fingerprint,
        unchangedPolls: prev && prev.fingerprint === fingerprint ? prev.unchangedPolls + 1 : 0,
        offered: false,
        note: prev?.note,
      };
      now.set(version, seen);
      const marker = objects.find((o) => o.key === `${loc.prefix}/${MANIFEST_NAME}`);
      let plan: DownloadPlan | undefined;
      if (marker) {
        await this.readMarker(loc, marker, prev, seen);
        plan = this.markerPlan(model.name, version, url, loc, objects, seen);
      } else if (staged.has(version)) {
        this.note(seen, `Version ${version} of model ${model.name} at ${url} is being uploaded (no marker yet); it is served once its marker is written.`);
      } else {
        plan = this.plainPlan(model.name, version, url, loc, objects);
        const hasSavedModel = plan.files.some((f) => SAVED_MODEL_FILES.includes(f.rel));
        const stable = seen.unchangedPolls >= 1 || firstPoll;
        const offer = plan.error ? seen.unchangedPolls >= 1 || firstPoll : hasSavedModel ? stable : seen.unchangedPolls >= STALE_POLLS;
        if (!offer) {
          this.note(seen, hasSavedModel
            ? `Version ${version} of model ${model.name} at ${url} has no marker and changed since the last poll; it is offered once its objects stay the same for a poll.`
            : `Version ${version} of model ${model.name} at ${url} has no saved_model.pb yet; waiting for it.`);
          plan = undefined;
        }
      }
      if (plan) {
        seen.offered = true;
        seen.note = undefined;
        this.plans.set(url, plan);
        ready.push({ version, dir: url, fingerprint });
      }
    }
    this.seen.set(model.basePath, now);
    return ready;
  }

  private note(seen: VersionSeen, message: string): void {
    if (seen.note === message) return;
    seen.note = message;
    this.log.info(message);
  }

  private async readMarker(loc: S3Location, marker: ListedObject, prev: VersionSeen | undefined, seen: VersionSeen): Promise<void> {
    if (prev?.markerEtag === marker.etag && (prev.manifest || prev.markerError)) {
      seen.markerEtag = prev.markerEtag;
      seen.manifest = prev.manifest;
      seen.markerError = prev.markerError;
      return;
    }
    const where = `s3://${loc.bucket}/${marker.key}`;
    try {
      const bytes = await this.bucket.read(loc.bucket, marker.key, MAX_MANIFEST_BYTES);
      seen.manifest = parseManifest(bytes, where, this.limits);
      seen.markerEtag = marker.etag;
    } catch (e) {
      const status = toStatusError(e);
      // A store that cannot be read now is not a property of the marker: read it again next poll.
      if (status.code === 'UNAVAILABLE') throw status;
      seen.markerError = status;
      seen.markerEtag = marker.etag;
    }
  }

  private markerPlan(model: string, version: number, url: string, loc: S3Location, objects: ListedObject[], seen: VersionSeen): DownloadPlan {
    const plan: DownloadPlan = { url, model, version, bucket: loc.bucket, files: [], contentKey: seen.fingerprint, plain: false };
    if (seen.markerError || !seen.manifest) {
      plan.error = seen.markerError ?? invalidArgument(`The version marker of ${url} could not be read.`);
      return plan;
    }
    const m = seen.manifest;
    plan.contentKey = m.sha256;
    plan.digest = { sha256: m.sha256, sizeBytes: m.size_bytes, fileCount: m.files.length };
    plan.files = m.files.map((f) => ({ key: `${loc.prefix}/${f.path}`, rel: f.path, size: f.size, sha256: f.sha256 }));
    const listed = new Map(objects.map((o) => [o.key, o]));
    for (const f of plan.files) {
      const o = listed.get(f.key);
      if (!o && objects.length <= this.limits.maxObjects) {
        plan.error = invalidArgument(`Object ${f.rel} of ${url}, named in its marker, is missing from the store. Upload the version again.`);
        break;
      }
      if (o && o.size !== f.size) {
        plan.error = invalidArgument(`Object ${f.rel} of ${url} holds ${o.size} bytes; its marker says ${f.size}. The object was changed after the upload; upload the version again.`);
        break;
      }
    }
    return plan;
  }

  private plainPlan(model: string, version: number, url: string, loc: S3Location, objects: ListedObject[]): DownloadPlan {
    const plan: DownloadPlan = { url, model, version, bucket: loc.bucket, files: [], contentKey: listingHash(loc, objects), plain: true };
    if (objects.length > this.limits.maxObjects) {
      plan.error = resourceExhausted(`${url} holds more than ${this.limits.maxObjects} objects (--object_store_max_version_objects); it is not downloaded.`);
      return plan;
    }
    let total = 0;
    const seen = new Set<string>();
    for (const o of objects) {
      const inner = o.key.slice(loc.prefix.length + 1);
      // "Folder" placeholder objects (keys ending in "/", made by consoles) hold nothing.
      if (inner.endsWith('/') && o.size === 0) continue;
      let rel: string;
      try {
        rel = safeSegments(inner).join('/');
        if (rel === '' || inner.split('/').some((s) => s === '')) throw new Error('the key has an empty path segment');
      } catch (e) {
        plan.error = invalidArgument(`Object key ${JSON.stringify(o.key)} under ${url} would be written outside the version folder (${(e as Error).message.replace(/\.$/, '')}); the version is not downloaded.`);
        return plan;
      }
      if (seen.has(rel)) {
        plan.error = invalidArgument(`Object keys under ${url} name ${rel} twice (${JSON.stringify(o.key)}); the version is not downloaded.`);
        return plan;
      }
      seen.add(rel);
      total += o.size;
      plan.files.push({ key: o.key, rel, size: o.size });
    }
    if (total > this.limits.maxBytes) {
      plan.error = resourceExhausted(`${url} holds ${total} bytes, more than --object_store_max_version_bytes=${this.limits.maxBytes}; it is not downloaded.`);
    }
    return plan;
  }
}

export interface BaseListing {
  /** Version number → the folder name that holds it (of `3` and `03`, the one sorting last). */
  versions: Map<number, string>;
  /** Versions with an upload staging under `.modelhost-staging/{N}/`. */
  staged: Set<number>;
  /** Folder name → its objects, in key order. */
  objects: Map<string, ListedObject[]>;
}

/** Everything under a base path, in one listing; undefined when it holds no objects. */
export async function listBasePath(bucket: Bucket, base: S3Location): Promise<BaseListing | undefined> {
  const prefix = childPrefix(base);
  const all = await bucket.listObjects(base.bucket, prefix, MAX_LISTED_OBJECTS);
  if (all.length > MAX_LISTED_OBJECTS) {
    throw resourceExhausted(`${formatS3Url(base)} holds more than ${MAX_LISTED_OBJECTS} objects; a model's base path should hold its version folders only.`);
  }
  if (all.length === 0) return undefined;
  const objects = new Map<string, ListedObject[]>();
  const staged = new Set<number>();
  for (const o of all) {
    const rest = o.key.slice(prefix.length);
    const slash = rest.indexOf('/');
    if (slash <= 0) continue;
    const folder = rest.slice(0, slash);
    if (folder === STAGING_FOLDER) {
      const v = parseVersionDirName(rest.slice(slash + 1).split('/')[0]);
      if (v !== undefined) staged.add(v);
      continue;
    }
    if (parseVersionDirName(folder) === undefined) continue;
    let list = objects.get(folder);
    if (!list) objects.set(folder, (list = []));
    list.push(o);
  }
  const versions = new Map<number, string>();
  for (const name of [...objects.keys()].sort()) versions.set(parseVersionDirName(name)!, name);
  return { versions, staged, objects };
}

/** Changes when any object under the version prefix is added, removed, resized or rewritten. */
function listingHash(loc: S3Location, objects: readonly ListedObject[]): string {
  const h = createHash('sha256');
  for (const o of objects) h.update(`${o.key.slice(loc.prefix.length)}\0${o.size}\0${o.etag}\n`);
  return h.digest('hex');
}
