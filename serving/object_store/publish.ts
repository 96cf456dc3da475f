/**
 * Uploads to an s3:// base path, published so that no replica ever sees
 * half a version:
 *  1. every file of the validated version goes to
 *     `{base}/.modelhost-staging/{N}/{upload id}/…` (discovery ignores
 *     version N without a marker while this prefix exists);
 *  2. if another upload of N is staging too, or `{base}/{N}/` already holds
 *     objects, the upload is refused (ABORTED / ALREADY_EXISTS) and its
 *     staged objects deleted;
 *  3. each object is copied (server side) to `{base}/{N}/…`;
 *  4. the marker `{base}/{N}/.modelhost-manifest.json` is written: from
 *     now on the version exists for every replica;
 *  5. the staged objects are deleted.
 * A failure before step 4 deletes what was written (best effort); whatever a
 * crash leaves is never served: without a marker and with its staging
 * prefix, version N is ignored, and N is never reused (version numbers
 * count staged ones). `deleteVersion` (purge) deletes the marker first, then
 * saved_model.pb, then the rest, so a replica never loads a half-deleted
 * version.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { StatusError, toStatusError } from '../../runtime/errors.js';
import type { Logger } from '../log.js';
import type { Bucket } from './bucket.js';
import { buildManifest, MANIFEST_NAME, type Manifest } from './manifest.js';
import { listBasePath, STAGING_FOLDER } from './source.js';
import { childPrefix, formatS3Url, parseS3Url } from './s3_url.js';

/** Objects written or copied at once. */
const PARALLEL = 4;

async function eachLimited<T>(items: readonly T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const run = async () => {
    while (next < items.length && !failed) await fn(items[next++]);
  };
  const results = await Promise.allSettled(
    Array.from({ length: Math.min(PARALLEL, items.length) }, () =>
      run().catch((e) => {
        failed = true;
        throw e;
      }),
    ),
  );
  const rejected = results.find((r) => r.status === 'rejected');
  if (rejected) throw (rejected as PromiseRejectedResult).reason;
}

/** Every version number under `baseUrl`: version folders, and versions being uploaded (staged). */
export async function versionNumbersAt(bucket: Bucket, baseUrl: string): Promise<number[]> {
  const listing = await listBasePath(bucket, parseS3Url(baseUrl));
  return listing ? [...listing.versions.keys(), ...listing.staged] : [];
}

/** Publishes the SavedModel folder `dir` as version `version` of `baseUrl` (see the module comment); resolves with its manifest. */
export async function publishVersion(bucket: Bucket, dir: string, baseUrl: string, model: string, version: number, log: Logger): Promise<Manifest> {
  const base = parseS3Url(baseUrl);
  const versionPrefix = `${childPrefix(base)}${version}/`;
  const stagingRoot = `${childPrefix(base)}${STAGING_FOLDER}/${version}/`;
  const uploadId = randomBytes(8).toString('hex');
  const staging = `${stagingRoot}${uploadId}/`;
  const { manifest } = await buildManifest(dir, model, version);
  const written: string[] = [];
  let published = false;
  try {
    await eachLimited(manifest.files, async (f) => {
      written.push(`${staging}${f.path}`);
      await bucket.putFile(base.bucket, `${staging}${f.path}`, path.join(dir, ...f.path.split('/')));
    });
    const others = new Set((await bucket.listObjects(base.bucket, stagingRoot, 100_000)).map((o) => o.key.slice(stagingRoot.length).split('/')[0]));
    others.delete(uploadId);
    if (others.size > 0) {
      throw new StatusError('ABORTED', `Another upload of version ${version} to ${baseUrl} is in progress (${others.size} staged under ${STAGING_FOLDER}/${version}/); try again, or leave "version" out to get the next number.`);
    }
    if ((await bucket.listObjects(base.bucket, versionPrefix, 1)).length > 0) {
      throw new StatusError('ALREADY_EXISTS', `${formatS3Url(base)}/${version} already holds objects; version numbers are never reused.`);
    }
    await eachLimited(manifest.files, async (f) => {
      written.push(`${versionPrefix}${f.path}`);
      await bucket.copy(base.bucket, `${staging}${f.path}`, `${versionPrefix}${f.path}`);
    });
    await bucket.putBytes(base.bucket, `${versionPrefix}${MANIFEST_NAME}`, Buffer.from(JSON.stringify(manifest, null, 1)), 'application/json');
    published = true;
  } catch (e) {
    // Final objects go first: with the staging prefix still there, a replica never takes them for a plain folder.
    const cleanup = [...written.filter((k) => k.startsWith(versionPrefix)), ...written.filter((k) => k.startsWith(staging))];
    await bucket.deleteKeys(base.bucket, cleanup).catch((d) =>
      log.warn(`Could not delete the objects of the failed upload of version ${version} to ${baseUrl} (they are never served; delete ${formatS3Url(base)}/${STAGING_FOLDER}/${version}/ by hand): ${toStatusError(d).message}`),
    );
    throw e;
  } finally {
    if (published) {
      await bucket.deleteKeys(base.bucket, written.filter((k) => k.startsWith(staging))).catch((d) =>
        log.warn(`Version ${version} of ${baseUrl} is published, but its staged copy could not be deleted: ${toStatusError(d).message}`),
      );
    }
  }
  return manifest;
}

/** Deletes a version's objects: the marker first, then saved_model.pb(txt), then the rest. */
export async function deleteVersionObjects(bucket: Bucket, versionUrl: string, maxObjects: number): Promise<void> {
  const loc = parseS3Url(versionUrl);
  const prefix = `${loc.prefix}/`;
  for (;;) {
    const objects = await bucket.listObjects(loc.bucket, prefix, maxObjects);
    if (objects.length === 0) return;
    const rank = (key: string) => (key === `${prefix}${MANIFEST_NAME}` ? 0 : /^saved_model\.pb(txt)?$/.test(key.slice(prefix.length)) ? 1 : 2);
    const keys = objects.map((o) => o.key).sort((a, b) => rank(a) - rank(b));
    for (const r of [0, 1, 2]) {
      const batch = keys.filter((k) => rank(k) === r);
      if (batch.length > 0) await bucket.deleteKeys(loc.bucket, batch);
    }
  }
}
