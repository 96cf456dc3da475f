// A model's versions with what an operator does to them: pin, unpin, roll
// back, label, retire (roll back and retire ask first), restore a retired one.
import { useId, useState } from 'preact/hooks';
import { api } from '../api/client.js';
import type { Model, Version } from '../api/types.js';
import { errorMessage, formatBytes, formatFullTime, formatTime } from '../lib/format.js';
import { isValidName, NAME_HINT } from '../lib/names.js';
import { notify } from '../lib/notices.js';
import { LabelChip, Mark, StateBadge } from './badges.js';
import { ConfirmDialog, Modal } from './dialog.js';
import { PinDialog } from './pin_dialog.js';
import { SignatureDiffPanel } from './signature_diff_view.js';
import { Link, versionHref } from '../router.js';

interface Props {
  model: Model;
  /** False when this browser may not change the registry (read-only). */
  canChange: boolean;
  onChanged: () => void;
}

type Pending = { kind: 'rollback'; version: number } | { kind: 'retire'; version: Version } | { kind: 'label'; version: number } | { kind: 'pin'; version: number };

export function VersionsTable({ model, canChange, onChanged }: Props) {
  const headingId = useId();
  const [busy, setBusy] = useState<string | undefined>();
  const [pending, setPending] = useState<Pending | undefined>();
  const [purge, setPurge] = useState(false);
  const purgeId = useId();

  const act = async (key: string, run: () => Promise<unknown>, success: string) => {
    setBusy(key);
    try {
      await run();
      notify('success', success);
    } catch (e) {
      notify('error', errorMessage(e));
    } finally {
      setBusy(undefined);
      onChanged();
    }
  };

  const name = model.name;
  const close = () => setPending(undefined);
  const disabled = !canChange || busy !== undefined;

  return (
    <section class="panel" aria-labelledby={headingId}>
      <h2 id={headingId}>Versions</h2>
      <div class="table-scroll">
        <table class="table table-stack versions">
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">State</th>
              <th scope="col">Source</th>
              <th scope="col">Created</th>
              <th scope="col">Size</th>
              <th scope="col">SHA-256</th>
              <th scope="col">Labels</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {model.versions.length === 0 && (
              <tr>
                <td colSpan={8}>No versions yet: upload one below, or copy a SavedModel into {model.base_path}/N.</td>
              </tr>
            )}
            {model.versions.map((v) => {
              const n = v.version;
              const pinned = model.pinned_version === n;
              const serving = model.active_version === n;
              const previous = model.previous_version === n && !serving;
              const servable = v.state === 'AVAILABLE' && !v.retired;
              return (
                <tr key={n} class={serving ? 'row-serving' : v.retired ? 'row-retired' : undefined} data-version={n}>
                  <th scope="row" data-label="Version">
                    <div>
                      <Link href={versionHref(name, n)} class="version-number" aria-label={`Version ${n}: metadata and signature changes`}>
                        v{n}
                      </Link>
                      <span class="marks">
                        {serving && <Mark kind="serving">serving</Mark>}
                        {pinned && <Mark kind="pinned">pinned</Mark>}
                        {previous && <Mark kind="previous">previous</Mark>}
                      </span>
                    </div>
                  </th>
                  <td data-label="State">
                    <div>
                      <StateBadge version={v} />
                      {v.state === 'AVAILABLE' && !v.retired && <span class="help"> {v.loaded ? 'in memory' : 'not loaded'}</span>}
                      {v.error && <p class="version-error">{v.error}</p>}
                    </div>
                  </td>
                  <td data-label="Source">{v.source}</td>
                  <td data-label="Created">
                    <time dateTime={v.created_at} title={formatFullTime(v.created_at)}>
                      {formatTime(v.created_at)}
                    </time>
                  </td>
                  <td data-label="Size" class="num">
                    {formatBytes(v.size_bytes)}
                  </td>
                  <td data-label="SHA-256">{v.sha256 ? <code title={v.sha256}>{v.sha256.slice(0, 12)}</code> : '–'}</td>
                  <td data-label="Labels">
                    {v.labels.length === 0 ? (
                      <span class="help">–</span>
                    ) : (
                      <span class="chips">
                        {v.labels.map((l) => (
                          <LabelChip key={l} name={l} />
                        ))}
                      </span>
                    )}
                  </td>
                  <td data-label="Actions" class="actions">
                    {!v.retired && (
                      <div class="button-row">
                        {pinned ? (
                          <button
                            type="button"
                            class="button button-small"
                            disabled={disabled}
                            aria-label={`Unpin version ${n}`}
                            onClick={() => act(`unpin`, () => api.unpin(name), `Unpinned: ${name} follows its newest version again.`)}
                          >
                            Unpin
                          </button>
                        ) : (
                          servable && (
                            <button
                              type="button"
                              class="button button-small"
                              disabled={disabled}
                              aria-label={`Pin version ${n}`}
                              onClick={() => setPending({ kind: 'pin', version: n })}
                            >
                              Pin
                            </button>
                          )
                        )}
                        {previous && servable && (
                          <button
                            type="button"
                            class="button button-small"
                            disabled={disabled}
                            aria-label={`Roll back to version ${n}`}
                            onClick={() => setPending({ kind: 'rollback', version: n })}
                          >
                            Roll back
                          </button>
                        )}
                        <button
                          type="button"
                          class="button button-small"
                          disabled={disabled}
                          aria-label={`Label version ${n}`}
                          onClick={() => setPending({ kind: 'label', version: n })}
                        >
                          Label…
                        </button>
                        <button
                          type="button"
                          class="button button-small button-danger-outline"
                          disabled={disabled}
                          aria-label={`Retire version ${n}`}
                          onClick={() => {
                            setPurge(false);
                            setPending({ kind: 'retire', version: v });
                          }}
                        >
                          Retire…
                        </button>
                      </div>
                    )}
                    {v.retired && v.state !== 'REMOVED' && (
                      <div class="button-row">
                        <button
                          type="button"
                          class="button button-small"
                          disabled={disabled}
                          aria-label={`Restore version ${n}`}
                          onClick={() => act(`restore${n}`, () => api.restore(name, n), `Restored version ${n}: it may serve again.`)}
                        >
                          Restore
                        </button>
                      </div>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>

      <ConfirmDialog
        open={pending?.kind === 'rollback'}
        title={`Roll back ${name}?`}
        description={
          pending?.kind === 'rollback' && (
            <p>
              Version {pending.version} will serve again in place of version {model.active_version}, and stay pinned until you unpin it. Requests
              already running finish on the version they started on.
            </p>
          )
        }
        confirmLabel="Roll back"
        onClose={close}
        onConfirm={async () => {
          const m = await api.rollback(name);
          notify('success', `Rolled back: version ${m.active_version} serves ${name}, pinned.`);
          onChanged();
        }}
      >
        {pending?.kind === 'rollback' && model.active_version !== null && (
          <SignatureDiffPanel model={name} from={model.active_version} to={pending.version} />
        )}
      </ConfirmDialog>

      <ConfirmDialog
        open={pending?.kind === 'retire'}
        title={pending?.kind === 'retire' ? `Retire version ${pending.version.version}?` : 'Retire'}
        danger
        description={
          pending?.kind === 'retire' && (
            <p>
              Version {pending.version.version} stops serving for good and its labels are removed; it stays in the history.
              {model.active_version === pending.version.version && !model.pinned_version && ' The next newest version takes over first.'}
              {model.pinned_version === pending.version.version && <strong> It is pinned: unpin it first.</strong>}
            </p>
          )
        }
        confirmLabel="Retire"
        onClose={close}
        onConfirm={async () => {
          if (pending?.kind !== 'retire') return;
          const v = await api.retire(name, pending.version.version, purge);
          notify('success', `Retired version ${v.version}${purge ? ' and deleted its files' : ''}.`);
          onChanged();
        }}
      >
        <div class="field field-check">
          <input id={purgeId} type="checkbox" checked={purge} onChange={(e) => setPurge(e.currentTarget.checked)} />
          <label for={purgeId}>Also delete its files from the base path</label>
        </div>
      </ConfirmDialog>

      <PinDialog
        model={model}
        version={pending?.kind === 'pin' ? pending.version : undefined}
        onClose={close}
        onPinned={(m) => {
          notify('success', `Pinned version ${m.pinned_version}: it answers requests that name no version.`);
          onChanged();
        }}
      />

      <LabelDialog
        model={model}
        version={pending?.kind === 'label' ? pending.version : undefined}
        onClose={close}
        onLabelled={(label, version) => {
          notify('success', `Label ${label} now points at version ${version}.`);
          onChanged();
        }}
      />
    </section>
  );
}

function LabelDialog({ model, version, onClose, onLabelled }: { model: Model; version?: number; onClose: () => void; onLabelled: (label: string, version: number) => void }) {
  const [label, setLabel] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const inputId = useId();
  const errorId = useId();
  const existing = Object.keys(model.labels);

  const submit = async (e: Event) => {
    e.preventDefault();
    if (version === undefined) return;
    const name = label.trim();
    if (!isValidName(name)) {
      setError(NAME_HINT);
      return;
    }
    setBusy(true);
    try {
      await api.setLabel(model.name, name, version);
      onLabelled(name, version);
      setLabel('');
      setError(undefined);
      onClose();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal
      open={version !== undefined}
      title={`Label version ${version ?? ''}`}
      onClose={() => {
        setError(undefined);
        onClose();
      }}
      description={
        <p>
          Requests to <code>/v1/models/{model.name}/labels/&lt;label&gt;</code> go to the version the label points at. An existing label moves.
        </p>
      }
    >
      <form onSubmit={submit}>
        <div class="field">
          <label for={inputId}>Label</label>
          <input
            id={inputId}
            value={label}
            list={`${inputId}-existing`}
            onInput={(e) => setLabel(e.currentTarget.value)}
            placeholder="stable"
            autocomplete="off"
            spellcheck={false}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? errorId : undefined}
            autofocus
          />
          <datalist id={`${inputId}-existing`}>
            {existing.map((l) => (
              <option key={l} value={l} />
            ))}
          </datalist>
          {error && (
            <p id={errorId} class="form-error" role="alert">
              {error}
            </p>
          )}
        </div>
        <div class="modal-actions">
          <button type="button" class="button" onClick={onClose} disabled={busy}>
            Cancel
          </button>
          <button type="submit" class="button button-primary" disabled={busy}>
            {busy ? 'Saving…' : 'Set label'}
          </button>
        </div>
      </form>
    </Modal>
  );
}
