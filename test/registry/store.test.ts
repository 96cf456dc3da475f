// The registry stores, the same suite on both: SQLite on a real file in a
// temp folder, and PostgreSQL on a real server (test/registry/postgres_helper.ts).
// Then what only one of them has: SQLite's file and migrations, PostgreSQL's
// migrations under an advisory lock, writers racing on one database, and the
// change feed.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS, migrate, schemaVersion } from '../../registry/migrations.js';
import { POSTGRES_MIGRATIONS } from '../../registry/postgres_migrations.js';
import { recoverMoves } from '../../registry/recovery.js';
import { PostgresStore } from '../../registry/postgres_store.js';
import { SqliteStore } from '../../registry/sqlite_store.js';
import type { RegistryStore } from '../../registry/store.js';
import { StatusError } from '../../runtime/errors.js';
import { createTestDatabase, describePostgres, type TestDatabase } from './postgres_helper.js';

interface Backend {
  /** Opens the store (again: the same database). */
  open(): Promise<RegistryStore>;
  /** Runs SQL around the store (to try what the store itself never does). */
  raw(sql: string): Promise<void>;
}

const opened: RegistryStore[] = [];
async function track(s: Promise<RegistryStore>): Promise<RegistryStore> {
  const store = await s;
  opened.push(store);
  return store;
}
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
});

