/**
 * The registry store in SQLite (better-sqlite3, WAL): the default, for one
 * process. Commits are durable when they return (`synchronous=FULL`) unless
 * opened with `synchronous: 'normal'` (a power loss may then undo the last
 * commits; a killed process loses nothing either way). better-sqlite3 is
 * synchronous and has one connection, so calls run one at a time (a
 * transaction holds the connection until its function settles).
 *
 *   const store = SqliteStore.open('./data/registry.db');   // or ':memory:'
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { StatusError } from '../runtime/errors.js';
import { migrate } from './migrations.js';
import { ROLLOUT_COLUMNS, rolloutFromColumns, rolloutValues } from './rollout/rollout_row.js';
import { EMPTY_METADATA, type VersionMetadata } from './version_metadata.js';
import {
  eventsLimit,
  versionExists,
  type EventRow,
  type LabelRow,
  type LabelSource,
  type ModelOrigin,
  type ModelRow,
  type ModelSnapshot,
  type NewEvent,
  type NewReplicaHeartbeat,
  type NewVersion,
  type PendingMove,
  type PendingMoveDetail,
  type PendingMoveKind,
  type PinRow,
  type RegistryStore,
  type ReplicaRow,
  type RolloutRow,
  type SignatureRow,
  type StoreTx,
  type SynchronousMode,
  type VersionRow,
  type VersionSource,
  type VersionState,
  type VersionUpdate,
} from './store.js';

const now = () => new Date().toISOString();

interface ModelSql {
  name: string;
  base_path: string;
  origin: ModelOrigin;
  active_version: number | null;
  previous_version: number | null;
  created_at: string;
}

interface VersionSql {
  model: string;
  version: number;
  path: string;
  state: VersionState;
  error: string | null;
  sha256: string | null;
  size_bytes: number | null;
  fingerprint: string | null;
  source: VersionSource;
  created_at: string;
  loaded_at: string | null;
  retired: number;
  retired_at: string | null;
  description: string | null;
  tags: string;
  metrics: string;
  provenance: string | null;
}

const modelFromSql = (r: ModelSql): ModelRow => ({
  name: r.name,
  basePath: r.base_path,
  origin: r.origin,
  activeVersion: r.active_version,
  previousVersion: r.previous_version,
  createdAt: r.created_at,
});

const versionFromSql = (r: VersionSql): VersionRow => ({
  model: r.model,
  version: r.version,
  path: r.path,
  state: r.state,
  error: r.error,
  sha256: r.sha256,
  sizeBytes: r.size_bytes,
  fingerprint: r.fingerprint,
  source: r.source,
  createdAt: r.created_at,
  loadedAt: r.loaded_at,
  retired: r.retired === 1,
  retiredAt: r.retired_at,
  metadata: { description: r.description, tags: JSON.parse(r.tags), metrics: JSON.parse(r.metrics), source: r.provenance },
});

/** description, tags, metrics, provenance column values. */
const metadataSql = (m: VersionMetadata = EMPTY_METADATA): [string | null, string, string, string | null] => [
  m.description,
  JSON.stringify(m.tags),
  JSON.stringify(m.metrics),
  m.source,
];

const VERSION_COLUMNS: Record<keyof VersionUpdate, string> = {
  path: 'path',
  state: 'state',
  error: 'error',
  sha256: 'sha256',
  sizeBytes: 'size_bytes',
  fingerprint: 'fingerprint',
  loadedAt: 'loaded_at',
  retired: 'retired',
  retiredAt: 'retired_at',
};


interface SignatureSql {
  name: string;
  method: string;
  inputs: string;
  outputs: string;
  unavailable: string | null;
}

const signatureFromSql = (r: SignatureSql): SignatureRow => ({
  name: r.name,
  method: r.method,
  inputs: JSON.parse(r.inputs),
  outputs: JSON.parse(r.outputs),
  unavailable: r.unavailable,
});

interface LabelSql {
  model: string;
  label: string;
  version: number;
  source: LabelSource;
  updated_at: string;
}

const labelFromSql = (r: LabelSql): LabelRow => ({ model: r.model, label: r.label, version: r.version, source: r.source, updatedAt: r.updated_at });

