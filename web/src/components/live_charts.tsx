// The model's traffic over the last hour (or 15 or 5 minutes), sampled by the
// server in 10 s buckets (GET /api/v1/models/{m}/stats), polled every few
// seconds: request rate, error rate and p50/p99 latency, for all versions
// (one line per version beside the total) or one version; and the same
// figures over the range in a table, which is also what screen readers get.
import { useId, useMemo, useState } from 'preact/hooks';
import { ApiError, api } from '../api/client.js';
import type { Model, ModelStats, StatsSeries } from '../api/types.js';
import { formatRate } from '../lib/format.js';
import { usePoll } from '../lib/use_poll.js';
import { TimeChart, type ChartLine } from './time_chart.js';

/** How often the charts ask for new figures. */
export const STATS_REFRESH_MS = 5000;

const TOTAL_COLOR = '#1a1f2b';
/** Okabe–Ito: told apart with the common colour-vision deficiencies. */
const VERSION_COLORS = ['#0072b2', '#d55e00', '#009e73', '#cc79a7', '#e69f00', '#56b4e9'];
const versionColor = (version: number) => VERSION_COLORS[version % VERSION_COLORS.length];

const ALL = 'all';
const P99_COLOR = '#b02a20';

/** The ranges offered, in seconds (the server keeps an hour). */
const RANGES: readonly { seconds: number; label: string }[] = [
  { seconds: 3600, label: 'Last hour' },
  { seconds: 900, label: 'Last 15 minutes' },
  { seconds: 300, label: 'Last 5 minutes' },
];

function formatMsValue(ms: number | null): string {
  if (ms === null) return '–';
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
}

function formatPercent(rate: number | null): string {
  if (rate === null) return '–';
  const p = rate * 100;
  return p === 0 ? '0%' : p < 0.1 ? '< 0.1%' : `${p < 10 ? p.toFixed(1) : Math.round(p)}%`;
}

const axisRate = (v: number) => (v >= 100 ? String(Math.round(v)) : String(Number(v.toPrecision(2))));
const axisPercent = (v: number) => `${Number(v.toPrecision(2))}%`;
const axisMs = (v: number) => (v >= 1000 ? `${Number((v / 1000).toPrecision(2))} s` : `${Number(v.toPrecision(2))} ms`);

const percentOf = (xs: (number | null)[]) => xs.map((x) => (x === null ? null : x * 100));

function lastValue(xs: (number | null)[]): number | null {
  for (let i = xs.length - 1; i >= 0; i--) if (xs[i] !== null) return xs[i];
  return null;
}

function SummaryRow({ name, series, version }: { name: string; series: StatsSeries; version?: number }) {
  const s = series.summary;
  return (
    <tr data-version={version ?? ALL}>
      <th scope="row" data-label="Scope">
        {version !== undefined && <span class="swatch" style={{ background: versionColor(version) }} aria-hidden="true" />}
        {name}
      </th>
      <td class="num" data-label="Requests">
        {s.requests}
      </td>
      <td class="num" data-label="Req/s">
        {formatRate(s.requests_per_second)}
      </td>
      <td class="num" data-label="Errors">
        {s.errors} ({formatPercent(s.error_rate)})
      </td>
      <td class="num" data-label="p50">
        {formatMsValue(s.p50_ms)}
      </td>
      <td class="num" data-label="p99">
        {formatMsValue(s.p99_ms)}
      </td>
    </tr>
  );
}

function Charts({ stats, scope, range }: { stats: ModelStats; scope: string; range: string }) {
  const version = stats.versions.find((v) => String(v.version) === scope);
  const series = version ?? stats.total;
  const who = version ? `version ${version.version}` : 'all versions';
  // One line per version beside the total, unless one version is chosen.
  const perVersion = version ? [] : stats.versions;
  const lines = useMemo(() => {
    const main = (label: string, values: (number | null)[]): ChartLine => ({ label, values, color: version ? versionColor(version.version) : TOTAL_COLOR });
    const each = (pick: (s: StatsSeries) => (number | null)[]): ChartLine[] =>
      perVersion.map((v) => ({ label: `v${v.version}`, values: pick(v), color: versionColor(v.version), dash: [6, 3] }));
    return {
      rate: [main(version ? `v${version.version}` : 'All', series.requests_per_second), ...each((s) => s.requests_per_second)],
      errors: [main(version ? `v${version.version}` : 'All', percentOf(series.error_rate)), ...each((s) => percentOf(s.error_rate))],
      latency: [
        main('p50', series.p50_ms),
        { label: 'p99', values: series.p99_ms, color: P99_COLOR, dash: [6, 3] },
      ],
    };
  }, [stats, scope]);

  const rateNow = lastValue(series.requests_per_second);
  const errorsNow = lastValue(series.error_rate);
  const p50Now = lastValue(series.p50_ms);
  const p99Now = lastValue(series.p99_ms);
  return (
    <div class="live-charts-grid">
      <TimeChart
        title="Requests per second"
        description={`Requests per second, ${range}, ${who}: now ${formatRate(rateNow)}, over the range ${formatRate(series.summary.requests_per_second)}.`}
        times={stats.times}
        lines={lines.rate}
        format={axisRate}
        minTop={1}
        testId="chart-requests"
      />
      <TimeChart
        title="Errors (% of requests)"
        description={`Share of requests answered with an error, ${range}, ${who}: latest ${formatPercent(errorsNow)}, over the range ${formatPercent(series.summary.error_rate)}.`}
        times={stats.times}
        lines={lines.errors}
        format={axisPercent}
        minTop={1}
        testId="chart-errors"
      />
      <TimeChart
        title="Latency, p50 and p99"
        description={`Server-side latency, ${range}, ${who}: latest p50 ${formatMsValue(p50Now)}, p99 ${formatMsValue(p99Now)}.`}
        times={stats.times}
        lines={lines.latency}
        format={axisMs}
        minTop={1}
        testId="chart-latency"
      />
    </div>
  );
}