/** The behaviour both stores share. */
function storeSuite(backend: () => Backend) {
  const open = () => track(backend().open());

  it('keeps models, versions, signatures, labels, pins and events across a reopen', async () => {
    const s = await open();
    await s.transaction(async (tx) => {
      await tx.upsertModel({ name: 'm', basePath: '/models/m', origin: 'uploaded' });
      await tx.insertVersion({ model: 'm', version: 1, path: '/models/m/1', source: 'uploaded', sha256: 'ab', sizeBytes: 10 });
      await tx.insertVersion({ model: 'm', version: 2, path: '/models/m/2', source: 'discovered' });
      await tx.updateVersion('m', 2, { state: 'AVAILABLE', loadedAt: '2026-01-01T00:00:00.000Z', retired: true, retiredAt: '2026-01-02T00:00:00.000Z' });
      await tx.setSignatures('m', 1, [
        { name: 'serving_default', method: 'tensorflow/serving/predict', inputs: { x: { dtype: 'DT_FLOAT', shape: [-1, 1] } }, outputs: { y: { dtype: 'DT_FLOAT', shape: null } }, unavailable: null },
      ]);
      await tx.setLabel('m', 'stable', 1, 'api');
      await tx.setPin('m', 1, 'api@127.0.0.1');
      await tx.setActiveVersions('m', 1, 2);
      await tx.addEvent({ model: 'm', version: 1, kind: 'pinned', actor: 'api@127.0.0.1', detail: 'pinned version 1' });
    });
    await s.close();

    const again = await open();
    expect(await again.getModel('m')).toMatchObject({ basePath: '/models/m', origin: 'uploaded', activeVersion: 1, previousVersion: 2 });
    expect((await again.listVersions('m')).map((v) => [v.version, v.state, v.retired, v.source])).toEqual([
      [2, 'AVAILABLE', true, 'discovered'],
      [1, 'DISCOVERED', false, 'uploaded'],
    ]);
    expect(await again.getVersion('m', 1)).toMatchObject({ sha256: 'ab', sizeBytes: 10, retired: false, retiredAt: null });
    expect((await again.getSignatures('m', 1))[0].inputs).toEqual({ x: { dtype: 'DT_FLOAT', shape: [-1, 1] } });
    expect((await again.getSignatures('m', 1))[0].outputs.y.shape).toBeNull();
    expect(await again.getLabel('m', 'stable')).toMatchObject({ version: 1, source: 'api' });
    expect(await again.getPin('m')).toMatchObject({ version: 1, actor: 'api@127.0.0.1' });
    expect((await again.listEvents('m')).map((e) => [e.kind, e.version, e.detail])).toEqual([['pinned', 1, 'pinned version 1']]);

    const snap = (await again.loadSnapshot()).get('m')!;
    expect(snap.model.activeVersion).toBe(1);
    expect(snap.versions.map((v) => v.version)).toEqual([2, 1]);
    expect(snap.signatures.get(1)?.map((x) => x.name)).toEqual(['serving_default']);
    expect(snap.labels.map((l) => [l.label, l.version])).toEqual([['stable', 1]]);
    expect(snap.pin?.version).toBe(1);
    expect([...(await again.loadSnapshot(['other'])).keys()]).toEqual([]);
  });

  it('keeps the origin of a model when its base path is updated', async () => {
    const s = await open();
    await s.transaction((tx) => tx.upsertModel({ name: 'm', basePath: '/a', origin: 'uploaded' }));
    await s.transaction((tx) => tx.upsertModel({ name: 'm', basePath: '/b', origin: 'config' }));
    expect(await s.getModel('m')).toMatchObject({ basePath: '/b', origin: 'uploaded' });
  });

  it('refuses a second row for the same version (ALREADY_EXISTS), or skips it when asked', async () => {
    const s = await open();
    await s.transaction(async (tx) => {
      await tx.upsertModel({ name: 'm', basePath: '/a', origin: 'config' });
      await tx.insertVersion({ model: 'm', version: 3, path: '/a/3', source: 'discovered' });
    });
    const e = await s.transaction((tx) => tx.insertVersion({ model: 'm', version: 3, path: '/a/3', source: 'uploaded' })).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(StatusError);
    expect(e).toMatchObject({ code: 'ALREADY_EXISTS', message: expect.stringMatching(/^Model m already has a version 3/) });
    expect(await s.transaction((tx) => tx.insertVersionIfAbsent({ model: 'm', version: 3, path: '/x', source: 'uploaded' }))).toBe(false);
    expect(await s.transaction((tx) => tx.insertVersionIfAbsent({ model: 'm', version: 4, path: '/a/4', source: 'discovered' }))).toBe(true);
    expect((await s.getVersion('m', 3))?.source).toBe('discovered');
    expect(await s.maxVersion('m')).toBe(4);
    expect(await s.maxVersion('other')).toBe(0);
  });

  it('rolls a transaction back when its function throws: nothing of it stays', async () => {
    const s = await open();
    const failed = s.transaction(async (tx) => {
      await tx.upsertModel({ name: 'm', basePath: '/a', origin: 'config' });
      await tx.addEvent({ model: 'm', kind: 'pinned', actor: 'a' });
      throw new Error('changed my mind');
    });
    await expect(failed).rejects.toThrow('changed my mind');
    expect(await s.getModel('m')).toBeUndefined();
    expect(await s.listEvents('m')).toEqual([]);
    // The store still works after a rollback.
    await s.transaction((tx) => tx.upsertModel({ name: 'm', basePath: '/a', origin: 'config' }));
    expect(await s.getModel('m')).toBeTruthy();
  });

  it('pages events newest first with limit and before, and reports the models changed since an event', async () => {
    const s = await open();
    await s.transaction(async (tx) => {
      for (let i = 1; i <= 5; i++) await tx.addEvent({ model: 'm', version: i, kind: 'available', actor: 'server' });
      await tx.addEvent({ model: 'other', kind: 'discovered', actor: 'watcher' });
    });
    const first = await s.listEvents('m', { limit: 2 });
    expect(first.map((e) => e.version)).toEqual([5, 4]);
    const next = await s.listEvents('m', { limit: 2, before: first[1].id });
    expect(next.map((e) => e.version)).toEqual([3, 2]);
    expect((await s.listEvents('m', { limit: 100, before: next[1].id })).map((e) => e.version)).toEqual([1]);
    expect((await s.listEvents('m', { limit: 5000 })).length).toBe(5);

    const all = await s.changesSince(0);
    expect(all.models).toEqual(['m', 'other']);
    const since = await s.changesSince(first[0].id);
    expect(since).toEqual({ lastEventId: all.lastEventId, models: ['other'] });
    expect(await s.changesSince(all.lastEventId)).toEqual({ lastEventId: all.lastEventId, models: [] });
  });

  it('keeps the history append-only', async () => {
    const b = backend();
    const s = await track(b.open());
    await s.transaction((tx) => tx.addEvent({ model: 'm', kind: 'pinned', actor: 'a' }));
    await expect(b.raw("UPDATE events SET kind = 'x'")).rejects.toThrow(/append-only/);
    await expect(b.raw('DELETE FROM events')).rejects.toThrow(/append-only/);
    expect((await s.listEvents('m')).map((e) => e.kind)).toEqual(['pinned']);
  });

  it('deletes a model only while nothing refers to it', async () => {
    const s = await open();
    await s.transaction((tx) => tx.upsertModel({ name: 'fresh', basePath: '/f', origin: 'uploaded' }));
    expect(await s.transaction((tx) => tx.deleteModelIfUnused('fresh'))).toBe(true);
    await s.transaction(async (tx) => {
      await tx.upsertModel({ name: 'used', basePath: '/u', origin: 'uploaded' });
      await tx.addEvent({ model: 'used', kind: 'uploaded', actor: 'a' });
    });
    expect(await s.transaction((tx) => tx.deleteModelIfUnused('used'))).toBe(false);
    expect(await s.getModel('used')).toBeTruthy();
  });

  it('moves the active version only from the one expected', async () => {
    const s = await open();
    await s.transaction((tx) => tx.upsertModel({ name: 'm', basePath: '/m', origin: 'config' }));
    expect(await s.transaction((tx) => tx.setActiveVersions('m', 1, null, { active: null }))).toBe(true);
    expect(await s.transaction((tx) => tx.setActiveVersions('m', 2, 1, { active: 1 }))).toBe(true);
    // A second replica that also saw 1 → 2 is too late.
    expect(await s.transaction((tx) => tx.setActiveVersions('m', 2, 1, { active: 1 }))).toBe(false);
    expect(await s.getModel('m')).toMatchObject({ activeVersion: 2, previousVersion: 1 });
  });

  it('keeps pending moves until they are finished', async () => {
    const s = await open();
    const move = await s.transaction((tx) =>
      tx.addPendingMove({ kind: 'upload', model: 'm', version: 1, source: '/s', target: '/t', detail: { actor: 'a', eventDetail: 'd', replica: 'r1' } }),
    );
    expect(await s.listPendingMoves()).toEqual([move]);
    expect(move.detail).toEqual({ actor: 'a', eventDetail: 'd', replica: 'r1' });
    expect(await s.transaction((tx) => tx.deletePendingMove(move.id))).toBe(true);
    expect(await s.listPendingMoves()).toEqual([]);
    // A second delete (a recoverer that lost the race) is told so.
    expect(await s.transaction((tx) => tx.deletePendingMove(move.id))).toBe(false);
  });

  it("records replicas' heartbeats and what they serve", async () => {
    const s = await open();
    await s.transaction((tx) => tx.recordHeartbeat({ id: 'a', address: '10.0.0.1:8501', startedAt: '2026-01-01T00:00:00.000Z', versions: [] }));
    await s.transaction((tx) =>
      tx.recordHeartbeat({ id: 'b', address: '10.0.0.2:8501', startedAt: '2026-01-02T00:00:00.000Z', versions: [{ model: 'm', version: 2, state: 'AVAILABLE' }] }),
    );
    await s.transaction((tx) =>
      tx.recordHeartbeat({ id: 'a', address: '10.0.0.1:8501', startedAt: '2026-01-01T00:00:00.000Z', versions: [{ model: 'm', version: 1, state: 'LOADING' }] }),
    );
    const replicas = await s.listReplicas();
    expect(replicas.map((r) => [r.id, r.versions])).toEqual([
      ['b', [{ model: 'm', version: 2, state: 'AVAILABLE' }]],
      ['a', [{ model: 'm', version: 1, state: 'LOADING' }]],
    ]);
    expect(replicas[0].silentMs).toBeLessThan(5000);
    expect(replicas[0].stoppedAt).toBeNull();
    await s.transaction((tx) => tx.markReplicaStopped('a'));
    expect((await s.listReplicas()).find((r) => r.id === 'a')).toMatchObject({ versions: [], stoppedAt: expect.any(String) });
    await new Promise((r) => setTimeout(r, 30));
    expect(await s.listReplicas({ withinMs: 5 })).toEqual([]);
  });
}

