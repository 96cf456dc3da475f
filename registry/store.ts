/**
 * The registry's durable truth, in SQLite (better-sqlite3, WAL): models,
 * their versions (path, state, error, sha256, size, times, source, retired),
 * each version's signatures, labels, pins, an append-only event history, and
 * the folder moves in progress (pending_moves, see registry/recovery.ts).
 * Commits are durable when they return (`synchronous=FULL`) unless opened
 * with `synchronous: 'normal'` (a power loss may then undo the last commits;
 * a killed process loses nothing either way).
 *
 * Only registry/registry.ts (and upload intake through it) writes here; every
 * other module reads through the Registry. Calls are synchronous: each is one
 * short statement or transaction.
 *
 *   const store = Store.open('./data/registry.db');   // or ':memory:'
 *   store.upsertModel({ name: 'm', basePath: '/models/m', origin: 'config' });
 *   store.addEvent({ model: 'm', version: 1, kind: 'pinned', actor: 'api@127.0.0.1' });
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { migrate } from './migrations.js';

export type VersionState = 'DISCOVERED' | 'LOADING' | 'AVAILABLE' | 'FAILED' | 'REMOVED';
export type VersionSource = 'discovered' | 'uploaded';
export type ModelOrigin = 'config' | 'uploaded';
export type LabelSource = 'config' | 'api';

export type EventKind =
  | 'discovered'
  | 'loading'
  | 'available'
  | 'failed'
  | 'unloaded'
  | 'removed'
  | 'activated'
  | 'pinned'
  | 'unpinned'
  | 'rolled_back'
  | 'labelled'
  | 'unlabelled'
  | 'uploaded'
  | 'retired'
  | 'restored'
  | 'purged';

export interface ModelRow {
  name: string;
  basePath: string;
  origin: ModelOrigin;
  activeVersion: number | null;
  previousVersion: number | null;
  createdAt: string;
}

export interface VersionRow {
  model: string;
  version: number;
  path: string;
  state: VersionState;
  error: string | null;
  sha256: string | null;
  sizeBytes: number | null;
  /** Cheap change detector of the folder's files (registry/version_dir.ts). */
  fingerprint: string | null;
  source: VersionSource;
  createdAt: string;
  loadedAt: string | null;
  retired: boolean;
  retiredAt: string | null;
}

/** A tensor of a signature: TF dtype name ("DT_FLOAT") and shape (-1 unknown; null: unknown rank). */
export interface TensorDescription {
  dtype: string;
  shape: number[] | null;
}

export interface SignatureRow {
  name: string;
  method: string;
  inputs: Record<string, TensorDescription>;
  outputs: Record<string, TensorDescription>;
  /** Why the signature cannot run here (the ops the runtime lacks); null when it can. */
  unavailable: string | null;
}

export interface LabelRow {
  model: string;
  label: string;
  version: number;
  source: LabelSource;
  updatedAt: string;
}

export interface PinRow {
  model: string;
  version: number;
  pinnedAt: string;
  actor: string;
}

export interface EventRow {
  id: number;
  time: string;
  model: string;
  version: number | null;
  kind: EventKind;
  actor: string;
  detail: string;
}

export interface NewEvent {
  model: string;
  version?: number | null;
  kind: EventKind;
  actor: string;
  detail?: string;
}

/** How hard SQLite flushes a commit: 'full' (default) survives a power loss, 'normal' may lose the last commits then. */
export type SynchronousMode = 'full' | 'normal';
export const SYNCHRONOUS_MODES: readonly SynchronousMode[] = ['full', 'normal'];

export type PendingMoveKind = 'upload' | 'purge';

/** What finishing a move needs besides its folders. */
export interface PendingMoveDetail {
  actor: string;
  /** upload: false pins the version serving now when the upload lands. */
  activate?: boolean;
  /** upload: the base path was created for this upload (removed again when the upload is undone). */
  createdBasePath?: boolean;
  /** upload: the model row's origin before the upload, or null when the upload created it. */
  previousOrigin?: ModelOrigin | null;
  /** upload: the model row's base path before the upload (when it had a row). */
  previousBasePath?: string;
  /** The detail of the event recorded when the move is finished ('uploaded' / 'purged'). */
  eventDetail: string;
}

export interface PendingMove {
  id: number;
  kind: PendingMoveKind;
  model: string;
  version: number;
  /** upload: the staged folder; purge: the version folder. */
  source: string;
  /** upload: {base_path}/{N}; purge: the .purged-* folder. */
  target: string;
  detail: PendingMoveDetail;
  createdAt: string;
}

/** Fields of a version row that change after it is recorded. */
export type VersionUpdate = Partial<
  Pick<VersionRow, 'path' | 'state' | 'error' | 'sha256' | 'sizeBytes' | 'fingerprint' | 'loadedAt' | 'retired' | 'retiredAt'>
>;

export const MAX_EVENTS_PAGE = 1000;

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
});

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

