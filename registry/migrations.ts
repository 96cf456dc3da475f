/**
 * The registry's SQLite schema (PostgreSQL's is registry/postgres_migrations.ts), as an ordered list of migrations kept in code.
 * `migrate(db)` applies, in one transaction each, every migration newer than
 * the number in `schema_version`, so opening an old registry file upgrades it
 * and opening a current one changes nothing. Never edit a migration that has
 * shipped: add a new one.
 */
import type Database from 'better-sqlite3';

export interface Migration {
  version: number;
  description: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'models, versions, signatures, labels, pins, events',
    sql: `
      CREATE TABLE models (
        name             TEXT PRIMARY KEY,
        base_path        TEXT NOT NULL,
        -- 'config': from flags, a config file or the models directory; 'uploaded': created by an upload.
        origin           TEXT NOT NULL CHECK (origin IN ('config', 'uploaded')),
        active_version   INTEGER,
        previous_version INTEGER,
        created_at       TEXT NOT NULL
      );

      CREATE TABLE versions (
        model        TEXT NOT NULL REFERENCES models (name),
        version      INTEGER NOT NULL,
        path         TEXT NOT NULL,
        state        TEXT NOT NULL CHECK (state IN ('DISCOVERED', 'LOADING', 'AVAILABLE', 'FAILED', 'REMOVED')),
        error        TEXT,
        sha256       TEXT,
        size_bytes   INTEGER,
        fingerprint  TEXT,
        source       TEXT NOT NULL CHECK (source IN ('discovered', 'uploaded')),
        created_at   TEXT NOT NULL,
        loaded_at    TEXT,
        retired      INTEGER NOT NULL DEFAULT 0 CHECK (retired IN (0, 1)),
        retired_at   TEXT,
        PRIMARY KEY (model, version)
      );

      CREATE TABLE signatures (
        model    TEXT NOT NULL,
        version  INTEGER NOT NULL,
        name     TEXT NOT NULL,
        method   TEXT NOT NULL,
        inputs   TEXT NOT NULL,  -- JSON: {alias: {"dtype": "DT_FLOAT", "shape": [-1, 1] | null}}
        outputs  TEXT NOT NULL,
        PRIMARY KEY (model, version, name),
        FOREIGN KEY (model, version) REFERENCES versions (model, version) ON DELETE CASCADE
      );

      CREATE TABLE labels (
        model       TEXT NOT NULL REFERENCES models (name),
        label       TEXT NOT NULL,
        version     INTEGER NOT NULL,
        -- 'config': a version_labels entry of the config file; 'api': set through the registry.
        source      TEXT NOT NULL CHECK (source IN ('config', 'api')),
        updated_at  TEXT NOT NULL,
        PRIMARY KEY (model, label)
      );

      CREATE TABLE pins (
        model      TEXT PRIMARY KEY REFERENCES models (name),
        version    INTEGER NOT NULL,
        pinned_at  TEXT NOT NULL,
        actor      TEXT NOT NULL
      );

      CREATE TABLE events (
        id       INTEGER PRIMARY KEY AUTOINCREMENT,
        time     TEXT NOT NULL,
        model    TEXT NOT NULL,
        version  INTEGER,
        kind     TEXT NOT NULL,
        actor    TEXT NOT NULL,
        detail   TEXT NOT NULL DEFAULT ''
      );
      CREATE INDEX events_by_model ON events (model, id);

      CREATE TRIGGER events_no_update BEFORE UPDATE ON events
        BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
      CREATE TRIGGER events_no_delete BEFORE DELETE ON events
        BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
    `,
  },
  {
    version: 2,
    description: 'pending_moves: folder moves recorded before they happen, finished or undone at startup',
    sql: `
      -- A move of a version folder between its commit points (registry/recovery.ts):
      -- 'upload': source = the staged folder, target = {base_path}/{N}; the version row is written with it.
      -- 'purge': source = {base_path}/{N}, target = the .purged-* folder it is renamed to before deletion.
      CREATE TABLE pending_moves (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        kind        TEXT NOT NULL CHECK (kind IN ('upload', 'purge')),
        model       TEXT NOT NULL,
        version     INTEGER NOT NULL,
        source      TEXT NOT NULL,
        target      TEXT NOT NULL,
        detail      TEXT NOT NULL DEFAULT '{}',  -- JSON, see PendingMoveDetail in registry/store.ts
        created_at  TEXT NOT NULL
      );
    `,
  },
  {
    version: 3,
    description: 'signatures.unavailable: why a signature cannot run (ops the runtime lacks), null when it can',
    sql: `ALTER TABLE signatures ADD COLUMN unavailable TEXT;`,
  },
  {
    version: 4,
    description: 'replicas: the heartbeat of each serve process and the versions it has loaded',
    sql: `
      CREATE TABLE replicas (
        id          TEXT PRIMARY KEY,
        address     TEXT NOT NULL,
        started_at  TEXT NOT NULL,
        last_seen   TEXT NOT NULL,
        stopped_at  TEXT,
        versions    TEXT NOT NULL DEFAULT '[]'  -- JSON: [{"model": "m", "version": 1, "state": "AVAILABLE"}]
      );
    `,
  },
  {
    version: 5,
    description: 'version metadata: description, tags, metrics and provenance (the API\'s "source") of each version',
    sql: `
      ALTER TABLE versions ADD COLUMN description TEXT;
      ALTER TABLE versions ADD COLUMN tags TEXT NOT NULL DEFAULT '{}';     -- JSON: {"key": "value"}
      ALTER TABLE versions ADD COLUMN metrics TEXT NOT NULL DEFAULT '{}';  -- JSON: {"name": 0.91}
      ALTER TABLE versions ADD COLUMN provenance TEXT;                     -- who made it, from where (the API's metadata.source)
    `,
  },
  {
    version: 6,
    description: 'rollouts: a model\'s canary or shadow rollout (running, or the last one that ended)',
    sql: `
      CREATE TABLE rollouts (
        model          TEXT PRIMARY KEY REFERENCES models (name),
        stable         INTEGER NOT NULL,
        candidate      INTEGER NOT NULL,
        percent        REAL NOT NULL CHECK (percent >= 0 AND percent <= 100),
        mode           TEXT NOT NULL CHECK (mode IN ('canary', 'shadow')),
        state          TEXT NOT NULL CHECK (state IN ('running', 'promoted', 'aborted')),
        reason         TEXT,
        limits         TEXT,     -- JSON: {"maxErrorRate", "maxP99LatencyRatio", "minRequests"} or NULL
        window_seconds INTEGER NOT NULL,
        steps          TEXT,     -- JSON: [10, 50, 100] or NULL
        step_seconds   INTEGER,
        revision       INTEGER NOT NULL,
        started_at     TEXT NOT NULL,
        changed_at     TEXT NOT NULL,
        actor          TEXT NOT NULL
      );
    `,
  },
];

/** The schema version a database is at (0 for a new, empty file). */
export function schemaVersion(db: Database.Database): number {
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
  const row = db.prepare('SELECT MAX(version) AS version FROM schema_version').get() as { version: number | null };
  return row.version ?? 0;
}

/**
 * Brings `db` to the newest schema; returns the migrations applied. A file
 * written by a newer modelhost (a schema version this code does not know) is
 * refused rather than guessed at.
 */
export function migrate(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): Migration[] {
  const current = schemaVersion(db);
  const newest = migrations.length === 0 ? 0 : migrations[migrations.length - 1].version;
  if (current > newest) {
    throw new Error(`The registry database has schema version ${current}, newer than this modelhost understands (${newest}). Use a newer modelhost, or another --registry_path.`);
  }
  const applied: Migration[] = [];
  for (const m of migrations) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(m.version);
    })();
    applied.push(m);
  }
  return applied;
}
