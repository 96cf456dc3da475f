// s3:// base paths end to end, against a real S3-compatible server (s3rver)
// spoken to through @aws-sdk/client-s3: a plain TF Serving folder in a bucket
// is discovered and served, a new version is hot-swapped under load, a
// version whose upload is still staging is ignored, an upload through the API
// publishes with a marker, a corrupted or missing object and hostile keys
// fail only their version (with the reason), and an unreachable store fails
// an on-demand load clearly while the serving version keeps answering.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../serving/log.js';
import { buildManifest, MANIFEST_NAME } from '../../serving/object_store/manifest.js';
import { startServer, type RunningServer } from '../../server/serve.js';
import { tarGzOf } from '../registry/archive_helpers.js';
import { TestS3 } from '../serving/object_store/s3_server.js';
import { FIXTURES, waitFor } from './helpers.js';
import { Traffic } from './traffic.js';

const PLUS_TWO = path.join(FIXTURES, 'saved_model_half_plus_two_cpu/00000123'); // 2.5 for x = 1
const PLUS_THREE = path.join(FIXTURES, 'saved_model_half_plus_three/00000123'); // 3.5 for x = 1
const BUCKET = 'models';
const BASE = `s3://${BUCKET}/team/hp`;
const TOKEN = 'test-admin-token';

let tmp: string;
let cacheDir: string;
let s3: TestS3;
let server: RunningServer;
const lines: string[] = [];
const log: Logger = { info: (m) => lines.push(m), warn: (m) => lines.push(m), error: (m) => lines.push(m) };

const api = () => request(server.url);
const auth = { Authorization: `Bearer ${TOKEN}` };
const version = async (v: number) => (await api().get(`/api/v1/models/hp/versions/${v}`)).body;

async function predict(suffix = ''): Promise<{ status: number; value?: number; error?: string }> {
  const res = await api().post(`/v1/models/hp${suffix}:predict`).send('{"instances": [1.0]}');
  const body = JSON.parse(res.text);
  return { status: res.status, value: body.predictions?.[0], error: body.error };
}

/** The cache entries of the model's base path. */
function cacheEntries(): string[] {
  const dirs = fs.readdirSync(cacheDir).filter((d) => !d.startsWith('.'));
  return dirs.flatMap((d) => fs.readdirSync(path.join(cacheDir, d))).sort();
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-s3-'));
  cacheDir = path.join(tmp, 'cache');
  s3 = await TestS3.start();
  await s3.createBucket(BUCKET);
  await s3.putDir(BUCKET, 'team/hp/1', PLUS_TWO); // a plain TF Serving folder: no marker
  server = await startServer({
    models: { kind: 'single', name: 'hp', basePath: `${BASE}/` },
    restApiPort: 0,
    restApiHost: '127.0.0.1',
    fileSystemPollWaitSeconds: 0.2,
    registry: { path: path.join(tmp, 'registry.db'), modelsDir: path.join(tmp, 'models'), adminToken: TOKEN, maxLoadedVersions: 1 },
    objectStore: { cacheDir, settings: s3.settings },
    log,
  });
});

