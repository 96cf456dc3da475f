// The model's rollout: start one (canary with a percentage, or shadow),
// watch the candidate against the stable version over the guard-rail window
// (or the shadow comparison), change the percentage, promote or abort.
// Polls GET /api/v1/models/{m}/rollout; the Traffic charts below show the
// same requests per version.
import { useEffect, useId, useState } from 'preact/hooks';
import { api } from '../api/client.js';
import type { Model, Rollout, RolloutRequest, RolloutSide } from '../api/types.js';
import { errorMessage, formatAgo } from '../lib/format.js';
import { notify } from '../lib/notices.js';
import { usePoll } from '../lib/use_poll.js';
import { ConfirmDialog } from './dialog.js';

export const ROLLOUT_REFRESH_MS = 3000;

const ms = (v: number | null | undefined) => (v === null || v === undefined ? '–' : `${v < 10 ? v.toFixed(2) : Math.round(v)} ms`);
const pct = (v: number | null | undefined) => (v === null || v === undefined ? '–' : `${Math.round(v * 1000) / 10}%`);

function SideRow({ label, side }: { label: string; side: RolloutSide | null }) {
  return (
    <tr data-side={label}>
      <th scope="row" data-label="Side">
        {label}
        {side ? ` (v${side.version})` : ''}
      </th>
      <td class="num" data-label="Requests">
        {side?.requests ?? 0}
      </td>
      <td class="num" data-label="Errors">
        {side ? `${side.errors} (${pct(side.error_rate)})` : '–'}
      </td>
      <td class="num" data-label="p50">
        {ms(side?.p50_ms)}
      </td>
      <td class="num" data-label="p99">
        {ms(side?.p99_ms)}
      </td>
    </tr>
  );
}

