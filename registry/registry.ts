/**
 * The registry: the one module through which the watcher, the management
 * API, the CLI (over that API) and the console change what is served, so
 * they never disagree. It plugs into the serving core as its router
 * (ServingRouter) and keeps its truth in the store (registry/store.ts:
 * SQLite, or PostgreSQL shared by replicas).
 *
 *  - Reads on the request path (default version, labels, pins, retired
 *    versions) are answered from memory: a copy of the store's rows loaded
 *    by `Registry.open` and kept current by the registry's own writes and,
 *    on a shared store, by `refresh` (other replicas' commits, heard through
 *    the store's change feed or found by polling `changesSince`).
 *  - Writes go to the store in the order they are made, one transaction at
 *    a time (a mutation and its history event together); the API mutations
 *    wait for their commit, the manager's and watcher's reports do not.
 *
 *  - The watcher reports every complete version folder; the registry records
 *    new ones (`discovered`), and every load, failure and unload the manager
 *    goes through (`loading`, `available`, `failed`, `unloaded`).
 *  - Default version: the pinned one if any, else the newest available one
 *    that is not retired. The version that answers is recorded as `active`,
 *    and the one before it as `previous` (what a rollback goes back to).
 *  - What stays loaded is registry/load_set.ts: with no explicit version
 *    policy, every valid version is addressable at /versions/N: at most
 *    `maxLoadedVersions` are kept loaded (the active and previous ones
 *    always, then the most recently used, then the newest), the others are
 *    loaded on demand and evicted least recently used first.
 *  - On-demand loading (a request names a valid version that is not loaded):
 *     - the request reserves the version and waits for it; a version with a
 *       reservation or a request in flight (a handle not yet released) is
 *       never evicted, so a version loaded on demand stays at least until
 *       the requests that asked for it have run;
 *     - versions wait for a slot first come, first served; a slot frees when
 *       an on-demand version has no request in flight and none waiting (the
 *       manager tells us through the idle listener), and at least one slot
 *       is always open to on-demand versions;
 *     - the wait is bounded: at most `onDemandMaxWaitingRequests` requests
 *       per model wait at a time, each at most `onDemandMaxWaitMs`; past
 *       either bound the request fails with UNAVAILABLE (503) naming the
 *       model, the version and the limit. So with more versions in demand
 *       than slots, requests are served in turns or refused, never stalled.
 *  - pin / unpin / rollback / label / retire refuse (FAILED_PRECONDITION, 409
 *    over HTTP) with the reason when the version cannot serve. A switch loads
 *    the new version before it takes traffic, so no request fails.
 *  - Pins, labels, retirements, active/previous and history live in the
 *    store, so they survive restarts. Config-file version_labels become
 *    registry labels.
 *
 *   const registry = new Registry({ store, core, modelsDir: 'models' });
 *   await core.start(models);            // the core now asks the registry
 *   await registry.pin('m', 1, 'api@127.0.0.1');
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { failedPrecondition, internal, notFound, StatusError, toStatusError, unavailable } from '../runtime/errors.js';
import type { SignatureInfo, TensorSpec } from '../runtime/engine.js';
import { dtypeTfName } from '../runtime/dtypes.js';
import { crashHookFromEnv, type CrashHook, type CrashPoint } from './crash_points.js';
import { durableRename, removeTree, syncDir, syncTree } from '../serving/durable.js';
import { allowedVersions, computeLoadSet } from './load_set.js';
import { consoleLogger, type Logger } from '../serving/log.js';
import { modelConfig, type ModelConfig } from '../serving/model_config.js';
import { checkLabelName, checkModelName } from './model_name.js';
import { forgetUpload } from './recovery.js';
import type { ManagerState, ServableState } from '../serving/servable_state.js';
import type { ServingCore, ServingRouter } from '../serving/serving_core.js';
import type {
  EventKind,
  EventRow,
  LabelSource,
  ModelOrigin,
  ModelRow,
  ModelSnapshot,
  PendingMove,
  RegistryStore,
  SignatureRow,
  StoreTx,
  TensorDescription,
  VersionRow,
  VersionSource,
  VersionState,
  VersionUpdate,
} from './store.js';
import { listVersionDirs } from '../serving/version_dir.js';
import { isObjectStoreUrl, joinS3Url } from '../serving/object_store/s3_url.js';
import { digestFolder, type FolderDigest } from '../serving/version_files.js';
import type { AspiredVersion } from '../serving/version_manager.js';
import { describePolicy } from '../serving/version_policy.js';
import { DEFAULT_REPLICA_LAPSE_MS, listReplicas, type ReplicaInfo } from './replicas.js';
import type { RolloutRow } from './store.js';
import type { ServableHandle } from '../serving/servable_handle.js';
import type { ModelSpec } from '../serving/serving_core.js';
import { changedRollout, describeChange, describeStart, newRollout } from './rollout/rollout_plan.js';
import type { RolloutRequest } from './rollout/rollout_request.js';
import { takesCandidate } from './rollout/routing.js';
import { DEFAULT_SHADOW_QUEUE, ShadowTraffic, type ShadowStats } from './rollout/shadow.js';
import { breakingChanges, describeBreakingChanges } from './signature_diff.js';
import {
  applyMetadataPatch,
  checkMetadata,
  DEFAULT_METADATA_LIMITS,
  describeMetadataChange,
  emptyMetadata,
  type MetadataLimits,
  type MetadataPatch,
  type VersionMetadata,
} from './version_metadata.js';

/** Actors the registry records for changes it makes itself. */
export const WATCHER_ACTOR = 'watcher';
export const SERVER_ACTOR = 'server';
export const CONFIG_ACTOR = 'config';

export const DEFAULT_MAX_LOADED_VERSIONS = 4;
export const DEFAULT_ON_DEMAND_MAX_WAITING_REQUESTS = 100;
export const DEFAULT_ON_DEMAND_MAX_WAIT_MS = 10_000;

export interface RegistryOptions {
  store: RegistryStore;
  core: ServingCore;
  /** Where a model the server does not know yet gets its base path ({modelsDir}/{name}). */
  modelsDir: string;
  /** Default 4. */
  maxLoadedVersions?: number;
  /** Requests per model that may wait for an on-demand load at once (default 100); more get UNAVAILABLE. */
  onDemandMaxWaitingRequests?: number;
  /** How long a request waits for an on-demand load (default 10000 ms) before it gets UNAVAILABLE. */
  onDemandMaxWaitMs?: number;
  log?: Logger;
  /** Called between the steps of an upload or purge (registry/crash_points.ts); default: from MODELHOST_CRASH_AT, else none. */
  crashHook?: CrashHook;
  /**
   * A shared store (PostgreSQL): how often to look for other replicas' changes
   * the change feed may have missed (default 1000 ms; 0: never). Ignored for SQLite.
   */
  refreshIntervalMs?: number;
  /** Names this process in the history (`server@{replicaId}`) on a shared store, and in its heartbeats. */
  replicaId?: string;
  /** A replica silent for longer than this is reported gone (default 15000 ms). */
  replicaLapseMs?: number;
  /** Shadow rollouts: copies waiting or running at most (--rollout_shadow_queue, default 64); more are dropped and counted. */
  shadowQueue?: number;
  /** Bounds of version metadata (registry/version_metadata.ts; defaults DEFAULT_METADATA_LIMITS). */
  metadataLimits?: Partial<MetadataLimits>;
}

export const DEFAULT_REFRESH_INTERVAL_MS = 1000;

export interface VersionInfo {
  model: string;
  version: number;
  path: string;
  state: VersionState;
  error: string | null;
  source: VersionSource;
  createdAt: string;
  loadedAt: string | null;
  sizeBytes: number | null;
  sha256: string | null;
  retired: boolean;
  retiredAt: string | null;
  /** In memory and taking requests now. */
  loaded: boolean;
  /** Labels pointing at this version. */
  labels: string[];
  signatures: SignatureRow[];
  /** Description, tags, metrics, source. */
  metadata: VersionMetadata;
}

export interface ModelInfo {
  name: string;
  basePath: string;
  origin: ModelOrigin;
  /** "latest 2", "all", "specific [1, 3]"; null when the config names no policy. */
  versionPolicy: string | null;
  activeVersion: number | null;
  previousVersion: number | null;
  pinnedVersion: number | null;
  labels: Record<string, number>;
  versions: VersionInfo[];
}

/** What upload intake (registry/upload.ts) hands over once a version folder is validated. */
export interface UploadedVersion {
  model: string;
  /** The validated SavedModel folder, on the same file system as the model's base path. */
  dir: string;
  /** Requested number; default: one more than the highest ever seen. */
  version?: number;
  /** False: keep the version serving now (by pinning it) instead of switching to the new one. */
  activate: boolean;
  actor: string;
  digest: FolderDigest;
  fingerprint: string;
  signatures: SignatureRow[];
  /** Description, tags, metrics, source given with the upload (checked against the limits). */
  metadata?: VersionMetadata;
}

interface ModelState {
  name: string;
  config: ModelConfig;
  origin: ModelOrigin;
  /** The store's version rows (kept current by our writes and refreshes). */
  rows: Map<number, VersionRow>;
  signatures: Map<number, SignatureRow[]>;
  labelSources: Map<string, LabelSource>;
  /** Complete version folders on disk, from the watcher's last report. */
  found: Map<number, AspiredVersion>;
  /** Whether the watcher has reported on this model since it was configured. */
  reported: boolean;
  /** Versions whose folders the registry is deleting now. */
  purging: Set<number>;
  /** Versions used by requests, least recently used first. */
  recent: Map<number, true>;
  lastUsed: number | undefined;
  pinned: number | undefined;
  active: number | undefined;
  previous: number | undefined;
  retired: Set<number>;
  /** Version → fingerprint of the files that failed to load (retried when they change). */
  failed: Map<number, string>;
  labels: Map<string, number>;
  /** Last manager state seen per version. */
  states: Map<number, ManagerState>;
  /** Requests that reserved a version (on-demand), per version, in order of first reservation. */
  demand: Map<number, number>;
  /** Registry changes that reserved a version they are about to use (pin, rollback...), per version. */
  holds: Map<number, number>;
  /** Requests waiting now for an on-demand load. */
  waitingRequests: number;
  /** The last load set had more versions than maxLoadedVersions (versions in use beyond the room). */
  overCapacity: boolean;
  syncScheduled: boolean;
  /** Last computed: the versions to keep loaded, and the one meant to be the default. */
  loadSet: number[];
  target: number | undefined;
  /** The version this process last chose as the default: it keeps serving until the target is available (as TF Serving's availability-preserving policy keeps the old version until the new one serves). */
  served: number | undefined;
  syncing: boolean;
  syncAgain: boolean;
  /** The store's rollout row (running, or the last one that ended). */
  rollout: RolloutRow | undefined;
}