describe('registry store: SQLite', () => {
  let tmp: string;
  let file: string;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-store-'));
    file = path.join(tmp, 'data', 'registry.db');
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  storeSuite(() => ({
    open: async () => SqliteStore.open(file),
    raw: async (sql) => {
      const db = new Database(file);
      try {
        db.exec(sql);
      } finally {
        db.close();
      }
    },
  }));

  it('creates the file and its folder, in WAL mode, at the newest schema version', async () => {
    const s = SqliteStore.open(file);
    opened.push(s);
    expect(fs.existsSync(file)).toBe(true);
    expect(s.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(schemaVersion(s.db)).toBe(MIGRATIONS[MIGRATIONS.length - 1].version);
    for (const table of ['models', 'versions', 'signatures', 'labels', 'pins', 'events', 'pending_moves', 'replicas']) {
      expect(s.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?").get(table)).toBeTruthy();
    }
  });

  it('applies each migration once: reopening changes nothing', async () => {
    await SqliteStore.open(file).close();
    const db = new Database(file);
    try {
      expect(migrate(db)).toEqual([]);
      expect((db.prepare('SELECT COUNT(*) AS n FROM schema_version').get() as { n: number }).n).toBe(MIGRATIONS.length);
    } finally {
      db.close();
    }
  });

  it('refuses a database written by a newer modelhost', async () => {
    await SqliteStore.open(file).close();
    const db = new Database(file);
    db.prepare('INSERT INTO schema_version (version) VALUES (999)').run();
    db.close();
    expect(() => SqliteStore.open(file)).toThrow(/schema version 999, newer than this modelhost understands/);
  });

  it('runs one call at a time: a read waits for the transaction in progress', async () => {
    const s = SqliteStore.open(':memory:');
    opened.push(s);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const tx = s.transaction(async (t) => {
      await t.upsertModel({ name: 'm', basePath: '/m', origin: 'config' });
      await gate;
    });
    const read = s.getModel('m');
    release();
    await tx;
    expect(await read).toMatchObject({ name: 'm' });
  });
});

describePostgres('registry store: PostgreSQL', () => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close();
    await db.drop();
  });

  async function raw<T extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      return (await c.query<T>(sql, params)).rows;
    } finally {
      await c.end();
    }
  }

  storeSuite(() => ({ open: () => PostgresStore.open(db.url), raw: async (sql) => void (await raw(sql)) }));

  it('applies its migrations once, under the advisory lock, when replicas open the database together', async () => {
    const stores = await Promise.all(Array.from({ length: 4 }, () => track(PostgresStore.open(db.url))));
    expect(stores).toHaveLength(4);
    const rows = await raw<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    expect(rows.map((r) => r.version)).toEqual(POSTGRES_MIGRATIONS.map((m) => m.version));
    const tables = await raw<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename");
    expect(tables.map((t) => t.tablename)).toEqual(['events', 'labels', 'models', 'pending_moves', 'pins', 'replicas', 'rollouts', 'schema_migrations', 'signatures', 'versions']);
  });

  it('refuses a database written by a newer modelhost, and an unreachable server with its address (no password)', async () => {
    await (await PostgresStore.open(db.url)).close();
    await raw("INSERT INTO schema_migrations (version, description) VALUES (999, 'from the future')");
    await expect(PostgresStore.open(db.url)).rejects.toThrow(/schema version 999, newer than this modelhost understands/);
    const closed = await new Promise<number>((resolve) => {
      const srv = net.createServer();
      srv.listen(0, '127.0.0.1', () => {
        const port = (srv.address() as net.AddressInfo).port;
        srv.close(() => resolve(port));
      });
    });
    await expect(PostgresStore.open(`postgresql://someone:secret@127.0.0.1:${closed}/x`, { connectTimeoutMs: 2000 })).rejects.toThrow(
      new RegExp(`^Cannot open the registry database postgresql://someone:\\*\\*\\*@127\\.0\\.0\\.1:${closed}/x: `),
    );
  });

  it('two replicas discovering the same versions at once record each version once, with one event', async () => {
    const [a, b] = await Promise.all([track(PostgresStore.open(db.url)), track(PostgresStore.open(db.url))]);
    await a.transaction((tx) => tx.upsertModel({ name: 'm', basePath: '/m', origin: 'config' }));
    const discover = (s: RegistryStore, version: number) =>
      s.transaction(async (tx) => {
        if (await tx.insertVersionIfAbsent({ model: 'm', version, path: `/m/${version}`, source: 'discovered' })) {
          await tx.addEvent({ model: 'm', version, kind: 'discovered', actor: 'watcher', detail: `found /m/${version}` });
          return true;
        }
        return false;
      });
    const wins = await Promise.all(Array.from({ length: 30 }, (_, i) => [discover(a, i + 1), discover(b, i + 1)]).flat());
    expect(wins.filter(Boolean)).toHaveLength(30);
    expect((await a.listVersions('m')).map((v) => v.version)).toEqual(Array.from({ length: 30 }, (_, i) => 30 - i));
    const events = await a.listEvents('m', { limit: 1000 });
    expect(events.map((e) => e.version).sort((x, y) => x! - y!)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    const dup = await raw('SELECT model, version, COUNT(*) AS n FROM versions GROUP BY model, version HAVING COUNT(*) > 1');
    expect(dup).toEqual([]);
  });

  it('two operators pinning at once: every pin is in the history, and the pin that stays is the last one recorded', async () => {
    const [a, b] = await Promise.all([track(PostgresStore.open(db.url)), track(PostgresStore.open(db.url))]);
    await a.transaction(async (tx) => {
      await tx.upsertModel({ name: 'm', basePath: '/m', origin: 'config' });
      for (const v of [1, 2]) await tx.insertVersion({ model: 'm', version: v, path: `/m/${v}`, source: 'discovered' });
    });
    // The registry's order: the pin, then its event, in one transaction.
    const pin = (s: RegistryStore, version: number, actor: string) =>
      s.transaction(async (tx) => {
        await tx.setPin('m', version, actor);
        await tx.addEvent({ model: 'm', version, kind: 'pinned', actor, detail: `pinned version ${version}` });
      });
    for (let round = 0; round < 25; round++) {
      await Promise.all([pin(a, 1, 'alice'), pin(b, 2, 'bob')]);
      const [last] = await a.listEvents('m', { limit: 1 });
      const stays = await b.getPin('m');
      expect([stays?.version, stays?.actor]).toEqual([last.version, last.actor]);
    }
    const events = await a.listEvents('m', { limit: 1000 });
    expect(events.filter((e) => e.actor === 'alice')).toHaveLength(25);
    expect(events.filter((e) => e.actor === 'bob')).toHaveLength(25);
    expect(await raw('SELECT COUNT(*)::int AS n FROM pins')).toEqual([{ n: 1 }]);
  });

  it('two replicas switching the active version at once: one switch, one event', async () => {
    const [a, b] = await Promise.all([track(PostgresStore.open(db.url)), track(PostgresStore.open(db.url))]);
    await a.transaction(async (tx) => {
      await tx.upsertModel({ name: 'm', basePath: '/m', origin: 'config' });
      await tx.setActiveVersions('m', 1, null);
    });
    for (let to = 2; to <= 20; to++) {
      const from = to - 1;
      const switchTo = (s: RegistryStore) =>
        s.transaction(async (tx) => {
          if (!(await tx.setActiveVersions('m', to, from, { active: from }))) return false;
          await tx.addEvent({ model: 'm', version: to, kind: 'activated', actor: 'server', detail: `was ${from}` });
          return true;
        });
      const won = await Promise.all([switchTo(a), switchTo(b)]);
      expect(won.filter(Boolean)).toHaveLength(1);
    }
    expect(await a.getModel('m')).toMatchObject({ activeVersion: 20, previousVersion: 19 });
    expect((await a.listEvents('m', { limit: 1000 })).length).toBe(19);
  });

  it('two uploads taking the same next number: one gets it, the other ALREADY_EXISTS and writes nothing', async () => {
    const [a, b] = await Promise.all([track(PostgresStore.open(db.url)), track(PostgresStore.open(db.url))]);
    await a.transaction((tx) => tx.upsertModel({ name: 'm', basePath: '/m', origin: 'uploaded' }));
    const upload = (s: RegistryStore, who: string) =>
      s.transaction(async (tx) => {
        const version = (await tx.maxVersion('m')) + 1;
        await tx.insertVersion({ model: 'm', version, path: `/m/${version}`, source: 'uploaded' });
        await tx.addPendingMove({ kind: 'upload', model: 'm', version, source: `/staged/${who}`, target: `/m/${version}`, detail: { actor: who, eventDetail: '' } });
        return version;
      });
    const results = await Promise.allSettled([upload(a, 'alice'), upload(b, 'bob')]);
    const ok = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    // Both may succeed only by taking different numbers; a collision is refused as a whole.
    for (const r of refused) expect(r.reason).toMatchObject({ code: 'ALREADY_EXISTS' });
    const versions = await a.listVersions('m');
    expect(versions).toHaveLength(ok.length);
    expect(await a.listPendingMoves()).toHaveLength(ok.length);
  });

  it("two replicas recovering a dead replica's upload at once: it is adopted once, with one event", async () => {
    const stores = await Promise.all(Array.from({ length: 3 }, () => track(PostgresStore.open(db.url))));
    const target = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-recover-race-')); // the upload's folder is in place
    try {
      await stores[0].transaction(async (tx) => {
        await tx.upsertModel({ name: 'm', basePath: path.dirname(target), origin: 'uploaded' });
        await tx.insertVersion({ model: 'm', version: 1, path: target, source: 'uploaded' });
        await tx.addPendingMove({ kind: 'upload', model: 'm', version: 1, source: '/staged', target, detail: { actor: 'alice', eventDetail: 'uploaded version 1', replica: 'dead' } });
      });
      const quiet = { info: () => {}, warn: () => {}, error: () => {} };
      const reports = await Promise.all(stores.map((s) => recoverMoves(s, quiet, { replicaLapseMs: 1000 })));
      expect(reports.flatMap((r) => r.adopted)).toEqual(['m/1']);
      expect((await stores[0].listEvents('m')).map((e) => e.kind)).toEqual(['uploaded']);
      expect(await stores[0].listPendingMoves()).toEqual([]);
    } finally {
      fs.rmSync(target, { recursive: true, force: true });
    }
  });

  it("tells a watcher about other processes' commits, not its own", async () => {
    const [a, b] = await Promise.all([track(PostgresStore.open(db.url)), track(PostgresStore.open(db.url))]);
    const heardByA: string[] = [];
    const heardByB: string[] = [];
    await a.watch((m) => heardByA.push(m));
    await b.watch((m) => heardByB.push(m));
    await a.transaction(async (tx) => {
      await tx.upsertModel({ name: 'm', basePath: '/m', origin: 'config' });
      await tx.setPin('m', 1, 'alice');
    });
    await expect.poll(() => heardByB, { timeout: 2000 }).toEqual(['m']);
    // A rolled-back transaction announces nothing.
    await b.transaction(async (tx) => {
      await tx.setPin('m', 2, 'bob');
      throw new Error('no');
    }).catch(() => {});
    await b.transaction((tx) => tx.upsertModel({ name: 'n', basePath: '/n', origin: 'config' }));
    await expect.poll(() => heardByA, { timeout: 2000 }).toEqual(['n']);
    expect(heardByB).toEqual(['m']);
  });

  it('hears changes again after its listening connection is cut, and says it may have missed some', async () => {
    const [a, b] = await Promise.all([track(PostgresStore.open(db.url)), track(PostgresStore.open(db.url))]);
    const heard: string[] = [];
    let reconnects = 0;
    await b.watch((m) => heard.push(m), () => reconnects++);
    await raw(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'`);
    await expect.poll(() => reconnects, { timeout: 5000 }).toBe(1);
    await a.transaction((tx) => tx.upsertModel({ name: 'after', basePath: '/a', origin: 'config' }));
    await expect.poll(() => heard, { timeout: 2000 }).toEqual(['after']);
  });
});
