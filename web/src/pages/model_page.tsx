// One model: summary, versions and their actions, rollout, what each replica serves (with several), live traffic charts, try it, upload, signatures, history.
import { useState } from 'preact/hooks';
import { ApiError, api } from '../api/client.js';
import type { Model } from '../api/types.js';
import { EventsTimeline } from '../components/events_timeline.js';
import { LiveCharts } from '../components/live_charts.js';
import { ModelSummary } from '../components/model_summary.js';
import { RolloutPanel } from '../components/rollout_panel.js';
import { ReplicasPanel } from '../components/replicas_panel.js';
import { SignaturesView } from '../components/signatures_view.js';
import { TryIt } from '../components/try_it.js';
import { UploadPanel } from '../components/upload_panel.js';
import { VersionsTable } from '../components/versions_table.js';
import { notify } from '../lib/notices.js';
import { usePoll } from '../lib/use_poll.js';
import { Link } from '../router.js';
import { PageTitle } from './page_title.js';

const REFRESH_MS = 4000;

/** Changes whenever something the history records changed. */
function revisionOf(m: Model): string {
  return JSON.stringify([
    m.active_version,
    m.pinned_version,
    m.previous_version,
    m.labels,
    m.versions.map((v) => [v.version, v.state, v.retired, v.loaded, v.labels, v.metadata]),
  ]);
}

export function ModelPage({ name, canChange }: { name: string; canChange: boolean }) {
  const { data: model, error, loading, reload } = usePoll(() => api.model(name), REFRESH_MS, [name]);
  const changed = () => void reload();
  // The rollout's state and revision: its changes are history too (the guard rails may abort it by themselves).
  const [rolloutRevision, setRolloutRevision] = useState('');

  return (
    <>
      <nav aria-label="Breadcrumb" class="breadcrumb">
        <ol>
          <li>
            <Link href="/">Models</Link>
          </li>
          <li>
            <span aria-current="page">{name}</span>
          </li>
        </ol>
      </nav>
      <PageTitle title={name} />
      {error && !model && (
        <p class="form-error" role="alert">
          {error instanceof ApiError && error.status === 404 ? `There is no model named ${name}.` : `The model could not be loaded: ${error.message}`}
        </p>
      )}
      {loading && !model && <p class="help">Loading…</p>}
      {model && (
        <>
          <ModelSummary model={model} canChange={canChange} onChanged={changed} />
          <VersionsTable model={model} canChange={canChange} onChanged={changed} />
          <RolloutPanel model={model} canChange={canChange} onChanged={changed} onRevision={setRolloutRevision} />
          <ReplicasPanel model={model.name} />
          <LiveCharts model={model} />
          <div class="columns">
            <TryIt model={model} />
            <UploadPanel
              model={model.name}
              disabled={!canChange}
              onUploaded={(_m, v) => {
                notify('success', `Uploaded version ${v.version} (${v.state}).`);
                changed();
              }}
            />
          </div>
          <SignaturesView model={model} />
          <EventsTimeline model={model.name} revision={`${revisionOf(model)}/${rolloutRevision}`} />
        </>
      )}
    </>
  );
}