function Running({ r, canChange, onChanged }: { r: Rollout; canChange: boolean; onChanged: () => void }) {
  const percentId = useId();
  const [percent, setPercent] = useState(String(r.percent));
  const [confirm, setConfirm] = useState<'promote' | 'abort' | undefined>();
  const [busy, setBusy] = useState(false);
  const change = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    try {
      await api.startRollout(r.model, { version: r.candidate, percent: Number(percent) });
      notify('success', `Version ${r.candidate} now gets ${percent}% of the requests.`);
      onChanged();
    } catch (err) {
      notify('error', errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  const shadow = r.stats.shadow;
  return (
    <>
      <p data-testid="rollout-status">
        {r.mode === 'shadow' ? (
          <>
            <strong>Shadowing</strong> v{r.candidate}: it gets copies of {r.percent}% of v{r.stable}'s requests; clients get v{r.stable}'s answers.
          </>
        ) : (
          <>
            <strong>Rolling out</strong> v{r.candidate} to <strong data-testid="rollout-percent">{r.percent}%</strong> of the requests naming no version; v{r.stable} answers
            the rest.
          </>
        )}{' '}
        <span class="help">
          Started {formatAgo(r.started_at)} by {r.actor}
          {r.limits
            ? `; aborts by itself past ${[
                r.limits.max_error_rate !== null ? `${pct(r.limits.max_error_rate)} errors` : '',
                r.limits.max_p99_latency_ratio !== null ? `${r.limits.max_p99_latency_ratio}× the stable p99` : '',
              ]
                .filter(Boolean)
                .join(' or ')} over ${r.window_seconds} s (from ${r.limits.min_requests} requests)`
            : '; no limits'}
          {r.steps ? `; steps ${r.steps.join('% → ')}% every ${r.step_seconds} s` : ''}.
        </span>
      </p>
      {r.mode === 'canary' && (
        <table class="table table-compact table-stack" data-testid="rollout-sides" aria-label={`Candidate and stable version over the last ${r.window_seconds} s`}>
          <thead>
            <tr>
              <th scope="col">Last {r.window_seconds} s</th>
              <th scope="col" class="num">
                Requests
              </th>
              <th scope="col" class="num">
                Errors
              </th>
              <th scope="col" class="num">
                p50
              </th>
              <th scope="col" class="num">
                p99
              </th>
            </tr>
          </thead>
          <tbody>
            <SideRow label="candidate" side={r.stats.candidate} />
            <SideRow label="stable" side={r.stats.stable} />
          </tbody>
        </table>
      )}
      {shadow && (
        <dl class="summary" data-testid="shadow-stats">
          <div>
            <dt>Compared</dt>
            <dd>{shadow.requests}</dd>
          </div>
          <div>
            <dt>Agreement</dt>
            <dd data-testid="shadow-agreement">{pct(shadow.agreement)}</dd>
          </div>
          <div>
            <dt>Max |difference|</dt>
            <dd>{shadow.max_abs_diff ?? '–'}</dd>
          </div>
          <div>
            <dt>Candidate p50 / p99</dt>
            <dd>
              {ms(shadow.p50_ms)} / {ms(shadow.p99_ms)}
            </dd>
          </div>
          <div>
            <dt>Dropped / failed</dt>
            <dd title={`Copies are dropped while ${shadow.queue_limit} wait (--rollout_shadow_queue)`}>
              {shadow.dropped} / {shadow.failed}
            </dd>
          </div>
        </dl>
      )}
      <div class="button-row rollout-actions">
        {r.mode === 'canary' && (
          <form class="field field-inline" onSubmit={change}>
            <label for={percentId}>Percentage</label>
            <input id={percentId} type="number" min="0" max="100" step="0.01" value={percent} onInput={(e) => setPercent(e.currentTarget.value)} disabled={!canChange} />
            <button type="submit" class="button button-small" disabled={!canChange || busy || Number(percent) === r.percent}>
              Apply
            </button>
          </form>
        )}
        <button type="button" class="button button-small button-primary" disabled={!canChange} onClick={() => setConfirm('promote')}>
          Promote v{r.candidate}
        </button>
        <button type="button" class="button button-small button-danger-outline" disabled={!canChange} onClick={() => setConfirm('abort')}>
          Abort
        </button>
      </div>
      <ConfirmDialog
        open={confirm !== undefined}
        title={confirm === 'promote' ? `Promote version ${r.candidate}?` : `Abort the rollout of version ${r.candidate}?`}
        description={
          <p>
            {confirm === 'promote'
              ? `Version ${r.candidate} will answer every request that names no version.`
              : `Version ${r.stable} will answer every request that names no version again.`}
          </p>
        }
        confirmLabel={confirm === 'promote' ? 'Promote' : 'Abort rollout'}
        danger={confirm === 'abort'}
        onClose={() => setConfirm(undefined)}
        onConfirm={async () => {
          const done = confirm === 'promote' ? await api.promoteRollout(r.model) : await api.abortRollout(r.model);
          notify('success', done.state === 'promoted' ? `Version ${done.candidate} promoted.` : `Rollout aborted: version ${done.stable} serves.`);
          onChanged();
        }}
      />
    </>
  );
}

function StartForm({ model, canChange, onChanged }: { model: Model; canChange: boolean; onChanged: () => void }) {
  const ids = { version: useId(), mode: useId(), percent: useId(), errors: useId(), p99: useId(), window: useId(), force: useId() };
  const choices = model.versions.filter((v) => v.version !== model.active_version && !v.retired && v.state !== 'REMOVED' && v.state !== 'FAILED');
  const [version, setVersion] = useState('');
  const [mode, setMode] = useState<'canary' | 'shadow'>('canary');
  const [percent, setPercent] = useState('10');
  const [maxErrors, setMaxErrors] = useState('');
  const [maxP99, setMaxP99] = useState('');
  const [windowSeconds, setWindowSeconds] = useState('60');
  const [force, setForce] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const chosen = version || (choices[0] ? String(choices[0].version) : '');
  if (model.active_version === null || choices.length === 0) {
    return <p class="help">A rollout needs a serving version and another version to try; upload one with “activate” off.</p>;
  }
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    const request: RolloutRequest = { version: Number(chosen), mode, percent: Number(percent) };
    if (mode === 'canary' && (maxErrors !== '' || maxP99 !== '')) {
      request.limits = {
        max_error_rate: maxErrors === '' ? null : Number(maxErrors) / 100,
        max_p99_latency_ratio: maxP99 === '' ? null : Number(maxP99),
      };
      request.window_seconds = Number(windowSeconds);
    }
    if (force) request.force = true;
    try {
      const r = await api.startRollout(model.name, request);
      notify('success', `Rollout of version ${r.candidate} started.`);
      onChanged();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="rollout-form" onSubmit={submit} aria-label="Start a rollout">
      <div class="field field-inline">
        <label for={ids.version}>Candidate</label>
        <select id={ids.version} value={chosen} onChange={(e) => setVersion(e.currentTarget.value)} disabled={!canChange}>
          {choices.map((v) => (
            <option key={v.version} value={String(v.version)}>
              v{v.version}
            </option>
          ))}
        </select>
      </div>
      <div class="field field-inline">
        <label for={ids.mode}>Mode</label>
        <select id={ids.mode} value={mode} onChange={(e) => setMode(e.currentTarget.value as 'canary' | 'shadow')} disabled={!canChange}>
          <option value="canary">Canary: a share of the requests</option>
          <option value="shadow">Shadow: copies, compared</option>
        </select>
      </div>
      <div class="field field-inline">
        <label for={ids.percent}>Percentage</label>
        <input id={ids.percent} type="number" min="0" max="100" step="0.01" required value={percent} onInput={(e) => setPercent(e.currentTarget.value)} disabled={!canChange} />
      </div>
      {mode === 'canary' && (
        <>
          <div class="field field-inline">
            <label for={ids.errors}>Abort above errors (%)</label>
            <input id={ids.errors} type="number" min="0" max="100" step="0.1" placeholder="none" value={maxErrors} onInput={(e) => setMaxErrors(e.currentTarget.value)} disabled={!canChange} />
          </div>
          <div class="field field-inline">
            <label for={ids.p99}>Abort above p99 ×</label>
            <input id={ids.p99} type="number" min="0" step="0.1" placeholder="none" value={maxP99} onInput={(e) => setMaxP99(e.currentTarget.value)} disabled={!canChange} />
          </div>
          <div class="field field-inline">
            <label for={ids.window}>Window (s)</label>
            <input id={ids.window} type="number" min="5" max="3600" step="1" value={windowSeconds} onInput={(e) => setWindowSeconds(e.currentTarget.value)} disabled={!canChange} />
          </div>
        </>
      )}
      <div class="field-check">
        <input id={ids.force} type="checkbox" checked={force} onChange={(e) => setForce(e.currentTarget.checked)} disabled={!canChange} />
        <label for={ids.force}>Even if its signatures break callers</label>
      </div>
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" class="button button-primary" disabled={!canChange || busy} aria-busy={busy}>
        Start rollout
      </button>
    </form>
  );
}

interface PanelProps {
  model: Model;
  canChange: boolean;
  onChanged: () => void;
  /** Told "state/revision" of the rollout each time it changes (the history refreshes on it). */
  onRevision?: (revision: string) => void;
}

export function RolloutPanel({ model, canChange, onChanged, onRevision }: PanelProps) {
  const headingId = useId();
  const { data: rollout, error, reload } = usePoll(() => api.rollout(model.name), ROLLOUT_REFRESH_MS, [model.name]);
  const revision = rollout ? `${rollout.state}/${rollout.revision}` : '';
  useEffect(() => onRevision?.(revision), [revision]);
  const changed = () => {
    void reload();
    onChanged();
  };
  const running = rollout?.state === 'running' ? rollout : undefined;
  return (
    <section class="panel rollout-panel" aria-labelledby={headingId} data-testid="rollout" data-state={rollout?.state ?? 'none'}>
      <div class="panel-head">
        <h2 id={headingId}>Rollout</h2>
      </div>
      {error && rollout === undefined && (
        <p class="form-error" role="alert">
          The rollout could not be loaded: {error.message}
        </p>
      )}
      {running && <Running key={running.revision} r={running} canChange={canChange} onChanged={changed} />}
      {rollout !== undefined && !running && (
        <>
          {rollout && (
            <p data-testid="rollout-ended">
              The last rollout, of v{rollout.candidate}, was <strong>{rollout.state}</strong> {formatAgo(rollout.changed_at)}: {rollout.reason}
            </p>
          )}
          <StartForm model={model} canChange={canChange} onChanged={changed} />
        </>
      )}
    </section>
  );
}
