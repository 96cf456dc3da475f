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
import { exists, removeTree } from './durable.js';
import { consoleLogger, type Logger } from './log.js';
import { Store, type PendingMove, type SynchronousMode } from './store.js';

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
export function forgetUpload(store: Store, move: PendingMove): void {
  store.transaction(() => {
    store.deleteVersion(move.model, move.version);
    const origin = move.detail.previousOrigin;
    if (origin === null || origin === undefined) {
      store.deleteModelIfUnused(move.model);
    } else {
      if (move.detail.previousBasePath !== undefined) store.upsertModel({ name: move.model, basePath: move.detail.previousBasePath, origin });
      store.setModelOrigin(move.model, origin);
    }
    store.deletePendingMove(move.id);
  });
}

/** Finishes a recorded upload whose folder is in place: the pin activate=false asked for, the `uploaded` event. */
function adoptUpload(store: Store, move: PendingMove): void {
  store.transaction(() => {
    if (store.getVersion(move.model, move.version)) {
      const model = store.getModel(move.model);
      const active = model?.activeVersion ?? null;
      if (move.detail.activate === false && !store.getPin(move.model) && active !== null && active !== move.version) {
        store.setPin(move.model, active, move.detail.actor);
        store.addEvent({
          model: move.model,
          version: active,
          kind: 'pinned',
          actor: move.detail.actor,
          detail: `pinned version ${active} to keep it serving: version ${move.version} was uploaded with activate=false`,
        });
      }
      store.addEvent({ model: move.model, version: move.version, kind: 'uploaded', actor: move.detail.actor, detail: move.detail.eventDetail });
    }
    store.deletePendingMove(move.id);
  });
}

/** Finishes a purge whose folder was moved away: the version is REMOVED. */
function finishPurge(store: Store, move: PendingMove): void {
  store.transaction(() => {
    const row = store.getVersion(move.model, move.version);
    if (row && row.state !== 'REMOVED') {
      store.updateVersion(move.model, move.version, { state: 'REMOVED' });
      store.addEvent({ model: move.model, version: move.version, kind: 'purged', actor: move.detail.actor, detail: move.detail.eventDetail });
    }
    store.deletePendingMove(move.id);
  });
}

/** Finishes or undoes every pending move, then deletes staging folders in `modelsDir` and every model's base path. */
export async function recoverRegistry(store: Store, modelsDir: string, log: Logger = consoleLogger): Promise<RecoveryReport> {
  const report: RecoveryReport = { adopted: [], undone: [], purged: [], purgeUndone: [], removed: [] };
  for (const move of store.listPendingMoves()) {
    const what = `${move.model}/${move.version}`;
    if (move.kind === 'upload') {
      if (await exists(move.target)) {
        adoptUpload(store, move);
        report.adopted.push(what);
        log.warn(`Recovery: the upload of version ${move.version} of model ${move.model} was interrupted after its folder moved into place; kept it.`);
      } else {
        forgetUpload(store, move);
        if (move.detail.createdBasePath) await fs.rmdir(path.dirname(move.target)).catch(() => {});
        report.undone.push(what);
        log.warn(`Recovery: the upload of version ${move.version} of model ${move.model} was interrupted before its folder moved into place; undone.`);
      }
    } else if (await exists(move.source)) {
      store.deletePendingMove(move.id);
      report.purgeUndone.push(what);
      log.warn(`Recovery: the purge of version ${move.version} of model ${move.model} was interrupted before its folder moved; the version stays retired with its files.`);
    } else {
      finishPurge(store, move);
      report.purged.push(what);
      log.warn(`Recovery: the purge of version ${move.version} of model ${move.model} was interrupted; finished it.`);
    }
  }
  const folders = new Set([path.resolve(modelsDir), ...store.listModels().map((m) => path.resolve(m.basePath))]);
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

/** Opens the registry file at `options.path` just long enough to recover it (see recoverRegistry). */
export async function recoverRegistryAt(
  options: { path: string; modelsDir: string; synchronous?: SynchronousMode },
  log: Logger = consoleLogger,
): Promise<RecoveryReport> {
  const store = Store.open(options.path, { synchronous: options.synchronous });
  try {
    return await recoverRegistry(store, options.modelsDir, log);
  } finally {
    store.close();
  }
}
