/**
 * The registry store in PostgreSQL (node-postgres with a connection pool),
 * shared by any number of `modelhost serve` replicas. Opening it applies
 * the migrations of registry/postgres_migrations.ts under an advisory lock.
 * Every write runs in a transaction (READ COMMITTED; one retried on a
 * deadlock or serialization failure); races between replicas are settled
 * by primary keys with ON CONFLICT and by conditional updates, never by
 * reading first and writing after.
 *
 * Each transaction that changed a model announces it on commit with
 * NOTIFY modelhost_registry (payload: {"from": store id, "model": name});
 * `watch` LISTENs on a dedicated connection (reconnecting with backoff) and
 * passes on the other processes' announcements.
 *
 *   const store = await PostgresStore.open('postgresql://modelhost@db:5432/registry');
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { StatusError, unavailable } from '../runtime/errors.js';
import { ROLLOUT_COLUMNS, rolloutFromColumns, rolloutValues } from './rollout/rollout_row.js';
import { migratePostgres } from './postgres_migrations.js';
import { EMPTY_METADATA, type VersionMetadata } from './version_metadata.js';
import {
  eventsLimit,
  versionExists,
  type EventKind,
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
  type RolloutRow,
  type RegistryStore,
  type ReplicaRow,
  type SignatureRow,
  type StoreTx,
  type VersionRow,
  type VersionUpdate,
} from './store.js';

export const NOTIFY_CHANNEL = 'modelhost_registry';
export const DEFAULT_POOL_SIZE = 10;
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const RETRIED_CODES = new Set(['40001', '40P01']); // serialization_failure, deadlock_detected
const MAX_ATTEMPTS = 3;

export interface PostgresStoreOptions {
  /** Connections in the pool (default 10). */
  poolSize?: number;
  /** How long opening a connection may take (default 10000 ms). */
  connectTimeoutMs?: number;
}

type Query = (sql: string, params?: unknown[]) => Promise<pg.QueryResult>;

const now = () => new Date().toISOString();
const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

const modelFromRow = (r: Record<string, unknown>): ModelRow => ({
  name: r.name as string,
  basePath: r.base_path as string,
  origin: r.origin as ModelOrigin,
  activeVersion: numOrNull(r.active_version),
  previousVersion: numOrNull(r.previous_version),
  createdAt: r.created_at as string,
});

const versionFromRow = (r: Record<string, unknown>): VersionRow => ({
  model: r.model as string,
  version: num(r.version),
  path: r.path as string,
  state: r.state as VersionRow['state'],
  error: r.error as string | null,
  sha256: r.sha256 as string | null,
  sizeBytes: numOrNull(r.size_bytes),
  fingerprint: r.fingerprint as string | null,
  source: r.source as VersionRow['source'],
  createdAt: r.created_at as string,
  loadedAt: r.loaded_at as string | null,
  retired: r.retired as boolean,
  retiredAt: r.retired_at as string | null,
  metadata: {
    description: r.description as string | null,
    tags: JSON.parse(r.tags as string),
    metrics: JSON.parse(r.metrics as string),
    source: r.provenance as string | null,
  },
});

/** description, tags, metrics, provenance column values. */
const metadataSql = (m: VersionMetadata = EMPTY_METADATA): [string | null, string, string, string | null] => [
  m.description,
  JSON.stringify(m.tags),
  JSON.stringify(m.metrics),
  m.source,
];

const signatureFromRow = (r: Record<string, unknown>): SignatureRow => ({
  name: r.name as string,
  method: r.method as string,
  inputs: JSON.parse(r.inputs as string),
  outputs: JSON.parse(r.outputs as string),
  unavailable: r.unavailable as string | null,
});

const labelFromRow = (r: Record<string, unknown>): LabelRow => ({
  model: r.model as string,
  label: r.label as string,
  version: num(r.version),
  source: r.source as LabelSource,
  updatedAt: r.updated_at as string,
});

const pinFromRow = (r: Record<string, unknown>): PinRow => ({
  model: r.model as string,
  version: num(r.version),
  pinnedAt: r.pinned_at as string,
  actor: r.actor as string,
});

