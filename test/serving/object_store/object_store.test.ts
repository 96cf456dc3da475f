// The object store below the server, against a real S3-compatible server
// (s3rver): the environment as TF Serving reads it, version limits, cache
// reuse after a restart, pruning on unload, access denied, config files.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../../serving/log.js';
import { modelConfig, type VersionPolicy } from '../../../serving/model_config.js';
import { CACHE_RECORD } from '../../../serving/object_store/cache.js';
import { ObjectStore, type ObjectStoreOptions } from '../../../serving/object_store/object_store.js';
import { s3SettingsFromEnv } from '../../../serving/object_store/s3_config.js';
import { parseS3Url } from '../../../serving/object_store/s3_url.js';
import { ServingCore } from '../../../serving/serving_core.js';
import { inlineEngine } from '../../../runtime/execution/serving_engine.js';
import { Tensor } from '../../../runtime/tensor.js';
import { parseModelServerConfig } from '../../../server/config_file.js';
import { FIXTURES, waitFor } from '../../server/helpers.js';
import { TestS3 } from './s3_server.js';

const PLUS_TWO = path.join(FIXTURES, 'saved_model_half_plus_two_cpu/00000123');
const PLUS_THREE = path.join(FIXTURES, 'saved_model_half_plus_three/00000123');
const BUCKET = 'bkt';

let s3: TestS3;
let tmp: string;

