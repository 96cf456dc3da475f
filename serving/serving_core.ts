/**
 * The serving core (TF Serving's ServerCore): one object holding the model
 * configs, the Source (watcher), the Manager and the state monitor, and
 * resolving a request's model spec (name + version or label) to a handle.
 *
 *   const core = new ServingCore({ engine: createServingEngine(), fileSystemPollWaitSeconds: 1 });
 *   await core.start([modelConfig('half_plus_two', '/models/half_plus_two')]);
 *   const handle = core.getHandle({ name: 'half_plus_two' });
 *   try { await handle.model.run(...) } finally { handle.release(); }
 *   await core.stop();
 */
import type { ServingEngine } from '../runtime/engine.js';
import { failedPrecondition, invalidArgument } from '../runtime/errors.js';
import type { DefaultVersionChooser } from './default_version.js';
import { consoleLogger, type Logger } from './log.js';
import { validateModelConfigs, type ModelConfig } from './model_config.js';
import type { ServableHandle } from './servable_handle.js';
import { ServableStateMonitor } from './servable_state.js';
import { VersionManager, type AspiredVersion, type WarmupFn } from './version_manager.js';
import { VersionWatcher, type ReadinessCheck } from './watcher.js';
import type { ObjectStore } from './object_store/object_store.js';

/** Which servable a request asks for: a name, plus at most one of version and label. */
export interface ModelSpec {
  name: string;
  version?: number;
  label?: string;
  /** Set by the inference entry points: a spec naming neither version nor label may be routed by a rollout (its key keeps a client on one side). */
  routing?: { key?: string };
}

/**
 * What the registry (registry/registry.ts) plugs into the core. Without a
 * router the core behaves as TF Serving: the version policy alone decides what
 * is loaded, the highest available version answers, labels come from the
 * config. With one, the watcher reports every complete version to the router,
 * and the router decides what the manager loads, which version is the
 * default, what labels point at, and loads versions on demand.
 */
export interface ServingRouter {
  /** The models to serve given the configured ones (the registry adds uploaded models). */
  configure(models: readonly ModelConfig[]): ModelConfig[];
  /** Every complete version folder of `name` now on disk (called on every poll). */
  versionsFound(name: string, versions: readonly AspiredVersion[]): void;
  chooseDefault: DefaultVersionChooser;
  resolveLabel(name: string, label: string): number | undefined;
  /** Called for every handle handed out to a request (least-recently-used bookkeeping). */
  used(name: string, version: number): void;
  /**
   * Loads a version that is not loaded now, for one request: resolves once it
   * is available with a function the caller calls when the request has run
   * (the version stays loaded until then); throws why it cannot be
   * (FAILED_PRECONDITION), or UNAVAILABLE when the router's wait bounds trip.
   */
  loadOnDemand(name: string, version: number, signal?: AbortSignal): Promise<() => void>;
  /** Called when the last request holding a loaded version released it. */
  idle(name: string, version: number): void;
  /** Optional (rollouts): the handle for an inference request naming neither version nor label, or undefined for the default version. */
  routeDefault?(spec: ModelSpec): ServableHandle | undefined;
}

export interface ServingCoreOptions {
  engine: ServingEngine;
  /** Seconds between base-path polls (fractions allowed; 0 polls once). */
  fileSystemPollWaitSeconds: number;
  tags?: readonly string[];
  warmup?: WarmupFn;
  defaultVersion?: DefaultVersionChooser;
  checkReady?: ReadinessCheck;
  /** Retries of a failed load, and the wait between them (see VersionManagerOptions). */
  maxLoadRetries?: number;
  loadRetryIntervalMs?: number;
  /**
   * TF Serving's --allow_version_labels_for_unavailable_models (default
   * false): without a router, a config's label must name an AVAILABLE version
   * once the config's loads are done; with it, a new label (or one kept on
   * its version) may name any version.
   */
  allowVersionLabelsForUnavailableModels?: boolean;
  /** Serves s3:// base paths (serving/object_store/); its wrapEngine must wrap `engine`. */
  objectStore?: ObjectStore;
  log?: Logger;
}

export class ServingCore {
  readonly monitor = new ServableStateMonitor();
  readonly manager: VersionManager;
  private readonly watcher: VersionWatcher;
  private configs = new Map<string, ModelConfig>();
  /** The model list as last given to start/reloadConfig (before the router adds its own). */
  private configured: readonly ModelConfig[] = [];
  private router: ServingRouter | undefined;
  private readonly log: Logger;
  /** Without a router: each model's label → version, replaced only by a config whose labels pass the check. */
  private labels = new Map<string, Readonly<Record<string, number>>>();
  private readonly allowLabelsForUnavailable: boolean;
  /** The object store s3:// base paths are served from, if any. */
  readonly objectStore: ObjectStore | undefined;

  constructor(options: ServingCoreOptions) {
    this.objectStore = options.objectStore;
    this.log = options.log ?? consoleLogger;
    this.allowLabelsForUnavailable = options.allowVersionLabelsForUnavailableModels ?? false;
    this.manager = new VersionManager({
      engine: options.engine,
      monitor: this.monitor,
      tags: options.tags,
      warmup: options.warmup,
      defaultVersion: options.defaultVersion,
      maxLoadRetries: options.maxLoadRetries,
      loadRetryIntervalMs: options.loadRetryIntervalMs,
      log: this.log,
    });
    this.watcher = new VersionWatcher({
      pollIntervalSeconds: options.fileSystemPollWaitSeconds,
      onAspiredVersions: (name, versions) =>
        this.router ? this.router.versionsFound(name, versions) : this.manager.setAspiredVersions(name, versions),
      checkReady: options.checkReady,
      objectStore: options.objectStore,
      log: this.log,
    });
  }