export function describeTensor(spec: TensorSpec): TensorDescription {
  return { dtype: dtypeTfName(spec.dtype), shape: spec.shape.unknownRank ? null : [...spec.shape.dims] };
}

export function signatureRows(signatures: Readonly<Record<string, SignatureInfo>>): SignatureRow[] {
  const describe = (m: Record<string, TensorSpec>) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, describeTensor(v)]));
  return Object.values(signatures)
    .map((s) => ({ name: s.name, method: s.methodName, inputs: describe(s.inputs), outputs: describe(s.outputs), unavailable: s.unavailable ?? null }))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
}

export class Registry implements ServingRouter {
  readonly store: RegistryStore;
  readonly core: ServingCore;
  readonly modelsDir: string;
  readonly maxLoadedVersions: number;
  readonly onDemandMaxWaitingRequests: number;
  readonly onDemandMaxWaitMs: number;
  /** This process on a shared store (heartbeats, pending moves, the history's actor). */
  readonly replicaId: string | undefined;
  readonly replicaLapseMs: number;
  readonly metadataLimits: MetadataLimits;
  private readonly log: Logger;
  private models = new Map<string, ModelState>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly locks = new Map<string, Promise<void>>();
  private readonly digests = new Set<Promise<void>>();
  private stopping = false;
  private readonly crashHook: CrashHook | undefined;
  /**
   * "model/version" of uploads being committed: 'moving' until the move is finished (the watcher
   * does not offer the version yet), then 'moved' until the watcher has seen it. Either way the
   * version is not missing, just not there yet.
   */
  private readonly uploading = new Map<string, 'moving' | 'moved'>();
  /** The store's rows of every model, as last read or written (configure reads it). */
  private known = new Map<string, ModelSnapshot>();
  /** The tail of the writes, in the order they were made. */
  private writeTail: Promise<unknown> = Promise.resolve();
  /** Per model: writes made (a refresh read before one of them is stale) and writes not committed yet. */
  private readonly writesMade = new Map<string, number>();
  private readonly writesPending = new Map<string, number>();
  private readonly refreshing = new Map<string, Promise<void>>();
  private refreshTimer: NodeJS.Timeout | undefined;
  private lastEventId = 0;
  private readonly refreshIntervalMs: number;
  /** The actor of the registry's own changes: 'server', or 'server@{replica}' on a shared store. */
  private readonly serverActor: string;
  /** Copies of requests for shadow rollouts (registry/rollout/shadow.ts). */
  private readonly shadow: ShadowTraffic;

  /** Creates the registry with its in-memory copy of the store; on a shared store, starts following other replicas' changes. */
  static async open(options: RegistryOptions): Promise<Registry> {
    const registry = new Registry(options);
    await registry.loadKnown();
    if (registry.store.kind !== 'sqlite') await registry.follow();
    return registry;
  }

  /** Use Registry.open (which loads the store's rows first). */
  private constructor(options: RegistryOptions) {
    this.store = options.store;
    this.core = options.core;
    this.modelsDir = path.resolve(options.modelsDir);
    this.maxLoadedVersions = Math.max(1, options.maxLoadedVersions ?? DEFAULT_MAX_LOADED_VERSIONS);
    this.onDemandMaxWaitingRequests = Math.max(1, options.onDemandMaxWaitingRequests ?? DEFAULT_ON_DEMAND_MAX_WAITING_REQUESTS);
    this.onDemandMaxWaitMs = Math.max(1, options.onDemandMaxWaitMs ?? DEFAULT_ON_DEMAND_MAX_WAIT_MS);
    this.log = options.log ?? consoleLogger;
    this.crashHook = options.crashHook ?? crashHookFromEnv();
    this.refreshIntervalMs = Math.max(0, options.refreshIntervalMs ?? DEFAULT_REFRESH_INTERVAL_MS);
    this.replicaId = options.replicaId;
    this.replicaLapseMs = options.replicaLapseMs ?? DEFAULT_REPLICA_LAPSE_MS;
    this.metadataLimits = { ...DEFAULT_METADATA_LIMITS, ...options.metadataLimits };
    this.serverActor = this.store.kind !== 'sqlite' && options.replicaId ? `${SERVER_ACTOR}@${options.replicaId}` : SERVER_ACTOR;
    this.shadow = new ShadowTraffic({
      maxQueued: Math.max(0, options.shadowQueue ?? DEFAULT_SHADOW_QUEUE),
      candidateHandle: (name, version) => this.handleOf(name, version),
    });
    this.core.attachRouter(this);
    this.core.monitor.subscribe((s) => this.onState(s));
  }

  // ---------------------------------------------------------------- queries

  listModels(): ModelInfo[] {
    return [...this.models.keys()].sort().map((name) => this.getModel(name));
  }

  getModel(name: string): ModelInfo {
    const m = this.requireModel(name);
    const explicit = m.config.versionPolicyExplicit === true;
    return {
      name,
      basePath: m.config.basePath,
      origin: m.origin,
      versionPolicy: explicit ? describePolicy(m.config.versionPolicy) : null,
      activeVersion: m.active ?? null,
      previousVersion: m.previous ?? null,
      pinnedVersion: m.pinned ?? null,
      labels: Object.fromEntries([...m.labels].sort(([a], [b]) => (a < b ? -1 : 1))),
      versions: this.rowsOf(m).map((r) => this.versionInfo(m, r)),
    };
  }

  listVersions(name: string): VersionInfo[] {
    const m = this.requireModel(name);
    return this.rowsOf(m).map((r) => this.versionInfo(m, r));
  }

  getVersion(name: string, version: number): VersionInfo {
    const m = this.requireModel(name);
    return this.versionInfo(m, this.requireVersionRow(m, version));
  }

  /** A model's history, newest first (`before`: an event id, for paging). */
  async events(name: string, options: { limit?: number; before?: number } = {}): Promise<EventRow[]> {
    if (!this.models.has(name) && !this.known.has(name) && !(await this.store.getModel(name))) throw this.unknownModel(name);
    await this.writesDone(); // our own changes are in the history before it is read
    return this.store.listEvents(name, options);
  }

  /** The replicas sharing this registry (live, gone or stopped), from their heartbeats. */
  replicas(): Promise<ReplicaInfo[]> {
    return listReplicas(this.store, this.replicaLapseMs);
  }

  hasModel(name: string): boolean {
    return this.models.has(name);
  }

  /** The base path a model has, or would get when created by an upload. */
  basePathFor(name: string): { basePath: string; exists: boolean } {
    const m = this.models.get(name);
    if (m) return { basePath: m.config.basePath, exists: true };
    checkModelName(name);
    return { basePath: path.join(this.modelsDir, name), exists: false };
  }

  // -------------------------------------------------------------- mutations

  /** Serves `version` for requests naming no version, until unpinned. */
  pin(name: string, version: number, actor: string): Promise<ModelInfo> {
    return this.withLock(name, async () => {
      await this.current(name);
      const m = this.requireModel(name);
      this.requireVersionRow(m, version);
      this.refuseDuringRollout(m, 'pinning a version');
      if (m.pinned === version) return this.getModel(name);
      const release = await this.holdLoaded(name, version, 'pinned');
      try {
        await this.setPin(m, version, actor, 'pinned', `pinned version ${version}${m.active !== undefined ? ` (was serving ${m.active})` : ''}`);
      } finally {
        release();
      }
      return this.getModel(name);
    });
  }

  /** Follows the newest available version again. */
  unpin(name: string, actor: string): Promise<ModelInfo> {
    return this.withLock(name, async () => {
      await this.current(name);
      const m = this.requireModel(name);
      this.refuseDuringRollout(m, 'unpinning');
      if (m.pinned === undefined) return this.getModel(name);
      const next = this.loadSetFor(m, { pinned: undefined }).target;
      const release = await this.tryHoldLoaded(name, next);
      try {
        const was = m.pinned;
        await this.write(name, async (tx) => {
          await tx.deletePin(name);
          await this.event(tx, m, was, 'unpinned', actor, `unpinned version ${was}${next !== undefined ? `; following the newest version (${next})` : ''}`);
        });
        m.pinned = undefined;
        this.sync(m);
        this.updateActive(m);
      } finally {
        release();
      }
      return this.getModel(name);
    });
  }

  /** Switches to the version active before the current one, and pins it. */
  rollback(name: string, actor: string): Promise<ModelInfo> {
    return this.withLock(name, async () => {
      await this.current(name);
      const m = this.requireModel(name);
      this.refuseDuringRollout(m, 'a rollback');
      const to = m.previous;
      if (to === undefined || to === m.active) {
        const only = m.active === undefined ? 'no version has served yet' : `only version ${m.active} has served`;
        throw failedPrecondition(`Model ${name} has no previous version to roll back to: ${only}.`);
      }
      const release = await this.holdLoaded(name, to, 'rolled back to');
      try {
        const from = m.active;
        await this.setPin(m, to, actor, 'rolled_back', `rolled back from version ${from} to version ${to} (now pinned)`);
      } finally {
        release();
      }
      return this.getModel(name);
    });
  }

