// Version metadata (registry/version_metadata.ts): parsing and limits, the
// stores keeping it (SQLite file and a real PostgreSQL database), and the
// registry setting it at upload and by patch, with its history event, across
// restarts and replicas; and the signature diff of two real versions.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS, migrate } from '../../registry/migrations.js';
import { breakingChanges, diffSignatures } from '../../registry/signature_diff.js';
import { SqliteStore } from '../../registry/sqlite_store.js';
import {
  applyMetadataPatch,
  checkMetadata,
  DEFAULT_METADATA_LIMITS,
  duplicateJsonKey,
  emptyMetadata,
  metadataFromFields,
  parseMetadataPatch,
} from '../../registry/version_metadata.js';
import { StatusError } from '../../runtime/errors.js';
import { describePostgres } from './postgres_helper.js';
import { errorOf, PLUS_THREE, PLUS_TWO, storeCounts, uploadDir, worldsPerTest } from './registry_world.js';

const F_MNIST = path.resolve(import.meta.dirname, '../../models/f_mnist/1');

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(StatusError);
    expect((e as StatusError).code).toBe('INVALID_ARGUMENT');
    return (e as StatusError).message;
  }
  throw new Error('was not refused');
}

describe('metadata parsing and limits', () => {
  it('reads a merge patch: null clears a field or removes a key, "" clears text', () => {
    const patch = parseMetadataPatch({ description: 'CNN, 3 epochs', tags: { stage: 'prod', team: null }, metrics: { 'val/acc': 0.91, loss: null }, source: '' });
    expect(patch).toEqual({ description: 'CNN, 3 epochs', tags: { stage: 'prod', team: null }, metrics: { 'val/acc': 0.91, loss: null }, source: null });
    const before = { description: 'old', tags: { team: 'vision', owner: 'ana' }, metrics: { loss: 0.3, acc: 0.8 }, source: 'git@x:y@abc' };
    expect(applyMetadataPatch(before, patch)).toEqual({
      description: 'CNN, 3 epochs',
      tags: { owner: 'ana', stage: 'prod' },
      metrics: { acc: 0.8, 'val/acc': 0.91 },
      source: null,
    });
    // Absent fields are kept.
    expect(applyMetadataPatch(before, {})).toEqual(before);
  });

  it('reads upload fields: tag and metric repeated as key=value (the value may hold "=")', () => {
    expect(metadataFromFields({ description: 'd', source: 'run 42', tag: ['stage=prod', 'query=a=b'], metric: ['acc=0.91', 'loss=-1.5e-3'] })).toEqual({
      description: 'd',
      source: 'run 42',
      tags: { stage: 'prod', query: 'a=b' },
      metrics: { acc: 0.91, loss: -0.0015 },
    });
    expect(metadataFromFields({ tag: 'one=1' })).toEqual({ tags: { one: '1' } });
    expect(metadataFromFields({})).toEqual({});
  });

  it('refuses hostile input, naming what is wrong', () => {
    expect(refusal(() => parseMetadataPatch([1]))).toMatch(/JSON object/);
    expect(refusal(() => parseMetadataPatch({ tags: {}, owner: 'x' }))).toMatch(/Unknown metadata field "owner"/);
    expect(refusal(() => parseMetadataPatch({ description: 5 }))).toMatch(/"description" must be text or null/);
    expect(refusal(() => parseMetadataPatch({ tags: ['a'] }))).toMatch(/"tags" must be an object/);
    expect(refusal(() => parseMetadataPatch({ tags: { a: 1 } }))).toMatch(/Tag a must be text/);
    expect(refusal(() => parseMetadataPatch({ tags: { 'a b': 'x' } }))).toMatch(/Tag key "a b" is not valid/);
    expect(refusal(() => parseMetadataPatch({ tags: { __proto__x: 'x' } }))).toMatch(/not valid/);
    expect(refusal(() => parseMetadataPatch({ tags: { '': 'x' } }))).toMatch(/not valid/);
    expect(refusal(() => parseMetadataPatch({ tags: { a: 'x\u0000y' } }))).toMatch(/Tag a holds a control character/);
    expect(refusal(() => parseMetadataPatch({ description: 'bad \ud800 text' }))).toMatch(/lone surrogate/);
    expect(refusal(() => parseMetadataPatch({ description: 'bell\u0007' }))).toMatch(/only newlines and tabs/);
    expect(parseMetadataPatch({ description: 'two\nlines\tand a tab' }).description).toBe('two\nlines\tand a tab');
    expect(refusal(() => parseMetadataPatch({ metrics: { acc: '0.9' } }))).toMatch(/Metric acc must be a finite number, got "0.9"/);
    expect(refusal(() => parseMetadataPatch(JSON.parse('{"metrics": {"acc": 1e999}}')))).toMatch(/Metric acc must be a finite number, got Infinity/);
    // JSON.parse keeps the last of two equal keys: the raw text is checked.
    const text = '{"tags": {"stage": "prod", "stage": "dev"}}';
    expect(refusal(() => parseMetadataPatch(JSON.parse(text), text))).toMatch(/names "stage" twice/);

    expect(refusal(() => metadataFromFields({ tag: 'novalue' }))).toMatch(/"tag" field must be key=value/);
    expect(refusal(() => metadataFromFields({ tag: '=x' }))).toMatch(/key=value/);
    expect(refusal(() => metadataFromFields({ tag: ['a=1', 'a=2'] }))).toMatch(/Tag a is given twice/);
    expect(refusal(() => metadataFromFields({ metric: ['acc=1', 'acc=1'] }))).toMatch(/Metric acc is given twice/);
    for (const bad of ['NaN', 'Infinity', '1e999', '0x10', '', '1,5', 'acc']) {
      expect(refusal(() => metadataFromFields({ metric: `m=${bad}` }))).toMatch(/Metric m must be a finite number/);
    }
    expect(refusal(() => metadataFromFields({ tag: { x: '1' } }))).toMatch(/plain text fields/);
    expect(refusal(() => metadataFromFields({ description: ['a', 'b'] }))).toMatch(/Give "description" once/);
  });

  it('checks counts and lengths against the limits, naming the flag', () => {
    const limits = { ...DEFAULT_METADATA_LIMITS, maxDescriptionChars: 10, maxTags: 2, maxMetrics: 1, maxKeyChars: 5, maxValueChars: 8 };
    const ok = { description: '0123456789', tags: { a: '12345678', b: '' }, metrics: { m: 1 }, source: '12345678' };
    checkMetadata(ok, limits);
    // Characters, not bytes: ten 3-byte characters fit a 10-character description.
    checkMetadata({ ...ok, description: 'é'.repeat(5) + '日本語日本' }, limits);
    expect(refusal(() => checkMetadata({ ...ok, description: '01234567890' }, limits))).toMatch(/11 characters, more than 10 \(--metadata_max_description_chars\)/);
    expect(refusal(() => checkMetadata({ ...ok, tags: { a: '1', b: '2', c: '3' } }, limits))).toMatch(/at most 2 tags \(--metadata_max_tags\)/);
    expect(refusal(() => checkMetadata({ ...ok, metrics: { m: 1, n: 2 } }, limits))).toMatch(/at most 1 metrics \(--metadata_max_metrics\)/);
    expect(refusal(() => checkMetadata({ ...ok, tags: { abcdef: 'x' } }, limits))).toMatch(/--metadata_max_key_chars/);
    expect(refusal(() => checkMetadata({ ...ok, metrics: { abcdef: 1 } }, limits))).toMatch(/--metadata_max_key_chars/);
    expect(refusal(() => checkMetadata({ ...ok, tags: { a: '123456789' } }, limits))).toMatch(/--metadata_max_value_chars/);
    expect(refusal(() => checkMetadata({ ...ok, source: '123456789' }, limits))).toMatch(/The source has 9 characters.*--metadata_max_value_chars/);
  });

  it('finds duplicate keys at any depth, and not across objects or inside strings', () => {
    expect(duplicateJsonKey('{"a": 1, "b": {"a": 2}}')).toBeUndefined();
    expect(duplicateJsonKey('{"a": "\\"a\\"", "k": ["a", "a"], "x": {"y": 1, "y": 2}}')).toBe('y');
    expect(duplicateJsonKey('[{"a": 1}, {"a": 1}]')).toBeUndefined();
    expect(duplicateJsonKey('{"a\\u0062": 1, "ab": 2}')).toBe('ab');
  });
});

