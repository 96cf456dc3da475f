/**
 * The Manager (TF Serving's AspiredVersionsManager): the Source tells it which
 * versions of each model should be served; it loads, warms up, swaps and
 * unloads them one action at a time per model, following the
 * availability-preserving policy, and hands out ref-counted handles.
 *
 *  - A version is loaded and warmed up before it takes traffic.
 *  - A version whose load (or warm-up) fails is tried again up to
 *    `maxLoadRetries` times, `loadRetryIntervalMs` apart, while it stays
 *    aspired (TF Serving's --max_num_load_retries, --load_retry_interval_micros);
 *    then it ends in END with its error and is not retried until the Source
 *    reports different files for it; the versions already serving are left alone.
 *  - A version that is no longer aspired stops taking new requests at once,
 *    and is disposed after the requests already holding it finish.
 *  - A serving version whose files change (new fingerprint) is loaded again
 *    from them; the new copy replaces the old one only once it has loaded and
 *    warmed up (requests in flight finish on the old one). If that load
 *    fails, the old copy keeps serving and the failure is logged.
 *
 * Every transition is published on the ServableStateMonitor.
 */
import type { Servable, ServingEngine } from '../runtime/engine.js';
import { notFound, toStatusError, type StatusError } from '../runtime/errors.js';
import { nextAction, type VersionPhase } from './availability_policy.js';
import { highestAvailableVersion, type DefaultVersionChooser } from './default_version.js';
import { consoleLogger, type Logger } from './log.js';
import { LoadedVersion, type ServableHandle } from './servable_handle.js';
import { ServableStateMonitor } from './servable_state.js';

/** One version the Source wants served. */
export interface AspiredVersion {
  version: number;
  /** The version folder. */
  dir: string;
  /** Changes whenever the folder's files change (see serving/version_dir.ts). */
  fingerprint: string;
}

export type VersionRequest = { kind: 'latest' } | { kind: 'specific'; version: number };

export interface WarmupContext {
  name: string;
  version: number;
  dir: string;
}

/** Replays warm-up requests against a freshly loaded model; throwing fails the load. */
export type WarmupFn = (model: Servable, context: WarmupContext) => Promise<void>;

/** Told each time the last request holding a loaded version releases it. */
export type IdleListener = (name: string, version: number) => void;

export interface VersionManagerOptions {
  engine: ServingEngine;
  monitor?: ServableStateMonitor;
  /** MetaGraph tags to load (default ["serve"]). */
  tags?: readonly string[];
  warmup?: WarmupFn;
  defaultVersion?: DefaultVersionChooser;
  /** Retries of a failed load (default 0). */
  maxLoadRetries?: number;
  /** Wait between load retries in ms (default 60000; <= 0: none). */
  loadRetryIntervalMs?: number;
  log?: Logger;
}

interface VersionEntry {
  version: number;
  dir: string;
  fingerprint: string;
  aspired: boolean;
  phase: VersionPhase;
  loaded?: LoadedVersion;
  /** Files that changed while the version was loading or serving: load them and swap them in. */
  reload?: AspiredVersion;
  /** Fingerprint of changed files that failed to load (not retried until they change again). */
  failedReload?: string;
}

interface ManagedModel {
  entries: Map<number, VersionEntry>;
  /** Versions taking traffic, and their numbers (ascending) for the default-version choice. */
  serving: Map<number, LoadedVersion>;
  available: number[];
  /** The running action loop, if any. */
  busy?: Promise<void>;
  /** Set when the aspired set changed while the loop was running. */
  dirty: boolean;
}

export function describeRequest(name: string, request: VersionRequest): string {
  return request.kind === 'latest' ? `Latest(${name})` : `Specific(${name}, ${request.version})`;
}

export class VersionManager {
  readonly monitor: ServableStateMonitor;
  private readonly models = new Map<string, ManagedModel>();
  private readonly unloads = new Set<Promise<void>>();
  private readonly engine: ServingEngine;
  private readonly tags: readonly string[];
  private readonly warmup: WarmupFn | undefined;
  private readonly log: Logger;
  private chooseDefault: DefaultVersionChooser;
  private idleListener: IdleListener | undefined;
  private stopped = false;
  private readonly maxLoadRetries: number;
  private readonly loadRetryIntervalMs: number;
  /** Ends the waits between load retries (on stop). */
  private readonly retryWaits = new AbortController();

  constructor(options: VersionManagerOptions) {
    this.engine = options.engine;
    this.monitor = options.monitor ?? new ServableStateMonitor();
    this.tags = options.tags ?? ['serve'];
    this.warmup = options.warmup;
    this.chooseDefault = options.defaultVersion ?? highestAvailableVersion;
    this.log = options.log ?? consoleLogger;
    this.maxLoadRetries = Math.max(0, options.maxLoadRetries ?? 0);
    this.loadRetryIntervalMs = options.loadRetryIntervalMs ?? 60_000;
  }

