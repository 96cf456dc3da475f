/**
 * The registry's durable truth: models, their versions (path, state, error,
 * sha256, size, times, source, retired), each version's signatures, labels,
 * pins, an append-only event history, the folder moves in progress
 * (pending_moves, see registry/recovery.ts) and the replicas' heartbeats.
 *
 * One interface, two stores (registry/open_store.ts picks one):
 *  - SqliteStore (registry/sqlite_store.ts): a file, the default; one process.
 *  - PostgresStore (registry/postgres_store.ts): a shared database, for any
 *    number of replicas; every commit is announced (LISTEN/NOTIFY) so the
 *    other replicas reload what changed.
 *
 * Reads are methods of the store; every write goes through `transaction`
 * (the types allow no other way), so a mutation and its history event
 * commit together or not at all. Concurrent writers on PostgreSQL are made
 * safe by unique keys and conditional writes: `insertVersionIfAbsent` and
 * `setActiveVersions(..., expected)` tell the caller whether it won, so a
 * race records one row and one event, never two.
 *
 * Only registry/registry.ts (and recovery at startup) writes here; every
 * other module reads through the Registry.
 *
 *   const store = await openRegistryStore({ path: './data/registry.db' });
 *   await store.transaction(async (tx) => {
 *     await tx.setPin('m', 1, 'api@127.0.0.1');
 *     await tx.addEvent({ model: 'm', version: 1, kind: 'pinned', actor: 'api@127.0.0.1' });
 *   });
 */
import type { VersionMetadata } from './version_metadata.js';

export type VersionState = 'DISCOVERED' | 'LOADING' | 'AVAILABLE' | 'FAILED' | 'REMOVED';
export type VersionSource = 'discovered' | 'uploaded';
export type ModelOrigin = 'config' | 'uploaded';
export type LabelSource = 'config' | 'api';

export type EventKind =
  | 'discovered'
  | 'loading'
  | 'available'
  | 'failed'
  | 'unloaded'
  | 'removed'
  | 'activated'
  | 'pinned'
  | 'unpinned'
  | 'rolled_back'
  | 'labelled'
  | 'unlabelled'
  | 'uploaded'
  | 'retired'
  | 'restored'
  | 'purged'
  | 'metadata_changed'
  | 'rollout_started'
  | 'rollout_changed'
  | 'rollout_promoted'
  | 'rollout_aborted';

export interface ModelRow {
  name: string;
  basePath: string;
  origin: ModelOrigin;
  activeVersion: number | null;
  previousVersion: number | null;
  createdAt: string;
}

export interface VersionRow {
  model: string;
  version: number;
  path: string;
  state: VersionState;
  error: string | null;
  sha256: string | null;
  sizeBytes: number | null;
  /** Cheap change detector of the folder's files (serving/version_dir.ts). */
  fingerprint: string | null;
  source: VersionSource;
  createdAt: string;
  loadedAt: string | null;
  retired: boolean;
  retiredAt: string | null;
  /** Description, tags, metrics and source (registry/version_metadata.ts). */
  metadata: VersionMetadata;
}

/** A tensor of a signature: TF dtype name ("DT_FLOAT") and shape (-1 unknown; null: unknown rank). */
export interface TensorDescription {
  dtype: string;
  shape: number[] | null;
}

export interface SignatureRow {
  name: string;
  method: string;
  inputs: Record<string, TensorDescription>;
  outputs: Record<string, TensorDescription>;
  /** Why the signature cannot run here (the ops the runtime lacks); null when it can. */
  unavailable: string | null;
}

export interface LabelRow {
  model: string;
  label: string;
  version: number;
  source: LabelSource;
  updatedAt: string;
}

export interface PinRow {
  model: string;
  version: number;
  pinnedAt: string;
  actor: string;
}

export interface EventRow {
  id: number;
  time: string;
  model: string;
  version: number | null;
  kind: EventKind;
  actor: string;
  detail: string;
}

export interface NewEvent {
  model: string;
  version?: number | null;
  kind: EventKind;
  actor: string;
  detail?: string;
}

/** How hard SQLite flushes a commit: 'full' (default) survives a power loss, 'normal' may lose the last commits then. */
export type SynchronousMode = 'full' | 'normal';
export const SYNCHRONOUS_MODES: readonly SynchronousMode[] = ['full', 'normal'];

export type PendingMoveKind = 'upload' | 'purge';

/** What finishing a move needs besides its folders. */
export interface PendingMoveDetail {
  actor: string;
  /** upload: false pins the version serving now when the upload lands. */
  activate?: boolean;
  /** upload: the base path was created for this upload (removed again when the upload is undone). */
  createdBasePath?: boolean;
  /** upload: the model row's origin before the upload, or null when the upload created it. */
  previousOrigin?: ModelOrigin | null;
  /** upload: the model row's base path before the upload (when it had a row). */
  previousBasePath?: string;
  /** The detail of the event recorded when the move is finished ('uploaded' / 'purged'). */
  eventDetail: string;
  /** On a shared store: the replica making the move (recovery leaves the moves of live replicas alone). */
  replica?: string;
  /** upload with activate=false: the version pinned when the upload was recorded (null: none was needed); absent in moves recorded before pins were made then. */
  pinned?: number | null;
}

