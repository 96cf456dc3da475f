/**
 * The Source (TF Serving's FileSystemStoragePathSource): polls each model's
 * base path and tells the manager which versions should be served.
 *
 *  - A version folder is offered only once it is complete and unchanged
 *    across two polls: `saved_model.pb` parses and every file the checkpoint
 *    index names is present and long enough (serving/version_readiness.ts),
 *    and its fingerprint (names, sizes, mtimes) is the same as on the poll
 *    before. On a model's first poll (server start, model added) complete is
 *    enough, so startup does not wait a poll interval. A partial folder
 *    (saved_model.pb parses, variables or assets missing or short) is never
 *    offered, however long it stays so (a warning is logged after
 *    STALE_POLLS unchanged polls), so a copy in progress is never loaded
 *    half-way. A folder with no usable saved_model.pb (a legacy export, a
 *    corrupt file) that stays unchanged for STALE_POLLS polls is offered, so
 *    its load fails and the error shows in the model's status; no load of
 *    it can succeed, so it never serves.
 *  - A folder offered before whose files then change keeps being offered with
 *    the files last seen complete and stable until its new files are complete
 *    and stable too; then it is offered with the new fingerprint, and the
 *    manager loads it again.
 *  - The version policy picks among the offered folders, so while version 3
 *    is still being copied, version 2 stays aspired.
 *  - A base path that does not exist (yet) is not an error: nothing is
 *    emitted for it, and the model is served as soon as a version appears.
 *  - Readiness is re-checked only when a folder's fingerprint changes.
 *
 * Poll interval 0 polls once; a negative interval never polls on its own.
 */
import type { ModelConfig } from './model_config.js';
import { consoleLogger, type Logger } from './log.js';
import { fingerprintDir, listVersionDirs } from './version_dir.js';
import type { AspiredVersion } from './version_manager.js';
import { aspiredVersions } from './version_policy.js';
import { checkVersionReady, type NotReady } from './version_readiness.js';
import type { ObjectStore } from './object_store/object_store.js';
import { isObjectStoreUrl } from './object_store/s3_url.js';

/** Returns undefined when the folder is complete, else why it is not (serving/version_readiness.ts). */
export type ReadinessCheck = (dir: string) => Promise<NotReady | undefined>;

export type AspiredVersionsCallback = (model: string, versions: AspiredVersion[]) => void;

export interface WatcherOptions {
  onAspiredVersions: AspiredVersionsCallback;
  /** Seconds between polls (fractions allowed). */
  pollIntervalSeconds: number;
  checkReady?: ReadinessCheck;
  /** Lists s3:// base paths (serving/object_store/); without it such a base path is an error. */
  objectStore?: ObjectStore;
  log?: Logger;
}

/** Polls an incomplete folder stays unchanged before it is offered (no saved_model.pb) or a warning says it is not loaded (partial). */
export const STALE_POLLS = 3;

interface Readiness {
  fingerprint: string;
  /** Undefined when complete. */
  notReady: NotReady | undefined;
  /** Consecutive polls that saw the same fingerprint. */
  unchangedPolls: number;
  /** The fingerprint last offered to the manager (files complete and stable), if ever. */
  offered: string | undefined;
}

export class VersionWatcher {
  private models: ModelConfig[] = [];
  /** Per model, per version folder: the last readiness check and the fingerprint it saw. */
  private readonly readiness = new Map<string, Map<string, Readiness>>();
  /** Per model, the last thing logged about its base path (to log changes once). */
  private readonly pathNotes = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private stopped = false;
  private readonly checkReady: ReadinessCheck;
  private readonly log: Logger;

  constructor(private readonly options: WatcherOptions) {
    this.checkReady = options.checkReady ?? checkVersionReady;
    this.log = options.log ?? consoleLogger;
  }

  /** Replaces the watched models; a model left out gets an empty aspired set (unload). */
  setModels(models: readonly ModelConfig[]): void {
    const kept = new Set(models.map((m) => m.name));
    for (const old of this.models) {
      if (!kept.has(old.name)) {
        this.pathNotes.delete(old.name);
        this.readiness.delete(old.name);
        this.options.onAspiredVersions(old.name, []);
      }
    }
    this.models = [...models];
  }

  /** Polls now (waiting for a poll already running first). */
  async pollOnce(): Promise<void> {
    while (this.polling) await this.polling;
    this.polling = this.poll().finally(() => {
      this.polling = undefined;
    });
    await this.polling;
  }

  /** Starts periodic polling after an immediate first poll. */
  async start(): Promise<void> {
    await this.pollOnce();
    const interval = this.options.pollIntervalSeconds;
    if (interval > 0) this.scheduleNext(interval * 1000);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    while (this.polling) await this.polling;
  }

