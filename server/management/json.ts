/**
 * The management API's JSON bodies (snake_case, as docs/openapi.yaml
 * describes them), built from what the registry returns.
 */
import type { ModelInfo, VersionInfo } from '../../registry/registry.js';
import type { ReplicaInfo } from '../../registry/replicas.js';
import type { BreakingChange, SignaturesDiff, TensorsDiff } from '../../registry/signature_diff.js';
import type { EventRow, SignatureRow } from '../../registry/store.js';
import { metadataJson } from '../../registry/version_metadata.js';

function signaturesJson(signatures: readonly SignatureRow[]) {
  return Object.fromEntries(signatures.map((s) => [s.name, { method: s.method, inputs: s.inputs, outputs: s.outputs, unavailable: s.unavailable }]));
}

export function versionJson(v: VersionInfo) {
  return {
    version: v.version,
    state: v.state,
    error: v.error,
    source: v.source,
    created_at: v.createdAt,
    loaded_at: v.loadedAt,
    size_bytes: v.sizeBytes,
    sha256: v.sha256,
    retired: v.retired,
    retired_at: v.retiredAt,
    loaded: v.loaded,
    labels: v.labels,
    path: v.path,
    signatures: signaturesJson(v.signatures),
    metadata: metadataJson(v.metadata),
  };
}

function tensorsDiffJson(t: TensorsDiff) {
  return {
    added: t.added,
    removed: t.removed,
    changed: Object.fromEntries(t.changed.map((c) => [c.name, { before: c.before, after: c.after, dtype_changed: c.dtypeChanged, shape_changed: c.shapeChanged }])),
  };
}

/** GET /models/{m}/versions/{a}/diff/{b}: what changed from a to b, and what would break callers of a if b answered them. */
export function signatureDiffJson(model: string, from: number, to: number, diff: SignaturesDiff, breaking: readonly BreakingChange[]) {
  return {
    model,
    from,
    to,
    identical: diff.identical,
    added: diff.added,
    removed: diff.removed,
    changed: diff.changed,
    signatures: Object.fromEntries(
      diff.signatures.map((s) => [
        s.name,
        { status: s.status, method: s.method ?? null, unavailable: s.unavailable ?? null, inputs: tensorsDiffJson(s.inputs), outputs: tensorsDiffJson(s.outputs) },
      ]),
    ),
    breaking_changes: breaking.map((b) => ({
      kind: b.kind,
      signature: b.signature,
      tensor: b.tensor ?? null,
      renamed_to: b.renamedTo ?? null,
      before: b.before ?? null,
      after: b.after ?? null,
      message: b.message,
    })),
  };
}

/** Inference requests per second of a model over a recent window (server/metrics.ts RequestRates). */
export type RequestsPerSecond = (model: string) => number;

/** `requestsPerSecond` unset (no metrics wired): `requests_per_second` is null. */
export function modelJson(m: ModelInfo, requestsPerSecond?: RequestsPerSecond) {
  return {
    name: m.name,
    base_path: m.basePath,
    origin: m.origin,
    version_policy: m.versionPolicy,
    active_version: m.activeVersion,
    previous_version: m.previousVersion,
    pinned_version: m.pinnedVersion,
    labels: m.labels,
    requests_per_second: requestsPerSecond ? Math.round(requestsPerSecond(m.name) * 1000) / 1000 : null,
    versions: m.versions.map(versionJson),
  };
}

export function eventJson(e: EventRow) {
  return { id: e.id, time: e.time, model: e.model, version: e.version, kind: e.kind, actor: e.actor, detail: e.detail };
}

/** A page of events, newest first; `next_before` fetches the next (older) page, null when there is none. */
export function eventsJson(events: readonly EventRow[], limit: number) {
  return { events: events.map(eventJson), next_before: events.length === limit && events.length > 0 ? events[events.length - 1].id : null };
}

/** A replica of the registry, from its last heartbeat (`self`: the replica answering). */
export function replicaJson(r: ReplicaInfo, self: string | undefined) {
  return {
    id: r.id,
    self: r.id === self,
    status: r.status,
    address: r.address,
    started_at: r.startedAt,
    last_seen: r.lastSeen,
    silent_ms: r.silentMs,
    stopped_at: r.stoppedAt,
    versions: r.versions,
  };
}