  /** Replaces the rule that picks the version for requests naming none. */
  setDefaultVersionChooser(choose: DefaultVersionChooser): void {
    this.chooseDefault = choose;
  }

  /** Sets who is told when a loaded version has no request in flight any more. */
  setIdleListener(listener: IdleListener | undefined): void {
    this.idleListener = listener;
  }

  /** Requests holding a handle on `version` of `name` now (0 when it is not serving). */
  inFlight(name: string, version: number): number {
    return this.models.get(name)?.serving.get(version)?.inFlight ?? 0;
  }

  /**
   * The Source's call: `versions` is the complete set that should be served
   * for `name` now (empty: unload everything of that model).
   */
  setAspiredVersions(name: string, versions: readonly AspiredVersion[]): void {
    if (this.stopped) return;
    let model = this.models.get(name);
    if (!model) {
      if (versions.length === 0) return;
      model = { entries: new Map(), serving: new Map(), available: [], dirty: false };
      this.models.set(name, model);
    }
    const wanted = new Map(versions.map((v) => [v.version, v]));
    for (const [version, entry] of model.entries) {
      if (wanted.has(version)) continue;
      entry.aspired = false;
      if (entry.phase === 'new') {
        model.entries.delete(version);
        this.monitor.publish(name, version, 'END');
      } else if (entry.phase === 'error') {
        model.entries.delete(version);
      }
    }
    for (const v of versions) {
      const entry = model.entries.get(v.version);
      if (!entry) {
        model.entries.set(v.version, { ...v, aspired: true, phase: 'new' });
        this.monitor.publish(name, v.version, 'START');
        continue;
      }
      entry.aspired = true;
      if (entry.phase === 'error' && entry.fingerprint !== v.fingerprint) {
        this.log.info(`Files of version ${v.version} of model ${name} changed since its failed load; retrying.`);
        Object.assign(entry, v, { phase: 'new', reload: undefined, failedReload: undefined });
        this.monitor.publish(name, v.version, 'START');
      } else if (entry.phase === 'new') {
        Object.assign(entry, v);
      } else if (entry.phase === 'loading' || entry.phase === 'ready') {
        const changed = v.fingerprint !== entry.fingerprint && v.fingerprint !== entry.failedReload;
        entry.reload = changed ? { ...v } : undefined;
      }
    }
    this.schedule(name, model);
  }

  /**
   * A handle on the version that should answer `request`; the caller must
   * release it. Throws NOT_FOUND with TF Serving's text when none is serving.
   */
  getHandle(name: string, request: VersionRequest): ServableHandle {
    const model = this.models.get(name);
    if (model) {
      const version = request.kind === 'latest' ? this.chooseDefault(name, model.available) : request.version;
      const loaded = version === undefined ? undefined : model.serving.get(version);
      if (loaded) return loaded.acquire();
    }
    throw notFound(`Servable not found for request: ${describeRequest(name, request)}`);
  }

  /** Versions of `name` taking traffic now, ascending. */
  availableVersions(name: string): readonly number[] {
    return this.models.get(name)?.available ?? [];
  }

  /** Resolves when no model has a load or unload pending. */
  async settled(): Promise<void> {
    for (;;) {
      const pending = [...this.models.values()].map((m) => m.busy).filter((p) => p !== undefined);
      pending.push(...this.unloads);
      if (pending.length === 0) return;
      await Promise.all(pending);
    }
  }

