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
import { DEFAULT_REPLICA_LAPSE_MS } from './replicas.js';
import { openRegistryStore, type RegistryStoreLocation } from './open_store.js';
import type { PendingMove, RegistryStore, StoreTx } from './store.js';

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
    if (move.detail.activate === false && !(await tx.getPin(move.model)) && active !== null && active !== move.version) {
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

export interface RecoveryOptions {
  /** A replica silent for longer than this (default 15 s) is gone: its moves are finished or undone. Shared stores only. */
  replicaLapseMs?: number;
}

/**
 * Finishes or undoes every pending move, then deletes staging folders in
 * `modelsDir` and every model's base path. On a shared store (PostgreSQL)
 * other replicas may be mid-upload: their moves are left alone while their
 * heartbeat is live, and only staging folders older than an hour are removed.
 */
export async function recoverRegistry(store: RegistryStore, modelsDir: string, log: Logger = consoleLogger, options: RecoveryOptions = {}): Promise<RecoveryReport> {
  const report: RecoveryReport = { adopted: [], undone: [], purged: [], purgeUndone: [], removed: [] };
  const shared = store.kind !== 'sqlite';
  const live = shared
    ? new Set((await store.listReplicas({ withinMs: options.replicaLapseMs ?? DEFAULT_REPLICA_LAPSE_MS })).filter((r) => r.stoppedAt === null).map((r) => r.id))
    : new Set<string>();
  for (const move of await store.listPendingMoves()) {
    if (move.detail.replica !== undefined && live.has(move.detail.replica)) continue;
    const what = `${move.model}/${move.version}`;
    if (move.kind === 'upload') {
      if (await exists(move.target)) {
        await store.transaction((tx) => adoptUpload(tx, move));
        report.adopted.push(what);
        log.warn(`Recovery: the upload of version ${move.version} of model ${move.model} was interrupted after its folder moved into place; kept it.`);
      } else {
        await store.transaction((tx) => forgetUpload(tx, move));
        if (move.detail.createdBasePath) await fs.rmdir(path.dirname(move.target)).catch(() => {});
        report.undone.push(what);
        log.warn(`Recovery: the upload of version ${move.version} of model ${move.model} was interrupted before its folder moved into place; undone.`);
      }
    } else if (await exists(move.source)) {
      await store.transaction((tx) => tx.deletePendingMove(move.id));
      report.purgeUndone.push(what);
      log.warn(`Recovery: the purge of version ${move.version} of model ${move.model} was interrupted before its folder moved; the version stays retired with its files.`);
    } else {
      await store.transaction((tx) => finishPurge(tx, move));
      report.purged.push(what);
      log.warn(`Recovery: the purge of version ${move.version} of model ${move.model} was interrupted; finished it.`);
    }
  }
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