  private scheduleNext(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.pollOnce()
        .catch((e) => this.log.error(`Polling model base paths failed: ${(e as Error).message}`))
        .finally(() => this.scheduleNext(ms));
    }, ms);
  }

  private async poll(): Promise<void> {
    for (const model of this.models) {
      if (this.stopped) return;
      try {
        const versions = await this.pollModel(model);
        if (versions && !this.stopped && this.models.includes(model)) this.options.onAspiredVersions(model.name, versions);
      } catch (e) {
        this.note(model, `Could not read base path ${model.basePath} of model ${model.name}: ${(e as Error).message}`);
      }
    }
  }

  /** The versions to serve, or undefined to leave the aspired set as it is (base path missing). */
  private async pollModel(model: ModelConfig): Promise<AspiredVersion[] | undefined> {
    if (isObjectStoreUrl(model.basePath)) return this.pollObjectStore(model);
    const dirs = await listVersionDirs(model.basePath);
    if (!dirs) {
      this.note(model, `Base path ${model.basePath} of model ${model.name} does not exist yet; waiting for it.`);
      return undefined;
    }
    // Every folder is checked on every poll (cheap: a stat per file; the full check only when its files change), so each keeps its history.
    const policy = model.versionPolicy;
    const candidates = policy.kind === 'specific' ? dirs.filter((d) => policy.versions.includes(d.version)) : dirs;
    const known = this.readiness.get(model.name);
    const checked = new Map<string, Readiness>();
    const ready: AspiredVersion[] = [];
    for (const { version, dir } of candidates) {
      const fingerprint = await fingerprintDir(dir).catch(() => undefined);
      if (fingerprint === undefined) continue;
      const previous = known?.get(dir);
      let result: Readiness;
      if (previous && previous.fingerprint === fingerprint) {
        result = { ...previous, unchangedPolls: previous.unchangedPolls + 1 };
      } else {
        result = { fingerprint, notReady: await this.checkReady(dir), unchangedPolls: 0, offered: previous?.offered };
        if (result.notReady !== undefined) {
          this.log.info(`Version ${version} of model ${model.name} is not complete yet (${result.notReady.reason}); will check again on the next poll.`);
        }
      }
      checked.set(dir, result);
      const notReady = result.notReady;
      if (notReady === undefined && (result.unchangedPolls >= 1 || known === undefined)) result.offered = fingerprint;
      if (notReady !== undefined && result.unchangedPolls >= STALE_POLLS && !notReady.partial) result.offered = fingerprint;
      if (notReady !== undefined && result.unchangedPolls === STALE_POLLS) {
        this.log.warn(
          notReady.partial
            ? `Version ${version} of model ${model.name} stayed incomplete and unchanged for ${STALE_POLLS} polls (${notReady.reason}); it is loaded once its files are complete.`
            : `Version ${version} of model ${model.name} stayed unreadable and unchanged for ${STALE_POLLS} polls; loading it so its error is reported.`,
        );
      }
      if (result.offered !== undefined) ready.push({ version, dir, fingerprint: result.offered });
    }
    this.readiness.set(model.name, checked);
    if (dirs.length === 0) {
      this.note(model, `No versions of model ${model.name} found under base path ${model.basePath} yet (version folders are named by a number, e.g. ${model.basePath}/1).`);
    } else {
      this.note(model, '');
    }
    const chosen = new Set(aspiredVersions(model.versionPolicy, ready.map((r) => r.version)));
    return ready.filter((r) => chosen.has(r.version));
  }

  /** An s3:// base path: the object store's Source decides which versions are complete (serving/object_store/source.ts). */
  private async pollObjectStore(model: ModelConfig): Promise<AspiredVersion[] | undefined> {
    if (!this.options.objectStore) throw new Error('s3:// base paths need the object store (serving/object_store/), which this server was started without.');
    const policy = model.versionPolicy;
    const ready = await this.options.objectStore.poll(model, (v) => policy.kind !== 'specific' || policy.versions.includes(v));
    if (!ready) {
      this.note(model, `Base path ${model.basePath} of model ${model.name} holds no objects yet; waiting for a version.`);
      return undefined;
    }
    this.note(model, ready.length === 0 ? `No complete versions of model ${model.name} under ${model.basePath} yet (version folders are named by a number, e.g. ${model.basePath}/1).` : '');
    const chosen = new Set(aspiredVersions(policy, ready.map((r) => r.version)));
    return ready.filter((r) => chosen.has(r.version));
  }

  /** Logs a note about a model's base path when it differs from the last one. */
  private note(model: ModelConfig, message: string): void {
    if (this.pathNotes.get(model.name) === message) return;
    this.pathNotes.set(model.name, message);
    if (message) this.log.warn(message);
  }
}