export class Store {
  private constructor(
    readonly db: Database.Database,
    /** The file, or ':memory:'. */
    readonly location: string,
  ) {}

  /** Opens (creating folders and file as needed) and migrates the registry at `location`. */
  static open(location: string, options: { synchronous?: SynchronousMode } = {}): Store {
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
    return new Store(db, location);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** Runs `fn` in one transaction (nested calls join the outer one). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  // ---- models

  getModel(name: string): ModelRow | undefined {
    const r = this.db.prepare('SELECT * FROM models WHERE name = ?').get(name) as ModelSql | undefined;
    return r && modelFromSql(r);
  }

  listModels(): ModelRow[] {
    return (this.db.prepare('SELECT * FROM models ORDER BY name').all() as ModelSql[]).map(modelFromSql);
  }

  /** Records a model, or updates the base path of one already recorded (its origin is kept). */
  upsertModel(m: { name: string; basePath: string; origin: ModelOrigin }): ModelRow {
    this.db
      .prepare(
        `INSERT INTO models (name, base_path, origin, created_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET base_path = excluded.base_path`,
      )
      .run(m.name, m.basePath, m.origin, now());
    return this.getModel(m.name)!;
  }

  setModelOrigin(name: string, origin: ModelOrigin): void {
    this.db.prepare('UPDATE models SET origin = ? WHERE name = ?').run(origin, name);
  }

  /** Removes a model that has no versions, labels, pin or events (a refused first upload). */
  deleteModelIfUnused(name: string): boolean {
    const used = this.db
      .prepare(
        `SELECT EXISTS (SELECT 1 FROM versions WHERE model = ?) OR EXISTS (SELECT 1 FROM labels WHERE model = ?)
             OR EXISTS (SELECT 1 FROM pins WHERE model = ?) OR EXISTS (SELECT 1 FROM events WHERE model = ?) AS used`,
      )
      .get(name, name, name, name) as { used: number };
    if (used.used) return false;
    return this.db.prepare('DELETE FROM models WHERE name = ?').run(name).changes > 0;
  }

  setActiveVersions(name: string, active: number | null, previous: number | null): void {
    this.db.prepare('UPDATE models SET active_version = ?, previous_version = ? WHERE name = ?').run(active, previous, name);
  }

  // ---- versions

  getVersion(model: string, version: number): VersionRow | undefined {
    const r = this.db.prepare('SELECT * FROM versions WHERE model = ? AND version = ?').get(model, version) as VersionSql | undefined;
    return r && versionFromSql(r);
  }

  /** A model's versions, highest first. */
  listVersions(model: string): VersionRow[] {
    return (this.db.prepare('SELECT * FROM versions WHERE model = ? ORDER BY version DESC').all(model) as VersionSql[]).map(
      versionFromSql,
    );
  }

  /** The highest version number ever recorded for a model (retired and removed ones included), or 0. */
  maxVersion(model: string): number {
    const r = this.db.prepare('SELECT MAX(version) AS v FROM versions WHERE model = ?').get(model) as { v: number | null };
    return r.v ?? 0;
  }

  insertVersion(v: {
    model: string;
    version: number;
    path: string;
    source: VersionSource;
    state?: VersionState;
    sha256?: string | null;
    sizeBytes?: number | null;
    fingerprint?: string | null;
  }): VersionRow {
    this.db
      .prepare(
        `INSERT INTO versions (model, version, path, state, sha256, size_bytes, fingerprint, source, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(v.model, v.version, v.path, v.state ?? 'DISCOVERED', v.sha256 ?? null, v.sizeBytes ?? null, v.fingerprint ?? null, v.source, now());
    return this.getVersion(v.model, v.version)!;
  }

  updateVersion(model: string, version: number, update: VersionUpdate): void {
    const keys = Object.keys(update) as (keyof VersionUpdate)[];
    if (keys.length === 0) return;
    const sets = keys.map((k) => `${VERSION_COLUMNS[k]} = ?`).join(', ');
    const values = keys.map((k) => {
      const v = update[k];
      return typeof v === 'boolean' ? (v ? 1 : 0) : (v ?? null);
    });
    this.db.prepare(`UPDATE versions SET ${sets} WHERE model = ? AND version = ?`).run(...values, model, version);
  }

  /** Deletes a version row and its signatures (only for an upload whose files never landed). */
  deleteVersion(model: string, version: number): void {
    this.db.prepare('DELETE FROM versions WHERE model = ? AND version = ?').run(model, version);
  }

  // ---- signatures

  setSignatures(model: string, version: number, signatures: readonly SignatureRow[]): void {
    this.transaction(() => {
      this.db.prepare('DELETE FROM signatures WHERE model = ? AND version = ?').run(model, version);
      const insert = this.db.prepare('INSERT INTO signatures (model, version, name, method, inputs, outputs, unavailable) VALUES (?, ?, ?, ?, ?, ?, ?)');
      for (const s of signatures) insert.run(model, version, s.name, s.method, JSON.stringify(s.inputs), JSON.stringify(s.outputs), s.unavailable);
    });
  }

  getSignatures(model: string, version: number): SignatureRow[] {
    const rows = this.db
      .prepare('SELECT name, method, inputs, outputs, unavailable FROM signatures WHERE model = ? AND version = ? ORDER BY name')
      .all(model, version) as { name: string; method: string; inputs: string; outputs: string; unavailable: string | null }[];
    return rows.map((r) => ({ name: r.name, method: r.method, inputs: JSON.parse(r.inputs), outputs: JSON.parse(r.outputs), unavailable: r.unavailable }));
  }

  // ---- labels

  listLabels(model: string): LabelRow[] {
    const rows = this.db.prepare('SELECT * FROM labels WHERE model = ? ORDER BY label').all(model) as {
      model: string;
      label: string;
      version: number;
      source: LabelSource;
      updated_at: string;
    }[];
    return rows.map((r) => ({ model: r.model, label: r.label, version: r.version, source: r.source, updatedAt: r.updated_at }));
  }

  getLabel(model: string, label: string): LabelRow | undefined {
    return this.listLabels(model).find((l) => l.label === label);
  }

  setLabel(model: string, label: string, version: number, source: LabelSource): void {
    this.db
      .prepare(
        `INSERT INTO labels (model, label, version, source, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (model, label) DO UPDATE SET version = excluded.version, source = excluded.source, updated_at = excluded.updated_at`,
      )
      .run(model, label, version, source, now());
  }

  deleteLabel(model: string, label: string): boolean {
    return this.db.prepare('DELETE FROM labels WHERE model = ? AND label = ?').run(model, label).changes > 0;
  }

  // ---- pins

  getPin(model: string): PinRow | undefined {
    const r = this.db.prepare('SELECT * FROM pins WHERE model = ?').get(model) as
      | { model: string; version: number; pinned_at: string; actor: string }
      | undefined;
    return r && { model: r.model, version: r.version, pinnedAt: r.pinned_at, actor: r.actor };
  }

  setPin(model: string, version: number, actor: string): void {
    this.db
      .prepare(
        `INSERT INTO pins (model, version, pinned_at, actor) VALUES (?, ?, ?, ?)
         ON CONFLICT (model) DO UPDATE SET version = excluded.version, pinned_at = excluded.pinned_at, actor = excluded.actor`,
      )
      .run(model, version, now(), actor);
  }

  deletePin(model: string): boolean {
    return this.db.prepare('DELETE FROM pins WHERE model = ?').run(model).changes > 0;
  }

  // ---- pending moves

  addPendingMove(m: { kind: PendingMoveKind; model: string; version: number; source: string; target: string; detail: PendingMoveDetail }): PendingMove {
    const info = this.db
      .prepare('INSERT INTO pending_moves (kind, model, version, source, target, detail, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(m.kind, m.model, m.version, m.source, m.target, JSON.stringify(m.detail), now());
    return this.listPendingMoves().find((p) => p.id === Number(info.lastInsertRowid))!;
  }

  /** Moves in progress, oldest first. */
  listPendingMoves(): PendingMove[] {
    const rows = this.db.prepare('SELECT * FROM pending_moves ORDER BY id').all() as {
      id: number;
      kind: PendingMoveKind;
      model: string;
      version: number;
      source: string;
      target: string;
      detail: string;
      created_at: string;
    }[];
    return rows.map((r) => ({
      id: r.id,
      kind: r.kind,
      model: r.model,
      version: r.version,
      source: r.source,
      target: r.target,
      detail: JSON.parse(r.detail) as PendingMoveDetail,
      createdAt: r.created_at,
    }));
  }

  deletePendingMove(id: number): void {
    this.db.prepare('DELETE FROM pending_moves WHERE id = ?').run(id);
  }

  // ---- events (append-only)

  addEvent(e: NewEvent): EventRow {
    const time = now();
    const info = this.db
      .prepare('INSERT INTO events (time, model, version, kind, actor, detail) VALUES (?, ?, ?, ?, ?, ?)')
      .run(time, e.model, e.version ?? null, e.kind, e.actor, e.detail ?? '');
    return { id: Number(info.lastInsertRowid), time, model: e.model, version: e.version ?? null, kind: e.kind, actor: e.actor, detail: e.detail ?? '' };
  }

  /** A model's events, newest first: at most `limit` (1..1000), only those with id < `before` when given. */
  listEvents(model: string, options: { limit?: number; before?: number } = {}): EventRow[] {
    const limit = Math.min(Math.max(Math.trunc(options.limit ?? 100), 1), MAX_EVENTS_PAGE);
    const before = options.before ?? Number.MAX_SAFE_INTEGER;
    return this.db
      .prepare('SELECT * FROM events WHERE model = ? AND id < ? ORDER BY id DESC LIMIT ?')
      .all(model, before, limit) as EventRow[];
  }
}