export interface PendingMove {
  id: number;
  kind: PendingMoveKind;
  model: string;
  version: number;
  /** upload: the staged folder; purge: the version folder. */
  source: string;
  /** upload: {base_path}/{N}; purge: the .purged-* folder. */
  target: string;
  detail: PendingMoveDetail;
  createdAt: string;
}

/** Fields of a version row that change after it is recorded. */
export type VersionUpdate = Partial<
  Pick<VersionRow, 'path' | 'state' | 'error' | 'sha256' | 'sizeBytes' | 'fingerprint' | 'loadedAt' | 'retired' | 'retiredAt'>
>;



/** A replica's report of what it serves: a version and its manager state (START, LOADING, AVAILABLE, UNLOADING, END). */
export interface ReplicaVersion {
  model: string;
  version: number;
  state: string;
  /** This version answers the model's requests that name no version on that replica (absent in heartbeats of older replicas). */
  serving?: boolean;
}

/** A `modelhost serve` process sharing the registry, as its last heartbeat left it. */
export interface ReplicaRow {
  id: string;
  /** Where its REST API listens (as it knows itself: host:port). */
  address: string;
  startedAt: string;
  lastSeen: string;
  /** Milliseconds since the last heartbeat, measured by the store's clock (so replicas' clocks need not agree). */
  silentMs: number;
  /** Set when the replica stopped cleanly. */
  stoppedAt: string | null;
  versions: ReplicaVersion[];
}

export interface NewReplicaHeartbeat {
  id: string;
  address: string;
  startedAt: string;
  versions: readonly ReplicaVersion[];
}

/** Everything the registry keeps about one model, read at once (the Registry's in-memory copy). */
export interface ModelSnapshot {
  model: ModelRow;
  /** Highest first. */
  versions: VersionRow[];
  signatures: Map<number, SignatureRow[]>;
  labels: LabelRow[];
  pin: PinRow | undefined;
  /** The model's rollout, running or the last one that ended (absent: never had one). */
  rollout?: RolloutRow;
}

/** 'canary': a share of the requests naming no version go to the candidate; 'shadow': the candidate gets copies, clients get the stable version. */
export type RolloutMode = 'canary' | 'shadow';
export type RolloutState = 'running' | 'promoted' | 'aborted';

/** Guard rails of a rollout (registry/rollout/types.ts): null fields are not checked. */
export interface RolloutLimits {
  maxErrorRate: number | null;
  maxP99LatencyRatio: number | null;
  minRequests: number;
}

/** A model's rollout (one row per model: the running one, or the last one that ended). */
export interface RolloutRow {
  model: string;
  stable: number;
  candidate: number;
  /** Share (0..100) of the requests naming no version that the candidate answers (canary) or gets a copy of (shadow). */
  percent: number;
  mode: RolloutMode;
  state: RolloutState;
  /** Why it ended (aborted: who or which limit, with the figures). */
  reason: string | null;
  limits: RolloutLimits | null;
  windowSeconds: number;
  /** Automatic percentages, in order, each held stepSeconds while within limits; null: none. */
  steps: number[] | null;
  stepSeconds: number | null;
  /** Bumped by every change: conditional writes (putRollout's expectedRevision) let one replica win a race. */
  revision: number;
  startedAt: string;
  /** When the percentage (or state) last changed: automatic steps count from here. */
  changedAt: string;
  actor: string;
}

export interface NewVersion {
  model: string;
  version: number;
  path: string;
  source: VersionSource;
  state?: VersionState;
  sha256?: string | null;
  sizeBytes?: number | null;
  fingerprint?: string | null;
  /** Set at upload (default: empty). */
  metadata?: VersionMetadata;
}