describe('metadata in a SQLite file made before metadata existed', () => {
  let tmp: string;
  beforeEach(() => void (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-meta-'))));
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('migrates: old versions get empty metadata', async () => {
    const file = path.join(tmp, 'old.db');
    const db = new Database(file);
    migrate(db, MIGRATIONS.filter((m) => m.version <= 4));
    db.prepare("INSERT INTO models (name, base_path, origin, created_at) VALUES ('m', '/m', 'config', 'now')").run();
    db.prepare("INSERT INTO versions (model, version, path, state, source, created_at) VALUES ('m', 1, '/m/1', 'AVAILABLE', 'discovered', 'now')").run();
    db.close();
    const store = SqliteStore.open(file);
    try {
      expect((await store.getVersion('m', 1))?.metadata).toEqual(emptyMetadata());
    } finally {
      await store.close();
    }
  });
});

const harness = worldsPerTest('modelhost-metadata-');
const { start, worlds } = harness;

describe('version metadata in the registry on SQLite', () => metadataSuite());

describePostgres('version metadata in the registry on PostgreSQL', () => {
  harness.usePostgres();
  metadataSuite();

  it('a change made on one replica is served by the other', async () => {
    const a = await start({ replicaId: 'a', refreshIntervalMs: 100 });
    await uploadDir(a, 'm', PLUS_TWO, { metadata: { tags: { stage: 'dev' } } });
    const b = await start({ replicaId: 'b', refreshIntervalMs: 100 });
    await b.core.refreshModels();
    expect(b.registry.getVersion('m', 1).metadata.tags).toEqual({ stage: 'dev' });
    await a.registry.setMetadata('m', 1, { tags: { stage: 'prod' }, metrics: { acc: 0.97 } }, 'api@a');
    const deadline = Date.now() + 10_000;
    while (b.registry.getVersion('m', 1).metadata.tags.stage !== 'prod' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(b.registry.getVersion('m', 1).metadata).toMatchObject({ tags: { stage: 'prod' }, metrics: { acc: 0.97 } });
  });
});

function metadataSuite() {
  it('keeps what an upload sets and what a patch changes, with a history event, across a restart', async () => {
    let w = await start();
    const v1 = await uploadDir(w, 'm', PLUS_TWO, {
      metadata: { description: 'y = 0.5x + 2', tags: { stage: 'dev', team: 'ml' }, metrics: { mae: 0.0125 }, source: 'ana@laptop, git 3f2a1c9, run 17' },
    });
    expect(v1.metadata).toEqual({ description: 'y = 0.5x + 2', tags: { stage: 'dev', team: 'ml' }, metrics: { mae: 0.0125 }, source: 'ana@laptop, git 3f2a1c9, run 17' });
    const v2 = await uploadDir(w, 'm', PLUS_THREE);
    expect(v2.metadata).toEqual(emptyMetadata());

    const changed = await w.registry.setMetadata('m', 1, { tags: { stage: 'prod', team: null }, metrics: { 'val/acc': 0.91 }, description: null }, 'api@127.0.0.1');
    expect(changed.metadata).toEqual({ description: null, tags: { stage: 'prod' }, metrics: { mae: 0.0125, 'val/acc': 0.91 }, source: 'ana@laptop, git 3f2a1c9, run 17' });
    const [event] = await w.registry.events('m', { limit: 1 });
    expect(event).toMatchObject({ kind: 'metadata_changed', version: 1, actor: 'api@127.0.0.1', detail: 'description cleared; tags set: stage=prod; tags removed: team; metrics set: val/acc=0.91' });

    // A patch that changes nothing records nothing.
    const changes = async () => (await w.registry.events('m', { limit: 1000 })).filter((e) => e.kind === 'metadata_changed').length;
    expect(await changes()).toBe(1);
    await w.registry.setMetadata('m', 1, { tags: { stage: 'prod' } }, 'api@127.0.0.1');
    expect(await changes()).toBe(1);

    await w.stop();
    worlds.splice(worlds.indexOf(w), 1);
    w = await start();
    await w.core.refreshModels();
    expect(w.registry.getVersion('m', 1).metadata).toEqual(changed.metadata);
    expect((await w.store.loadSnapshot(['m'])).get('m')!.versions.find((v) => v.version === 1)!.metadata).toEqual(changed.metadata);
  });

  it('refuses a change past a limit or an unknown version, writing nothing', async () => {
    const w = await start({ metadataLimits: { maxTags: 2, maxDescriptionChars: 20 } });
    await uploadDir(w, 'm', PLUS_TWO, { metadata: { tags: { a: '1', b: '2' } } });
    const changes = async () => (await w.registry.events('m', { limit: 1000 })).filter((e) => e.kind === 'metadata_changed').length;
    const tooMany = await errorOf(w.registry.setMetadata('m', 1, { tags: { c: '3' } }, 'api'));
    expect(tooMany.code).toBe('INVALID_ARGUMENT');
    expect(tooMany.message).toMatch(/at most 2 tags \(--metadata_max_tags\); this change leaves 3/);
    // Removing one while adding one fits.
    await w.registry.setMetadata('m', 1, { tags: { a: null, c: '3' } }, 'api');
    expect(w.registry.getVersion('m', 1).metadata.tags).toEqual({ b: '2', c: '3' });
    expect((await errorOf(w.registry.setMetadata('m', 9, { tags: { x: '1' } }, 'api'))).code).toBe('NOT_FOUND');
    expect((await errorOf(w.registry.setMetadata('nope', 1, {}, 'api'))).code).toBe('NOT_FOUND');
    expect(await changes()).toBe(1);

    // An upload past a limit is refused before its files are looked at, leaving nothing behind.
    await w.registry.settled();
    const counts = await storeCounts(w.store);
    const refused = await errorOf(uploadDir(w, 'm', PLUS_THREE, { metadata: { description: 'x'.repeat(21) } }));
    expect(refused.code).toBe('INVALID_ARGUMENT');
    expect(refused.message).toMatch(/--metadata_max_description_chars/);
    expect(await storeCounts(w.store)).toEqual(counts);
    expect(fs.readdirSync(path.join(harness.modelsDir, 'm')).filter((f) => !f.startsWith('.'))).toEqual(['1']);
  });

  it('diffs the signatures of real versions (loading those never loaded to read them)', async () => {
    const w = await start({ maxLoadedVersions: 1 });
    await uploadDir(w, 'm', PLUS_TWO);
    await uploadDir(w, 'm', F_MNIST);
    await uploadDir(w, 'm', PLUS_THREE);
    await uploadDir(w, 'm', PLUS_TWO);
    const [two, mnist, three, twoAgain] = await Promise.all([1, 2, 3, 4].map((v) => w.registry.versionSignatures('m', v)));
    expect(diffSignatures(two, twoAgain).identical).toBe(true);
    expect(breakingChanges(two, twoAgain)).toEqual([]);

    // half_plus_two → half_plus_three: the TF1 classify/regress signatures are gone, serving_default takes scalars.
    const d = diffSignatures(two, three);
    expect(d.removed).toEqual(['classify_x_to_y', 'regress_x2_to_y3', 'regress_x_to_y', 'regress_x_to_y2']);
    expect(d.added).toEqual(['tensorflow/serving/regress']);
    expect(d.changed).toEqual(['serving_default']);
    expect(d.signatures.find((s) => s.name === 'serving_default')!.inputs.changed).toEqual([
      { name: 'x', before: { dtype: 'DT_FLOAT', shape: [-1, 1] }, after: { dtype: 'DT_FLOAT', shape: [] }, dtypeChanged: false, shapeChanged: true },
    ]);
    expect(breakingChanges(two, three).map((b) => b.message)).toEqual([
      'signature classify_x_to_y removed',
      'signature regress_x2_to_y3 removed',
      'signature regress_x_to_y removed',
      'signature regress_x_to_y2 removed',
      'signature serving_default: input "x" shape changed from [-1, 1] to []',
      'signature serving_default: output "y" shape changed from [-1, 1] to []',
    ]);
    // half_plus_two → f_mnist: serving_default takes images instead of x.
    expect(breakingChanges(two, mnist).filter((b) => b.signature === 'serving_default').map((b) => b.message)).toEqual([
      'signature serving_default: input "x" removed',
      'signature serving_default: input "input_images" (DT_STRING [-1]) added, which requests to the stable version do not send',
      'signature serving_default: output "y" removed',
    ]);
  });
}