  /** Points `label` at `version` (requests to /labels/{label} go there). */
  setLabel(name: string, label: string, version: number, actor: string): Promise<ModelInfo> {
    return this.withLock(name, async () => {
      await this.current(name);
      checkLabelName(label);
      const m = this.requireModel(name);
      const row = this.requireVersionRow(m, version);
      this.checkServable(m, version, 'labelled');
      // A version never loaded yet is validated by loading it; a known-good one is not loaded just for a label.
      if (row.state !== 'AVAILABLE') await this.ensureLoaded(name, version, 'labelled');
      if (m.labels.get(label) === version) return this.getModel(name);
      const was = m.labels.get(label);
      await this.write(name, async (tx) => {
        await tx.setLabel(name, label, version, 'api');
        await this.event(tx, m, version, 'labelled', actor, `label ${label} → version ${version}${was !== undefined ? ` (was ${was})` : ''}`);
      });
      m.labels.set(label, version);
      m.labelSources.set(label, 'api');
      return this.getModel(name);
    });
  }

  deleteLabel(name: string, label: string, actor: string): Promise<ModelInfo> {
    return this.withLock(name, async () => {
      await this.current(name);
      const m = this.requireModel(name);
      const version = m.labels.get(label);
      if (version === undefined) throw notFound(`Model ${name} has no label ${label}.`);
      await this.write(name, async (tx) => {
        await tx.deleteLabel(name, label);
        await this.event(tx, m, version, 'unlabelled', actor, `removed label ${label} (was version ${version})`);
      });
      m.labels.delete(label);
      m.labelSources.delete(label);
      return this.getModel(name);
    });
  }

  /**
   * Stops serving `version` for good (it stays in the history). Refused while
   * it is pinned. Labels pointing at it are removed. With `purge`, its folder
   * is deleted too.
   */
  retire(name: string, version: number, options: { purge?: boolean }, actor: string): Promise<VersionInfo> {
    return this.withLock(name, async () => {
      await this.current(name);
      const m = this.requireModel(name);
      const row = this.requireVersionRow(m, version);
      if (m.pinned === version) {
        throw failedPrecondition(`Version ${version} of model ${name} is pinned; unpin it (or pin another version) before retiring it.`);
      }
      if (m.rollout?.state === 'running' && (m.rollout.stable === version || m.rollout.candidate === version)) this.refuseDuringRollout(m, `retiring version ${version}`);
      if (!m.retired.has(version)) {
        // Load whatever takes over before this version stops taking requests.
        const next = this.loadSetFor(m, { retire: version }).target;
        const release = await this.tryHoldLoaded(name, next !== version ? next : undefined);
        const labels = [...m.labels].filter(([, v]) => v === version).map(([label]) => label);
        const update = { retired: true, retiredAt: new Date().toISOString() };
        try {
          await this.write(name, async (tx) => {
            for (const label of labels) {
              await tx.deleteLabel(name, label);
              await this.event(tx, m, version, 'unlabelled', actor, `removed label ${label}: version ${version} was retired`);
            }
            await tx.updateVersion(name, version, update);
            await this.event(tx, m, version, 'retired', actor, `retired version ${version}; its files are kept`);
          });
          this.patchRow(m, version, update);
          for (const label of labels) {
            m.labels.delete(label);
            m.labelSources.delete(label);
          }
          m.retired.add(version);
          m.recent.delete(version);
          this.sync(m);
          this.updateActive(m);
        } finally {
          release();
        }
      }
      if (options.purge) await this.purge(m, row, actor);
      return this.getVersion(name, version);
    });
  }

  /**
   * Undoes `retire`: the version may serve again (as a candidate for latest,
   * a pin, a label or a rollback). Refused when it is not retired, or when
   * its files were purged (upload it again instead).
   */
  restore(name: string, version: number, actor: string): Promise<VersionInfo> {
    return this.withLock(name, async () => {
      await this.current(name);
      const m = this.requireModel(name);
      const row = this.requireVersionRow(m, version);
      if (!m.retired.has(version)) throw failedPrecondition(`Version ${version} of model ${name} is not retired.`);
      if (row.state === 'REMOVED' || !m.found.has(version)) {
        throw failedPrecondition(`Version ${version} of model ${name} cannot be restored: its files are gone (purged or removed). Upload it again as a new version.`);
      }
      const update = { retired: false, retiredAt: null };
      await this.write(name, async (tx) => {
        await tx.updateVersion(name, version, update);
        await this.event(tx, m, version, 'restored', actor, `restored version ${version}: it may serve again`);
      });
      this.patchRow(m, version, update);
      m.retired.delete(version);
      this.sync(m);
      this.updateActive(m);
      return this.getVersion(name, version);
    });
  }

  /**
   * Changes a version's description, tags, metrics or source (a merge patch:
   * absent fields kept, null clears or removes), within `metadataLimits`
   * (INVALID_ARGUMENT beyond); recorded in the history as `metadata_changed`.
   * Retired versions may be annotated too.
   */
  setMetadata(name: string, version: number, patch: MetadataPatch, actor: string): Promise<VersionInfo> {
    return this.withLock(name, async () => {
      await this.current(name);
      const m = this.requireModel(name);
      const row = this.requireVersionRow(m, version);
      const next = applyMetadataPatch(row.metadata, patch);
      checkMetadata(next, this.metadataLimits);
      const change = describeMetadataChange(row.metadata, next);
      if (change === '') return this.getVersion(name, version);
      await this.write(name, async (tx) => {
        await tx.setVersionMetadata(name, version, next);
        await this.event(tx, m, version, 'metadata_changed', actor, change);
      });
      const now = m.rows.get(version);
      if (now) m.rows.set(version, { ...now, metadata: next });
      return this.getVersion(name, version);
    });
  }

  /**
   * A version's signatures, as recorded at its first load; a version never
   * loaded is loaded (on demand) to read them. FAILED_PRECONDITION when it
   * cannot load (retired, failed, files gone).
   */
  async versionSignatures(name: string, version: number): Promise<SignatureRow[]> {
    const m = this.requireModel(name);
    this.requireVersionRow(m, version);
    const known = m.signatures.get(version);
    if (known && known.length > 0) return known;
    const release = await this.holdLoaded(name, version, 'compared');
    try {
      this.recordSignatures(m, version);
    } finally {
      release();
    }
    return m.signatures.get(version) ?? [];
  }

  /**
   * Records a validated upload and moves its folder into place as
   * {base_path}/{N}, crash-consistently: the staged files are synced; the
   * version row is committed together with a pending move; the folder is
   * renamed (parents synced); then the move is finished (the `uploaded`
   * event, and the pin activate=false asks for) in one commit. A crash
   * between those steps is finished or undone at startup
   * (registry/recovery.ts); a failed rename undoes the row at once, so a
   * refused upload leaves neither a folder nor a row. Resolves once the
   * version has loaded (or failed to).
   */
  commitUpload(upload: UploadedVersion): Promise<VersionInfo> {
    const { model: name } = upload;
    return this.withLock(name, async () => {
      if (this.stopping) throw unavailable('The server is shutting down.');
      const { basePath, exists } = this.basePathFor(name);
      // On object storage: every version number in the bucket, staged uploads included (never reused).
      const objectStore = isObjectStoreUrl(basePath) ? this.core.objectStore : undefined;
      const onDisk = objectStore ? (await objectStore.versionNumbers(basePath)).map((v) => ({ version: v })) : ((await listVersionDirs(basePath)) ?? []);
      await this.writesDone();
      const highest = Math.max(await this.store.maxVersion(name), ...onDisk.map((d) => d.version), 0);
      const version = upload.version ?? highest + 1;
      const taken = () =>
        new StatusError(
          'ALREADY_EXISTS',
          `Model ${name} already has a version ${version}; version numbers are never reused. Leave "version" out to get the next one (${highest + 1}).`,
        );
      if ((await this.store.getVersion(name, version)) || onDisk.some((d) => d.version === version)) throw taken();
      const target = objectStore ? joinS3Url(basePath, String(version)) : path.join(basePath, String(version));
      await syncTree(upload.dir);
      await this.crashAt('upload:staged');
      const createdBasePath = !objectStore && !(await fs.stat(basePath).then(() => true, () => false));
      let recorded: { model: ModelRow; row: VersionRow; move: PendingMove; keep: number | null };
      try {
        recorded = await this.write(name, async (tx) => {
          const previousRow = await tx.getModel(name);
          await tx.upsertModel({ name, basePath, origin: exists ? 'config' : 'uploaded' });
          // A model the server does not serve now (new, or dropped from the config) is served as an uploaded one from now on.
          if (!exists) await tx.setModelOrigin(name, 'uploaded');
          // Another replica may have taken this number since we looked: then this throws ALREADY_EXISTS and nothing is written.
          const row = await tx.insertVersion({
            model: name,
            version,
            path: target,
            source: 'uploaded',
            sha256: upload.digest.sha256,
            sizeBytes: upload.digest.sizeBytes,
            fingerprint: upload.fingerprint,
            metadata: upload.metadata,
          });
          await tx.setSignatures(name, version, upload.signatures);
          // activate=false: the version serving now is pinned in this same commit, before the files land, so that no
          // replica (another one finds the files on its own) ever takes the new version as the newest one.
          const serving = previousRow?.activeVersion ?? null;
          const keep = !upload.activate && serving !== null && !(await tx.getPin(name)) ? serving : null;
          if (keep !== null) {
            await tx.setPin(name, keep, upload.actor);
            await tx.addEvent({ model: name, version: keep, kind: 'pinned', actor: upload.actor, detail: `pinned version ${keep} to keep it serving: version ${version} was uploaded with activate=false` });
          }
          const move = await tx.addPendingMove({
            kind: 'upload',
            model: name,
            version,
            source: upload.dir,
            target,
            detail: {
              actor: upload.actor,
              activate: upload.activate,
              createdBasePath,
              previousOrigin: previousRow?.origin ?? null,
              previousBasePath: previousRow?.basePath,
              eventDetail: `uploaded version ${version} (${upload.digest.sizeBytes} bytes, ${upload.digest.fileCount} files, sha256 ${upload.digest.sha256})`,
              replica: this.replicaId,
              pinned: keep,
            },
          });
          return { model: (await tx.getModel(name))!, row, move, keep };
        });
      } catch (e) {
        throw e instanceof StatusError && e.code === 'ALREADY_EXISTS' ? taken() : e;
      }
      const { move, keep } = recorded;
      this.rememberVersion(recorded.model, recorded.row, upload.signatures);
      const pinnedHere = (version: number | undefined) => {
        const m = this.models.get(name);
        if (!m) return;
        m.pinned = version;
        this.sync(m);
        this.updateActive(m);
      };
      if (keep !== null) pinnedHere(keep);
      this.uploading.set(`${name}/${version}`, 'moving');
      try {
        await this.crashAt('upload:recorded');
        if (objectStore) {
          await objectStore.publish(upload.dir, basePath, name, version);
        } else {
          await fs.mkdir(basePath, { recursive: true });
          if (createdBasePath) await syncDir(path.dirname(basePath));
          await durableRename(upload.dir, target);
        }
      } catch (e) {
        await this.write(name, (tx) => forgetUpload(tx, move)).catch((undo) =>
          this.log.error(`Could not undo the record of the upload of version ${version} of model ${name} (undone at the next start): ${(undo as Error).message}`),
        );
        await this.forgetVersion(name, version);
        if (keep !== null && this.models.get(name)?.pinned === keep) pinnedHere(undefined); // forgetUpload removed the pin it made
        if (createdBasePath) await fs.rmdir(basePath).catch(() => {});
        this.uploading.delete(`${name}/${version}`);
        if (objectStore) throw new StatusError(toStatusError(e).code, `Could not publish the upload to ${target}: ${toStatusError(e).message}`);
        throw internal(`Could not move the upload into ${target}: ${(e as Error).message}`);
      }
      await this.crashAt('upload:moved');
      const m0 = this.models.get(name);
      await this.write(name, async (tx) => {
        await tx.addEvent({ model: name, version, kind: 'uploaded', actor: upload.actor, detail: move.detail.eventDetail });
        await tx.deletePendingMove(move.id);
      });
      this.uploading.set(`${name}/${version}`, 'moved');
      await this.crashAt('upload:committed');
      try {
        if (m0) await this.core.pollNow();
        else await this.core.refreshModels();
        // A poll that overlapped a model-list reload may have been dropped: poll until the watcher has seen the version.
        for (let i = 0; i < 5 && !this.models.get(name)?.found.has(version); i++) await this.core.pollNow();
      } finally {
        // Until the watcher has seen the folder, a poll that listed the base path before the rename must not call it missing.
        this.uploading.delete(`${name}/${version}`);
      }
      await this.ensureLoaded(name, version, 'served').catch((e) =>
        this.log.warn(`Uploaded version ${version} of model ${name} did not load: ${toStatusError(e).message}`),
      );
      return this.getVersion(name, version);
    });
  }

