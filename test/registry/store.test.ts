// The registry's SQLite store on a real file in a temp folder: migrations,
// WAL, what survives a reopen, event paging, and the append-only history.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS, migrate, schemaVersion } from '../../registry/migrations.js';
import { Store } from '../../registry/store.js';

let tmp: string;
let file: string;
const opened: Store[] = [];

function open(location = file): Store {
  const s = Store.open(location);
  opened.push(s);
  return s;
}

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-store-'));
  file = path.join(tmp, 'data', 'registry.db');
});
afterEach(() => {
  for (const s of opened.splice(0)) s.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('registry store', () => {
  it('creates the file and its folder, in WAL mode, at the newest schema version', () => {
    const s = open();
    expect(fs.existsSync(file)).toBe(true);
    expect(s.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(schemaVersion(s.db)).toBe(MIGRATIONS[MIGRATIONS.length - 1].version);
    for (const table of ['models', 'versions', 'signatures', 'labels', 'pins', 'events']) {
      expect(s.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?").get(table)).toBeTruthy();
    }
  });

  it('applies each migration once: reopening changes nothing', () => {
    open().close();
    const db = new Database(file);
    try {
      expect(migrate(db)).toEqual([]);
      expect((db.prepare('SELECT COUNT(*) AS n FROM schema_version').get() as { n: number }).n).toBe(MIGRATIONS.length);
    } finally {
      db.close();
    }
  });

  it('refuses a database written by a newer modelhost', () => {
    open().close();
    const db = new Database(file);
    db.prepare('INSERT INTO schema_version (version) VALUES (999)').run();
    db.close();
    expect(() => Store.open(file)).toThrow(/schema version 999, newer than this modelhost understands/);
  });

  it('keeps models, versions, signatures, labels, pins and events across a reopen', () => {
    const s = open();
    s.upsertModel({ name: 'm', basePath: '/models/m', origin: 'uploaded' });
    s.insertVersion({ model: 'm', version: 1, path: '/models/m/1', source: 'uploaded', sha256: 'ab', sizeBytes: 10 });
    s.insertVersion({ model: 'm', version: 2, path: '/models/m/2', source: 'discovered' });
    s.updateVersion('m', 2, { state: 'AVAILABLE', loadedAt: '2026-01-01T00:00:00.000Z', retired: true, retiredAt: '2026-01-02T00:00:00.000Z' });
    s.setSignatures('m', 1, [
      { name: 'serving_default', method: 'tensorflow/serving/predict', inputs: { x: { dtype: 'DT_FLOAT', shape: [-1, 1] } }, outputs: { y: { dtype: 'DT_FLOAT', shape: null } }, unavailable: null },
    ]);
    s.setLabel('m', 'stable', 1, 'api');
    s.setPin('m', 1, 'api@127.0.0.1');
    s.setActiveVersions('m', 1, 2);
    s.addEvent({ model: 'm', version: 1, kind: 'pinned', actor: 'api@127.0.0.1', detail: 'pinned version 1' });
    s.close();

    const again = open();
    expect(again.getModel('m')).toMatchObject({ basePath: '/models/m', origin: 'uploaded', activeVersion: 1, previousVersion: 2 });
    expect(again.listVersions('m').map((v) => [v.version, v.state, v.retired, v.source])).toEqual([
      [2, 'AVAILABLE', true, 'discovered'],
      [1, 'DISCOVERED', false, 'uploaded'],
    ]);
    expect(again.getVersion('m', 1)).toMatchObject({ sha256: 'ab', sizeBytes: 10 });
    expect(again.getSignatures('m', 1)[0].inputs).toEqual({ x: { dtype: 'DT_FLOAT', shape: [-1, 1] } });
    expect(again.getSignatures('m', 1)[0].outputs.y.shape).toBeNull();
    expect(again.getLabel('m', 'stable')).toMatchObject({ version: 1, source: 'api' });
    expect(again.getPin('m')).toMatchObject({ version: 1, actor: 'api@127.0.0.1' });
    expect(again.listEvents('m').map((e) => [e.kind, e.version, e.detail])).toEqual([['pinned', 1, 'pinned version 1']]);
  });

  it('keeps the origin of a model when its base path is updated', () => {
    const s = open(':memory:');
    s.upsertModel({ name: 'm', basePath: '/a', origin: 'uploaded' });
    s.upsertModel({ name: 'm', basePath: '/b', origin: 'config' });
    expect(s.getModel('m')).toMatchObject({ basePath: '/b', origin: 'uploaded' });
  });

  it('refuses a second row for the same version', () => {
    const s = open(':memory:');
    s.upsertModel({ name: 'm', basePath: '/a', origin: 'config' });
    s.insertVersion({ model: 'm', version: 3, path: '/a/3', source: 'discovered' });
    expect(() => s.insertVersion({ model: 'm', version: 3, path: '/a/3', source: 'uploaded' })).toThrow(/UNIQUE/);
    expect(s.maxVersion('m')).toBe(3);
    expect(s.maxVersion('other')).toBe(0);
  });

  it('pages events newest first with limit and before', () => {
    const s = open(':memory:');
    for (let i = 1; i <= 5; i++) s.addEvent({ model: 'm', version: i, kind: 'available', actor: 'server' });
    s.addEvent({ model: 'other', kind: 'discovered', actor: 'watcher' });
    const first = s.listEvents('m', { limit: 2 });
    expect(first.map((e) => e.version)).toEqual([5, 4]);
    const next = s.listEvents('m', { limit: 2, before: first[1].id });
    expect(next.map((e) => e.version)).toEqual([3, 2]);
    expect(s.listEvents('m', { limit: 100, before: next[1].id }).map((e) => e.version)).toEqual([1]);
  });

  it('keeps the history append-only', () => {
    const s = open(':memory:');
    s.addEvent({ model: 'm', kind: 'pinned', actor: 'a' });
    expect(() => s.db.prepare("UPDATE events SET kind = 'x'").run()).toThrow(/append-only/);
    expect(() => s.db.prepare('DELETE FROM events').run()).toThrow(/append-only/);
  });

  it('deletes a model only while nothing refers to it', () => {
    const s = open(':memory:');
    s.upsertModel({ name: 'fresh', basePath: '/f', origin: 'uploaded' });
    expect(s.deleteModelIfUnused('fresh')).toBe(true);
    s.upsertModel({ name: 'used', basePath: '/u', origin: 'uploaded' });
    s.addEvent({ model: 'used', kind: 'uploaded', actor: 'a' });
    expect(s.deleteModelIfUnused('used')).toBe(false);
    expect(s.getModel('used')).toBeTruthy();
  });
});
