// The JSON the server answers, as docs/openapi.yaml describes it
// (server/management/json.ts builds it; /v1 is TensorFlow Serving's REST API).

export type VersionState = 'DISCOVERED' | 'LOADING' | 'AVAILABLE' | 'FAILED' | 'REMOVED';

export interface TensorSpec {
  dtype: string;
  /** -1 for an unknown dimension; null for an unknown rank. */
  shape: number[] | null;
}

export interface Signature {
  method: string;
  inputs: Record<string, TensorSpec>;
  outputs: Record<string, TensorSpec>;
  /** Why it cannot run on this server (ops the runtime lacks); null when it can. */
  unavailable: string | null;
}

export interface Version {
  version: number;
  state: VersionState;
  error: string | null;
  source: 'discovered' | 'uploaded';
  created_at: string;
  loaded_at: string | null;
  size_bytes: number | null;
  sha256: string | null;
  retired: boolean;
  retired_at: string | null;
  loaded: boolean;
  labels: string[];
  path: string;
  signatures: Record<string, Signature>;
  metadata: VersionMetadata;
}

/** What a person records about a version (set at upload, changed with PATCH). */
export interface VersionMetadata {
  description: string | null;
  tags: Record<string, string>;
  metrics: Record<string, number>;
  /** Who made it, from where, which commit or run. */
  source: string | null;
}

/** PATCH /api/v1/models/{m}/versions/{v}: a JSON merge patch of the metadata (null clears or removes). */
export interface MetadataPatch {
  description?: string | null;
  source?: string | null;
  tags?: Record<string, string | null>;
  metrics?: Record<string, number | null>;
}

export interface TensorsDiff {
  added: Record<string, TensorSpec>;
  removed: Record<string, TensorSpec>;
  changed: Record<string, { before: TensorSpec; after: TensorSpec; dtype_changed: boolean; shape_changed: boolean }>;
}

export interface BreakingChange {
  kind: string;
  signature: string;
  tensor: string | null;
  renamed_to: string | null;
  message: string;
}

/** GET /api/v1/models/{m}/versions/{from}/diff/{to}. */
export interface SignatureDiff {
  model: string;
  from: number;
  to: number;
  identical: boolean;
  added: string[];
  removed: string[];
  changed: string[];
  signatures: Record<
    string,
    {
      status: 'added' | 'removed' | 'changed' | 'unchanged';
      method: { before: string; after: string } | null;
      unavailable: { before: string | null; after: string | null } | null;
      inputs: TensorsDiff;
      outputs: TensorsDiff;
    }
  >;
  /** What would break clients of `from` if `to` answered them. */
  breaking_changes: BreakingChange[];
}

export interface Model {
  name: string;
  base_path: string;
  origin: 'config' | 'uploaded';
  version_policy: string | null;
  active_version: number | null;
  previous_version: number | null;
  /** null when following the newest version. */
  pinned_version: number | null;
  labels: Record<string, number>;
  /** Inference requests per second over the last minute; null when the server does not measure it. */
  requests_per_second: number | null;
  versions: Version[];
}

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
  | 'rollout_started'
  | 'rollout_changed'
  | 'rollout_promoted'
  | 'rollout_aborted'
  | 'metadata_changed';

export interface RegistryEvent {
  id: number;
  time: string;
  model: string;
  version: number | null;
  kind: EventKind;
  actor: string;
  detail: string;
}

export interface EventsPage {
  events: RegistryEvent[];
  next_before: number | null;
}

/** GET /api/v1/access: may this browser (with its token) change the registry? */
export interface Access {
  admin_token_required: boolean;
  changes_allowed: boolean;
}

export interface ErrorBody {
  error: string;
  code?: string;
}

/** One chart line of GET /api/v1/models/{m}/stats: a value per bucket, aligned with ModelStats.times. */
export interface StatsSeries {
  requests: number[];
  /** Requests answered with any status but OK. */
  errors: number[];
  requests_per_second: number[];
  /** errors / requests; null for a bucket without requests. */
  error_rate: (number | null)[];
  p50_ms: (number | null)[];
  p99_ms: (number | null)[];
  protocols: Partial<Record<'rest' | 'grpc' | 'v2', { requests: number[]; errors: number[] }>>;
  /** The same figures over the whole window. */
  summary: { requests: number; errors: number; requests_per_second: number; error_rate: number | null; p50_ms: number | null; p99_ms: number | null };
}

/** GET /api/v1/models/{m}/stats: the last hour of a model's inference traffic in 10 s buckets. */
export interface ModelStats {
  model: string;
  resolution_seconds: number;
  window_seconds: number;
  /** Server time of the answer (epoch seconds); the last bucket ends here. */
  now: number;
  /** Start of each bucket (epoch seconds), oldest first. */
  times: number[];
  total: StatsSeries;
  /** Versions with requests in the window, ascending. */
  versions: (StatsSeries & { version: number })[];
  untracked_requests: number;
  /** The server's --stats_max_series; 0: it samples nothing. */
  max_series: number;
}

/** One side of a rollout over its guard-rail window (this replica's requests). */
export interface RolloutSide {
  version: number;
  requests: number;
  errors: number;
  error_rate: number | null;
  p50_ms: number | null;
  p99_ms: number | null;
}

/** A shadow rollout's comparison of the candidate's answers with the stable ones. */
export interface ShadowStats {
  requests: number;
  agreement: number | null;
  max_abs_diff: number | null;
  p50_ms: number | null;
  p99_ms: number | null;
  dropped: number;
  failed: number;
  queued: number;
  queue_limit: number;
}

export interface RolloutLimits {
  max_error_rate: number | null;
  max_p99_latency_ratio: number | null;
  min_requests: number;
}

/** GET /api/v1/models/{m}/rollout: the running rollout, or the last one that ended. */
export interface Rollout {
  model: string;
  stable: number;
  candidate: number;
  percent: number;
  mode: 'canary' | 'shadow';
  state: 'running' | 'promoted' | 'aborted';
  reason: string | null;
  limits: RolloutLimits | null;
  window_seconds: number;
  steps: number[] | null;
  step_seconds: number | null;
  started_at: string;
  changed_at: string;
  actor: string;
  revision: number;
  stats: { stable: RolloutSide | null; candidate: RolloutSide | null; shadow?: ShadowStats };
}

/** POST /api/v1/models/{m}/rollout. */
export interface RolloutRequest {
  version: number;
  percent?: number;
  mode?: 'canary' | 'shadow';
  limits?: Partial<RolloutLimits> | null;
  window_seconds?: number;
  steps?: number[] | null;
  step_seconds?: number | null;
  force?: boolean;
}

/** A version a replica holds, from its last heartbeat. */
export interface ReplicaVersion {
  model: string;
  version: number;
  /** The manager's state: START, LOADING, AVAILABLE, UNLOADING. */
  state: string;
  /** It answers the model's requests that name no version on that replica (absent from older replicas). */
  serving?: boolean;
}

/** GET /api/v1/replicas: a `modelhost serve` process sharing the registry. */
export interface Replica {
  id: string;
  /** The replica answering this request (the console's own server). */
  self: boolean;
  status: 'live' | 'gone' | 'stopped';
  address: string;
  started_at: string;
  last_seen: string;
  silent_ms: number;
  stopped_at: string | null;
  versions: ReplicaVersion[];
}