interface PinSql {
  model: string;
  version: number;
  pinned_at: string;
  actor: string;
}

const pinFromSql = (r: PinSql): PinRow => ({ model: r.model, version: r.version, pinnedAt: r.pinned_at, actor: r.actor });

interface PendingMoveSql {
  id: number;
  kind: PendingMoveKind;
  model: string;
  version: number;
  source: string;
  target: string;
  detail: string;
  created_at: string;
}

const pendingMoveFromSql = (r: PendingMoveSql): PendingMove => ({
  id: r.id,
  kind: r.kind,
  model: r.model,
  version: r.version,
  source: r.source,
  target: r.target,
  detail: JSON.parse(r.detail) as PendingMoveDetail,
  createdAt: r.created_at,
});

interface ReplicaSql {
  id: string;
  address: string;
  started_at: string;
  last_seen: string;
  stopped_at: string | null;
  versions: string;
}

/** The statements, on one connection; used only through SqliteStore (one call at a time). */
class SqliteOps implements StoreTx {
  constructor(private readonly db: Database.Database) {}

  // ---- models

  async getModel(name: string): Promise<ModelRow | undefined> {
    const r = this.db.prepare('SELECT * FROM models WHERE name = ?').get(name) as ModelSql | undefined;
    return r && modelFromSql(r);
  }

  async listModels(): Promise<ModelRow[]> {
    return (this.db.prepare('SELECT * FROM models ORDER BY name').all() as ModelSql[]).map(modelFromSql);
  }

  async upsertModel(m: { name: string; basePath: string; origin: ModelOrigin }): Promise<ModelRow> {
    this.db
      .prepare(
        `INSERT INTO models (name, base_path, origin, created_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET base_path = excluded.base_path`,
      )
      .run(m.name, m.basePath, m.origin, now());
    return (await this.getModel(m.name))!;
  }

  async setModelOrigin(name: string, origin: ModelOrigin): Promise<void> {
    this.db.prepare('UPDATE models SET origin = ? WHERE name = ?').run(origin, name);
  }

  async deleteModelIfUnused(name: string): Promise<boolean> {
    const used = this.db
      .prepare(
        `SELECT EXISTS (SELECT 1 FROM versions WHERE model = ?) OR EXISTS (SELECT 1 FROM labels WHERE model = ?)
             OR EXISTS (SELECT 1 FROM pins WHERE model = ?) OR EXISTS (SELECT 1 FROM events WHERE model = ?) AS used`,
      )
      .get(name, name, name, name) as { used: number };
    if (used.used) return false;
    return this.db.prepare('DELETE FROM models WHERE name = ?').run(name).changes > 0;
  }

  async setActiveVersions(name: string, active: number | null, previous: number | null, expected?: { active: number | null }): Promise<boolean> {
    if (!expected) return this.db.prepare('UPDATE models SET active_version = ?, previous_version = ? WHERE name = ?').run(active, previous, name).changes > 0;
    return (
      this.db
        .prepare('UPDATE models SET active_version = ?, previous_version = ? WHERE name = ? AND active_version IS ?')
        .run(active, previous, name, expected.active).changes > 0
    );
  }

  // ---- versions

  async getVersion(model: string, version: number): Promise<VersionRow | undefined> {
    const r = this.db.prepare('SELECT * FROM versions WHERE model = ? AND version = ?').get(model, version) as VersionSql | undefined;
    return r && versionFromSql(r);
  }

  async listVersions(model: string): Promise<VersionRow[]> {
    return (this.db.prepare('SELECT * FROM versions WHERE model = ? ORDER BY version DESC').all(model) as VersionSql[]).map(versionFromSql);
  }

  async maxVersion(model: string): Promise<number> {
    const r = this.db.prepare('SELECT MAX(version) AS v FROM versions WHERE model = ?').get(model) as { v: number | null };
    return r.v ?? 0;
  }

  async insertVersion(v: NewVersion): Promise<VersionRow> {
    if (!(await this.insertVersionIfAbsent(v))) throw new StatusError('ALREADY_EXISTS', versionExists(v.model, v.version));
    return (await this.getVersion(v.model, v.version))!;
  }

