// Each version's signatures: inputs and outputs with dtype and shape, and the method name.
import { useEffect, useId, useState } from 'preact/hooks';
import type { Model, Signature, TensorSpec } from '../api/types.js';
import { formatDtype, formatShape } from '../lib/format.js';

function TensorTable({ caption, tensors }: { caption: string; tensors: Record<string, TensorSpec> }) {
  const entries = Object.entries(tensors);
  return (
    <table class="table table-compact">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">dtype</th>
          <th scope="col">Shape</th>
        </tr>
      </thead>
      <tbody>
        {entries.length === 0 && (
          <tr>
            <td colSpan={3}>none</td>
          </tr>
        )}
        {entries.map(([name, t]) => (
          <tr key={name}>
            <th scope="row">
              <code>{name}</code>
            </th>
            <td>
              <code title={t.dtype}>{formatDtype(t.dtype)}</code>
            </td>
            <td>
              <code>{formatShape(t.shape)}</code>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function SignatureCard({ name, signature }: { name: string; signature: Signature }) {
  return (
    <article class="signature">
      <h3>
        <code>{name}</code> {signature.unavailable && <span class="badge badge-failed">CANNOT RUN</span>}
      </h3>
      <p class="signature-method">
        Method <code>{signature.method}</code>
      </p>
      {signature.unavailable && (
        <p class="help signature-unavailable">
          This server cannot run this signature; requests to it answer 400. <code>{signature.unavailable}</code>
        </p>
      )}
      <div class="signature-tensors">
        <TensorTable caption="Inputs" tensors={signature.inputs} />
        <TensorTable caption="Outputs" tensors={signature.outputs} />
      </div>
    </article>
  );
}

export function SignaturesView({ model }: { model: Model }) {
  const ids = { heading: useId(), select: useId() };
  const withSignatures = model.versions.filter((v) => Object.keys(v.signatures).length > 0);
  const initial = () => String(model.active_version ?? withSignatures[0]?.version ?? '');
  const [chosen, setChosen] = useState(initial);
  useEffect(() => {
    if (!withSignatures.some((v) => String(v.version) === chosen)) setChosen(initial());
  }, [model]);
  const version = withSignatures.find((v) => String(v.version) === chosen) ?? withSignatures[0];

  return (
    <section class="panel" aria-labelledby={ids.heading}>
      <h2 id={ids.heading}>Signatures</h2>
      {withSignatures.length === 0 ? (
        <p class="help">No version has loaded yet, so no signatures are recorded.</p>
      ) : (
        <>
          <div class="field field-inline">
            <label for={ids.select}>Version</label>
            <select id={ids.select} value={String(version.version)} onChange={(e) => setChosen(e.currentTarget.value)}>
              {withSignatures.map((v) => (
                <option key={v.version} value={String(v.version)}>
                  v{v.version}
                  {v.version === model.active_version ? ' (serving)' : ''}
                </option>
              ))}
            </select>
          </div>
          <div class="signatures">
            {Object.entries(version.signatures)
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([name, s]) => (
                <SignatureCard key={name} name={name} signature={s} />
              ))}
          </div>
        </>
      )}
    </section>
  );
}
