// One version: its state, metadata (editable by an admin), and its signatures
// compared with another version (the serving one by default).
import { useId, useState } from 'preact/hooks';
import { ApiError, api } from '../api/client.js';
import { StateBadge } from '../components/badges.js';
import { SignatureDiffPanel } from '../components/signature_diff_view.js';
import { VersionMetadataPanel } from '../components/version_metadata.js';
import { formatBytes, formatTime } from '../lib/format.js';
import { usePoll } from '../lib/use_poll.js';
import { Link, modelHref } from '../router.js';
import { PageTitle } from './page_title.js';

const REFRESH_MS = 4000;

export function VersionPage({ name, version, canChange }: { name: string; version: number; canChange: boolean }) {
  const { data: model, error, loading, reload } = usePoll(() => api.model(name), REFRESH_MS, [name]);
  const [compareWith, setCompareWith] = useState<number | undefined>();
  const compareId = useId();
  const headingId = useId();
  const v = model?.versions.find((x) => x.version === version);
  const others = model ? model.versions.filter((x) => x.version !== version) : [];
  // Default: the serving version, else the newest other one.
  const fallback = model && model.active_version !== null && model.active_version !== version ? model.active_version : others[0]?.version;
  const from = compareWith ?? fallback;

  return (
    <>
      <nav aria-label="Breadcrumb" class="breadcrumb">
        <ol>
          <li>
            <Link href="/">Models</Link>
          </li>
          <li>
            <Link href={modelHref(name)}>{name}</Link>
          </li>
          <li>
            <span aria-current="page">version {version}</span>
          </li>
        </ol>
      </nav>
      <PageTitle title={`${name} v${version}`} />
      {error && !model && (
        <p class="form-error" role="alert">
          {error instanceof ApiError && error.status === 404 ? `There is no model named ${name}.` : `The model could not be loaded: ${error.message}`}
        </p>
      )}
      {loading && !model && <p class="help">Loading…</p>}
      {model && !v && <p class="form-error">Model {name} has no version {version}.</p>}
      {model && v && (
        <>
          <p class="version-summary">
            <StateBadge version={v} /> {model.active_version === version && <strong>serving</strong>} {v.source}, created {formatTime(v.created_at)}, {formatBytes(v.size_bytes)}
            {v.labels.length > 0 && `, labels ${v.labels.join(', ')}`}
          </p>
          <VersionMetadataPanel model={name} version={v} canChange={canChange} onChanged={() => void reload()} />
          <section class="panel" aria-labelledby={headingId}>
            <h2 id={headingId}>Signature changes</h2>
            {others.length === 0 ? (
              <p class="help">This is the only version.</p>
            ) : (
              <>
                <div class="field field-inline">
                  <label for={compareId}>Compared with version</label>
                  <select id={compareId} value={from === undefined ? '' : String(from)} onChange={(e) => setCompareWith(Number(e.currentTarget.value))}>
                    {others.map((o) => (
                      <option key={o.version} value={String(o.version)}>
                        {o.version}
                        {o.version === model.active_version ? ' (serving)' : ''}
                      </option>
                    ))}
                  </select>
                </div>
                <p class="help">What changes for clients of version {from} if version {version} answers them.</p>
                <SignatureDiffPanel model={name} from={from} to={version} />
              </>
            )}
          </section>
        </>
      )}
    </>
  );
}