const eventFromRow = (r: Record<string, unknown>): EventRow => ({
  id: num(r.id),
  time: r.time as string,
  model: r.model as string,
  version: numOrNull(r.version),
  kind: r.kind as EventKind,
  actor: r.actor as string,
  detail: r.detail as string,
});

const pendingMoveFromRow = (r: Record<string, unknown>): PendingMove => ({
  id: num(r.id),
  kind: r.kind as PendingMoveKind,
  model: r.model as string,
  version: num(r.version),
  source: r.source as string,
  target: r.target as string,
  detail: JSON.parse(r.detail as string) as PendingMoveDetail,
  createdAt: r.created_at as string,
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

/** The statements, on the pool (reads) or on one transaction's client (`touched` collects the models it changed). */
class PostgresOps implements StoreTx {
  constructor(
    private readonly query: Query,
    private readonly touched: Set<string> | null,
  ) {}

  private touch(model: string): void {
    this.touched?.add(model);
  }

  // ---- models

  async getModel(name: string): Promise<ModelRow | undefined> {
    const r = await this.query('SELECT * FROM models WHERE name = $1', [name]);
    return r.rows[0] && modelFromRow(r.rows[0]);
  }

  async listModels(): Promise<ModelRow[]> {
    return (await this.query('SELECT * FROM models ORDER BY name')).rows.map(modelFromRow);
  }

  async upsertModel(m: { name: string; basePath: string; origin: ModelOrigin }): Promise<ModelRow> {
    this.touch(m.name);
    const r = await this.query(
      `INSERT INTO models (name, base_path, origin, created_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (name) DO UPDATE SET base_path = excluded.base_path RETURNING *`,
      [m.name, m.basePath, m.origin, now()],
    );
    return modelFromRow(r.rows[0]);
  }

  async setModelOrigin(name: string, origin: ModelOrigin): Promise<void> {
    this.touch(name);
    await this.query('UPDATE models SET origin = $1 WHERE name = $2', [origin, name]);
  }

  async deleteModelIfUnused(name: string): Promise<boolean> {
    this.touch(name);
    const r = await this.query(
      `DELETE FROM models WHERE name = $1
         AND NOT EXISTS (SELECT 1 FROM versions WHERE model = $1) AND NOT EXISTS (SELECT 1 FROM labels WHERE model = $1)
         AND NOT EXISTS (SELECT 1 FROM pins WHERE model = $1) AND NOT EXISTS (SELECT 1 FROM events WHERE model = $1)`,
      [name],
    );
    return (r.rowCount ?? 0) > 0;
  }

  async setActiveVersions(name: string, active: number | null, previous: number | null, expected?: { active: number | null }): Promise<boolean> {
    this.touch(name);
    const r = expected
      ? await this.query('UPDATE models SET active_version = $1, previous_version = $2 WHERE name = $3 AND active_version IS NOT DISTINCT FROM $4::integer', [
          active,
          previous,
          name,
          expected.active,
        ])
      : await this.query('UPDATE models SET active_version = $1, previous_version = $2 WHERE name = $3', [active, previous, name]);
    return (r.rowCount ?? 0) > 0;
  }

  // ---- versions

  async getVersion(model: string, version: number): Promise<VersionRow | undefined> {
    const r = await this.query('SELECT * FROM versions WHERE model = $1 AND version = $2', [model, version]);
    return r.rows[0] && versionFromRow(r.rows[0]);
  }

  async listVersions(model: string): Promise<VersionRow[]> {
    return (await this.query('SELECT * FROM versions WHERE model = $1 ORDER BY version DESC', [model])).rows.map(versionFromRow);
  }

  async maxVersion(model: string): Promise<number> {
    const r = await this.query('SELECT COALESCE(MAX(version), 0) AS v FROM versions WHERE model = $1', [model]);
    return num(r.rows[0].v);
  }

  async insertVersion(v: NewVersion): Promise<VersionRow> {
    if (!(await this.insertVersionIfAbsent(v))) throw new StatusError('ALREADY_EXISTS', versionExists(v.model, v.version));
    return (await this.getVersion(v.model, v.version))!;
  }

  async insertVersionIfAbsent(v: NewVersion): Promise<boolean> {
    this.touch(v.model);
    const r = await this.query(
      `INSERT INTO versions (model, version, path, state, sha256, size_bytes, fingerprint, source, created_at, description, tags, metrics, provenance)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (model, version) DO NOTHING`,
      [v.model, v.version, v.path, v.state ?? 'DISCOVERED', v.sha256 ?? null, v.sizeBytes ?? null, v.fingerprint ?? null, v.source, now(), ...metadataSql(v.metadata)],
    );
    return (r.rowCount ?? 0) > 0;
  }

  async updateVersion(model: string, version: number, update: VersionUpdate): Promise<void> {
    const keys = Object.keys(update) as (keyof VersionUpdate)[];
    if (keys.length === 0) return;
    this.touch(model);
    const sets = keys.map((k, i) => `${VERSION_COLUMNS[k]} = $${i + 1}`).join(', ');
    const values = keys.map((k) => update[k] ?? null);
    await this.query(`UPDATE versions SET ${sets} WHERE model = $${keys.length + 1} AND version = $${keys.length + 2}`, [...values, model, version]);
  }

  async setVersionMetadata(model: string, version: number, metadata: VersionMetadata): Promise<void> {
    this.touch(model);
    await this.query('UPDATE versions SET description = $1, tags = $2, metrics = $3, provenance = $4 WHERE model = $5 AND version = $6', [
      ...metadataSql(metadata),
      model,
      version,
    ]);
  }

  async deleteVersion(model: string, version: number): Promise<void> {
    this.touch(model);
    await this.query('DELETE FROM versions WHERE model = $1 AND version = $2', [model, version]);
  }

  // ---- signatures

  async setSignatures(model: string, version: number, signatures: readonly SignatureRow[]): Promise<void> {
    this.touch(model);
    await this.query('DELETE FROM signatures WHERE model = $1 AND version = $2', [model, version]);
    for (const s of signatures) {
      await this.query('INSERT INTO signatures (model, version, name, method, inputs, outputs, unavailable) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
        model,
        version,
        s.name,
        s.method,
        JSON.stringify(s.inputs),
        JSON.stringify(s.outputs),
        s.unavailable,
      ]);
    }
  }

  async getSignatures(model: string, version: number): Promise<SignatureRow[]> {
    const r = await this.query('SELECT * FROM signatures WHERE model = $1 AND version = $2 ORDER BY name', [model, version]);
    return r.rows.map(signatureFromRow);
  }

  // ---- labels

  async listLabels(model: string): Promise<LabelRow[]> {
    return (await this.query('SELECT * FROM labels WHERE model = $1 ORDER BY label', [model])).rows.map(labelFromRow);
  }

  async getLabel(model: string, label: string): Promise<LabelRow | undefined> {
    const r = await this.query('SELECT * FROM labels WHERE model = $1 AND label = $2', [model, label]);
    return r.rows[0] && labelFromRow(r.rows[0]);
  }

  async setLabel(model: string, label: string, version: number, source: LabelSource): Promise<void> {
    this.touch(model);
    await this.query(
      `INSERT INTO labels (model, label, version, source, updated_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (model, label) DO UPDATE SET version = excluded.version, source = excluded.source, updated_at = excluded.updated_at`,
      [model, label, version, source, now()],
    );
  }

  async deleteLabel(model: string, label: string): Promise<boolean> {
    this.touch(model);
    return ((await this.query('DELETE FROM labels WHERE model = $1 AND label = $2', [model, label])).rowCount ?? 0) > 0;
  }

  // ---- pins

  async getPin(model: string): Promise<PinRow | undefined> {
    const r = await this.query('SELECT * FROM pins WHERE model = $1', [model]);
    return r.rows[0] && pinFromRow(r.rows[0]);
  }

  async setPin(model: string, version: number, actor: string): Promise<void> {
    this.touch(model);
    await this.query(
      `INSERT INTO pins (model, version, pinned_at, actor) VALUES ($1, $2, $3, $4)
       ON CONFLICT (model) DO UPDATE SET version = excluded.version, pinned_at = excluded.pinned_at, actor = excluded.actor`,
      [model, version, now(), actor],
    );
  }

  async deletePin(model: string): Promise<boolean> {
    this.touch(model);
    return ((await this.query('DELETE FROM pins WHERE model = $1', [model])).rowCount ?? 0) > 0;
  }

  // ---- pending moves

  async addPendingMove(m: { kind: PendingMoveKind; model: string; version: number; source: string; target: string; detail: PendingMoveDetail }): Promise<PendingMove> {
    const r = await this.query(
      'INSERT INTO pending_moves (kind, model, version, source, target, detail, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *',
      [m.kind, m.model, m.version, m.source, m.target, JSON.stringify(m.detail), now()],
    );
    return pendingMoveFromRow(r.rows[0]);
  }

  async listPendingMoves(): Promise<PendingMove[]> {
    return (await this.query('SELECT * FROM pending_moves ORDER BY id')).rows.map(pendingMoveFromRow);
  }

  async deletePendingMove(id: number): Promise<boolean> {
    return ((await this.query('DELETE FROM pending_moves WHERE id = $1', [id])).rowCount ?? 0) > 0;
  }

  // ---- events (append-only)

  async addEvent(e: NewEvent): Promise<EventRow> {
    this.touch(e.model);
    const r = await this.query('INSERT INTO events (time, model, version, kind, actor, detail) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *', [
      now(),
      e.model,
      e.version ?? null,
      e.kind,
      e.actor,
      e.detail ?? '',
    ]);
    return eventFromRow(r.rows[0]);
  }

  async listEvents(model: string, options: { limit?: number; before?: number } = {}): Promise<EventRow[]> {
    const before = options.before ?? Number.MAX_SAFE_INTEGER;
    const r = await this.query('SELECT * FROM events WHERE model = $1 AND id < $2 ORDER BY id DESC LIMIT $3', [model, before, eventsLimit(options.limit)]);
    return r.rows.map(eventFromRow);
  }

  async changesSince(eventId: number): Promise<{ lastEventId: number; models: string[] }> {
    const r = await this.query('SELECT model, MAX(id) AS id FROM events WHERE id > $1 GROUP BY model', [eventId]);
    return { lastEventId: Math.max(eventId, ...r.rows.map((row) => num(row.id))), models: r.rows.map((row) => row.model as string).sort() };
  }

  // ---- rollouts

  async getRollout(model: string): Promise<RolloutRow | undefined> {
    const r = await this.query('SELECT * FROM rollouts WHERE model = $1', [model]);
    return r.rows[0] && rolloutFromColumns(r.rows[0]);
  }

  async putRollout(row: RolloutRow, expectedRevision?: number): Promise<boolean> {
    this.touch(row.model);
    const values = rolloutValues(row);
    if (expectedRevision === undefined) {
      const updates = ROLLOUT_COLUMNS.slice(1).map((c) => `${c} = excluded.${c}`).join(', ');
      await this.query(
        `INSERT INTO rollouts (${ROLLOUT_COLUMNS.join(', ')}) VALUES (${ROLLOUT_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')}) ON CONFLICT (model) DO UPDATE SET ${updates}`,
        values,
      );
      return true;
    }
    const sets = ROLLOUT_COLUMNS.slice(1).map((c, i) => `${c} = $${i + 1}`).join(', ');
    const n = ROLLOUT_COLUMNS.length;
    const r = await this.query(`UPDATE rollouts SET ${sets} WHERE model = $${n} AND revision = $${n + 1}`, [...values.slice(1), row.model, expectedRevision]);
    return (r.rowCount ?? 0) > 0;
  }

  // ---- snapshot

  async loadSnapshot(names?: readonly string[]): Promise<Map<string, ModelSnapshot>> {
    const filter = names ? 'WHERE model = ANY($1)' : '';
    const args = names ? [[...names]] : [];
    const models = (await this.query(`SELECT * FROM models ${names ? 'WHERE name = ANY($1)' : ''} ORDER BY name`, args)).rows.map(modelFromRow);
    const out = new Map<string, ModelSnapshot>();
    for (const model of models) out.set(model.name, { model, versions: [], signatures: new Map(), labels: [], pin: undefined });
    for (const row of (await this.query(`SELECT * FROM versions ${filter} ORDER BY model, version DESC`, args)).rows) {
      out.get(row.model)?.versions.push(versionFromRow(row));
    }
    for (const row of (await this.query(`SELECT * FROM signatures ${filter} ORDER BY model, version, name`, args)).rows) {
      const s = out.get(row.model);
      if (!s) continue;
      const version = num(row.version);
      let list = s.signatures.get(version);
      if (!list) s.signatures.set(version, (list = []));
      list.push(signatureFromRow(row));
    }
    for (const row of (await this.query(`SELECT * FROM labels ${filter} ORDER BY model, label`, args)).rows) out.get(row.model)?.labels.push(labelFromRow(row));
    for (const row of (await this.query(`SELECT * FROM pins ${filter}`, args)).rows) {
      const s = out.get(row.model);
      if (s) s.pin = pinFromRow(row);
    }
    for (const row of (await this.query(`SELECT * FROM rollouts ${filter}`, args)).rows) {
      const s = out.get(row.model);
      if (s) s.rollout = rolloutFromColumns(row);
    }
    return out;
  }

  // ---- replicas

  async recordHeartbeat(r: NewReplicaHeartbeat): Promise<void> {
    await this.query(
      `INSERT INTO replicas (id, address, started_at, last_seen, versions) VALUES ($1, $2, $3, now(), $4)
       ON CONFLICT (id) DO UPDATE SET address = excluded.address, last_seen = now(), versions = excluded.versions, stopped_at = NULL`,
      [r.id, r.address, r.startedAt, JSON.stringify(r.versions)],
    );
  }

  async markReplicaStopped(id: string): Promise<void> {
    await this.query(`UPDATE replicas SET stopped_at = $1, versions = '[]' WHERE id = $2`, [now(), id]);
  }

  async listReplicas(options: { withinMs?: number } = {}): Promise<ReplicaRow[]> {
    const r = await this.query(
      `SELECT *, (EXTRACT(EPOCH FROM (now() - last_seen)) * 1000)::bigint AS silent_ms FROM replicas
       WHERE $1::bigint IS NULL OR last_seen >= now() - make_interval(secs => $1::bigint / 1000.0)
       ORDER BY started_at DESC, id`,
      [options.withinMs ?? null],
    );
    return r.rows.map((row) => ({
      id: row.id,
      address: row.address,
      startedAt: row.started_at,
      lastSeen: (row.last_seen as Date).toISOString(),
      silentMs: Math.max(0, num(row.silent_ms)),
      stoppedAt: row.stopped_at,
      versions: JSON.parse(row.versions),
    }));
  }
}

/** The URL with its password replaced by "***" (for logs and /api/v1). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgresql://(unparsable URL)';
  }
}

export class PostgresStore implements RegistryStore {
  readonly kind = 'postgresql' as const;
  readonly location: string;
  /** Tells this store's own announcements from other processes'. */
  readonly id = randomBytes(8).toString('hex');
  private readonly reads: PostgresOps;
  private listener: pg.Client | undefined;
  private closed = false;

  private constructor(
    private readonly url: string,
    readonly pool: pg.Pool,
    private readonly options: PostgresStoreOptions,
  ) {
    this.location = redactUrl(url);
    this.reads = new PostgresOps((sql, params) => pool.query(sql, params), null);
  }

  /** Connects, and migrates the database (under an advisory lock, so replicas starting together are safe). */
  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const pool = new pg.Pool({
      connectionString: url,
      max: options.poolSize ?? DEFAULT_POOL_SIZE,
      connectionTimeoutMillis: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    });
    // An idle client losing its connection (the server restarted) must not crash the process; the pool replaces it.
    pool.on('error', () => {});
    try {
      const client = await pool.connect();
      try {
        await migratePostgres(client);
      } finally {
        client.release();
      }
    } catch (e) {
      await pool.end().catch(() => {});
      throw new Error(`Cannot open the registry database ${redactUrl(url)}: ${(e as Error).message}`);
    }
    return new PostgresStore(url, pool, options);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => {});
    await this.pool.end();
  }

  async transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      let client: pg.PoolClient;
      try {
        client = await this.pool.connect();
      } catch (e) {
        throw unavailable(`The registry database ${this.location} is unreachable: ${(e as Error).message}`);
      }
      const touched = new Set<string>();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const result = await fn(new PostgresOps((sql, params) => client.query(sql, params), touched));
        for (const model of touched) await client.query('SELECT pg_notify($1, $2)', [NOTIFY_CHANNEL, JSON.stringify({ from: this.id, model })]);
        await client.query('COMMIT');
        return result;
      } catch (e) {
        await client.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
        const code = (e as { code?: string }).code;
        if (code && RETRIED_CODES.has(code) && attempt < MAX_ATTEMPTS) continue;
        throw e;
      } finally {
        client.release(broken);
      }
    }
  }

  async watch(listener: (model: string) => void, onReconnect?: () => void): Promise<void> {
    const connect = async (): Promise<void> => {
      const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: this.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS });
      client.on('error', () => {}); // reported through 'end' below, once connected
      await client.connect();
      try {
        await client.query(`LISTEN ${NOTIFY_CHANNEL}`);
      } catch (e) {
        await client.end().catch(() => {});
        throw e;
      }
      if (this.closed) {
        await client.end().catch(() => {});
        return;
      }
      client.on('notification', (n) => {
        if (n.channel !== NOTIFY_CHANNEL || !n.payload) return;
        let message: { from?: unknown; model?: unknown };
        try {
          message = JSON.parse(n.payload);
        } catch {
          return; // not ours
        }
        if (message.from !== this.id && typeof message.model === 'string') listener(message.model);
      });
      client.once('end', () => {
        if (this.listener === client) this.listener = undefined;
        if (!this.closed) retry(100);
      });
      this.listener = client;
    };
    // The feed was cut (the server restarted, the network failed): reconnect with backoff, then say changes may have been missed.
    const retry = (delayMs: number) => {
      setTimeout(() => {
        if (this.closed) return;
        connect().then(
          () => onReconnect?.(),
          () => retry(Math.min(delayMs * 2, 5000)),
        );
      }, delayMs).unref();
    };
    await connect();
  }

  getModel(name: string) { return this.reads.getModel(name); }
  listModels() { return this.reads.listModels(); }
  getVersion(model: string, version: number) { return this.reads.getVersion(model, version); }
  listVersions(model: string) { return this.reads.listVersions(model); }
  maxVersion(model: string) { return this.reads.maxVersion(model); }
  getSignatures(model: string, version: number) { return this.reads.getSignatures(model, version); }
  listLabels(model: string) { return this.reads.listLabels(model); }
  getLabel(model: string, label: string) { return this.reads.getLabel(model, label); }
  getPin(model: string) { return this.reads.getPin(model); }
  getRollout(model: string) { return this.reads.getRollout(model); }
  listPendingMoves() { return this.reads.listPendingMoves(); }
  listEvents(model: string, options?: { limit?: number; before?: number }) { return this.reads.listEvents(model, options); }
  listReplicas(options?: { withinMs?: number }) { return this.reads.listReplicas(options); }
  changesSince(eventId: number) { return this.reads.changesSince(eventId); }

  /** One consistent read of many tables: in a REPEATABLE READ transaction. */
  async loadSnapshot(names?: readonly string[]): Promise<Map<string, ModelSnapshot>> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const snapshot = await new PostgresOps((sql, params) => client.query(sql, params), null).loadSnapshot(names);
      await client.query('COMMIT');
      return snapshot;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {});
      throw e;
    } finally {
      client.release();
    }
  }
}
