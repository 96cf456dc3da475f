/**
 * The registry's PostgreSQL schema, as an ordered list of migrations kept in
 * code (the SQLite schema is registry/migrations.ts; both hold the same
 * tables). `migratePostgres` runs at startup under a session advisory lock,
 * so replicas starting together apply each migration exactly once; each
 * migration commits in its own transaction with its row in
 * `schema_migrations`. Never edit a migration that has shipped: add one.
 */
import type pg from 'pg';
import type { Migration } from './migrations.js';

/** pg_advisory_lock key of schema changes ("modelhost" in ASCII, as a bigint). */
export const MIGRATION_LOCK_KEY = '120282849700681';

export const POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'models, versions, signatures, labels, pins, events, pending_moves, replicas',
    sql: `
      CREATE TABLE models (
        name             TEXT PRIMARY KEY,
        base_path        TEXT NOT NULL,
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
        size_bytes   BIGINT,
        fingerprint  TEXT,
        source       TEXT NOT NULL CHECK (source IN ('discovered', 'uploaded')),
        created_at   TEXT NOT NULL,
        loaded_at    TEXT,
        retired      BOOLEAN NOT NULL DEFAULT FALSE,
        retired_at   TEXT,
        PRIMARY KEY (model, version)
      );

      CREATE TABLE signatures (
        model        TEXT NOT NULL,
        version      INTEGER NOT NULL,
        name         TEXT NOT NULL,
        method       TEXT NOT NULL,
        inputs       TEXT NOT NULL,
        outputs      TEXT NOT NULL,
        unavailable  TEXT,
        PRIMARY KEY (model, version, name),
        FOREIGN KEY (model, version) REFERENCES versions (model, version) ON DELETE CASCADE
      );

      CREATE TABLE labels (
        model       TEXT NOT NULL REFERENCES models (name),
        label       TEXT NOT NULL,
        version     INTEGER NOT NULL,
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
        id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        time     TEXT NOT NULL,
        model    TEXT NOT NULL,
        version  INTEGER,
        kind     TEXT NOT NULL,
        actor    TEXT NOT NULL,
        detail   TEXT NOT NULL DEFAULT ''
      );
      CREATE INDEX events_by_model ON events (model, id);

      CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'events are append-only'; END;
      $$;
      CREATE TRIGGER events_no_update BEFORE UPDATE OR DELETE ON events
        FOR EACH ROW EXECUTE FUNCTION events_append_only();
      CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
        FOR EACH STATEMENT EXECUTE FUNCTION events_append_only();

      CREATE TABLE pending_moves (
        id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        kind        TEXT NOT NULL CHECK (kind IN ('upload', 'purge')),
        model       TEXT NOT NULL,
        version     INTEGER NOT NULL,
        source      TEXT NOT NULL,
        target      TEXT NOT NULL,
        detail      TEXT NOT NULL DEFAULT '{}',
        created_at  TEXT NOT NULL
      );

      CREATE TABLE replicas (
        id          TEXT PRIMARY KEY,
        address     TEXT NOT NULL,
        started_at  TEXT NOT NULL,
        last_seen   TIMESTAMPTZ NOT NULL,
        stopped_at  TEXT,
        versions    TEXT NOT NULL DEFAULT '[]'
      );
    `,
  },
  {
    version: 2,
    description: 'version metadata: description, tags, metrics and provenance (the API\'s "source") of each version',
    sql: `
      ALTER TABLE versions ADD COLUMN description TEXT;
      ALTER TABLE versions ADD COLUMN tags TEXT NOT NULL DEFAULT '{}';
      ALTER TABLE versions ADD COLUMN metrics TEXT NOT NULL DEFAULT '{}';
      ALTER TABLE versions ADD COLUMN provenance TEXT;
    `,
  },
  {
    version: 3,
    description: 'rollouts: a model\'s canary or shadow rollout (running, or the last one that ended)',
    sql: `
      CREATE TABLE rollouts (
        model          TEXT PRIMARY KEY REFERENCES models (name),
        stable         INTEGER NOT NULL,
        candidate      INTEGER NOT NULL,
        percent        DOUBLE PRECISION NOT NULL CHECK (percent >= 0 AND percent <= 100),
        mode           TEXT NOT NULL CHECK (mode IN ('canary', 'shadow')),
        state          TEXT NOT NULL CHECK (state IN ('running', 'promoted', 'aborted')),
        reason         TEXT,
        limits         TEXT,
        window_seconds INTEGER NOT NULL,
        steps          TEXT,
        step_seconds   INTEGER,
        revision       INTEGER NOT NULL,
        started_at     TEXT NOT NULL,
        changed_at     TEXT NOT NULL,
        actor          TEXT NOT NULL
      );
    `,
  },
];

/**
 * Brings the database to the newest schema on `client` (a dedicated
 * connection: the advisory lock is held by the session); returns the
 * migrations applied. A database written by a newer modelhost is refused.
 */
export async function migratePostgres(client: pg.ClientBase, migrations: readonly Migration[] = POSTGRES_MIGRATIONS): Promise<Migration[]> {
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
  try {
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())',
    );
    const current = Number((await client.query('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations')).rows[0].v);
    const newest = migrations.length === 0 ? 0 : migrations[migrations.length - 1].version;
    if (current > newest) {
      throw new Error(
        `The registry database has schema version ${current}, newer than this modelhost understands (${newest}). Use a newer modelhost, or another --registry_url.`,
      );
    }
    const applied: Migration[] = [];
    for (const m of migrations) {
      if (m.version <= current) continue;
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query('INSERT INTO schema_migrations (version, description) VALUES ($1, $2)', [m.version, m.description]);
        await client.query('COMMIT');
      } catch (e) {
        await client.query('ROLLBACK');
        throw e;
      }
      applied.push(m);
    }
    return applied;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
  }
}
