// One time-series chart drawn by uPlot (bundled, its CSS imported here):
// lines over epoch-second times, created when the set of lines changes,
// updated in place with setData when only the values do, resized with its
// box. The legend shows the values under the cursor, else each line's latest
// value. The canvas is an image to assistive technology, described by
// `description`; the numbers themselves are in the table beside the charts.
// `data-points` and `data-latest` say what the chart holds now (tests read them).
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartLine {
  label: string;
  values: (number | null)[];
  color: string;
  dash?: number[];
}

interface Props {
  title: string;
  /** What the chart shows, for screen readers (the canvas has no text). */
  description: string;
  times: number[];
  lines: ChartLine[];
  /** Formats a value for the axis and the legend. */
  format: (v: number) => string;
  /** Lowest top of the y axis (so a flat zero line is not blown up). */
  minTop: number;
  testId: string;
}

const HEIGHT = 170;
const MUTED = '#4f5869';
const GRID = '#e3e7ee';

function dataOf(times: number[], lines: ChartLine[]): uPlot.AlignedData {
  return [times, ...lines.map((l) => l.values)];
}

function latestOf(values: ArrayLike<number | null | undefined>): number | null {
  for (let i = values.length - 1; i >= 0; i--) {
    const v = values[i];
    if (v !== null && v !== undefined) return v;
  }
  return null;
}

const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });

/** Axis width from its longest label (about 7 px a character at 12 px). */
const axisSize = (_u: uPlot, values: string[] | null) => (values && values.length > 0 ? Math.max(...values.map((v) => v.length)) * 7 + 22 : 40);

function optionsOf(props: Props, width: number): uPlot.Options {
  const axis = { stroke: MUTED, grid: { stroke: GRID, width: 1 }, ticks: { stroke: GRID, width: 1 } };
  return {
    width,
    height: HEIGHT,
    pxAlign: false,
    cursor: { drag: { x: false, y: false } },
    legend: { show: true, live: true },
    scales: {
      // The whole range, even where a line has no values (latency without requests).
      x: {
        time: true,
        range: (u, min, max) => {
          const t = u.data[0];
          return t.length > 1 ? [t[0], t[t.length - 1]] : [min ?? 0, (max ?? 0) + 10];
        },
      },
      y: { range: (_u, _min, max) => [0, Math.max(props.minTop, (max ?? 0) * 1.15)] },
    },
    axes: [
      { ...axis, space: 45 },
      { ...axis, size: axisSize, values: (_u, splits) => splits.map((v) => props.format(v)) },
    ],
    series: [
      { label: 'Time', value: (_u: uPlot, v: number, _s: number, idx: number | null) => (idx === null ? 'latest' : clock.format(new Date(v * 1000))) },
      ...props.lines.map((l) => ({
        label: l.label,
        stroke: l.color,
        width: 2,
        dash: l.dash,
        spanGaps: false,
        points: { show: false },
        value: (u: uPlot, v: number | null, series: number, idx: number | null) => {
          const shown = idx === null ? latestOf(u.data[series] ?? []) : v;
          return shown === null || shown === undefined ? '–' : props.format(shown);
        },
      })),
    ],
  };
}

/** Records what the chart holds now on its box, from uPlot's own data. */
function mark(box: HTMLElement, u: uPlot): void {
  const first = (u.data[1] ?? []) as (number | null | undefined)[];
  box.dataset.points = String(first.filter((v) => v !== null && v !== undefined).length);
  box.dataset.latest = String(latestOf(first) ?? '');
}

export function TimeChart(props: Props) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = JSON.stringify(props.lines.map((l) => [l.label, l.color, l.dash]));
  const latest = useRef(props);
  latest.current = props;

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const width = () => Math.max(160, el.clientWidth);
    const u = new uPlot(optionsOf(latest.current, width()), dataOf(latest.current.times, latest.current.lines), el);
    plot.current = u;
    mark(el, u);
    const resize = new ResizeObserver(() => {
      if (Math.abs(u.width - width()) >= 1) u.setSize({ width: width(), height: HEIGHT });
    });
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [shape]);

  useEffect(() => {
    const u = plot.current;
    if (!u || !box.current) return;
    u.setData(dataOf(props.times, props.lines));
    mark(box.current, u);
  }, [props.times, props.lines]);

  return (
    <figure class="time-chart" data-testid={props.testId}>
      <figcaption>{props.title}</figcaption>
      <div class="time-chart-plot" ref={box} role="img" aria-label={props.description} />
    </figure>
  );
}