  // ---------------------------------------------------------------- rollouts

  /** The model's rollout (running, or the last one that ended); undefined when it never had one. */
  getRollout(name: string): RolloutRow | undefined {
    return this.requireModel(name).rollout;
  }

  /** The model's running rollout, if any (undefined for an unknown model too: the request path asks). */
  runningRollout(name: string): RolloutRow | undefined {
    const r = this.models.get(name)?.rollout;
    return r?.state === 'running' ? r : undefined;
  }

  /** Rollouts running now, one per model. */
  runningRollouts(): RolloutRow[] {
    return [...this.models.values()].flatMap((m) => (m.rollout?.state === 'running' ? [m.rollout] : []));
  }

  /** This process's shadow comparison of the model's rollout (undefined unless it is a shadow rollout). */
  shadowStats(name: string): ShadowStats | undefined {
    const r = this.requireModel(name).rollout;
    return r?.mode === 'shadow' ? this.shadow.stats(r) : undefined;
  }

  /**
   * Starts a rollout from the version serving now (stable) to `req.version`
   * (candidate), or changes the running one's percentage, limits or steps.
   * Refused (FAILED_PRECONDITION) while another candidate's rollout runs, for
   * the serving version itself, for a version that cannot serve, and, unless
   * `force`, for a candidate whose signatures would break the stable
   * version's callers. The candidate is loaded before it takes a request.
   */
  startRollout(name: string, req: RolloutRequest, actor: string): Promise<RolloutRow> {
    return this.withLock(name, async () => {
      await this.current(name);
      const m = this.requireModel(name);
      const running = m.rollout?.state === 'running' ? m.rollout : undefined;
      if (running) {
        if (running.candidate !== req.version) {
          throw failedPrecondition(`Model ${name} has a rollout of version ${running.candidate} running; promote or abort it before rolling out version ${req.version}.`);
        }
        if (running.mode !== req.mode) throw failedPrecondition(`The rollout of version ${req.version} of model ${name} is a ${running.mode} rollout; abort it to start a ${req.mode} one.`);
        const next = changedRollout(running, req, new Date().toISOString());
        if (!next) return running;
        await this.writeRollout(m, next, running.revision, 'rollout_changed', actor, describeChange(running, next));
        return next;
      }
      const stable = m.active;
      if (stable === undefined || !this.core.manager.availableVersions(name).includes(stable)) {
        throw failedPrecondition(`Model ${name} has no version serving now to roll out from.`);
      }
      this.requireVersionRow(m, req.version);
      if (req.version === stable) throw failedPrecondition(`Version ${stable} already serves model ${name}; roll out another version.`);
      const release = await this.holdLoaded(name, req.version, 'rolled out');
      try {
        if (!req.force) {
          const changes = breakingChanges(m.signatures.get(stable) ?? [], m.signatures.get(req.version) ?? []);
          if (changes.length > 0) {
            throw failedPrecondition(
              `Version ${req.version} of model ${name} would break callers of version ${stable}: ${describeBreakingChanges(changes)}. Send "force": true to roll it out anyway.`,
            );
          }
        }
        const row = newRollout(name, stable, req, actor, new Date().toISOString());
        row.revision = (m.rollout?.revision ?? 0) + 1;
        await this.writeRollout(m, row, m.rollout?.revision, 'rollout_started', actor, describeStart(row) + (req.force ? ' (forced)' : ''));
        return row;
      } finally {
        release();
      }
    });
  }

  /**
   * Ends the running rollout with the candidate serving every request that
   * names no version. A pinned model's pin moves to the candidate; an
   * unpinned one is pinned to it unless it is the version the model would
   * follow anyway (its newest).
   */
  promoteRollout(name: string, actor: string, options: { expectedRevision?: number; reason?: string } = {}): Promise<RolloutRow | undefined> {
    return this.withLock(name, async () => {
      await this.current(name);
      const m = this.requireModel(name);
      const r = this.requireRunning(m, options.expectedRevision);
      if (!r) return undefined;
      const release = await this.holdLoaded(name, r.candidate, 'promoted');
      try {
        const pin = m.pinned !== undefined || this.loadSetFor(m, { pinned: undefined }).target !== r.candidate ? r.candidate : undefined;
        const row: RolloutRow = { ...r, state: 'promoted', reason: options.reason ?? `promoted by ${actor}`, revision: r.revision + 1, changedAt: new Date().toISOString() };
        const detail = `${row.reason}: version ${r.candidate} answers every request naming no version (was version ${r.stable}, candidate at ${r.percent}%)`;
        await this.writeRollout(m, row, r.revision, 'rollout_promoted', actor, detail, pin);
        return row;
      } finally {
        release();
      }
    });
  }

  /**
   * Ends the running rollout with the stable version taking every request
   * again (pinned to it when the model would otherwise follow another
   * version, such as a newer candidate). `reason` names who or which limit.
   * With `expectedRevision` (the guard rails), nothing happens when the
   * rollout changed or ended meanwhile.
   */
  abortRollout(name: string, actor: string, options: { expectedRevision?: number; reason?: string } = {}): Promise<RolloutRow | undefined> {
    return this.withLock(name, async () => {
      await this.current(name);
      const m = this.requireModel(name);
      const r = this.requireRunning(m, options.expectedRevision);
      if (!r) return undefined;
      const natural = m.pinned ?? this.loadSetFor(m, { pinned: undefined }).target;
      const pin = natural !== r.stable && m.found.has(r.stable) && !m.retired.has(r.stable) ? r.stable : undefined;
      const row: RolloutRow = { ...r, state: 'aborted', reason: options.reason ?? `aborted by ${actor}`, revision: r.revision + 1, changedAt: new Date().toISOString() };
      await this.writeRollout(m, row, r.revision, 'rollout_aborted', actor, `rollout of version ${r.candidate} aborted (${row.reason}); version ${r.stable} answers every request naming no version`, pin);
      return row;
    });
  }

  /** Moves a running rollout to `percent` (an automatic step); nothing happens when it changed meanwhile. */
  stepRollout(name: string, expectedRevision: number, percent: number, actor: string, why: string): Promise<RolloutRow | undefined> {
    return this.withLock(name, async () => {
      await this.current(name);
      const m = this.requireModel(name);
      const r = this.requireRunning(m, expectedRevision);
      if (!r) return undefined;
      const row: RolloutRow = { ...r, percent, revision: r.revision + 1, changedAt: new Date().toISOString() };
      await this.writeRollout(m, row, r.revision, 'rollout_changed', actor, `rollout of version ${r.candidate} stepped ${r.percent}% → ${percent}% (${why})`);
      return row;
    });
  }

