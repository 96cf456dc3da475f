/**
 * Startup reconciliation of the registry with its folders, after a crash
 * (kill -9, power loss) stopped an upload or a purge between its steps. Run
 * before the model list is read and before the watcher's first poll.
 *
 * An upload records its version row together with a pending move (staged
 * folder → {base_path}/{N}) before it renames; a purge records a pending move
 * ({base_path}/{N} → .purged-*) before it renames. For each move left over:
 *  - upload whose folder is in place: adopted (the move is finished: the
 *    `uploaded` event, and the pin `activate=false` asked for);
 *  - upload whose folder is not in place: undone (its row, and a model row
 *    or base path it created, are removed), as if it was never sent;
 *  - purge whose version folder is still in place: undone (the version stays
 *    retired, with its files);
 *  - purge whose version folder was moved away: finished (REMOVED, `purged`).
 * On object storage an upload is in place once its marker is published
 * (adopted: recorded as `uploaded`, never re-found as `discovered`), and an
 * interrupted purge is finished by deleting what is left of the version.
 * On a shared store the moves of a replica that died are recovered by the
 * live replicas once its heartbeat lapses (LapsedMoveRecovery), not only at
 * the next start; each move is claimed in the transaction that settles it.
 * Then every staging folder (`.upload-*`, `.purged-*`) left in --models_dir
 * or a model's base path is deleted. So a version whose files are on disk is
 * never REMOVED, and no row points at a folder an interrupted upload never
 * moved into place. Mutations that change only rows (pin, unpin, rollback,
 * label, retire, restore) are single transactions and need nothing here.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { exists, removeTree } from '../serving/durable.js';
import { consoleLogger, type Logger } from '../serving/log.js';
import { DEFAULT_HEARTBEAT_MS, DEFAULT_REPLICA_LAPSE_MS } from './replicas.js';
import { openRegistryStore, type RegistryStoreLocation } from './open_store.js';
import type { PendingMove, RegistryStore, StoreTx } from './store.js';
import type { ObjectStore } from '../serving/object_store/object_store.js';
import { isObjectStoreUrl } from '../serving/object_store/s3_url.js';
import { toStatusError } from '../runtime/errors.js';

/** Name prefixes of the registry's own staging folders (hidden from the watcher and the models list). */
export const STAGING_PREFIXES = ['.upload-', '.purged-'] as const;

export interface RecoveryReport {
  /** "model/version" of uploads adopted, uploads undone, purges finished, purges undone. */
  adopted: string[];
  undone: string[];
  purged: string[];
  purgeUndone: string[];
  /** Staging folders deleted. */
  removed: string[];
}

/** Undoes a recorded upload whose folder is not in place: its row, and the model row if the upload created it. */
export async function forgetUpload(tx: StoreTx, move: PendingMove): Promise<void> {
  await tx.deleteVersion(move.model, move.version);
  // The pin an activate=false upload made when it was recorded goes with it (unless it was changed since).
  const pinned = move.detail.pinned;
  if (pinned !== undefined && pinned !== null && (await tx.getPin(move.model))?.version === pinned && (await tx.deletePin(move.model))) {
    await tx.addEvent({
      model: move.model,
      version: pinned,
      kind: 'unpinned',
      actor: move.detail.actor,
      detail: `unpinned version ${pinned}: the upload of version ${move.version} with activate=false that pinned it did not complete`,
    });
  }
  const origin = move.detail.previousOrigin;
  if (origin === null || origin === undefined) {
    await tx.deleteModelIfUnused(move.model);
  } else {
    if (move.detail.previousBasePath !== undefined) await tx.upsertModel({ name: move.model, basePath: move.detail.previousBasePath, origin });
    await tx.setModelOrigin(move.model, origin);
  }
  await tx.deletePendingMove(move.id);
}

/** Finishes a recorded upload whose folder is in place: the pin activate=false asked for, the `uploaded` event. */
async function adoptUpload(tx: StoreTx, move: PendingMove): Promise<void> {
  if (await tx.getVersion(move.model, move.version)) {
    const model = await tx.getModel(move.model);
    const active = model?.activeVersion ?? null;
    // Moves recorded since pins are made with the upload's record carry `pinned`: nothing to pin here.
    if (move.detail.activate === false && move.detail.pinned === undefined && !(await tx.getPin(move.model)) && active !== null && active !== move.version) {
      await tx.setPin(move.model, active, move.detail.actor);
      await tx.addEvent({
        model: move.model,
        version: active,
        kind: 'pinned',
        actor: move.detail.actor,
        detail: `pinned version ${active} to keep it serving: version ${move.version} was uploaded with activate=false`,
      });
    }
    await tx.addEvent({ model: move.model, version: move.version, kind: 'uploaded', actor: move.detail.actor, detail: move.detail.eventDetail });
  }
  await tx.deletePendingMove(move.id);
}