  /** Hands version decisions to `router` (call before start). */
  attachRouter(router: ServingRouter): void {
    this.router = router;
    this.manager.setDefaultVersionChooser((name, available) => router.chooseDefault(name, available));
    this.manager.setIdleListener((name, version) => router.idle(name, version));
  }

  /** Applies the first config, waits for the first load of every version found, then keeps polling. */
  async start(models: readonly ModelConfig[]): Promise<void> {
    this.applyConfig(models);
    await this.watcher.start();
    await this.manager.settled();
    this.updateLabels();
  }

  /**
   * Replaces the model list (config file reload): new models are added,
   * removed ones unloaded, policies and labels updated. Resolves once the
   * resulting loads and unloads are done.
   */
  async reloadConfig(models: readonly ModelConfig[]): Promise<void> {
    this.applyConfig(models);
    await this.watcher.pollOnce();
    await this.manager.settled();
    this.updateLabels();
  }

  /**
   * TF Serving's UpdateModelVersionLabelMap (server_core.cc), without a
   * router (the registry's labels may name any registered version, loaded on
   * demand): takes the configured labels once each passes the availability
   * rule; else throws FAILED_PRECONDITION and the previous labels stay.
   */
  private updateLabels(): void {
    if (this.router) return;
    const next = new Map<string, Readonly<Record<string, number>>>();
    for (const m of this.configs.values()) {
      for (const [label, version] of Object.entries(m.versionLabels)) {
        const existing = this.labels.get(m.name)?.[label];
        const allowed = this.allowLabelsForUnavailable && (existing === undefined || existing === version);
        if (!allowed && this.monitor.getState(m.name, version)?.state !== 'AVAILABLE') {
          throw failedPrecondition(`Request to assign label to version ${version} of model ${m.name}, which is not currently available for inference`);
        }
      }
      next.set(m.name, { ...m.versionLabels });
    }
    this.labels = next;
  }

  /** Re-applies the current model list (the router added or changed a model), then polls. */
  async refreshModels(): Promise<void> {
    this.applyConfig(this.configured);
    await this.watcher.pollOnce();
  }

  /** Polls the base paths now (tests, and the registry after an upload). */
  async pollNow(): Promise<void> {
    await this.watcher.pollOnce();
  }

  modelConfigs(): ModelConfig[] {
    return [...this.configs.values()];
  }

  hasModel(name: string): boolean {
    return this.configs.has(name);
  }

  /** A handle for the version `spec` names; throws TF Serving's errors otherwise. The caller releases it. */
  getHandle(spec: ModelSpec): ServableHandle {
    let handle: ServableHandle;
    if (spec.label !== undefined) {
      const version = this.labelVersion(spec.name, spec.label);
      if (version === undefined) throw invalidArgument(`Unrecognized servable version label: ${spec.label}`);
      handle = this.manager.getHandle(spec.name, { kind: 'specific', version });
    } else if (spec.version !== undefined) {
      handle = this.manager.getHandle(spec.name, { kind: 'specific', version: spec.version });
    } else {
      handle = (spec.routing && this.router?.routeDefault?.(spec)) || this.manager.getHandle(spec.name, { kind: 'latest' });
    }
    this.router?.used(spec.name, handle.version);
    return handle;
  }

  /**
   * For a spec naming a version (or label) that is valid but not loaded now:
   * loads it (with a router; see ServingRouter.loadOnDemand). Resolves, once
   * `getHandle(spec)` may succeed, with the function to call when the
   * request has run; undefined when there is nothing to load. Throws as
   * ServingRouter.loadOnDemand does.
   */
  async loadOnDemand(spec: ModelSpec, signal?: AbortSignal): Promise<(() => void) | undefined> {
    if (!this.router) return undefined;
    const version = spec.label !== undefined ? this.labelVersion(spec.name, spec.label) : spec.version;
    if (version === undefined) return undefined;
    return this.router.loadOnDemand(spec.name, version, signal);
  }

  private labelVersion(name: string, label: string): number | undefined {
    return this.router ? this.router.resolveLabel(name, label) : this.labels.get(name)?.[label];
  }

  /** Stops polling, then unloads every version once its in-flight requests finish. */
  async stop(): Promise<void> {
    await this.watcher.stop();
    await this.manager.stop();
  }

  private applyConfig(configured: readonly ModelConfig[]): void {
    validateModelConfigs(configured);
    const models = this.router ? this.router.configure(configured) : configured;
    const changed = !sameModels(models, [...this.configs.values()]);
    this.configured = configured;
    this.configs = new Map(models.map((m) => [m.name, m]));
    // With a router, the watcher reports every complete version and the router chooses.
    this.watcher.setModels(this.router ? models.map((m) => ({ ...m, versionPolicy: { kind: 'all' } })) : models);
    if (changed) {
      this.log.info(`Serving ${models.length} model(s): ${models.map((m) => `${m.name} (${m.basePath})`).join(', ') || 'none'}`);
    }
  }
}

function sameModels(a: readonly ModelConfig[], b: readonly ModelConfig[]): boolean {
  return a.length === b.length && a.every((m, i) => m.name === b[i].name && m.basePath === b[i].basePath);
}