  /**
   * ServingRouter: a request naming neither version nor label during a
   * running rollout: the candidate's handle for the candidate's share
   * (canary), the stable version's with a shadow copy (shadow), else
   * undefined (the default version, which is the stable one).
   */
  routeDefault(spec: ModelSpec): ServableHandle | undefined {
    const r = this.models.get(spec.name)?.rollout;
    if (!r || r.state !== 'running' || !takesCandidate(spec.name, spec.routing?.key, r.percent)) return undefined;
    if (r.mode === 'canary') return this.handleOf(spec.name, r.candidate);
    const stable = this.handleOf(spec.name, r.stable);
    return stable && this.shadow.wrap(stable, r);
  }

  /** A handle on a loaded version, or undefined when it is not loaded. */
  private handleOf(name: string, version: number): ServableHandle | undefined {
    if (!this.core.manager.availableVersions(name).includes(version)) return undefined;
    try {
      return this.core.manager.getHandle(name, { kind: 'specific', version });
    } catch {
      return undefined;
    }
  }

  private refuseDuringRollout(m: ModelState, what: string): void {
    const r = m.rollout;
    if (r?.state === 'running') {
      throw failedPrecondition(`Model ${m.name} has a rollout of version ${r.candidate} running; promote or abort it before ${what}.`);
    }
  }

  /** The running rollout; without one FAILED_PRECONDITION, or undefined when the caller expected a revision (it ended or changed). */
  private requireRunning(m: ModelState, expectedRevision: number | undefined): RolloutRow | undefined {
    const r = m.rollout?.state === 'running' ? m.rollout : undefined;
    if (expectedRevision !== undefined) return r?.revision === expectedRevision ? r : undefined;
    if (!r) throw failedPrecondition(`Model ${m.name} has no rollout running.`);
    return r;
  }

  /** Commits a rollout row with its event (and a pin); on a lost race (another replica changed it first) reloads and refuses. */
  private async writeRollout(m: ModelState, row: RolloutRow, expectedRevision: number | undefined, kind: EventKind, actor: string, detail: string, pin?: number): Promise<void> {
    const won = await this.write(m.name, async (tx) => {
      if (!(await tx.putRollout(row, expectedRevision))) return false;
      if (pin !== undefined && pin !== m.pinned) {
        await tx.setPin(m.name, pin, actor);
        await this.event(tx, m, pin, 'pinned', actor, `pinned version ${pin}: the rollout of version ${row.candidate} ended`);
      }
      await this.event(tx, m, row.candidate, kind, actor, detail);
      return true;
    });
    if (!won) {
      if (this.store.kind !== 'sqlite') await this.refresh(m.name);
      throw new StatusError('ABORTED', `The rollout of model ${m.name} was changed by another replica meanwhile; look again and retry.`);
    }
    m.rollout = row;
    if (pin !== undefined) m.pinned = pin;
    this.sync(m);
    this.updateActive(m);
  }

  /** Re-reads `names` from the store: this process changed their rows outside the registry (recovery of a dead replica's upload). */
  reloadFromStore(names: readonly string[]): void {
    for (const name of names) if (this.models.has(name)) this.scheduleRefresh(name);
  }

  /** Resolves when no load, unload, file digest or store write is pending. */
  async settled(): Promise<void> {
    await this.core.manager.settled();
    while (this.digests.size > 0) await Promise.all([...this.digests]);
    await this.writesDone();
  }

  /** Stops recording (call before stopping the core, so shutdown unloads are not history), after the writes made so far. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.shadow.stop();
    clearInterval(this.refreshTimer);
    for (const name of [...this.waiters.keys()]) this.notify(name);
    while (this.digests.size > 0) await Promise.all([...this.digests]);
    await Promise.all([...this.refreshing.values()]);
    await this.writesDone();
  }

  // ------------------------------------------------- ServingRouter (the core asks)

  configure(configured: readonly ModelConfig[]): ModelConfig[] {
    const listed = new Set(configured.map((c) => c.name));
    const all = [...configured];
    for (const { model: row } of this.known.values()) {
      if (row.origin === 'uploaded' && !listed.has(row.name)) all.push(modelConfig(row.name, row.basePath));
    }
    const next = new Map<string, ModelState>();
    const added: string[] = [];
    for (const config of all) {
      let m = this.models.get(config.name);
      if (!m) {
        m = this.loadModelState(config);
        added.push(config.name);
      }
      m.config = config;
      next.set(config.name, m);
    }
    const labels = [...next.values()].flatMap((m) => this.configLabels(m));
    for (const config of all) this.rememberModel({ name: config.name, basePath: config.basePath, origin: listed.has(config.name) ? 'config' : 'uploaded' });
    this.background(all.map((c) => c.name), 'the model list', async (tx) => {
      for (const config of all) await tx.upsertModel({ name: config.name, basePath: config.basePath, origin: listed.has(config.name) ? 'config' : 'uploaded' });
      for (const l of labels) {
        await tx.setLabel(l.m.name, l.label, l.version, 'config');
        await this.event(tx, l.m, l.version, 'labelled', CONFIG_ACTOR, `label ${l.label} → version ${l.version} (from the model config)`);
      }
    });
    for (const [name, m] of this.models) if (!next.has(name)) this.known.set(name, this.snapshotOf(m));
    this.models = next;
    // A model new to this process may have changed in the store since it was last read.
    if (this.store.kind !== 'sqlite') for (const name of added) this.scheduleRefresh(name);
    return all;
  }

  versionsFound(name: string, versions: readonly AspiredVersion[]): void {
    const m = this.models.get(name);
    if (!m) {
      this.core.manager.setAspiredVersions(name, []);
      return;
    }
    if (this.stopping) return;
    // A version being purged is the registry's own doing: a report listed before its folder went is not news.
    const found = new Map(
      versions.filter((v) => !m.purging.has(v.version) && this.uploading.get(`${name}/${v.version}`) !== 'moving').map((v) => [v.version, v]),
    );
    try {
      this.recordFound(m, found);
    } catch (e) {
      this.log.error(`Registry could not record the versions of model ${name}: ${(e as Error).message}`);
    }
    m.found = found;
    m.reported = true;
    this.sync(m);
  }

  /** Records new, changed, returned and vanished version folders (in memory now, in the store in the background). */
  private recordFound(m: ModelState, found: ReadonlyMap<number, AspiredVersion>): void {
    const name = m.name;
    for (const v of found.values()) {
      const row = m.rows.get(v.version);
      if (!row) {
        const now = new Date().toISOString();
        m.rows.set(v.version, {
          model: name, version: v.version, path: v.dir, state: 'DISCOVERED', error: null, sha256: null, sizeBytes: null,
          fingerprint: v.fingerprint, source: 'discovered', createdAt: now, loadedAt: null, retired: false, retiredAt: null, metadata: emptyMetadata(),
        });
        // Another replica may have recorded it first: then there is one row and one `discovered` event, its own.
        this.background(name, `version ${v.version} of model ${name}`, async (tx) => {
          if (await tx.insertVersionIfAbsent({ model: name, version: v.version, path: v.dir, source: 'discovered', fingerprint: v.fingerprint })) {
            await this.event(tx, m, v.version, 'discovered', WATCHER_ACTOR, `found ${v.dir}`);
          }
        });
        this.digest(m, v);
      } else if (row.state === 'REMOVED') {
        const update = { state: 'DISCOVERED' as const, error: null, path: v.dir, fingerprint: v.fingerprint };
        this.patchRow(m, v.version, update);
        this.background(name, `version ${v.version} of model ${name}`, async (tx) => {
          const now = await tx.getVersion(name, v.version);
          if (now?.state !== 'REMOVED') return; // another replica saw it first
          await tx.updateVersion(name, v.version, update);
          await this.event(tx, m, v.version, 'discovered', WATCHER_ACTOR, `found ${v.dir} again`);
        });
        this.digest(m, v);
      } else if (row.fingerprint !== v.fingerprint || row.path !== v.dir) {
        const retry = row.state === 'FAILED' ? { state: 'DISCOVERED' as const, error: null } : {};
        const update = { fingerprint: v.fingerprint, path: v.dir, ...retry };
        this.patchRow(m, v.version, update);
        this.background(name, `version ${v.version} of model ${name}`, (tx) => tx.updateVersion(name, v.version, update));
        this.digest(m, v);
      }
    }
    // Versions that were there and are not now; on the first report, every recorded one (it may have gone while the server was down).
    const before = m.reported ? [...m.found.keys()] : [...m.rows.keys()];
    for (const version of before) {
      if (found.has(version) || m.purging.has(version) || this.uploading.has(`${name}/${version}`)) continue;
      const row = m.rows.get(version);
      if (row && row.state !== 'REMOVED') {
        const where = m.found.get(version)?.dir ?? row.path;
        this.patchRow(m, version, { state: 'REMOVED' });
        this.background(name, `version ${version} of model ${name}`, async (tx) => {
          const now = await tx.getVersion(name, version);
          if (!now || now.state === 'REMOVED') return;
          await tx.updateVersion(name, version, { state: 'REMOVED' });
          await this.event(tx, m, version, 'removed', WATCHER_ACTOR, `${where} is gone or incomplete`);
        });
      }
    }
  }

  chooseDefault(name: string, available: readonly number[]): number | undefined {
    const m = this.models.get(name);
    if (!m) return available.at(-1);
    if (m.rollout?.state === 'running' && available.includes(m.rollout.stable)) return (m.served = m.rollout.stable);
    if (m.pinned !== undefined && available.includes(m.pinned)) return (m.served = m.pinned);
    // The target (pinned, or newest) still loading here: the version that served keeps serving, not some other loaded one.
    // (With replicas, a pin or unpin made elsewhere arrives before this one has the target loaded.)
    if (m.target !== undefined && !available.includes(m.target) && m.served !== undefined && available.includes(m.served) && !m.retired.has(m.served)) return m.served;
    for (let i = available.length - 1; i >= 0; i--) if (!m.retired.has(available[i])) return (m.served = available[i]);
    return (m.served = undefined);
  }

  resolveLabel(name: string, label: string): number | undefined {
    return this.models.get(name)?.labels.get(label);
  }