/** Finishes a purge whose folder was moved away: the version is REMOVED. */
async function finishPurge(tx: StoreTx, move: PendingMove): Promise<void> {
  const row = await tx.getVersion(move.model, move.version);
  if (row && row.state !== 'REMOVED') {
    await tx.updateVersion(move.model, move.version, { state: 'REMOVED' });
    await tx.addEvent({ model: move.model, version: move.version, kind: 'purged', actor: move.detail.actor, detail: move.detail.eventDetail });
  }
  await tx.deletePendingMove(move.id);
}


/** On a shared store: staging folders younger than this may belong to an upload in progress on another replica. */
export const SHARED_STAGING_MIN_AGE_MS = 60 * 60 * 1000;

/** What recovery asks of object storage about moves whose folders are s3:// URLs. */
export type RecoveryObjectStore = Pick<ObjectStore, 'versionPublished' | 'deleteVersion'>;

export interface RecoveryOptions {
  /** A replica silent for longer than this (default 15 s) is gone: its moves are finished or undone. Shared stores only. */
  replicaLapseMs?: number;
  /**
   * This process's replica id, at startup: moves recorded under it were left
   * by an earlier process with the same id (it died), so they are recovered
   * even while that id's last heartbeat is recent.
   */
  self?: string;
  /**
   * For moves to or from s3:// base paths: an upload whose marker is
   * published is adopted, one without is undone; a purge is finished by
   * deleting what is left of the version. Without it such moves are left.
   */
  objectStore?: RecoveryObjectStore;
}

export const emptyRecoveryReport = (): RecoveryReport => ({ adopted: [], undone: [], purged: [], purgeUndone: [], removed: [] });

/** Whether an upload's target is in place: a folder on disk, or a published version (its marker) on object storage. */
async function uploadLanded(move: PendingMove, objectStore: RecoveryObjectStore | undefined): Promise<boolean | undefined> {
  if (!isObjectStoreUrl(move.target)) return exists(move.target);
  return objectStore?.versionPublished(move.target);
}

/**
 * Finishes or undoes the pending moves of processes that are gone: on
 * SQLite all of them (one process), on a shared store those of replicas
 * whose heartbeat lapsed (and `self`'s). Each move is claimed in the
 * transaction that finishes or undoes it, so replicas recovering at once
 * do it once. A move whose object store cannot be reached is left for the
 * next try. Live replicas call this periodically (a dead replica's upload
 * must not wait for a restart); startup calls it through recoverRegistry.
 */
export async function recoverMoves(store: RegistryStore, log: Logger = consoleLogger, options: RecoveryOptions = {}, report = emptyRecoveryReport()): Promise<RecoveryReport> {
  const moves = await store.listPendingMoves();
  if (moves.length === 0) return report;
  const shared = store.kind !== 'sqlite';
  const live = shared
    ? new Set((await store.listReplicas({ withinMs: options.replicaLapseMs ?? DEFAULT_REPLICA_LAPSE_MS })).filter((r) => r.stoppedAt === null).map((r) => r.id))
    : new Set<string>();
  if (options.self !== undefined) live.delete(options.self);
  const claimed = (fn: (tx: StoreTx) => Promise<void>, move: PendingMove) =>
    store.transaction(async (tx) => {
      if (!(await tx.deletePendingMove(move.id))) return false; // another replica recovered it first
      await fn(tx);
      return true;
    });
  for (const move of moves) {
    if (move.detail.replica !== undefined && live.has(move.detail.replica)) continue;
    const what = `${move.model}/${move.version}`;
    try {
      if (move.kind === 'upload') {
        const landed = await uploadLanded(move, options.objectStore);
        if (landed === undefined) continue; // on object storage this process was started without
        if (landed) {
          if (!(await claimed((tx) => adoptUpload(tx, move), move))) continue;
          report.adopted.push(what);
          log.warn(`Recovery: the upload of version ${move.version} of model ${move.model} was interrupted after its ${isObjectStoreUrl(move.target) ? 'objects were published' : 'folder moved into place'}; kept it.`);
        } else {
          if (!(await claimed((tx) => forgetUpload(tx, move), move))) continue;
          if (move.detail.createdBasePath) await fs.rmdir(path.dirname(move.target)).catch(() => {});
          report.undone.push(what);
          log.warn(`Recovery: the upload of version ${move.version} of model ${move.model} was interrupted before its ${isObjectStoreUrl(move.target) ? 'objects were published' : 'folder moved into place'}; undone.`);
        }
      } else if (isObjectStoreUrl(move.source)) {
        // The version is retired and its deletion began (marker first): finish deleting it, then record it REMOVED.
        if (!options.objectStore) continue;
        await options.objectStore.deleteVersion(move.source);
        if (!(await claimed((tx) => finishPurge(tx, move), move))) continue;
        report.purged.push(what);
        log.warn(`Recovery: the purge of version ${move.version} of model ${move.model} was interrupted; finished it.`);
      } else if (await exists(move.source)) {
        if (!(await claimed(async () => {}, move))) continue;
        report.purgeUndone.push(what);
        log.warn(`Recovery: the purge of version ${move.version} of model ${move.model} was interrupted before its folder moved; the version stays retired with its files.`);
      } else {
        if (!(await claimed((tx) => finishPurge(tx, move), move))) continue;
        report.purged.push(what);
        log.warn(`Recovery: the purge of version ${move.version} of model ${move.model} was interrupted; finished it.`);
      }
    } catch (e) {
      log.warn(`Recovery: the interrupted ${move.kind} of version ${move.version} of model ${move.model} is left for the next try: ${toStatusError(e).message}`);
    }
  }
  return report;
}