  async insertVersionIfAbsent(v: NewVersion): Promise<boolean> {
    const info = this.db
      .prepare(
        `INSERT INTO versions (model, version, path, state, sha256, size_bytes, fingerprint, source, created_at, description, tags, metrics, provenance)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (model, version) DO NOTHING`,
      )
      .run(v.model, v.version, v.path, v.state ?? 'DISCOVERED', v.sha256 ?? null, v.sizeBytes ?? null, v.fingerprint ?? null, v.source, now(), ...metadataSql(v.metadata));
    return info.changes > 0;
  }

  async updateVersion(model: string, version: number, update: VersionUpdate): Promise<void> {
    const keys = Object.keys(update) as (keyof VersionUpdate)[];
    if (keys.length === 0) return;
    const sets = keys.map((k) => `${VERSION_COLUMNS[k]} = ?`).join(', ');
    const values = keys.map((k) => {
      const v = update[k];
      return typeof v === 'boolean' ? (v ? 1 : 0) : (v ?? null);
    });
    this.db.prepare(`UPDATE versions SET ${sets} WHERE model = ? AND version = ?`).run(...values, model, version);
  }

  async setVersionMetadata(model: string, version: number, metadata: VersionMetadata): Promise<void> {
    this.db
      .prepare('UPDATE versions SET description = ?, tags = ?, metrics = ?, provenance = ? WHERE model = ? AND version = ?')
      .run(...metadataSql(metadata), model, version);
  }

  async deleteVersion(model: string, version: number): Promise<void> {
    this.db.prepare('DELETE FROM versions WHERE model = ? AND version = ?').run(model, version);
  }

  // ---- signatures

  async setSignatures(model: string, version: number, signatures: readonly SignatureRow[]): Promise<void> {
    this.db.prepare('DELETE FROM signatures WHERE model = ? AND version = ?').run(model, version);
    const insert = this.db.prepare('INSERT INTO signatures (model, version, name, method, inputs, outputs, unavailable) VALUES (?, ?, ?, ?, ?, ?, ?)');
    for (const s of signatures) insert.run(model, version, s.name, s.method, JSON.stringify(s.inputs), JSON.stringify(s.outputs), s.unavailable);
  }

  async getSignatures(model: string, version: number): Promise<SignatureRow[]> {
    const rows = this.db
      .prepare('SELECT name, method, inputs, outputs, unavailable FROM signatures WHERE model = ? AND version = ? ORDER BY name')
      .all(model, version) as SignatureSql[];
    return rows.map(signatureFromSql);
  }

  // ---- labels

  async listLabels(model: string): Promise<LabelRow[]> {
    return (this.db.prepare('SELECT * FROM labels WHERE model = ? ORDER BY label').all(model) as LabelSql[]).map(labelFromSql);
  }

  async getLabel(model: string, label: string): Promise<LabelRow | undefined> {
    const r = this.db.prepare('SELECT * FROM labels WHERE model = ? AND label = ?').get(model, label) as LabelSql | undefined;
    return r && labelFromSql(r);
  }