  used(name: string, version: number): void {
    const m = this.models.get(name);
    if (!m || m.lastUsed === version) return;
    m.recent.delete(version);
    m.recent.set(version, true);
    m.lastUsed = version;
  }

  /**
   * Reserves `version` for one request and waits until it is loaded (see the
   * module comment); resolves with the function that ends the reservation,
   * which the caller calls once the request has run. Throws
   * FAILED_PRECONDITION when the version cannot serve, UNAVAILABLE when a
   * bound is hit or the server is stopping, and the signal's reason when the
   * request is aborted first (its deadline passed, or its client went away).
   */
  async loadOnDemand(name: string, version: number, signal?: AbortSignal): Promise<() => void> {
    if (this.stopping) throw unavailable('The server is shutting down.');
    const m = this.requireModel(name);
    this.checkServable(m, version, 'served');
    if (this.core.manager.availableVersions(name).includes(version)) return this.reserve(m, version, m.demand);
    if (m.waitingRequests >= this.onDemandMaxWaitingRequests) {
      throw unavailable(
        `Version ${version} of model ${name} is not loaded and ${m.waitingRequests} requests already wait for versions of it to load ` +
          `(limit --on_demand_max_waiting_requests=${this.onDemandMaxWaitingRequests}; --max_loaded_versions=${this.maxLoadedVersions} are kept loaded). Retry later.`,
      );
    }
    const release = this.reserve(m, version, m.demand);
    const deadline = Date.now() + this.onDemandMaxWaitMs;
    m.waitingRequests++;
    try {
      await this.waitLoaded(m, version, 'served', deadline, signal);
      return release;
    } catch (e) {
      release();
      throw e;
    } finally {
      m.waitingRequests--;
    }
  }

  idle(name: string, version: number): void {
    const m = this.models.get(name);
    // A slot may be free now for a version requests wait for, or a version kept beyond the room may go.
    if (m && (m.waitingRequests > 0 || m.overCapacity) && !m.holds.has(version) && !m.demand.has(version)) this.scheduleSync(m);
  }

  // --------------------------------------------------------------- internals

  /** Waits until `version` is loaded, asking the manager to load it if needed; throws why it cannot be. */
  async ensureLoaded(name: string, version: number, verb: string): Promise<void> {
    (await this.holdLoaded(name, version, verb))();
  }

  /**
   * As ensureLoaded, and keeps `version` loaded until the returned function
   * is called: the caller's change (a pin...) is committed to the store
   * first, which takes real time on a database server.
   */
  private async holdLoaded(name: string, version: number, verb: string): Promise<() => void> {
    if (this.stopping) throw unavailable('The server is shutting down.');
    const m = this.requireModel(name);
    this.checkServable(m, version, verb);
    const release = this.reserve(m, version, m.holds);
    try {
      await this.waitLoaded(m, version, verb, undefined);
    } catch (e) {
      release();
      throw e;
    }
    return release;
  }

  /** Holds `version` loaded (see holdLoaded); a version that cannot be loaded is logged and nothing is held. */
  private async tryHoldLoaded(name: string, version: number | undefined): Promise<() => void> {
    if (version === undefined) return () => {};
    return this.holdLoaded(name, version, 'served').catch((e) => {
      this.log.warn(toStatusError(e).message);
      return () => {};
    });
  }