  /** Stops taking changes, finishes pending work, then unloads every version after its requests finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.retryWaits.abort();
    await this.settled();
    for (const [name, model] of this.models) {
      for (const entry of model.entries.values()) if (entry.phase === 'ready') this.beginUnload(name, model, entry);
    }
    await this.settled();
  }

  private schedule(name: string, model: ManagedModel): void {
    if (model.busy) {
      model.dirty = true;
      return;
    }
    model.busy = this.runActions(name, model)
      .catch((e) => this.log.error(`Managing versions of model ${name} failed: ${toStatusError(e).message}`))
      .finally(() => {
        model.busy = undefined;
        if (model.entries.size === 0 && model.serving.size === 0) this.models.delete(name);
      });
  }

  private async runActions(name: string, model: ManagedModel): Promise<void> {
    do {
      model.dirty = false;
      for (;;) {
        const next = nextAction([...model.entries.values()]);
        if (!next) break;
        const entry = model.entries.get(next.version)!;
        if (next.action === 'load') await this.load(name, model, entry);
        else this.beginUnload(name, model, entry);
      }
      for (const entry of [...model.entries.values()]) {
        if (entry.reload && entry.reload.fingerprint === entry.fingerprint) entry.reload = undefined;
        if (entry.reload && entry.phase === 'ready' && entry.aspired && !this.stopped) await this.reload(name, model, entry);
      }
    } while (model.dirty);
  }

  private async load(name: string, model: ManagedModel, entry: VersionEntry): Promise<void> {
    entry.phase = 'loading';
    this.monitor.publish(name, entry.version, 'LOADING');
    this.log.info(`Loading version ${entry.version} of model ${name} from ${entry.dir}`);
    let loaded: Servable | undefined;
    for (let attempt = 0; ; attempt++) {
      try {
        loaded = await this.engine.load(entry.dir, { tags: this.tags, name });
        if (this.warmup) await this.warmup(loaded, { name, version: entry.version, dir: entry.dir });
        break;
      } catch (e) {
        await loaded?.dispose().catch(() => {});
        loaded = undefined;
        const status = toStatusError(e);
        if (attempt < this.maxLoadRetries && entry.aspired && !this.stopped) {
          this.log.warn(
            `Loading version ${entry.version} of model ${name} failed (attempt ${attempt + 1} of ${this.maxLoadRetries + 1}): ${status.code}: ${status.message}; retrying in ${Math.max(0, this.loadRetryIntervalMs)} ms`,
          );
          await this.retryWait();
          if (entry.aspired && !this.stopped) continue;
        }
        this.failLoad(name, model, entry, status);
        return;
      }
    }
    this.serve(name, model, entry, loaded);
  }

  /** Resolves after loadRetryIntervalMs, or at once on stop. */
  private retryWait(): Promise<void> {
    if (this.loadRetryIntervalMs <= 0 || this.retryWaits.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.retryWaits.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, this.loadRetryIntervalMs);
      this.retryWaits.signal.addEventListener('abort', done);
    });
  }

  private failLoad(name: string, model: ManagedModel, entry: VersionEntry, status: StatusError): void {
    entry.phase = 'error';
    this.log.error(`Loading version ${entry.version} of model ${name} failed: ${status.code}: ${status.message}`);
    this.monitor.publish(name, entry.version, 'END', { code: status.code, message: status.message });
    if (!entry.aspired) model.entries.delete(entry.version);
  }

  private serve(name: string, model: ManagedModel, entry: VersionEntry, loaded: Servable): void {
    entry.loaded = this.wrap(name, entry.version, loaded);
    entry.phase = 'ready';
    model.serving.set(entry.version, entry.loaded);
    model.available = [...model.serving.keys()].sort((a, b) => a - b);
    this.monitor.publish(name, entry.version, 'AVAILABLE');
    this.log.info(`Version ${entry.version} of model ${name} is available`);
  }

  private wrap(name: string, version: number, servable: Servable): LoadedVersion {
    return new LoadedVersion(name, version, servable, () => this.idleListener?.(name, version));
  }

  /** Loads a serving version's changed files and swaps them in; on failure the old copy keeps serving. */
  private async reload(name: string, model: ManagedModel, entry: VersionEntry): Promise<void> {
    const files = entry.reload!;
    entry.reload = undefined;
    this.log.info(`Files of version ${entry.version} of model ${name} changed; loading them again from ${files.dir}`);
    let servable: Servable | undefined;
    try {
      servable = await this.engine.load(files.dir, { tags: this.tags, name });
      if (this.warmup) await this.warmup(servable, { name, version: entry.version, dir: files.dir });
    } catch (e) {
      await servable?.dispose().catch(() => {});
      const status = toStatusError(e);
      entry.failedReload = files.fingerprint;
      this.log.error(`Loading the changed files of version ${entry.version} of model ${name} failed (the loaded copy keeps serving): ${status.code}: ${status.message}`);
      return;
    }
    if (entry.phase !== 'ready' || !entry.aspired || model.entries.get(entry.version) !== entry) {
      await servable.dispose().catch(() => {});
      return;
    }
    const old = entry.loaded!;
    entry.loaded = this.wrap(name, entry.version, servable);
    entry.dir = files.dir;
    entry.fingerprint = files.fingerprint;
    entry.failedReload = undefined;
    model.serving.set(entry.version, entry.loaded);
    const done = old.retire().then(async () => {
      await old.model.dispose().catch((e: Error) => this.log.warn(`Unloading the old copy of version ${entry.version} of model ${name}: ${e.message}`));
      this.unloads.delete(done);
    });
    this.unloads.add(done);
    this.monitor.publish(name, entry.version, 'AVAILABLE');
    this.log.info(`Version ${entry.version} of model ${name} is available, loaded again from its changed files`);
  }

  /** Takes the version out of traffic now; disposes it once its in-flight requests finish. */
  private beginUnload(name: string, model: ManagedModel, entry: VersionEntry): void {
    const loaded = entry.loaded!;
    entry.phase = 'unloading';
    model.serving.delete(entry.version);
    model.available = [...model.serving.keys()].sort((a, b) => a - b);
    this.monitor.publish(name, entry.version, 'UNLOADING');
    const done = loaded.retire().then(async () => {
      await loaded.model.dispose().catch((e: Error) => this.log.warn(`Unloading version ${entry.version} of model ${name}: ${e.message}`));
      if (model.entries.get(entry.version) === entry) model.entries.delete(entry.version);
      this.unloads.delete(done);
      this.monitor.publish(name, entry.version, 'END');
      this.log.info(`Unloaded version ${entry.version} of model ${name}`);
    });
    this.unloads.add(done);
  }
}
