// A signature diff between two versions (GET /api/v1/models/{m}/versions/{a}/diff/{b}):
// what would break clients of the first version, then each changed signature
// with its inputs and outputs added, removed or retyped/reshaped.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api/client.js';
import type { SignatureDiff, TensorSpec, TensorsDiff } from '../api/types.js';
import { errorMessage, formatDtype, formatShape } from '../lib/format.js';

const tensor = (t: TensorSpec) => `${formatDtype(t.dtype)} ${formatShape(t.shape)}`;

export interface DiffState {
  diff: SignatureDiff | undefined;
  error: string | undefined;
  loading: boolean;
}

/** Fetches the diff from version `from` to `to` (none while either is undefined or they are equal). */
export function useSignatureDiff(model: string, from: number | undefined, to: number | undefined): DiffState {
  const [state, setState] = useState<DiffState>({ diff: undefined, error: undefined, loading: false });
  useEffect(() => {
    if (from === undefined || to === undefined || from === to) {
      setState({ diff: undefined, error: undefined, loading: false });
      return;
    }
    let live = true;
    setState({ diff: undefined, error: undefined, loading: true });
    api.diff(model, from, to).then(
      (diff) => live && setState({ diff, error: undefined, loading: false }),
      (e) => live && setState({ diff: undefined, error: errorMessage(e), loading: false }),
    );
    return () => {
      live = false;
    };
  }, [model, from, to]);
  return state;
}

function TensorChanges({ what, diff }: { what: 'input' | 'output'; diff: TensorsDiff }) {
  const rows = [
    ...Object.entries(diff.removed).map(([n, t]) => ({ key: `-${n}`, sign: '−', cls: 'diff-removed', text: `${what} ${n}: ${tensor(t)}` })),
    ...Object.entries(diff.added).map(([n, t]) => ({ key: `+${n}`, sign: '+', cls: 'diff-added', text: `${what} ${n}: ${tensor(t)}` })),
    ...Object.entries(diff.changed).map(([n, c]) => ({ key: `~${n}`, sign: '~', cls: 'diff-changed', text: `${what} ${n}: ${tensor(c.before)} → ${tensor(c.after)}` })),
  ];
  return (
    <>
      {rows.map((r) => (
        <li key={r.key} class={r.cls}>
          <span aria-hidden="true" class="diff-sign">
            {r.sign}
          </span>{' '}
          <code>{r.text}</code>
        </li>
      ))}
    </>
  );
}

export function SignatureDiffView({ diff }: { diff: SignatureDiff }) {
  if (diff.identical) {
    return (
      <p class="diff-same" data-testid="signature-diff">
        Versions {diff.from} and {diff.to} have the same signatures.
      </p>
    );
  }
  const changed = Object.entries(diff.signatures).filter(([, s]) => s.status !== 'unchanged');
  return (
    <div class="signature-diff" data-testid="signature-diff">
      {diff.breaking_changes.length > 0 ? (
        <div class="diff-breaking" data-testid="breaking-changes">
          <p>
            <strong>
              {diff.breaking_changes.length} change{diff.breaking_changes.length === 1 ? '' : 's'} would break clients of version {diff.from}:
            </strong>
          </p>
          <ul>
            {diff.breaking_changes.map((c, i) => (
              <li key={i}>{c.message}</li>
            ))}
          </ul>
        </div>
      ) : (
        <p class="diff-compatible">Nothing here breaks clients of version {diff.from}.</p>
      )}
      <ul class="diff-list" aria-label={`Signature changes from version ${diff.from} to ${diff.to}`}>
        {changed.map(([name, s]) => (
          <li key={name}>
            <span class={`diff-status diff-status-${s.status}`}>{s.status}</span> <code>{name}</code>
            {s.status === 'changed' && (
              <ul>
                {s.method && (
                  <li class="diff-changed">
                    <span aria-hidden="true" class="diff-sign">
                      ~
                    </span>{' '}
                    <code>
                      method: {s.method.before} → {s.method.after}
                    </code>
                  </li>
                )}
                <TensorChanges what="input" diff={s.inputs} />
                <TensorChanges what="output" diff={s.outputs} />
              </ul>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}

/** The diff from `from` to `to`, with loading and error states. */
export function SignatureDiffPanel({ model, from, to }: { model: string; from: number | undefined; to: number }) {
  const { diff, error, loading } = useSignatureDiff(model, from, to);
  if (from === undefined) return <p class="help">No version serves yet: there is nothing to compare with.</p>;
  if (from === to) return <p class="help">This is the version compared with itself.</p>;
  if (error) {
    return (
      <p class="form-error" role="alert">
        The signatures could not be compared: {error}
      </p>
    );
  }
  if (loading || !diff) return <p class="help">Comparing signatures…</p>;
  return <SignatureDiffView diff={diff} />;
}
