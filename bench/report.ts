/**
 * BENCHMARKS.md: the machine, the tables of one `npm run bench` run, and
 * each goal of issue 7 marked met or not. Everything is regenerated on each
 * run except the `--vs-tf` section (bench/vs_tf/report_vs_tf.ts) and the
 * Notes section (between the `notes:start` / `notes:end`
 * markers), which holds the human analysis of what limits the goals not met
 * and is carried over from the existing file.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { createRequire } from 'node:module';
import { fmt, ROOT } from './common.js';
import type { LoadResult } from './http_load.js';
import type { LoadTimeResult, MemoryResult } from './load_memory.js';
import type { OverheadResult } from './runtime_overhead.js';
import type { ServerMemoryResult } from './server_memory.js';
import { extractVsTf, spliceVsTf } from './vs_tf/report_vs_tf.js';

export interface HttpRow extends LoadResult {
  id: string;
  label: string;
}

export interface BenchReport {
  date: Date;
  quick: boolean;
  seconds: number;
  warmup: number;
  http: HttpRow[];
  commands: string[];
  batching?: Record<string, number>;
  overhead?: OverheadResult;
  loadTime?: LoadTimeResult;
  loadRuns?: number;
  memory?: MemoryResult;
  serverMemory?: ServerMemoryResult;
  notes: string[];
  elapsedSeconds?: number;
}

type Status = 'met' | 'NOT met' | 'not measured';

interface Goal {
  goal: string;
  target: string;
  measured: string;
  status: Status;
}

const NOTES_START = '<!-- notes:start -->';
const NOTES_END = '<!-- notes:end -->';
const DEFAULT_NOTES = `### What limits the goals not met

(Written by hand after a run; \`npm run bench\` keeps this section.)
`;

function status(ok: boolean | undefined): Status {
  return ok === undefined ? 'not measured' : ok ? 'met' : 'NOT met';
}

export function evaluateGoals(r: BenchReport): Goal[] {
  const row = (id: string) => r.http.find((h) => h.id === id);
  const a = row('a');
  const b = row('b');
  const off = row('e-off-256');
  const on = row('e-on-256');
  const f1 = r.overhead?.rows.find((x) => x.batch === 1);
  const f64 = r.overhead?.rows.find((x) => x.batch === 64);
  const ratio = a && b ? b.reqPerSec / a.reqPerSec : undefined;
  const on64 = row('e-on-64');
  const batchedRatio = a && on64 ? `; with batching on ${fmt(on64.reqPerSec / a.reqPerSec, 3)} (${fmt(on64.reqPerSec)} req/s)` : '';
  const failures = r.http.length ? r.http.reduce((s, h) => s + h.failures, 0) : undefined;
  const batchGain = on && off ? on.imagesPerSec / off.imagesPerSec : undefined;
  const loadWarm = r.loadTime ? r.loadTime.loadMs + r.loadTime.warmupMs : undefined;
  return [
    {
      goal: '(b)/(a): f_mnist 1-image predict vs bare node:http, 64 connections',
      target: '>= 0.5',
      measured: ratio === undefined ? '-' : `${fmt(ratio, 3)} (${fmt(b!.reqPerSec)} / ${fmt(a!.reqPerSec)} req/s)${batchedRatio}`,
      status: status(ratio === undefined ? undefined : ratio >= 0.5),
    },
    {
      goal: 'zero failed requests (every case)',
      target: '0',
      measured: failures === undefined ? '-' : String(failures),
      status: status(failures === undefined ? undefined : failures === 0),
    },
    {
      goal: '(b) tail latency: p99 / p50',
      target: '<= 10',
      measured: b ? `${fmt(b.p99Ms / b.p50Ms, 2)} (p50 ${fmt(b.p50Ms, 2)} ms, p99 ${fmt(b.p99Ms, 2)} ms)` : '-',
      status: status(b ? b.p99Ms <= 10 * b.p50Ms : undefined),
    },
    {
      goal: 'batching on vs off, images/s, 1-image requests, 256 connections',
      target: '>= 2x',
      measured: batchGain === undefined ? '-' : `${fmt(batchGain, 2)}x (${fmt(on!.imagesPerSec)} vs ${fmt(off!.imagesPerSec)})`,
      status: status(batchGain === undefined ? undefined : batchGain >= 2),
    },
    {
      goal: '(f) runtime / hand-written tfjs, batch 64',
      target: '<= 1.15x',
      measured: f64 ? `${fmt(f64.ratio, 3)}x (${fmt(f64.runtimeMs, 3)} vs ${fmt(f64.referenceMs, 3)} ms)` : '-',
      status: status(f64 ? f64.ratio <= 1.15 : undefined),
    },
    {
      goal: '(f) runtime / hand-written tfjs, batch 1',
      target: '<= 1.5x',
      measured: f1 ? `${fmt(f1.ratio, 3)}x (${fmt(f1.runtimeMs, 3)} vs ${fmt(f1.referenceMs, 3)} ms)` : '-',
      status: status(f1 ? f1.ratio <= 1.5 : undefined),
    },
    {
      goal: 'f_mnist load + warm-up (cold process)',
      target: '<= 300 ms',
      measured: loadWarm === undefined ? '-' : `${fmt(loadWarm, 1)} ms (load ${fmt(r.loadTime!.loadMs, 1)} + warm-up ${fmt(r.loadTime!.warmupMs, 1)})`,
      status: status(loadWarm === undefined ? undefined : loadWarm <= 300),
    },
    {
      goal: 'resident memory per extra loaded f_mnist version',
      target: '<= 20 MB',
      measured: r.memory ? `${fmt(r.memory.rssPerVersionMb, 2)} MB` : '-',
      status: status(r.memory ? r.memory.rssPerVersionMb <= 20 : undefined),
    },
  ];
}

function table(head: string[], rows: string[][], align?: ('l' | 'r')[]): string {
  const sep = head.map((_, i) => ((align?.[i] ?? 'l') === 'r' ? '---:' : '---'));
  return [head, sep, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

export function machine(): string[] {
  const cpus = os.cpus();
  const require = createRequire(import.meta.url);
  const version = (pkg: string) => {
    try {
      return (require(`${pkg}/package.json`) as { version: string }).version;
    } catch {
      return '?';
    }
  };
  let commit = '?';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT, encoding: 'utf8' }).trim() !== '';
    if (dirty) commit += ' + uncommitted changes';
  } catch {
    // not a git checkout
  }
  return [
    `- CPU: ${cpus[0]?.model ?? '?'} × ${cpus.length} (available parallelism ${os.availableParallelism()})`,
    `- Memory: ${fmt(os.totalmem() / 2 ** 30, 1)} GiB; OS: ${os.type()} ${os.release()} ${os.arch()}`,
    `- Node.js ${process.version}; @tensorflow/tfjs-backend-wasm ${version('@tensorflow/tfjs-backend-wasm')}; autocannon ${version('autocannon')}`,
    `- modelhost commit ${commit}`,
  ];
}

export function renderReport(r: BenchReport, notes: string): { markdown: string; goalsText: string } {
  const goals = evaluateGoals(r);
  const out: string[] = [];
  out.push('# Benchmarks', '');
  out.push(
    'Generated by `npm run bench` ([bench/run.ts](bench/run.ts)); each run rewrites this file except the section against TensorFlow (written by `npm run bench -- --vs-tf`) and the Notes section at the end. Ratios compare numbers measured in the same run on the same machine; these machines are noisy, so compare ratios, not absolute figures, across runs.',
    '',
  );
  out.push(`Run of ${r.date.toISOString().replace('T', ' ').slice(0, 19)} UTC${r.quick ? ' (**--quick** smoke run: short cases, not representative)' : ''}, ${fmt(r.elapsedSeconds ?? 0)} s in all.`, '');
  out.push(...machine(), '');

  out.push('## Goals (issue 7)', '');
  out.push(table(['goal', 'target', 'measured', 'status'], goals.map((g) => [g.goal, g.target, g.measured, g.status === 'NOT met' ? '**NOT met** (see Notes)' : g.status])));
  out.push('');

  if (r.http.length) {
    out.push('## HTTP load', '');
    out.push(
      `autocannon (in the bench process) against each server in its own child process on 127.0.0.1: keep-alive connections, no pipelining, ${r.warmup} s warm-up then ${r.seconds} s measured per case. Bodies are real held-out Fashion-MNIST PNGs as the f_mnist client sends them, \`{"instances": ["<web-safe base64 PNG>"]}\` (~0.9 KB for one image; 16 different images in turn, 4 different bodies of 32). Failures = non-2xx answers + socket errors and timeouts. Latency is per response, client side.`,
      '',
    );
    out.push(
      table(
        ['case', 'what', 'connections', 'req/s', 'images/s', 'p50 ms', 'p99 ms', 'failures'],
        r.http.map((h) => [h.id, h.label, String(h.connections), fmt(h.reqPerSec), fmt(h.imagesPerSec), fmt(h.p50Ms, 2), fmt(h.p99Ms, 2), String(h.failures)]),
        ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r'],
      ),
    );
    out.push('');
    const row = (id: string) => r.http.find((h) => h.id === id);
    const ratios: string[] = [];
    const a = row('a');
    const b = row('b');
    if (a && b) ratios.push(`- (b)/(a) at 64 connections: **${fmt(b.reqPerSec / a.reqPerSec, 3)}**`);
    for (const c of [1, 64, 256]) {
      const on = row(`e-on-${c}`);
      const off = row(`e-off-${c}`);
      if (on && off) ratios.push(`- batching on/off, images/s at ${c} connection${c > 1 ? 's' : ''}: **${fmt(on.imagesPerSec / off.imagesPerSec, 2)}x**`);
    }
    const on64 = row('e-on-64');
    if (a && on64) ratios.push(`- f_mnist 1-image with batching on, 64 connections, vs (a): ${fmt(on64.reqPerSec / a.reqPerSec, 3)}`);
    const d = row('d');
    if (a && d) ratios.push(`- (d) half_plus_two (a trivial model: the server's own per-request cost) vs (a): ${fmt(d.reqPerSec / a.reqPerSec, 3)}`);
    const c32 = row('c');
    if (b && c32) ratios.push(`- 32 images per request vs 1 (images/s, 64 connections): ${fmt(c32.imagesPerSec / b.imagesPerSec, 2)}x`);
    out.push(...ratios, '');
    out.push('Servers:', '', ...r.commands.map((c) => `- \`${c}\``), '');
    if (r.batching) {
      out.push(`Batching parameters file (written by the bench): ${Object.entries(r.batching).map(([k, v]) => `\`${k} { value: ${v} }\``).join(', ')}.`, '');
    }
  }

  if (r.overhead) {
    out.push('## Runtime alone (f)', '');
    out.push(
      `f_mnist's \`probabilities\` signature on the modelhost runtime vs the same math written directly in tfjs ops on the same backend (${r.overhead.backend}): base64 + PNG decode with the runtime's own decoders, then \`x/255 → matMul+bias → relu → matMul+bias → softmax\` with the checkpoint's weights. Both start from the request strings and end with the probabilities on the host; their outputs are compared before timing. After a warm-up of a few seconds (the runtime's many small functions need thousands of runs before V8 has optimised them all), the two run in alternating blocks of ~5 ms; the ratio is the median over ${r.overhead.rows[0]?.reps ?? 0} repetitions of the ratio within each repetition, the times are medians too.`,
      '',
    );
    out.push(
      table(
        ['batch', 'runtime ms', 'tfjs ms', 'ratio', 'runtime images/s', 'tfjs images/s', 'max abs diff'],
        r.overhead.rows.map((x) => [
          String(x.batch),
          fmt(x.runtimeMs, 3),
          fmt(x.referenceMs, 3),
          `${fmt(x.ratio, 3)}x`,
          fmt((x.batch * 1000) / x.runtimeMs),
          fmt((x.batch * 1000) / x.referenceMs),
          x.bitIdentical ? '0 (bit-identical)' : x.maxAbsDiff.toExponential(2),
        ]),
        ['r', 'r', 'r', 'r', 'r', 'r', 'r'],
      ),
    );
    out.push('');
  }

  if (r.loadTime || r.memory || r.serverMemory) {
    out.push('## Model load and memory (item 4)', '');
    const rows: string[][] = [];
    if (r.loadTime) {
      const t = r.loadTime;
      rows.push(['tfjs WASM backend init (once per process)', `${fmt(t.backendInitMs, 1)} ms`]);
      rows.push(['f_mnist/2 `engine.load`, cold process', `${fmt(t.loadMs, 1)} ms`]);
      rows.push(['warm-up (each signature once, 1 image), cold', `${fmt(t.warmupMs, 1)} ms`]);
      rows.push(['**load + warm-up, cold**', `**${fmt(t.loadMs + t.warmupMs, 1)} ms**`]);
      rows.push(['another version in the warm process: load + warm-up', `${fmt(t.secondLoadMs, 1)} + ${fmt(t.secondWarmupMs, 1)} ms`]);
    }
    if (r.memory) {
      const m = r.memory;
      rows.push([`resident memory (RSS) per extra loaded version (${m.versions} versions, after GC)`, `**${fmt(m.rssPerVersionMb, 2)} MB**`]);
      rows.push(['of which JS heap / external (ArrayBuffers)', `${fmt(m.heapPerVersionMb, 2)} / ${fmt(m.externalPerVersionMb, 2)} MB`]);
      rows.push([`WASM heap growth over the ${m.versions} loads (tfjs memory; never shrinks)`, `${fmt(m.wasmHeapGrowthMb, 1)} MB`]);
      rows.push(['process RSS with one version loaded and warm', `${fmt(m.baselineRssMb, 1)} MB`]);
    }
    if (r.serverMemory) {
      const m = r.serverMemory;
      rows.push([`through \`modelhost serve\` (model replicated in each inference thread): RSS per extra version (${m.versions} versions vs 1, no forced GC)`, `${fmt(m.rssPerVersionMb, 2)} MB`]);
      rows.push(['server RSS with 1 version / with all', `${fmt(m.rssOneMb, 1)} / ${fmt(m.rssAllMb, 1)} MB`]);
      if (m.loadMs !== undefined) rows.push(['load + warm-up per version, as the server\'s metrics report it', `${fmt(m.loadMs, 1)} ms`]);
    }
    out.push(table(['what', 'value'], rows, ['l', 'r']));
    out.push('');
    if (r.loadTime) out.push(`Load times are medians of ${r.loadRuns ?? 1} fresh processes (\`node dist/bench/load_memory.js time\`); memory from \`node --expose-gc dist/bench/load_memory.js memory\`.`, '');
  }

  if (r.notes.length) {
    out.push('## Messages from this run', '', ...r.notes.map((n) => `- ${n}`), '');
  }

  out.push('## Notes', '', NOTES_START, notes.trim(), NOTES_END, '');
  const goalsText = ['Goals:', ...goals.map((g) => `  [${g.status === 'met' ? 'x' : g.status === 'NOT met' ? ' ' : '?'}] ${g.goal}: ${g.measured} (target ${g.target}) — ${g.status}`)].join('\n');
  return { markdown: out.join('\n'), goalsText };
}

/** Renders the report; writes it to `file` (keeping that file's Notes) when given. */
export function writeReport(r: BenchReport, file: string | undefined): { goalsText: string } {
  let notes = DEFAULT_NOTES;
  let vsTf: string | undefined;
  if (file && fs.existsSync(file)) {
    const old = fs.readFileSync(file, 'utf8');
    const s = old.indexOf(NOTES_START);
    const e = old.indexOf(NOTES_END);
    if (s >= 0 && e > s) notes = old.slice(s + NOTES_START.length, e);
    // The `--vs-tf` section is written by its own runs (bench/vs_tf/); keep it.
    vsTf = extractVsTf(old);
  }
  const { markdown, goalsText } = renderReport(r, notes);
  if (file) fs.writeFileSync(file, vsTf ? spliceVsTf(markdown, vsTf.slice(vsTf.indexOf('\n') + 1, vsTf.lastIndexOf('\n'))) : markdown);
  return { goalsText };
}
