/**
 * The serving core (TF Serving's ServerCore): one object holding the model
 * configs, the Source (watcher), the Manager and the state monitor, and
 * resolving a request's model spec (name + version or label) to a handle.
 *
 *   const core = new ServingCore({ engine: tsEngine, fileSystemPollWaitSeconds: 1 });
 *   await core.start([modelConfig('half_plus_two', '/models/half_plus_two')]);
 *   const handle = core.getHandle({ name: 'half_plus_two' });
 *   try { handle.model.run(...) } finally { handle.release(); }
 *   await core.stop();
 */
import type { Engine } from '../runtime/engine.js';
import { invalidArgument } from '../runtime/errors.js';
import type { DefaultVersionChooser } from './default_version.js';
import { consoleLogger, type Logger } from './log.js';
import { validateModelConfigs, type ModelConfig } from './model_config.js';
import type { ServableHandle } from './servable_handle.js';
import { ServableStateMonitor } from './servable_state.js';
import { VersionManager, type WarmupFn } from './version_manager.js';
import { VersionWatcher, type ReadinessCheck } from './watcher.js';

/** Which servable a request asks for: a name, plus at most one of version and label. */
export interface ModelSpec {
  name: string;
  version?: number;
  label?: string;
}

export interface ServingCoreOptions {
  engine: Engine;
  /** Seconds between base-path polls (fractions allowed; 0 polls once). */
  fileSystemPollWaitSeconds: number;
  tags?: readonly string[];
  warmup?: WarmupFn;
  defaultVersion?: DefaultVersionChooser;
  checkReady?: ReadinessCheck;
  log?: Logger;
}

export class ServingCore {
  readonly monitor = new ServableStateMonitor();
  readonly manager: VersionManager;
  private readonly watcher: VersionWatcher;
  private configs = new Map<string, ModelConfig>();
  private readonly log: Logger;

  constructor(options: ServingCoreOptions) {
    this.log = options.log ?? consoleLogger;
    this.manager = new VersionManager({
      engine: options.engine,
      monitor: this.monitor,
      tags: options.tags,
      warmup: options.warmup,
      defaultVersion: options.defaultVersion,
      log: this.log,
    });
    this.watcher = new VersionWatcher({
      pollIntervalSeconds: options.fileSystemPollWaitSeconds,
      onAspiredVersions: (name, versions) => this.manager.setAspiredVersions(name, versions),
      checkReady: options.checkReady,
      log: this.log,
    });
  }

  /** Applies the first config, waits for the first load of every version found, then keeps polling. */
  async start(models: readonly ModelConfig[]): Promise<void> {
    this.applyConfig(models);
    await this.watcher.start();
    await this.manager.settled();
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
    if (spec.label !== undefined) {
      const version = this.configs.get(spec.name)?.versionLabels[spec.label];
      if (version === undefined) throw invalidArgument(`Unrecognized servable version label: ${spec.label}`);
      return this.manager.getHandle(spec.name, { kind: 'specific', version });
    }
    if (spec.version !== undefined) return this.manager.getHandle(spec.name, { kind: 'specific', version: spec.version });
    return this.manager.getHandle(spec.name, { kind: 'latest' });
  }

  /** Stops polling, then unloads every version once its in-flight requests finish. */
  async stop(): Promise<void> {
    await this.watcher.stop();
    await this.manager.stop();
  }

  private applyConfig(models: readonly ModelConfig[]): void {
    validateModelConfigs(models);
    this.configs = new Map(models.map((m) => [m.name, m]));
    this.watcher.setModels(models);
    this.log.info(`Serving ${models.length} model(s): ${models.map((m) => `${m.name} (${m.basePath})`).join(', ') || 'none'}`);
  }
}
