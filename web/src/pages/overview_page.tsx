// Every model at a glance: serving version, pinned or following the newest,
// labels, state (with load errors), traffic; then the replicas sharing the
// registry and what each serves. Refreshes every few seconds.
import { api } from '../api/client.js';
import type { Model } from '../api/types.js';
import { LabelChip, StateBadge } from '../components/badges.js';
import { ServingMode } from '../components/model_summary.js';
import { ReplicasPanel } from '../components/replicas_panel.js';
import { UploadPanel } from '../components/upload_panel.js';
import { formatRate } from '../lib/format.js';
import { notify } from '../lib/notices.js';
import { usePoll } from '../lib/use_poll.js';
import { Link, modelHref, navigate } from '../router.js';
import { PageTitle } from './page_title.js';

const REFRESH_MS = 5000;

function ModelState({ model }: { model: Model }) {
  const active = model.versions.find((v) => v.version === model.active_version);
  const failed = model.versions.filter((v) => v.state === 'FAILED' && !v.retired);
  const loading = model.versions.filter((v) => v.state === 'LOADING');
  return (
    <div class="model-state">
      {active ? <StateBadge version={active} /> : <span class="help">no version serving</span>}
      {loading.map((v) => (
        <p key={v.version} class="help">
          v{v.version} loading…
        </p>
      ))}
      {failed.map((v) => (
        <p key={v.version} class="version-error">
          <strong>v{v.version} failed:</strong> {v.error ?? 'no error recorded'}
        </p>
      ))}
    </div>
  );
}

function ModelsTable({ models }: { models: Model[] }) {
  return (
    <div class="table-scroll">
      <table class="table table-stack models" data-testid="models">
        <caption class="visually-hidden">Models served by this server</caption>
        <thead>
          <tr>
            <th scope="col">Model</th>
            <th scope="col">Serving</th>
            <th scope="col">Mode</th>
            <th scope="col">Labels</th>
            <th scope="col">State</th>
            <th scope="col" class="num">
              Versions
            </th>
            <th scope="col" class="num">
              <abbr title="Inference requests per second over the last minute">Req/s</abbr>
            </th>
          </tr>
        </thead>
        <tbody>
          {models.map((m) => {
            const labels = Object.entries(m.labels).sort(([a], [b]) => a.localeCompare(b));
            return (
              <tr key={m.name} data-model={m.name}>
                <th scope="row" data-label="Model">
                  <Link href={modelHref(m.name)} class="model-link">
                    {m.name}
                  </Link>
                </th>
                <td data-label="Serving">{m.active_version === null ? '–' : <strong>v{m.active_version}</strong>}</td>
                <td data-label="Mode">
                  <ServingMode model={m} />
                </td>
                <td data-label="Labels">
                  {labels.length === 0 ? (
                    <span class="help">–</span>
                  ) : (
                    <span class="chips">
                      {labels.map(([l, v]) => (
                        <LabelChip key={l} name={l} version={v} />
                      ))}
                    </span>
                  )}
                </td>
                <td data-label="State">
                  <ModelState model={m} />
                </td>
                <td data-label="Versions" class="num">
                  {m.versions.filter((v) => !v.retired).length}
                </td>
                <td data-label="Req/s" class="num">
                  {formatRate(m.requests_per_second)}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

export function OverviewPage({ canChange }: { canChange: boolean }) {
  const { data, error, loading, reload } = usePoll(api.models, REFRESH_MS, []);
  return (
    <>
      <PageTitle title="Models" />
      <section class="panel" aria-labelledby="models-heading">
        <h2 id="models-heading" class="visually-hidden">
          All models
        </h2>
        {error && (
          <p class="form-error" role="alert">
            The models could not be loaded: {error.message}
          </p>
        )}
        {loading && !data && <p class="help">Loading…</p>}
        {data && data.length === 0 && (
          <p>
            No models yet. Put SavedModels in the server's models folder (<code>models/NAME/1/saved_model.pb</code>) or upload one below.
          </p>
        )}
        {data && data.length > 0 && <ModelsTable models={data} />}
      </section>
      <ReplicasPanel />
      <UploadPanel
        disabled={!canChange}
        onUploaded={(model, version) => {
          notify('success', `Uploaded ${model} version ${version.version} (${version.state}).`);
          void reload();
          navigate(modelHref(model));
        }}
      />
    </>
  );
}