/** What either store reads, inside or outside a transaction. */
export interface StoreReads {
  getModel(name: string): Promise<ModelRow | undefined>;
  listModels(): Promise<ModelRow[]>;
  getVersion(model: string, version: number): Promise<VersionRow | undefined>;
  /** A model's versions, highest first. */
  listVersions(model: string): Promise<VersionRow[]>;
  /** The highest version number ever recorded for a model (retired and removed ones included), or 0. */
  maxVersion(model: string): Promise<number>;
  getSignatures(model: string, version: number): Promise<SignatureRow[]>;
  listLabels(model: string): Promise<LabelRow[]>;
  getLabel(model: string, label: string): Promise<LabelRow | undefined>;
  getPin(model: string): Promise<PinRow | undefined>;
  /** Moves in progress, oldest first. */
  listPendingMoves(): Promise<PendingMove[]>;
  /** A model's events, newest first: at most `limit` (1..1000), only those with id < `before` when given. */
  listEvents(model: string, options?: { limit?: number; before?: number }): Promise<EventRow[]>;
  /** The named models (default: all) with their versions, signatures, labels and pin. */
  loadSnapshot(names?: readonly string[]): Promise<Map<string, ModelSnapshot>>;
  /** The models with events newer than `eventId`, and the newest event id (the polling side of `watch`). */
  changesSince(eventId: number): Promise<{ lastEventId: number; models: string[] }>;
  /** The model's rollout row (running or ended), if it ever had one. */
  getRollout(model: string): Promise<RolloutRow | undefined>;
  /** Replicas seen within `withinMs` (default: all ever recorded), most recently started first. */
  listReplicas(options?: { withinMs?: number }): Promise<ReplicaRow[]>;
}

/** Reads and writes inside one transaction. */
export interface StoreTx extends StoreReads {
  /** Records a model, or updates the base path of one already recorded (its origin is kept). */
  upsertModel(m: { name: string; basePath: string; origin: ModelOrigin }): Promise<ModelRow>;
  setModelOrigin(name: string, origin: ModelOrigin): Promise<void>;
  /** Removes a model that has no versions, labels, pin or events (a refused first upload). */
  deleteModelIfUnused(name: string): Promise<boolean>;
  /**
   * Sets the active and previous versions. With `expected`, only when the
   * active version is still `expected.active` (another replica may have moved
   * it first); returns whether it was written.
   */
  setActiveVersions(name: string, active: number | null, previous: number | null, expected?: { active: number | null }): Promise<boolean>;
  /** Inserts a version row; a row already there is an ALREADY_EXISTS StatusError. */
  insertVersion(v: NewVersion): Promise<VersionRow>;
  /** Inserts a version row unless one is there; true when this call inserted it. */
  insertVersionIfAbsent(v: NewVersion): Promise<boolean>;
  updateVersion(model: string, version: number, update: VersionUpdate): Promise<void>;
  /** Deletes a version row and its signatures (only for an upload whose files never landed). */
  deleteVersion(model: string, version: number): Promise<void>;
  setSignatures(model: string, version: number, signatures: readonly SignatureRow[]): Promise<void>;
  setLabel(model: string, label: string, version: number, source: LabelSource): Promise<void>;
  deleteLabel(model: string, label: string): Promise<boolean>;
  setPin(model: string, version: number, actor: string): Promise<void>;
  deletePin(model: string): Promise<boolean>;
  addPendingMove(m: { kind: PendingMoveKind; model: string; version: number; source: string; target: string; detail: PendingMoveDetail }): Promise<PendingMove>;
  /** True when this call deleted it (recoverers race for a lapsed replica's move: one wins). */
  deletePendingMove(id: number): Promise<boolean>;
  addEvent(e: NewEvent): Promise<EventRow>;
  /**
   * Writes a model's rollout row. With `expectedRevision`, only when the row
   * there still has that revision (another replica may have changed it
   * first); returns whether it was written.
   */
  putRollout(row: RolloutRow, expectedRevision?: number): Promise<boolean>;
  /** Records (or refreshes) a replica's heartbeat; `lastSeen` is the store's clock. */
  recordHeartbeat(r: NewReplicaHeartbeat): Promise<void>;
  markReplicaStopped(id: string): Promise<void>;
  /** Replaces a version's metadata (description, tags, metrics, source). */
  setVersionMetadata(model: string, version: number, metadata: VersionMetadata): Promise<void>;
}

export type StoreKind = 'sqlite' | 'postgresql';

export interface RegistryStore extends StoreReads {
  readonly kind: StoreKind;
  /** The SQLite file (or ':memory:'), or the PostgreSQL URL without its password. */
  readonly location: string;
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. Not reentrant. */
  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T>;
  /**
   * Calls `listener` with a model's name after another process committed a
   * change to it (PostgreSQL: LISTEN/NOTIFY; SQLite, one process: never).
   * `onReconnect` runs when the feed was interrupted and restored (changes
   * may have been missed: reload everything). Resolves once listening.
   */
  watch(listener: (model: string) => void, onReconnect?: () => void): Promise<void>;
  close(): Promise<void>;
}

export const MAX_EVENTS_PAGE = 1000;

/** Clamps a requested page of events to 1..MAX_EVENTS_PAGE (default 100). */
export function eventsLimit(limit: number | undefined): number {
  return Math.min(Math.max(Math.trunc(limit ?? 100), 1), MAX_EVENTS_PAGE);
}

/** The message of a second row for a version. */
export function versionExists(model: string, version: number): string {
  return `Model ${model} already has a version ${version}; version numbers are never reused.`;
}
