// A version's description, tags, metrics and source, and (for those who may
// change the registry) a form to edit them: saved as one merge patch
// (PATCH /api/v1/models/{m}/versions/{v}; removed keys sent as null).
import { useId, useState } from 'preact/hooks';
import { api } from '../api/client.js';
import type { MetadataPatch, Version, VersionMetadata } from '../api/types.js';
import { errorMessage } from '../lib/format.js';
import { notify } from '../lib/notices.js';

interface Props {
  model: string;
  version: Version;
  canChange: boolean;
  onChanged: (v: Version) => void;
}

interface Row {
  id: number;
  key: string;
  value: string;
}

let nextRowId = 1;
const rowsOf = (o: Record<string, string | number>): Row[] => Object.entries(o).map(([key, value]) => ({ id: nextRowId++, key, value: String(value) }));

/** The patch turning `before` into what the form holds; throws with a message when a row is not valid. */
export function patchFrom(before: VersionMetadata, description: string, source: string, tags: Row[], metrics: Row[]): MetadataPatch {
  const patch: MetadataPatch = {};
  const text = (s: string) => (s.trim() === '' ? null : s);
  if (text(description) !== before.description) patch.description = text(description);
  if (text(source) !== before.source) patch.source = text(source);
  const collect = <T,>(rows: Row[], what: string, parse: (r: Row) => T): Map<string, T> => {
    const out = new Map<string, T>();
    for (const r of rows) {
      const key = r.key.trim();
      if (key === '' && r.value.trim() === '') continue;
      if (key === '') throw new Error(`A ${what} has a value but no name.`);
      if (out.has(key)) throw new Error(`The ${what} ${key} is there twice.`);
      out.set(key, parse(r));
    }
    return out;
  };
  const tagMap = collect(tags, 'tag', (r) => r.value);
  const metricMap = collect(metrics, 'metric', (r) => {
    const n = r.value.trim() === '' ? NaN : Number(r.value);
    if (!Number.isFinite(n)) throw new Error(`Metric ${r.key.trim()} must be a number, got "${r.value}".`);
    return n;
  });
  const diff = <T,>(was: Record<string, T>, now: Map<string, T>): Record<string, T | null> | undefined => {
    const out: Record<string, T | null> = {};
    for (const k of Object.keys(was)) if (!now.has(k)) out[k] = null;
    for (const [k, v] of now) if (!Object.hasOwn(was, k) || was[k] !== v) out[k] = v;
    return Object.keys(out).length > 0 ? out : undefined;
  };
  const t = diff(before.tags, tagMap);
  const m = diff(before.metrics, metricMap);
  if (t) patch.tags = t;
  if (m) patch.metrics = m;
  return patch;
}

function Pairs({ label, entries, testId }: { label: string; entries: [string, string | number][]; testId: string }) {
  return (
    <div class="metadata-pairs">
      <dt>{label}</dt>
      <dd data-testid={testId}>
        {entries.length === 0 ? (
          <span class="help">–</span>
        ) : (
          <ul class="chips">
            {entries.map(([k, v]) => (
              <li key={k} class="chip">
                {k}={String(v)}
              </li>
            ))}
          </ul>
        )}
      </dd>
    </div>
  );
}

