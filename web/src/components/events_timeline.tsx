// A model's history, newest first, with older pages on demand.
import { useEffect, useId, useState } from 'preact/hooks';
import { api } from '../api/client.js';
import type { EventKind, RegistryEvent } from '../api/types.js';
import { errorMessage, formatAgo, formatFullTime } from '../lib/format.js';

const KIND_TEXT: Record<EventKind, string> = {
  discovered: 'Discovered',
  loading: 'Loading',
  available: 'Available',
  failed: 'Failed',
  unloaded: 'Unloaded',
  removed: 'Removed',
  activated: 'Activated',
  pinned: 'Pinned',
  unpinned: 'Unpinned',
  rolled_back: 'Rolled back',
  labelled: 'Labelled',
  unlabelled: 'Unlabelled',
  uploaded: 'Uploaded',
  retired: 'Retired',
  restored: 'Restored',
  purged: 'Purged',
  rollout_started: 'Rollout started',
  rollout_changed: 'Rollout changed',
  rollout_promoted: 'Rollout promoted',
  rollout_aborted: 'Rollout aborted',
  metadata_changed: 'Metadata changed',
};

const TONE: Partial<Record<EventKind, string>> = {
  failed: 'bad',
  removed: 'bad',
  retired: 'bad',
  purged: 'bad',
  activated: 'good',
  available: 'good',
  restored: 'good',
  rolled_back: 'warn',
  pinned: 'info',
  unpinned: 'info',
  uploaded: 'info',
  rollout_started: 'info',
  rollout_changed: 'info',
  rollout_promoted: 'good',
  rollout_aborted: 'warn',
};

interface Props {
  model: string;
  /** Changes whenever the model changed: the newest page is fetched again. */
  revision: string;
}

export function EventsTimeline({ model, revision }: Props) {
  const headingId = useId();
  const [events, setEvents] = useState<RegistryEvent[]>([]);
  const [older, setOlder] = useState<RegistryEvent[]>([]);
  const [nextBefore, setNextBefore] = useState<number | null>(null);
  const [error, setError] = useState<string | undefined>();
  const [loadingOlder, setLoadingOlder] = useState(false);

  useEffect(() => {
    let live = true;
    api.events(model, 50).then(
      (page) => {
        if (!live) return;
        // A change since: start again from the newest page.
        setEvents(page.events);
        setOlder([]);
        setNextBefore(page.next_before);
        setError(undefined);
      },
      (e) => live && setError(errorMessage(e)),
    );
    return () => {
      live = false;
    };
  }, [model, revision]);

  const loadOlder = async () => {
    if (nextBefore === null) return;
    setLoadingOlder(true);
    try {
      const page = await api.events(model, 50, nextBefore);
      setOlder((o) => [...o, ...page.events]);
      setNextBefore(page.next_before);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setLoadingOlder(false);
    }
  };

  const seen = new Set<number>();
  const all = [...events, ...older].filter((e) => (seen.has(e.id) ? false : (seen.add(e.id), true)));
  return (
    <section class="panel" aria-labelledby={headingId}>
      <h2 id={headingId}>History</h2>
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
      {all.length === 0 && !error && <p class="help">No events yet.</p>}
      <ol class="timeline" data-testid="events">
        {all.map((e) => (
          <li key={e.id} class={`event event-${TONE[e.kind] ?? 'plain'}`}>
            <span class="event-dot" aria-hidden="true" />
            <div class="event-body">
              <p class="event-head">
                <strong class="event-kind">{KIND_TEXT[e.kind] ?? e.kind}</strong>
                {e.version !== null && <span class="event-version"> v{e.version}</span>}
                <span class="event-meta">
                  {' · '}
                  <time dateTime={e.time} title={formatFullTime(e.time)}>
                    {formatAgo(e.time)}
                  </time>
                  {' · '}
                  {e.actor}
                </span>
              </p>
              {e.detail && <p class="event-detail">{e.detail}</p>}
            </div>
          </li>
        ))}
      </ol>
      {nextBefore !== null && (
        <button type="button" class="button" onClick={loadOlder} disabled={loadingOlder}>
          {loadingOlder ? 'Loading…' : 'Show older events'}
        </button>
      )}
    </section>
  );
}