  async setLabel(model: string, label: string, version: number, source: LabelSource): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO labels (model, label, version, source, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (model, label) DO UPDATE SET version = excluded.version, source = excluded.source, updated_at = excluded.updated_at`,
      )
      .run(model, label, version, source, now());
  }

  async deleteLabel(model: string, label: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM labels WHERE model = ? AND label = ?').run(model, label).changes > 0;
  }

  // ---- pins

  async getPin(model: string): Promise<PinRow | undefined> {
    const r = this.db.prepare('SELECT * FROM pins WHERE model = ?').get(model) as PinSql | undefined;
    return r && pinFromSql(r);
  }

  async setPin(model: string, version: number, actor: string): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO pins (model, version, pinned_at, actor) VALUES (?, ?, ?, ?)
         ON CONFLICT (model) DO UPDATE SET version = excluded.version, pinned_at = excluded.pinned_at, actor = excluded.actor`,
      )
      .run(model, version, now(), actor);
  }

  async deletePin(model: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM pins WHERE model = ?').run(model).changes > 0;
  }

  // ---- pending moves

  async addPendingMove(m: { kind: PendingMoveKind; model: string; version: number; source: string; target: string; detail: PendingMoveDetail }): Promise<PendingMove> {
    const info = this.db
      .prepare('INSERT INTO pending_moves (kind, model, version, source, target, detail, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(m.kind, m.model, m.version, m.source, m.target, JSON.stringify(m.detail), now());
    return (await this.listPendingMoves()).find((p) => p.id === Number(info.lastInsertRowid))!;
  }

  async listPendingMoves(): Promise<PendingMove[]> {
    return (this.db.prepare('SELECT * FROM pending_moves ORDER BY id').all() as PendingMoveSql[]).map(pendingMoveFromSql);
  }

  async deletePendingMove(id: number): Promise<boolean> {
    return this.db.prepare('DELETE FROM pending_moves WHERE id = ?').run(id).changes > 0;
  }

  // ---- events (append-only)

  async addEvent(e: NewEvent): Promise<EventRow> {
    const time = now();
    const info = this.db
      .prepare('INSERT INTO events (time, model, version, kind, actor, detail) VALUES (?, ?, ?, ?, ?, ?)')
      .run(time, e.model, e.version ?? null, e.kind, e.actor, e.detail ?? '');
    return { id: Number(info.lastInsertRowid), time, model: e.model, version: e.version ?? null, kind: e.kind, actor: e.actor, detail: e.detail ?? '' };
  }

  async listEvents(model: string, options: { limit?: number; before?: number } = {}): Promise<EventRow[]> {
    const before = options.before ?? Number.MAX_SAFE_INTEGER;
    return this.db.prepare('SELECT * FROM events WHERE model = ? AND id < ? ORDER BY id DESC LIMIT ?').all(model, before, eventsLimit(options.limit)) as EventRow[];
  }

  async changesSince(eventId: number): Promise<{ lastEventId: number; models: string[] }> {
    const rows = this.db.prepare('SELECT model, MAX(id) AS id FROM events WHERE id > ? GROUP BY model ORDER BY model').all(eventId) as { model: string; id: number }[];
    return { lastEventId: Math.max(eventId, ...rows.map((r) => r.id)), models: rows.map((r) => r.model) };
  }

  // ---- rollouts

  async getRollout(model: string): Promise<RolloutRow | undefined> {
    const r = this.db.prepare('SELECT * FROM rollouts WHERE model = ?').get(model) as Record<string, unknown> | undefined;
    return r && rolloutFromColumns(r);
  }

  async putRollout(row: RolloutRow, expectedRevision?: number): Promise<boolean> {
    const values = rolloutValues(row);
    if (expectedRevision === undefined) {
      const updates = ROLLOUT_COLUMNS.slice(1).map((c) => `${c} = excluded.${c}`).join(', ');
      this.db
        .prepare(`INSERT INTO rollouts (${ROLLOUT_COLUMNS.join(', ')}) VALUES (${ROLLOUT_COLUMNS.map(() => '?').join(', ')}) ON CONFLICT (model) DO UPDATE SET ${updates}`)
        .run(...values);
      return true;
    }
    const sets = ROLLOUT_COLUMNS.slice(1).map((c) => `${c} = ?`).join(', ');
    return this.db.prepare(`UPDATE rollouts SET ${sets} WHERE model = ? AND revision = ?`).run(...values.slice(1), row.model, expectedRevision).changes > 0;
  }

  // ---- snapshot

  async loadSnapshot(names?: readonly string[]): Promise<Map<string, ModelSnapshot>> {
    const out = new Map<string, ModelSnapshot>();
    const models = names ? (await Promise.all(names.map((n) => this.getModel(n)))).filter((m): m is ModelRow => m !== undefined) : await this.listModels();
    for (const model of models) {
      const signatures = new Map<number, SignatureRow[]>();
      const rows = this.db
        .prepare('SELECT version, name, method, inputs, outputs, unavailable FROM signatures WHERE model = ? ORDER BY version, name')
        .all(model.name) as (SignatureSql & { version: number })[];
      for (const r of rows) {
        let list = signatures.get(r.version);
        if (!list) signatures.set(r.version, (list = []));
        list.push(signatureFromSql(r));
      }
      out.set(model.name, {
        model,
        versions: await this.listVersions(model.name),
        signatures,
        labels: await this.listLabels(model.name),
        pin: await this.getPin(model.name),
        rollout: await this.getRollout(model.name),
      });
    }
    return out;
  }

  // ---- replicas

  async recordHeartbeat(r: NewReplicaHeartbeat): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO replicas (id, address, started_at, last_seen, versions) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET address = excluded.address, last_seen = excluded.last_seen, versions = excluded.versions, stopped_at = NULL`,
      )
      .run(r.id, r.address, r.startedAt, now(), JSON.stringify(r.versions));
  }

  async markReplicaStopped(id: string): Promise<void> {
    this.db.prepare('UPDATE replicas SET stopped_at = ?, versions = ? WHERE id = ?').run(now(), '[]', id);
  }

  async listReplicas(options: { withinMs?: number } = {}): Promise<ReplicaRow[]> {
    const rows = this.db.prepare('SELECT * FROM replicas ORDER BY started_at DESC, id').all() as ReplicaSql[];
    const at = Date.now();
    return rows
      .map((r) => ({
        id: r.id,
        address: r.address,
        startedAt: r.started_at,
        lastSeen: r.last_seen,
        silentMs: Math.max(0, at - Date.parse(r.last_seen)),
        stoppedAt: r.stopped_at,
        versions: JSON.parse(r.versions) as ReplicaRow['versions'],
      }))
      .filter((r) => options.withinMs === undefined || r.silentMs <= options.withinMs);
  }
}

export class SqliteStore implements RegistryStore {
  readonly kind = 'sqlite' as const;
  private readonly ops: SqliteOps;
  /** The tail of the calls waiting for the connection. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly db: Database.Database,
    /** The file, or ':memory:'. */
    readonly location: string,
  ) {
    this.ops = new SqliteOps(db);
  }

  /** Opens (creating folders and file as needed) and migrates the registry at `location`. */
  static open(location: string, options: { synchronous?: SynchronousMode } = {}): SqliteStore {
    if (location !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(location)), { recursive: true });
    const db = new Database(location);
    try {
      if (location !== ':memory:') db.pragma('journal_mode = WAL');
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 5000');
      db.pragma(`synchronous = ${options.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
      migrate(db);
    } catch (e) {
      db.close();
      throw new Error(`Cannot open the registry database ${location}: ${(e as Error).message}`);
    }
    return new SqliteStore(db, location);
  }

  async close(): Promise<void> {
    await this.queue;
    if (this.db.open) this.db.close();
  }

  async watch(): Promise<void> {
    // One process owns the file: there is nobody else's change to hear about.
  }

  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(this.ops);
        this.db.exec('COMMIT');
        return result;
      } catch (e) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw e;
      }
    });
  }

  /** Runs `fn` once every earlier call has finished (the connection is shared). */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  getModel(name: string) { return this.exclusive(() => this.ops.getModel(name)); }
  listModels() { return this.exclusive(() => this.ops.listModels()); }
  getVersion(model: string, version: number) { return this.exclusive(() => this.ops.getVersion(model, version)); }
  listVersions(model: string) { return this.exclusive(() => this.ops.listVersions(model)); }
  maxVersion(model: string) { return this.exclusive(() => this.ops.maxVersion(model)); }
  getSignatures(model: string, version: number) { return this.exclusive(() => this.ops.getSignatures(model, version)); }
  listLabels(model: string) { return this.exclusive(() => this.ops.listLabels(model)); }
  getLabel(model: string, label: string) { return this.exclusive(() => this.ops.getLabel(model, label)); }
  getPin(model: string) { return this.exclusive(() => this.ops.getPin(model)); }
  getRollout(model: string) { return this.exclusive(() => this.ops.getRollout(model)); }
  listPendingMoves() { return this.exclusive(() => this.ops.listPendingMoves()); }
  listEvents(model: string, options?: { limit?: number; before?: number }) { return this.exclusive(() => this.ops.listEvents(model, options)); }
  loadSnapshot(names?: readonly string[]) { return this.exclusive(() => this.ops.loadSnapshot(names)); }
  listReplicas(options?: { withinMs?: number }) { return this.exclusive(() => this.ops.listReplicas(options)); }
  changesSince(eventId: number) { return this.exclusive(() => this.ops.changesSince(eventId)); }
}