  /** Counts one reservation of `version` in `into` and syncs; the returned function (idempotent) ends it. */
  private reserve(m: ModelState, version: number, into: Map<number, number>): () => void {
    into.set(version, (into.get(version) ?? 0) + 1);
    if (!m.loadSet.includes(version)) this.sync(m);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const left = (into.get(version) ?? 1) - 1;
      if (left > 0) into.set(version, left);
      else {
        into.delete(version);
        // Later, not now: the caller's next step runs first, and many releases cost one sync.
        if (m.waitingRequests > 0 || m.overCapacity) this.scheduleSync(m);
      }
    };
  }

  /** Waits until `version` is available; throws why it cannot serve, or UNAVAILABLE past `deadline`. */
  private async waitLoaded(m: ModelState, version: number, verb: string, deadline: number | undefined, signal?: AbortSignal): Promise<void> {
    for (;;) {
      if (this.stopping) throw unavailable('The server is shutting down.');
      if (signal?.aborted) throw toStatusError(signal.reason);
      if (this.models.get(m.name) !== m) throw this.unknownModel(m.name);
      if (this.core.manager.availableVersions(m.name).includes(version)) return;
      this.checkServable(m, version, verb);
      const left = deadline === undefined ? undefined : deadline - Date.now();
      if (left !== undefined && left <= 0) {
        throw unavailable(
          `Version ${version} of model ${m.name} could not be loaded within ${this.onDemandMaxWaitMs} ms (limit --on_demand_max_wait_ms=${this.onDemandMaxWaitMs}): ` +
            `the --max_loaded_versions=${this.maxLoadedVersions} slots hold versions with requests in flight, or the load is slow. Retry later.`,
        );
      }
      await this.nextChange(m.name, left, signal);
    }
  }

  private scheduleSync(m: ModelState): void {
    if (m.syncScheduled) return;
    m.syncScheduled = true;
    setImmediate(() => {
      m.syncScheduled = false;
      this.sync(m);
    });
  }

  /** Throws (NOT_FOUND or FAILED_PRECONDITION) when `version` cannot serve, saying why. */
  private checkServable(m: ModelState, version: number, verb: string): void {
    const row = this.requireVersionRow(m, version);
    const cannot = `Version ${version} of model ${m.name} cannot be ${verb}`;
    if (m.retired.has(version)) throw failedPrecondition(`${cannot}: it is retired.`);
    const found = m.found.get(version);
    if (!found) throw failedPrecondition(`${cannot}: its folder ${row.path} is missing or incomplete.`);
    if (m.failed.get(version) === found.fingerprint) {
      throw failedPrecondition(`${cannot}: it failed to load: ${row.error ?? 'unknown error'}`);
    }
    if (m.config.versionPolicyExplicit && !allowedVersions(this.candidates(m), m.config.versionPolicy).includes(version)) {
      throw failedPrecondition(`${cannot}: the model's version policy (${describePolicy(m.config.versionPolicy)}) does not serve it.`);
    }
  }

  private candidates(m: ModelState, exclude?: number): number[] {
    const out: number[] = [];
    for (const [version, v] of m.found) {
      if (version === exclude || m.retired.has(version) || m.failed.get(version) === v.fingerprint) continue;
      out.push(version);
    }
    return out;
  }

  private loadSetFor(m: ModelState, change: { pinned?: number; retire?: number } = {}) {
    // In use: reserved by a registry change, requests in flight, or requests waiting on a version that has its slot.
    const held = new Set(m.holds.keys());
    if (m.rollout?.state === 'running') for (const v of [m.rollout.stable, m.rollout.candidate]) if (m.found.has(v) && !m.retired.has(v)) held.add(v);
    for (const v of this.core.manager.availableVersions(m.name)) if (this.core.manager.inFlight(m.name, v) > 0) held.add(v);
    const waiting: number[] = [];
    for (const v of m.demand.keys()) (m.loadSet.includes(v) ? held.add(v) : waiting.push(v));
    // The version serving here stays loaded until the target takes over.
    if (m.served !== undefined && m.served !== m.target && !m.retired.has(m.served) && m.found.has(m.served)) held.add(m.served);
    return computeLoadSet({
      held: [...held],
      waiting,
      candidates: this.candidates(m, change.retire),
      explicitPolicy: m.config.versionPolicyExplicit ? m.config.versionPolicy : undefined,
      pinned: 'pinned' in change ? change.pinned : m.pinned,
      active: m.active,
      previous: m.previous,
      recent: [...m.recent.keys()],
      maxLoaded: this.maxLoadedVersions,
    });
  }

  /** Tells the manager what to keep loaded now. */
  private sync(m: ModelState): void {
    if (this.stopping || this.models.get(m.name) !== m) return;
    if (m.syncing) {
      m.syncAgain = true;
      return;
    }
    m.syncing = true;
    try {
      do {
        m.syncAgain = false;
        const set = this.loadSetFor(m);
        for (const v of set.evicted) m.recent.delete(v);
        if (m.lastUsed !== undefined && !m.recent.has(m.lastUsed)) m.lastUsed = undefined;
        m.target = set.target;
        m.loadSet = set.load;
        m.overCapacity = set.load.length > this.maxLoadedVersions;
        this.core.manager.setAspiredVersions(m.name, set.load.map((v) => m.found.get(v)!));
      } while (m.syncAgain);
    } finally {
      m.syncing = false;
    }
    this.notify(m.name);
  }

  private async setPin(m: ModelState, version: number, actor: string, kind: EventKind, detail: string): Promise<void> {
    // The pin first, then its event: of two racing pins, the later event is the pin that stays.
    await this.write(m.name, async (tx) => {
      await tx.setPin(m.name, version, actor);
      await this.event(tx, m, version, kind, actor, detail);
    });
    m.pinned = version;
    this.sync(m);
    this.updateActive(m);
  }

  /** Records a change of the version answering requests that name none. */
  private updateActive(m: ModelState): void {
    const current = this.chooseDefault(m.name, this.core.manager.availableVersions(m.name));
    // Only once the intended version serves: not while, say, a pinned version is still loading at startup.
    if (current === undefined || current === m.active || current !== m.target) return;
    // Shared store: another replica may know a newer version this one has not found or loaded yet;
    // the newest is never moved back unless that version was retired or removed (a pin moves it anywhere).
    if (this.store.kind !== 'sqlite' && m.pinned !== current && m.active !== undefined && current < m.active) {
      const newer = m.rows.get(m.active);
      if (newer && !newer.retired && newer.state !== 'REMOVED') return;
    }
    const was = m.active;
    if (was !== undefined) m.previous = was;
    m.active = current;
    const previous = m.previous ?? null;
    const why = m.pinned === current ? 'pinned' : 'newest';
    this.background(m.name, `the active version of model ${m.name}`, async (tx) => {
      // Only if nobody moved it meanwhile (another replica may have recorded the same switch first): one switch, one event.
      if (await tx.setActiveVersions(m.name, current, previous, { active: was ?? null })) {
        await this.event(tx, m, current, 'activated', this.serverActor, `version ${current} (${why}) answers requests naming no version${was !== undefined ? `; was ${was}` : ''}`);
      } else if (this.store.kind !== 'sqlite') {
        setImmediate(() => this.scheduleRefresh(m.name));
      }
    });
    this.sync(m);
  }

  /** Records a manager transition; a failing write is logged, never thrown into the manager. */
  private onState(s: ServableState): void {
    try {
      this.recordState(s);
    } catch (e) {
      this.log.error(`Registry could not record ${s.state} of version ${s.version} of model ${s.name}: ${(e as Error).message}`);
    }
  }

  private recordState(s: ServableState): void {
    if (this.stopping) return;
    const m = this.models.get(s.name);
    if (!m) return;
    const before = m.states.get(s.version);
    m.states.set(s.version, s.state);
    const row = m.rows.get(s.version);
    const what = `${s.state} of version ${s.version} of model ${s.name}`;
    switch (s.state) {
      case 'LOADING': {
        const update = row && row.state !== 'AVAILABLE' ? { state: 'LOADING' as const, error: null } : undefined;
        if (update) this.patchRow(m, s.version, update);
        this.background(s.name, what, async (tx) => {
          if (update) await tx.updateVersion(s.name, s.version, update);
          await this.event(tx, m, s.version, 'loading', this.serverActor, `loading ${row?.path ?? ''}`.trim());
        });
        break;
      }
      case 'AVAILABLE': {
        const update = { state: 'AVAILABLE' as const, error: null, loadedAt: new Date(s.time).toISOString() };
        this.patchRow(m, s.version, update);
        this.background(s.name, what, async (tx) => {
          await tx.updateVersion(s.name, s.version, update);
          await this.event(tx, m, s.version, 'available', this.serverActor, 'loaded');
        });
        this.recordSignatures(m, s.version);
        this.updateActive(m);
        break;
      }
      case 'UNLOADING':
        this.updateActive(m);
        break;
      case 'END':
        if (s.status.code !== 'OK') {
          m.failed.set(s.version, m.found.get(s.version)?.fingerprint ?? '');
          const update = { state: 'FAILED' as const, error: `${s.status.code}: ${s.status.message}` };
          this.patchRow(m, s.version, update);
          this.background(s.name, what, async (tx) => {
            await tx.updateVersion(s.name, s.version, update);
            await this.event(tx, m, s.version, 'failed', this.serverActor, update.error);
          });
          this.sync(m);
        } else if (before === 'UNLOADING') {
          this.background(s.name, what, (tx) => this.event(tx, m, s.version, 'unloaded', this.serverActor, 'unloaded'));
          if (m.loadSet.includes(s.version)) this.sync(m);
        }
        break;
      default:
        break;
    }
    this.notify(m.name);
  }

  private recordSignatures(m: ModelState, version: number): void {
    if ((m.signatures.get(version)?.length ?? 0) > 0) return;
    try {
      const handle = this.core.manager.getHandle(m.name, { kind: 'specific', version });
      try {
        const rows = signatureRows(handle.model.signatures);
        m.signatures.set(version, rows);
        this.background(m.name, `the signatures of version ${version} of model ${m.name}`, (tx) => tx.setSignatures(m.name, version, rows));
      } finally {
        handle.release();
      }
    } catch (e) {
      this.log.warn(`Could not record the signatures of version ${version} of model ${m.name}: ${toStatusError(e).message}`);
    }
  }

  /** Computes size and sha256 of a discovered version's files in the background. */
  private digest(m: ModelState, v: AspiredVersion): void {
    // A version on object storage has the digest its marker recorded (none without a marker).
    const digest = isObjectStoreUrl(v.dir) ? Promise.resolve(this.core.objectStore?.digestOf(v.dir)) : digestFolder(v.dir);
    const done: Promise<void> = digest
      .then(async (d) => {
        if (!d) return;
        const row = m.rows.get(v.version);
        if (!row || row.fingerprint !== v.fingerprint) return;
        const update = { sha256: d.sha256, sizeBytes: d.sizeBytes };
        this.patchRow(m, v.version, update);
        await this.write(m.name, (tx) => tx.updateVersion(m.name, v.version, update));
      })
      .catch((e) => this.log.warn(`Could not hash version ${v.version} of model ${m.name}: ${(e as Error).message}`))
      .finally(() => this.digests.delete(done));
    this.digests.add(done);
  }

  /**
   * Deletes a version's folder crash-consistently: a pending move is
   * committed, the folder is renamed to a .purged-* name (parent synced), the
   * version is marked REMOVED with the move finished in one commit, then the
   * renamed folder is deleted (registry/recovery.ts finishes or undoes each step).
   */
  private async purge(m: ModelState, row: VersionRow, actor: string): Promise<void> {
    const dir = m.found.get(row.version)?.dir ?? row.path;
    const trash = path.join(path.dirname(dir), `.purged-${row.version}-${randomBytes(4).toString('hex')}`);
    m.purging.add(row.version);
    try {
      const move = await this.write(m.name, (tx) =>
        tx.addPendingMove({ kind: 'purge', model: m.name, version: row.version, source: dir, target: trash, detail: { actor, eventDetail: `deleted ${dir}`, replica: this.replicaId } }),
      );
      await this.crashAt('purge:recorded');
      try {
        if (isObjectStoreUrl(dir)) await this.deleteFromObjectStore(dir);
        else await durableRename(dir, trash);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
          await this.write(m.name, (tx) => tx.deletePendingMove(move.id));
          throw internal(`Could not delete ${dir}: ${(e as Error).message}`);
        }
      }
      await this.crashAt('purge:moved');
      m.found.delete(row.version);
      await this.write(m.name, async (tx) => {
        await tx.updateVersion(m.name, row.version, { state: 'REMOVED' });
        await this.event(tx, m, row.version, 'purged', actor, move.detail.eventDetail);
        await tx.deletePendingMove(move.id);
      });
      this.patchRow(m, row.version, { state: 'REMOVED' });
      await this.crashAt('purge:committed');
      await removeTree(trash).catch((e) => this.log.warn(`Could not delete ${trash} (deleted at the next start): ${(e as Error).message}`));
      this.sync(m);
      // Let a poll that listed the folder before it went finish unheard; the next one sees it gone.
      await this.core.pollNow();
    } finally {
      m.purging.delete(row.version);
    }
  }

  /** Purge on object storage: the version's objects are deleted (the marker first); its cache entry goes at the next poll. */
  private async deleteFromObjectStore(url: string): Promise<void> {
    if (!this.core.objectStore) throw internal(`${url} is on object storage, which this server was started without.`);
    await this.core.objectStore.deleteVersion(url).catch((e) => {
      throw internal(toStatusError(e).message);
    });
  }

  /** Runs the crash hook at `point` (a test's hook may never return, as a killed process never does). */
  private async crashAt(point: CrashPoint): Promise<void> {
    if (this.crashHook) await this.crashHook(point);
  }

  private loadModelState(config: ModelConfig): ModelState {
    const known = this.known.get(config.name);
    const m: ModelState = {
      name: config.name,
      config,
      origin: known?.model.origin ?? 'config',
      rows: new Map(),
      signatures: new Map(),
      labelSources: new Map(),
      found: new Map(),
      reported: false,
      purging: new Set(),
      recent: new Map(),
      lastUsed: undefined,
      pinned: undefined,
      active: undefined,
      previous: undefined,
      retired: new Set(),
      failed: new Map(),
      labels: new Map(),
      states: new Map(),
      demand: new Map(),
      holds: new Map(),
      waitingRequests: 0,
      overCapacity: false,
      syncScheduled: false,
      loadSet: [],
      target: undefined,
      served: undefined,
      syncing: false,
      syncAgain: false,
      rollout: undefined,
    };
    if (known) this.applySnapshot(m, known);
    return m;
  }

  /** Sets what the store holds about `m` (the rest of its state is this process's own). */
  private applySnapshot(m: ModelState, snap: ModelSnapshot): void {
    m.origin = snap.model.origin;
    m.active = snap.model.activeVersion ?? undefined;
    m.previous = snap.model.previousVersion ?? undefined;
    m.pinned = snap.pin?.version;
    m.rows = new Map(snap.versions.map((r) => [r.version, r]));
    m.signatures = new Map(snap.signatures);
    m.retired = new Set(snap.versions.filter((r) => r.retired).map((r) => r.version));
    m.labels = new Map(snap.labels.map((l) => [l.label, l.version]));
    m.labelSources = new Map(snap.labels.map((l) => [l.label, l.source]));
    m.rollout = snap.rollout;
  }

  /** Config-file version_labels become registry labels, unless the API has set that label since; returns those to record. */
  private configLabels(m: ModelState): { m: ModelState; label: string; version: number }[] {
    const out: { m: ModelState; label: string; version: number }[] = [];
    for (const [label, version] of Object.entries(m.config.versionLabels)) {
      if (m.labelSources.get(label) === 'api' || (m.labels.get(label) === version && m.labelSources.has(label))) continue;
      m.labels.set(label, version);
      m.labelSources.set(label, 'config');
      out.push({ m, label, version });
    }
    return out;
  }

  private versionInfo(m: ModelState, r: VersionRow): VersionInfo {
    return {
      model: r.model,
      version: r.version,
      path: r.path,
      state: r.state,
      error: r.error,
      source: r.source,
      createdAt: r.createdAt,
      loadedAt: r.loadedAt,
      sizeBytes: r.sizeBytes,
      sha256: r.sha256,
      retired: r.retired,
      retiredAt: r.retiredAt,
      loaded: this.core.manager.availableVersions(m.name).includes(r.version),
      labels: [...m.labels].filter(([, v]) => v === r.version).map(([l]) => l).sort(),
      signatures: m.signatures.get(r.version) ?? [],
      metadata: r.metadata,
    };
  }

  private async event(tx: StoreTx, m: ModelState, version: number | undefined, kind: EventKind, actor: string, detail: string): Promise<void> {
    await tx.addEvent({ model: m.name, version: version ?? null, kind, actor, detail });
  }

  // ------------------------------------------- the store, and its copy in memory

  /** Reads every model's rows (before the core first asks). */
  private async loadKnown(): Promise<void> {
    this.lastEventId = await this.newestEventId();
    this.known = await this.store.loadSnapshot();
  }

  private async newestEventId(): Promise<number> {
    return (await this.store.changesSince(0)).lastEventId;
  }

  /** On a shared store: hears other replicas' commits at once, and polls for any the change feed missed. */
  private async follow(): Promise<void> {
    await this.store.watch(
      (name) => this.scheduleRefresh(name),
      () => {
        // The feed was cut: whatever changed meanwhile is found by the next poll; refresh every model now anyway.
        for (const name of this.models.keys()) this.scheduleRefresh(name);
      },
    );
    if (this.refreshIntervalMs > 0) {
      this.refreshTimer = setInterval(() => void this.poll(), this.refreshIntervalMs);
      this.refreshTimer.unref();
    }
  }

  private polling = false;

  /** Refreshes the models with history newer than the last poll (every change that matters to serving writes an event). */
  private async poll(): Promise<void> {
    if (this.polling || this.stopping) return;
    this.polling = true;
    try {
      const changes = await this.store.changesSince(this.lastEventId);
      this.lastEventId = changes.lastEventId;
      for (const name of changes.models) this.scheduleRefresh(name);
    } catch (e) {
      this.log.warn(`Registry could not look for changes made by other replicas (retrying): ${(e as Error).message}`);
    } finally {
      this.polling = false;
    }
  }

  private readonly refreshAgain = new Set<string>();

  /** Re-reads `name` from the store soon (one refresh at a time per model; a request during one runs another after it). */
  private scheduleRefresh(name: string): void {
    if (this.stopping) return;
    if (this.refreshing.has(name)) {
      this.refreshAgain.add(name);
      return;
    }
    const run = this.refresh(name)
      .catch((e) => this.log.warn(`Registry could not reload model ${name} from the store (retrying at the next change or poll): ${(e as Error).message}`))
      .finally(() => {
        this.refreshing.delete(name);
        if (this.refreshAgain.delete(name)) this.scheduleRefresh(name);
      });
    this.refreshing.set(name, run);
  }

  /** Shared store: brings `name` up to date with the store before a change is decided (other replicas may have changed it). */
  private async current(name: string): Promise<void> {
    if (this.store.kind === 'sqlite' || !this.models.has(name)) return;
    await this.refresh(name);
  }

  /**
   * Reads `name` from the store and serves what it says (pin, labels,
   * retired versions, active/previous). A read that overlapped a write of
   * ours is stale: it is thrown away and read again.
   */
  private async refresh(name: string): Promise<void> {
    for (let attempt = 0; !this.stopping; attempt++) {
      if ((this.writesPending.get(name) ?? 0) > 0) {
        await this.writesDone();
        continue;
      }
      const made = this.writesMade.get(name) ?? 0;
      const snap = (await this.store.loadSnapshot([name])).get(name);
      if ((this.writesMade.get(name) ?? 0) !== made || (this.writesPending.get(name) ?? 0) > 0 || this.stopping) {
        // Our own write overlapped the read: read again (after a pause that grows, so a busy model is caught between writes).
        await new Promise((r) => setTimeout(r, Math.min(5 * 2 ** attempt, 200)));
        continue;
      }
      if (!snap) return;
      this.known.set(name, snap);
      const m = this.models.get(name);
      if (m) {
        this.applySnapshot(m, snap);
        this.sync(m);
        this.updateActive(m);
        this.notify(name);
      } else if (snap.model.origin === 'uploaded') {
        // A model created by an upload through another replica: serve it here too.
        await this.core.refreshModels();
      }
      return;
    }
  }

  /**
   * Queues a transaction after every write made before it (so writes commit
   * in the order they were made); `models` are those it changes.
   */
  private write<T>(models: string | readonly string[], fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    const names = typeof models === 'string' ? [models] : [...models];
    for (const n of names) {
      this.writesMade.set(n, (this.writesMade.get(n) ?? 0) + 1);
      this.writesPending.set(n, (this.writesPending.get(n) ?? 0) + 1);
    }
    const run = this.writeTail.then(() => this.store.transaction(fn));
    this.writeTail = run.catch(() => undefined);
    const done = () => {
      for (const n of names) {
        const left = (this.writesPending.get(n) ?? 1) - 1;
        if (left > 0) this.writesPending.set(n, left);
        else this.writesPending.delete(n);
      }
    };
    run.then(done, done);
    return run;
  }

  /** A write nobody waits for (the manager's and the watcher's reports): a failure is logged. */
  private background(models: string | readonly string[], what: string, fn: (tx: StoreTx) => Promise<unknown>): void {
    this.write(models, fn).catch((e) => this.log.error(`Registry could not record ${what}: ${(e as Error).message}`));
  }

  /** Resolves once every write made so far has committed (or failed). */
  private async writesDone(): Promise<void> {
    let tail: Promise<unknown>;
    do {
      tail = this.writeTail;
      await tail;
    } while (tail !== this.writeTail);
  }

  private patchRow(m: ModelState, version: number, update: VersionUpdate): void {
    const row = m.rows.get(version);
    if (row) m.rows.set(version, { ...row, ...update });
  }

  /** A model's version rows, highest first. */
  private rowsOf(m: ModelState): VersionRow[] {
    return [...m.rows.values()].sort((a, b) => b.version - a.version);
  }

  /** Records in memory what upsertModel wrote (a new model, or a new base path; the origin is kept). */
  private rememberModel(row: { name: string; basePath: string; origin: ModelOrigin }): void {
    const known = this.known.get(row.name);
    if (known) known.model = { ...known.model, basePath: row.basePath };
    else {
      this.known.set(row.name, {
        model: { name: row.name, basePath: row.basePath, origin: row.origin, activeVersion: null, previousVersion: null, createdAt: new Date().toISOString() },
        versions: [],
        signatures: new Map(),
        labels: [],
        pin: undefined,
      });
    }
  }

  /** Records in memory an uploaded version's row (and its model's, which the upload may have created). */
  private rememberVersion(model: ModelRow, row: VersionRow, signatures: SignatureRow[]): void {
    const known = this.known.get(model.name);
    if (known) {
      known.model = model;
      known.versions = [row, ...known.versions.filter((v) => v.version !== row.version)].sort((a, b) => b.version - a.version);
      known.signatures.set(row.version, signatures);
    } else {
      this.known.set(model.name, { model, versions: [row], signatures: new Map([[row.version, signatures]]), labels: [], pin: undefined });
    }
    const m = this.models.get(model.name);
    if (m) {
      m.origin = model.origin;
      m.rows.set(row.version, row);
      m.signatures.set(row.version, signatures);
    }
  }

  /** Forgets an upload undone before its folder moved: its row, and its model when the store no longer has it. */
  private async forgetVersion(name: string, version: number): Promise<void> {
    const m = this.models.get(name);
    m?.rows.delete(version);
    m?.signatures.delete(version);
    const snap = (await this.store.loadSnapshot([name]).catch(() => undefined))?.get(name);
    if (!snap) this.known.delete(name);
    else this.known.set(name, snap);
  }

  /** The store's view of `m`, as this process holds it (kept when `m` leaves the model list). */
  private snapshotOf(m: ModelState): ModelSnapshot {
    const created = this.known.get(m.name)?.model.createdAt ?? new Date().toISOString();
    return {
      model: { name: m.name, basePath: m.config.basePath, origin: m.origin, activeVersion: m.active ?? null, previousVersion: m.previous ?? null, createdAt: created },
      versions: this.rowsOf(m),
      signatures: new Map(m.signatures),
      labels: [...m.labels].map(([label, version]) => ({ model: m.name, label, version, source: m.labelSources.get(label) ?? 'api', updatedAt: '' })),
      pin: m.pinned === undefined ? undefined : { model: m.name, version: m.pinned, pinnedAt: '', actor: '' },
      rollout: m.rollout,
    };
  }

  private requireModel(name: string): ModelState {
    const m = this.models.get(name);
    if (!m) throw this.unknownModel(name);
    return m;
  }

  private unknownModel(name: string): StatusError {
    return notFound(`Model ${name} is not served by this server. Upload a version to create it.`);
  }

  private requireVersionRow(m: ModelState, version: number): VersionRow {
    const row = m.rows.get(version);
    if (!row) throw notFound(`Model ${m.name} has no version ${version}.`);
    return row;
  }

  /** Resolves on the next change of `name`'s versions, or after `timeoutMs`. */
  /** Resolves at the model's next change, after `timeoutMs`, or when `signal` aborts, whichever comes first. */
  private nextChange(name: string, timeoutMs?: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      let set = this.waiters.get(name);
      if (!set) this.waiters.set(name, (set = new Set()));
      if (timeoutMs === undefined && !signal) {
        set.add(resolve);
        return;
      }
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.waiters.get(name)?.delete(done);
        resolve();
      };
      const timer = timeoutMs === undefined ? undefined : setTimeout(done, timeoutMs);
      signal?.addEventListener('abort', done, { once: true });
      set.add(done);
    });
  }

  private notify(name: string): void {
    const set = this.waiters.get(name);
    if (!set) return;
    this.waiters.delete(name);
    for (const resolve of set) resolve();
  }

  /** Runs mutations of one model one at a time. */
  private async withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const before = this.locks.get(name) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const chained = before.then(() => mine);
    this.locks.set(name, chained);
    await before;
    try {
      return await fn();
    } finally {
      release();
      if (this.locks.get(name) === chained) this.locks.delete(name);
    }
  }
}