afterAll(async () => {
  await server?.stop();
  await s3?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('models on S3-compatible object storage', () => {
  it('discovers a plain TF Serving version folder in the bucket and serves it from a verified cache entry', async () => {
    expect(await predict()).toEqual({ status: 200, value: 2.5 });
    const v1 = await version(1);
    expect(v1).toMatchObject({ version: 1, path: `${BASE}/1`, state: 'AVAILABLE', source: 'discovered', loaded: true });
    const entries = cacheEntries();
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatch(/^1-[0-9a-f]{16}$/);
    const entry = path.join(cacheDir, fs.readdirSync(cacheDir).find((d) => !d.startsWith('.'))!, entries[0]);
    expect(fs.readFileSync(path.join(entry, 'saved_model.pb'))).toEqual(fs.readFileSync(path.join(PLUS_TWO, 'saved_model.pb')));
    expect(fs.readdirSync(cacheDir).filter((d) => d.startsWith('.tmp-'))).toEqual([]);
  });

  it('hot-swaps a new version that appears in the bucket, without a failed request', async () => {
    const traffic = new Traffic(`${server.url}/v1/models/hp:predict`, [2.5, 3.5], 3);
    try {
      await waitFor('traffic', () => traffic.last === 2.5);
      await s3.putDir(BUCKET, 'team/hp/2', PLUS_THREE);
      await waitFor('version 2 to answer', () => traffic.last === 3.5);
      const before = traffic.answers.get(3.5) ?? 0;
      await waitFor('more answers from version 2', () => (traffic.answers.get(3.5) ?? 0) >= before + 20);
    } finally {
      await traffic.stop();
    }
    expect(traffic.failures).toEqual([]);
    // Version 1 stays loaded as the previous version (for a rollback), from its cache entry.
    expect(cacheEntries().map((e) => e.split('-')[0])).toEqual(['1', '2']);
  });

  it('ignores a version with no marker while its upload is staging, however complete its objects look', async () => {
    const polls = lines.length;
    await s3.putDir(BUCKET, 'team/hp/.modelhost-staging/3/0123456789abcdef', PLUS_TWO);
    await s3.putDir(BUCKET, 'team/hp/3', PLUS_TWO); // half-way through publishing: objects copied, no marker
    await waitFor('a note about version 3', () => lines.slice(polls).some((l) => l.includes('Version 3 of model hp') && l.includes('being uploaded'))).catch((e) => {
      throw new Error(`${(e as Error).message}\n${lines.slice(polls).join('\n')}`);
    });
    await new Promise((r) => setTimeout(r, 600));
    expect((await api().get('/api/v1/models/hp/versions/3')).status).toBe(404);
    expect(await predict()).toEqual({ status: 200, value: 3.5 });
  });

  it('publishes an upload through the API with a marker listing sizes and sha256, and serves it without downloading it again', async () => {
    const tgz = fs.readFileSync(await tarGzOf(PLUS_TWO, path.join(tmp, 'plus_two.tgz'), 'half_plus_two'));
    const downloadsBefore = lines.filter((l) => l.startsWith('Downloading')).length;
    const res = await api().post('/api/v1/models/hp/versions').set(auth).attach('archive', tgz, 'half_plus_two.tgz');
    expect(res.status, res.text).toBe(201);
    // Version 3 is taken by the staged upload: numbers are never reused.
    expect(res.body).toMatchObject({ version: 4, path: `${BASE}/4`, state: 'AVAILABLE', source: 'uploaded', loaded: true, error: null });
    expect(await predict()).toEqual({ status: 200, value: 2.5 });
    const keys = await s3.keys(BUCKET, 'team/hp/4/');
    expect(keys).toContain(`team/hp/4/${MANIFEST_NAME}`);
    expect(await s3.keys(BUCKET, 'team/hp/.modelhost-staging/4/')).toEqual([]);
    const marker = JSON.parse((await s3.get(BUCKET, `team/hp/4/${MANIFEST_NAME}`)).toString());
    const expected = (await buildManifest(PLUS_TWO, 'hp', 4)).manifest;
    expect(marker).toMatchObject({ format: 'modelhost-version/1', model: 'hp', version: 4, sha256: expected.sha256, size_bytes: expected.size_bytes, files: expected.files });
    expect(keys).toEqual([...expected.files.map((f) => `team/hp/4/${f.path}`), `team/hp/4/${MANIFEST_NAME}`].sort());
    await waitFor('the sha256 from the marker recorded', async () => (await version(4)).sha256 === expected.sha256);
    expect(lines.filter((l) => l.startsWith('Downloading')).slice(downloadsBefore)).toEqual([]);
    expect(lines.filter((l) => l.includes('/4-'))).toEqual([]); // its cache entry was never pruned (nor re-made)
    // Version 1 is neither active nor previous any more: unloaded, and its cache entry pruned at the next poll.
    await waitFor('the cache entry of version 1 pruned', () => cacheEntries().map((e) => e.split('-')[0]).join() === '2,4');
  });

  it('fails a version whose object does not match its marker, and keeps serving the version before it', async () => {
    const { manifest } = await buildManifest(PLUS_THREE, 'hp', 5);
    await s3.putDir(BUCKET, 'team/hp/5', PLUS_THREE, (rel, data) => {
      if (!rel.startsWith('variables/variables.data')) return data;
      const bad = Buffer.from(data);
      bad[bad.length - 1] ^= 0xff; // same size, different bytes
      return bad;
    });
    await s3.put(BUCKET, `team/hp/5/${MANIFEST_NAME}`, JSON.stringify(manifest));
    const v5 = await waitFor('version 5 to fail', async () => ((await version(5)).state === 'FAILED' ? version(5) : undefined));
    expect(v5.error).toMatch(/^DATA_LOSS: Object variables\/variables\.data-\d+-of-\d+ of s3:\/\/models\/team\/hp\/5 has sha256 [0-9a-f]{64}, but its marker says [0-9a-f]{64}: the object is corrupt/);
    expect(await predict()).toEqual({ status: 200, value: 2.5 });
    expect((await api().get('/api/v1/models/hp')).body.active_version).toBe(4);

    // A marker naming an object that is not there.
    await s3.putDir(BUCKET, 'team/hp/6', PLUS_THREE, (rel, data) => data);
    await s3.deletePrefix(BUCKET, 'team/hp/6/variables/variables.index');
    await s3.put(BUCKET, `team/hp/6/${MANIFEST_NAME}`, JSON.stringify({ ...manifest, version: 6 }));
    const v6 = await waitFor('version 6 to fail', async () => ((await version(6)).state === 'FAILED' ? version(6) : undefined));
    expect(v6.error).toBe('INVALID_ARGUMENT: Object variables/variables.index of s3://models/team/hp/6, named in its marker, is missing from the store. Upload the version again.');
    expect(await predict()).toEqual({ status: 200, value: 2.5 });
    expect(fs.readdirSync(cacheDir).filter((d) => d.startsWith('.tmp-'))).toEqual([]);
  });

  it('refuses keys that would land outside the version folder, writing nothing', async () => {
    const outside = fs.readdirSync(tmp).sort();
    // A plain folder with an object whose key ends in "..".
    await s3.putDir(BUCKET, 'team/hp/7', PLUS_THREE);
    await s3.put(BUCKET, 'team/hp/7/..', 'not a model file');
    // A marker naming a path that climbs out, and one that is absolute.
    const { manifest } = await buildManifest(PLUS_THREE, 'hp', 8);
    await s3.putDir(BUCKET, 'team/hp/8', PLUS_THREE);
    await s3.put(BUCKET, `team/hp/8/${MANIFEST_NAME}`, JSON.stringify({ ...manifest, files: [...manifest.files, { path: '../../../evil.txt', size: 4, sha256: 'a'.repeat(64) }] }));
    await s3.putDir(BUCKET, 'team/hp/9', PLUS_THREE);
    await s3.put(BUCKET, `team/hp/9/${MANIFEST_NAME}`, JSON.stringify({ ...manifest, files: [{ path: '/etc/evil', size: 4, sha256: 'a'.repeat(64) }] }));
    for (const v of [7, 8, 9]) await waitFor(`version ${v} to fail`, async () => (await version(v)).state === 'FAILED');
    expect((await version(7)).error).toBe(
      'INVALID_ARGUMENT: Object key "team/hp/7/.." under s3://models/team/hp/7 would be written outside the version folder (Refused archive entry "..": ".." would place it outside the upload folder); the version is not downloaded.',
    );
    expect((await version(8)).error).toMatch(/^INVALID_ARGUMENT: Version marker s3:\/\/models\/team\/hp\/8\/\.modelhost-manifest\.json names a file that would be written outside the version folder: .*"\.\.\/\.\.\/\.\.\/evil\.txt"/);
    expect((await version(9)).error).toMatch(/^INVALID_ARGUMENT: Version marker .*names a file that would be written outside the version folder: .*absolute paths are not allowed/);
    expect(fs.readdirSync(tmp).sort()).toEqual(outside);
    expect(cacheEntries().filter((e) => /^[789]-/.test(e))).toEqual([]);
    expect(await predict()).toEqual({ status: 200, value: 2.5 });
  });

  it('purges a retired version from the bucket, marker first, and does not find it again', async () => {
    const res = await api().delete('/api/v1/models/hp/versions/5?purge=true').set(auth);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ version: 5, retired: true, state: 'REMOVED' });
    expect(await s3.keys(BUCKET, 'team/hp/5/')).toEqual([]);
    await new Promise((r) => setTimeout(r, 600)); // three polls
    expect(await version(5)).toMatchObject({ state: 'REMOVED' });
    const events = (await api().get('/api/v1/models/hp/events')).body.events.filter((e: { version: number }) => e.version === 5).map((e: { kind: string }) => e.kind);
    expect(events[0]).toBe('purged'); // nothing since: not discovered again
    expect(await predict()).toEqual({ status: 200, value: 2.5 });
  });

  it('fails an on-demand load clearly when the store is unreachable, keeps serving the loaded version, and loads it once the store is back', async () => {
    await s3.stop();
    try {
      // /v1 answers as TF Serving does for a version that cannot serve; the registry says why.
      expect(await predict('/versions/1')).toEqual({ status: 404, error: 'Servable not found for request: Specific(hp, 1)' });
      expect((await version(1)).error).toMatch(
        /^UNAVAILABLE: Could not download s3:\/\/models\/team\/hp\/1\/.+: the object store at http:\/\/127\.0\.0\.1:\d+ is unreachable \(ECONNREFUSED/,
      );
      expect((await version(1)).state).toBe('FAILED');
      await waitFor('the failed listing logged', () => lines.some((l) => /Could not read base path s3:\/\/models\/team\/hp of model hp: Could not list s3:\/\/models\/team\/hp\/: the object store at .* is unreachable/.test(l)));
      expect(await predict()).toEqual({ status: 200, value: 2.5 });
    } finally {
      await s3.restart();
    }
    // Once the store answers again, the version is tried again: a request for it loads it.
    await waitFor('version 1 no longer failed', async () => (await version(1)).state !== 'FAILED');
    expect(await predict('/versions/1')).toEqual({ status: 200, value: 2.5 });
    expect(await predict()).toEqual({ status: 200, value: 2.5 });
  });
});