export function LiveCharts({ model }: { model: Model }) {
  const ids = { heading: useId(), select: useId(), range: useId() };
  const [windowSeconds, setWindowSeconds] = useState(RANGES[0].seconds);
  const range = RANGES.find((r) => r.seconds === windowSeconds) ?? RANGES[0];
  const { data: stats, error } = usePoll(() => api.stats(model.name, windowSeconds), STATS_REFRESH_MS, [model.name, windowSeconds]);
  const [chosen, setChosen] = useState(ALL);
  const scope = stats && stats.versions.some((v) => String(v.version) === chosen) ? chosen : ALL;
  const updated = stats ? new Date(stats.now * 1000).toLocaleTimeString() : undefined;

  return (
    <section
      class="panel live-charts"
      aria-labelledby={ids.heading}
      data-testid="live-charts"
      data-requests={stats?.total.summary.requests}
      data-updated={stats?.now}
    >
      <div class="panel-head">
        <h2 id={ids.heading}>Traffic</h2>
        <div class="panel-tools">
          <div class="field field-inline">
            <label for={ids.range}>Range</label>
            <select id={ids.range} value={String(windowSeconds)} onChange={(e) => setWindowSeconds(Number(e.currentTarget.value))}>
              {RANGES.map((r) => (
                <option key={r.seconds} value={String(r.seconds)}>
                  {r.label}
                </option>
              ))}
            </select>
          </div>
          {stats && stats.versions.length > 0 && (
            <div class="field field-inline">
              <label for={ids.select}>Show</label>
              <select id={ids.select} value={scope} onChange={(e) => setChosen(e.currentTarget.value)}>
                <option value={ALL}>All versions</option>
                {stats.versions.map((v) => (
                  <option key={v.version} value={String(v.version)}>
                    v{v.version}
                    {v.version === model.active_version ? ' (serving)' : ''}
                  </option>
                ))}
              </select>
            </div>
          )}
        </div>
      </div>
      {error && !stats && (
        <p class="form-error" role="alert">
          {error instanceof ApiError && error.status === 501 ? 'This server does not sample request statistics.' : `The statistics could not be loaded: ${error.message}`}
        </p>
      )}
      {stats && stats.max_series === 0 && <p class="help">This server samples no request statistics (started with --stats_max_series=0).</p>}
      {stats && stats.max_series > 0 && (
        <>
          <Charts stats={stats} scope={scope} range={range.label.toLowerCase()} />
          <p class="help live-updated">
            {range.label}, by version · updated {updated}, every {STATS_REFRESH_MS / 1000} s
          </p>
          <table class="table table-compact table-stack live-summary" data-testid="live-summary" aria-label={`Traffic by version, ${range.label.toLowerCase()}`}>
            <thead>
              <tr>
                <th scope="col">Scope</th>
                <th scope="col" class="num">
                  Requests
                </th>
                <th scope="col" class="num">
                  Req/s
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
              <SummaryRow name="All versions" series={stats.total} />
              {stats.versions.map((v) => (
                <SummaryRow key={v.version} name={`v${v.version}`} series={v} version={v.version} />
              ))}
            </tbody>
          </table>
          {stats.total.summary.requests === 0 && <p class="help">No inference requests in this range yet.</p>}
          {stats.untracked_requests > 0 && (
            <p class="help">
              {stats.untracked_requests} requests were not sampled: the server already tracks {stats.max_series} busy model versions (--stats_max_series).
            </p>
          )}
        </>
      )}
    </section>
  );
}