/**
 * Finishes or undoes every pending move (recoverMoves), then deletes staging
 * folders in `modelsDir` and every model's base path. On a shared store
 * (PostgreSQL) other replicas may be mid-upload: their moves are left alone
 * while their heartbeat is live, and only staging folders older than an hour
 * are removed.
 */
export async function recoverRegistry(store: RegistryStore, modelsDir: string, log: Logger = consoleLogger, options: RecoveryOptions = {}): Promise<RecoveryReport> {
  const report = await recoverMoves(store, log, options);
  const shared = store.kind !== 'sqlite';
  const folders = new Set([path.resolve(modelsDir), ...(await store.listModels()).map((m) => path.resolve(m.basePath))]);
  for (const folder of folders) {
    let names: string[];
    try {
      names = await fs.readdir(folder);
    } catch {
      continue; // missing or unreadable: nothing staged there
    }
    for (const name of names.sort()) {
      if (!STAGING_PREFIXES.some((p) => name.startsWith(p))) continue;
      const staged = path.join(folder, name);
      if (shared) {
        const mtime = await fs.stat(staged).then((st) => st.mtimeMs, () => 0);
        if (Date.now() - mtime < SHARED_STAGING_MIN_AGE_MS) continue;
      }
      try {
        await removeTree(staged);
      } catch (e) {
        log.warn(`Recovery: could not delete ${staged}, left by an interrupted upload or purge (delete it by hand): ${(e as Error).message}`);
        continue;
      }
      report.removed.push(staged);
      log.warn(`Recovery: deleted ${staged}, left by an upload or purge that was interrupted.`);
    }
  }
  return report;
}

/** Opens the registry store just long enough to recover it (see recoverRegistry). */
export async function recoverRegistryAt(options: RegistryStoreLocation & { modelsDir: string }, log: Logger = consoleLogger): Promise<RecoveryReport> {
  const store = await openRegistryStore(options);
  try {
    return await recoverRegistry(store, options.modelsDir, log);
  } finally {
    await store.close();
  }
}

export interface LapsedMoveRecoveryOptions {
  store: RegistryStore;
  objectStore?: RecoveryObjectStore;
  /** --replica_lapse_ms (default 15 s). */
  lapseMs?: number;
  /** How often to look (default: the heartbeat period). */
  everyMs?: number;
  /** Called with the models whose rows a recovery changed (this process's copy must be re-read: the store does not notify its own writes). */
  onChange: (models: string[]) => void;
  log?: Logger;
}

/**
 * On a shared store, in every live replica: looks for moves left by
 * replicas whose heartbeat lapsed and finishes or undoes them (recoverMoves),
 * so an upload interrupted by a replica's death ends complete or invisible
 * within about a lapse, without waiting for any process to restart.
 */
export class LapsedMoveRecovery {
  private readonly timer: NodeJS.Timeout;
  private running: Promise<void> | undefined;
  private stopped = false;
  private failing = false;
  private readonly log: Logger;

  constructor(private readonly options: LapsedMoveRecoveryOptions) {
    this.log = options.log ?? consoleLogger;
    this.timer = setInterval(() => this.tick(), options.everyMs ?? DEFAULT_HEARTBEAT_MS);
    this.timer.unref();
  }

  private tick(): void {
    if (this.running || this.stopped) return;
    const { store, objectStore, lapseMs } = this.options;
    this.running = recoverMoves(store, this.log, { replicaLapseMs: lapseMs, objectStore })
      .then(
        (report) => {
          this.failing = false;
          const done = [...report.adopted, ...report.undone, ...report.purged, ...report.purgeUndone];
          const models = [...new Set(done.map((what) => what.slice(0, what.lastIndexOf('/'))))];
          if (models.length > 0 && !this.stopped) this.options.onChange(models);
        },
        (e) => {
          if (!this.failing) this.log.warn(`Recovery: could not look for uploads or purges left by replicas that are gone (retrying): ${toStatusError(e).message}`);
          this.failing = true;
        },
      )
      .finally(() => (this.running = undefined));
  }

  /** Stops looking, after a recovery in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }
}