function RowsEditor({ what, rows, setRows, numeric }: { what: 'Tag' | 'Metric'; rows: Row[]; setRows: (r: Row[]) => void; numeric?: boolean }) {
  const update = (id: number, change: Partial<Row>) => setRows(rows.map((r) => (r.id === id ? { ...r, ...change } : r)));
  return (
    <fieldset class="metadata-rows">
      <legend>{what}s</legend>
      {rows.map((r, i) => (
        <div class="field-inline metadata-row" key={r.id}>
          <input aria-label={`${what} ${i + 1} name`} value={r.key} placeholder={numeric ? 'accuracy' : 'stage'} spellcheck={false} onInput={(e) => update(r.id, { key: e.currentTarget.value })} />
          <input
            aria-label={`${what} ${i + 1} value`}
            value={r.value}
            placeholder={numeric ? '0.91' : 'prod'}
            inputMode={numeric ? 'decimal' : undefined}
            spellcheck={false}
            onInput={(e) => update(r.id, { value: e.currentTarget.value })}
          />
          <button type="button" class="button button-small" aria-label={`Remove ${what.toLowerCase()} ${i + 1}`} onClick={() => setRows(rows.filter((x) => x.id !== r.id))}>
            Remove
          </button>
        </div>
      ))}
      <button type="button" class="button button-small" onClick={() => setRows([...rows, { id: nextRowId++, key: '', value: '' }])}>
        Add {what.toLowerCase()}
      </button>
    </fieldset>
  );
}

export function VersionMetadataPanel({ model, version, canChange, onChanged }: Props) {
  const headingId = useId();
  const descriptionId = useId();
  const sourceId = useId();
  const errorId = useId();
  const m = version.metadata;
  const [editing, setEditing] = useState(false);
  const [description, setDescription] = useState('');
  const [source, setSource] = useState('');
  const [tags, setTags] = useState<Row[]>([]);
  const [metrics, setMetrics] = useState<Row[]>([]);
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  const edit = () => {
    setDescription(m.description ?? '');
    setSource(m.source ?? '');
    setTags(rowsOf(m.tags));
    setMetrics(rowsOf(m.metrics));
    setError(undefined);
    setEditing(true);
  };

  const save = async (e: Event) => {
    e.preventDefault();
    let patch: MetadataPatch;
    try {
      patch = patchFrom(m, description, source, tags, metrics);
    } catch (err) {
      setError(errorMessage(err));
      return;
    }
    if (Object.keys(patch).length === 0) {
      setEditing(false);
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      const v = await api.setMetadata(model, version.version, patch);
      notify('success', `Saved the metadata of version ${v.version}.`);
      setEditing(false);
      onChanged(v);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="panel" aria-labelledby={headingId} data-testid="version-metadata">
      <div class="panel-head">
        <h2 id={headingId}>Metadata</h2>
        {!editing && (
          <button type="button" class="button button-small" disabled={!canChange} onClick={edit}>
            Edit metadata
          </button>
        )}
      </div>
      {!editing ? (
        <dl class="metadata">
          <div>
            <dt>Description</dt>
            <dd data-testid="metadata-description" class="metadata-description">
              {m.description ?? <span class="help">–</span>}
            </dd>
          </div>
          <div>
            <dt>Source</dt>
            <dd data-testid="metadata-source">{m.source ?? <span class="help">–</span>}</dd>
          </div>
          <Pairs label="Tags" entries={Object.entries(m.tags)} testId="metadata-tags" />
          <Pairs label="Metrics" entries={Object.entries(m.metrics)} testId="metadata-metrics" />
        </dl>
      ) : (
        <form onSubmit={save} aria-describedby={error ? errorId : undefined}>
          <div class="field">
            <label for={descriptionId}>Description</label>
            <textarea id={descriptionId} rows={3} value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
          </div>
          <div class="field">
            <label for={sourceId}>Source</label>
            <input id={sourceId} value={source} placeholder="who, from where, commit or run id" onInput={(e) => setSource(e.currentTarget.value)} />
          </div>
          <RowsEditor what="Tag" rows={tags} setRows={setTags} />
          <RowsEditor what="Metric" rows={metrics} setRows={setMetrics} numeric />
          {error && (
            <p id={errorId} class="form-error" role="alert">
              {error}
            </p>
          )}
          <div class="modal-actions">
            <button type="button" class="button" disabled={busy} onClick={() => setEditing(false)}>
              Cancel
            </button>
            <button type="submit" class="button button-primary" disabled={busy} aria-busy={busy}>
              {busy ? 'Saving…' : 'Save metadata'}
            </button>
          </div>
        </form>
      )}
    </section>
  );
}
