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
  | 'purged';

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
