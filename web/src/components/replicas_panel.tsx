// The `modelhost serve` replicas sharing this registry (GET /api/v1/replicas,
// from their heartbeats) and which version each one serves: live replicas
// first, then those gone (silent past --replica_lapse_ms); cleanly stopped
// ones are only counted. With `model`, only that model's versions are shown
// (and the panel only when more than one replica shares the registry).
import { api } from '../api/client.js';
import type { Replica, ReplicaVersion } from '../api/types.js';
import { formatFullTime } from '../lib/format.js';
import { usePoll } from '../lib/use_poll.js';

const REFRESH_MS = 2000;

function silence(ms: number): string {
  if (ms < 1000) return 'just now';
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s ago`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min ago`;
  return `${Math.round(ms / 3_600_000)} h ago`;
}

function StatusBadge({ status }: { status: Replica['status'] }) {
  const kind = status === 'live' ? 'available' : status === 'gone' ? 'failed' : 'muted';
  return <span class={`badge badge-${kind}`}>{status.toUpperCase()}</span>;
}

/** Versions grouped by model, models sorted, the serving version first. */
function byModel(versions: readonly ReplicaVersion[]): [string, ReplicaVersion[]][] {
  const out = new Map<string, ReplicaVersion[]>();
  for (const v of versions) out.set(v.model, [...(out.get(v.model) ?? []), v]);
  return [...out]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([m, vs]) => [m, [...vs].sort((a, b) => Number(b.serving ?? false) - Number(a.serving ?? false) || b.version - a.version)]);
}

function Serving({ replica, model }: { replica: Replica; model?: string }) {
  if (replica.status !== 'live') return <span class="help">–</span>;
  const groups = byModel(replica.versions).filter(([m]) => model === undefined || m === model);
  if (groups.length === 0) return <span class="help">nothing loaded</span>;
  return (
    <ul class="replica-models">
      {groups.map(([m, versions]) => {
        const serving = versions.find((v) => v.serving);
        const others = versions.filter((v) => v !== serving);
        return (
          <li key={m} data-model={m}>
            {model === undefined && <span class="replica-model">{m}</span>}{' '}
            {serving ? (
              <strong data-testid="replica-serving">v{serving.version}</strong>
            ) : (
              <span class="help" data-testid="replica-serving">
                no version serving
              </span>
            )}
            {others.length > 0 && (
              <span class="help">
                {' '}
                (also {others.map((v) => `v${v.version} ${v.state === 'AVAILABLE' ? 'loaded' : v.state.toLowerCase()}`).join(', ')})
              </span>
            )}
          </li>
        );
      })}
    </ul>
  );
}

export function ReplicasPanel({ model }: { model?: string }) {
  const { data, error } = usePoll(api.replicas, REFRESH_MS, []);
  const shown = (data ?? []).filter((r) => r.status !== 'stopped');
  const stopped = (data ?? []).length - shown.length;
  if (model !== undefined && shown.length < 2) return null;
  const live = shown.filter((r) => r.status === 'live').length;
  return (
    <section class="panel" aria-labelledby="replicas-heading">
      <h2 id="replicas-heading">Replicas</h2>
      <p class="help">
        {data === undefined
          ? 'Loading…'
          : `${live} live ${live === 1 ? 'replica' : 'replicas'} share this registry${shown.length > live ? `, ${shown.length - live} gone` : ''}${stopped > 0 ? `; ${stopped} stopped in the last day not shown` : ''}. Each says which version it serves${model === undefined ? ' for each model' : ''}.`}
      </p>
      {error && (
        <p class="form-error" role="alert">
          The replicas could not be loaded: {error.message}
        </p>
      )}
      {shown.length > 0 && (
        <div class="table-scroll">
          <table class="table table-stack replicas" data-testid="replicas">
            <caption class="visually-hidden">Replicas sharing this registry</caption>
            <thead>
              <tr>
                <th scope="col">Replica</th>
                <th scope="col">Status</th>
                <th scope="col">Serving</th>
                <th scope="col">Last heartbeat</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((r) => (
                <tr key={r.id} data-replica={r.id} data-status={r.status}>
                  <th scope="row" data-label="Replica">
                    <span class="replica-id">{r.id}</span>
                    {r.self && <span class="help"> (this server)</span>}
                    <div class="help replica-address">{r.address}</div>
                  </th>
                  <td data-label="Status">
                    <StatusBadge status={r.status} />
                  </td>
                  <td data-label="Serving">
                    <Serving replica={r} model={model} />
                  </td>
                  <td data-label="Last heartbeat">
                    <span title={formatFullTime(r.last_seen)}>{silence(r.silent_ms)}</span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