beforeAll(async () => {
  s3 = await TestS3.start();
  await s3.createBucket(BUCKET);
  await s3.putDir(BUCKET, 'hp/1', PLUS_TWO);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-objstore-'));
});
afterAll(async () => {
  await s3?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

interface Started {
  core: ServingCore;
  store: ObjectStore;
  lines: string[];
}

async function startCore(base: string, options: ObjectStoreOptions, policy?: VersionPolicy): Promise<Started> {
  const lines: string[] = [];
  const log: Logger = { info: (m) => lines.push(m), warn: (m) => lines.push(m), error: (m) => lines.push(m) };
  const store = new ObjectStore({ settings: s3.settings, log, ...options });
  await store.init();
  const core = new ServingCore({ engine: store.wrapEngine(inlineEngine()), objectStore: store, fileSystemPollWaitSeconds: 0.1, log });
  await core.start([modelConfig('hp', base, policy ? { versionPolicy: policy } : {})]);
  return { core, store, lines };
}

async function stopCore(s: Started): Promise<void> {
  await s.core.stop();
  s.store.close();
}

async function predictWith(core: ServingCore): Promise<number> {
  const handle = core.getHandle({ name: 'hp' });
  try {
    const { y } = await handle.model.run('serving_default', { x: Tensor.from('float32', [1, 1], [1]) });
    return y.numbers()[0];
  } finally {
    handle.release();
  }
}

describe('S3 settings from the environment', () => {
  it("reads TF Serving's variables", () => {
    const s = s3SettingsFromEnv({ S3_ENDPOINT: 'minio.local:9000', S3_USE_HTTPS: '0', S3_VERIFY_SSL: '0', AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'id', AWS_SECRET_ACCESS_KEY: 'secret' });
    expect(s).toMatchObject({ endpoint: 'http://minio.local:9000', region: 'eu-west-1', verifySsl: false, credentials: { accessKeyId: 'id', secretAccessKey: 'secret' } });
    expect(s3SettingsFromEnv({ S3_ENDPOINT: 'minio.local:9000' }).endpoint).toBe('https://minio.local:9000');
    expect(s3SettingsFromEnv({ S3_REGION: 'us-west-2' }).region).toBe('us-west-2');
    expect(s3SettingsFromEnv({})).toMatchObject({ endpoint: undefined, region: 'us-east-1', verifySsl: true, credentials: undefined });
  });

  it('takes AWS_ENDPOINT_URL over S3_ENDPOINT, and refuses an endpoint that is not a URL', () => {
    expect(s3SettingsFromEnv({ AWS_ENDPOINT_URL: 'http://127.0.0.1:9000', S3_ENDPOINT: 'other:1' }).endpoint).toBe('http://127.0.0.1:9000');
    expect(() => s3SettingsFromEnv({ AWS_ENDPOINT_URL: 'not a url' })).toThrow('The S3 endpoint not a url (S3_ENDPOINT / AWS_ENDPOINT_URL) is not a valid URL or host:port.');
    expect(() => s3SettingsFromEnv({ S3_REQUEST_TIMEOUT_MSEC: '-1' })).toThrow('S3_REQUEST_TIMEOUT_MSEC=-1 is not a positive whole number of milliseconds.');
  });
});

describe('s3:// base paths in config files', () => {
  it('keeps them (canonical spelling) and refuses malformed ones', () => {
    const models = parseModelServerConfig('model_config_list { config { name: "hp" base_path: "s3://bkt/team//hp/" model_platform: "tensorflow" } }', path.join(tmp, 'models.config'));
    expect(models[0].basePath).toBe('s3://bkt/team/hp');
    expect(() => parseModelServerConfig('model_config_list { config { name: "hp" base_path: "s3://B/hp" } }', 'x.config')).toThrow(/"B" is not a valid bucket name/);
    expect(() => parseModelServerConfig('model_config_list { config { name: "hp" base_path: "s3://bkt/../hp" } }', 'x.config')).toThrow(/"\." and "\.\." segments are not allowed/);
    expect(parseS3Url('s3://bkt')).toEqual({ bucket: 'bkt', prefix: '' });
  });
});

describe('the object store under a serving core', () => {
  it('reuses a verified cache entry after a restart, and downloads again when the entry was damaged', async () => {
    const cacheDir = path.join(tmp, 'cache-restart');
    const first = await startCore('s3://bkt/hp', { cacheDir });
    expect(await predictWith(first.core)).toBe(2.5);
    expect(first.lines.filter((l) => l.startsWith('Downloading version 1'))).toHaveLength(1);
    await stopCore(first);

    const second = await startCore('s3://bkt/hp', { cacheDir });
    expect(await predictWith(second.core)).toBe(2.5);
    expect(second.lines.filter((l) => l.startsWith('Downloading'))).toEqual([]);
    await stopCore(second);

    // A file shorter than recorded (a disk problem, a hand edit): the entry is not trusted.
    const base = fs.readdirSync(cacheDir).find((d) => !d.startsWith('.'))!;
    const entry = path.join(cacheDir, base, fs.readdirSync(path.join(cacheDir, base))[0]);
    expect(fs.existsSync(path.join(entry, CACHE_RECORD))).toBe(true);
    fs.truncateSync(path.join(entry, 'saved_model.pb'), 10);
    // A half-written download a crash left behind is deleted at startup.
    fs.mkdirSync(path.join(cacheDir, '.tmp-leftover'));
    const third = await startCore('s3://bkt/hp', { cacheDir });
    expect(await predictWith(third.core)).toBe(2.5);
    expect(third.lines.filter((l) => l.startsWith('Downloading version 1'))).toHaveLength(1);
    expect(fs.existsSync(path.join(cacheDir, '.tmp-leftover'))).toBe(false);
    await stopCore(third);
  });

  it('prunes the cache entry of a version once it is unloaded', async () => {
    const cacheDir = path.join(tmp, 'cache-prune');
    await s3.putDir(BUCKET, 'prune/1', PLUS_TWO);
    const s = await startCore('s3://bkt/prune', { cacheDir });
    const entries = () => fs.readdirSync(cacheDir).filter((d) => !d.startsWith('.')).flatMap((d) => fs.readdirSync(path.join(cacheDir, d)));
    expect(entries().map((e) => e.split('-')[0])).toEqual(['1']);
    await s3.putDir(BUCKET, 'prune/2', PLUS_THREE);
    await waitFor('version 2 to serve', async () => (await predictWith(s.core).catch(() => 0)) === 3.5);
    await waitFor('only version 2 in the cache', () => entries().map((e) => e.split('-')[0]).join() === '2');
    await stopCore(s);
  });

  it('refuses a version over the object-count or byte limit, downloading nothing', async () => {
    const count = await startCore('s3://bkt/hp', { cacheDir: path.join(tmp, 'cache-count'), maxVersionObjects: 2 });
    await waitFor('the load to fail', () => count.core.monitor.getState('hp', 1)?.state === 'END');
    expect(count.core.monitor.getState('hp', 1)!.status).toEqual({
      code: 'RESOURCE_EXHAUSTED',
      message: 's3://bkt/hp/1 holds more than 2 objects (--object_store_max_version_objects); it is not downloaded.',
    });
    await stopCore(count);
    const bytes = await startCore('s3://bkt/hp', { cacheDir: path.join(tmp, 'cache-bytes'), maxVersionBytes: 1000 });
    await waitFor('the load to fail', () => bytes.core.monitor.getState('hp', 1)?.state === 'END');
    expect(bytes.core.monitor.getState('hp', 1)!.status.message).toMatch(/^s3:\/\/bkt\/hp\/1 holds \d+ bytes, more than --object_store_max_version_bytes=1000; it is not downloaded\.$/);
    await stopCore(bytes);
    expect(fs.existsSync(path.join(tmp, 'cache-count'))).toBe(false);
    expect(fs.existsSync(path.join(tmp, 'cache-bytes'))).toBe(false);
  });

  it('says access was denied when the credentials are refused, serving nothing and failing nothing', async () => {
    const lines: string[] = [];
    const log: Logger = { info: (m) => lines.push(m), warn: (m) => lines.push(m), error: (m) => lines.push(m) };
    const store = new ObjectStore({ settings: { ...s3.settings, credentials: { accessKeyId: 'nobody', secretAccessKey: 'x' } }, cacheDir: path.join(tmp, 'cache-denied'), log });
    const core = new ServingCore({ engine: store.wrapEngine(inlineEngine()), objectStore: store, fileSystemPollWaitSeconds: 0.1, log });
    await core.start([modelConfig('hp', 's3://bkt/hp')]);
    expect(lines.find((l) => l.includes('Could not read base path'))).toMatch(
      /^Could not read base path s3:\/\/bkt\/hp of model hp: Could not list s3:\/\/bkt\/hp\/: access denied by the object store at http:\/\/127\.0\.0\.1:\d+ \(InvalidAccessKeyId: .*\)\. Check AWS_ACCESS_KEY_ID \/ AWS_SECRET_ACCESS_KEY and the bucket's policy\.$/,
    );
    expect(core.monitor.getState('hp', 1)).toBeUndefined();
    await core.stop();
    store.close();
  });

  it('offers only the versions a specific policy names, and leaves other prefixes alone', async () => {
    await s3.putDir(BUCKET, 'spec/1', PLUS_TWO);
    await s3.putDir(BUCKET, 'spec/2', PLUS_THREE);
    await s3.put(BUCKET, 'spec/notes/readme.txt', 'not a version');
    const s = await startCore('s3://bkt/spec', { cacheDir: path.join(tmp, 'cache-spec') }, { kind: 'specific', versions: [1] });
    expect(await predictWith(s.core)).toBe(2.5);
    expect(s.core.monitor.getState('hp', 2)).toBeUndefined();
    await stopCore(s);
  });
});
