/**
 * The `--vs-tf` section of BENCHMARKS.md: machine and versions, the goals of
 * the performance-against-TensorFlow issue each marked met / NOT met, one
 * table of ratios, the detail tables, and the profiles of the goals not met.
 * It lives between VS_TF_START and VS_TF_END; writing it replaces only that
 * block (inserted before `## Notes` the first time), and bench/report.ts
 * carries it over when the rest of the file is regenerated.
 */
import fs from 'node:fs';
import { fmt } from '../common.js';
import type { ComputeResult } from './compute.js';
import { CALL_FLOPS, type KernelCell, type KernelResult } from './kernels.js';
import type { LoadRow } from './load.js';
import { summaryMarkdown, type ProfileSummary } from './profile.js';
import type { ServingResult } from './serving.js';

export const VS_TF_START = '<!-- vs-tf:start -->';
export const VS_TF_END = '<!-- vs-tf:end -->';

export interface VsTfProfile {
  /** Which goal it explains. */
  goal: string;
  title: string;
  summary?: ProfileSummary;
  /** Markdown used instead of a summary (memory breakdowns). */
  text?: string;
}

export interface VsTfReport {
  date: Date;
  quick: boolean;
  elapsedSeconds: number;
  machine: string[];
  versions: string[];
  models: { name: string; description: string; weightsMb: number }[];
  compute?: ComputeResult;
  kernels?: KernelResult;
  serving?: ServingResult;
  load?: { rows: LoadRow[]; failures: { model: string; error: string }[] };
  profiles: VsTfProfile[];
  notes: string[];
}

export type Status = 'met' | 'NOT met' | 'not measured';

export interface VsTfGoal {
  id: 'compute' | 'serving' | 'fmnist' | 'load' | 'memory';
  goal: string;
  target: string;
  measured: string;
  status: Status;
}

const st = (ok: boolean | undefined): Status => (ok === undefined ? 'not measured' : ok ? 'met' : 'NOT met');
const x = (r: number) => `${fmt(r, 2)}x`;

/** The CPU-time ratio of the first load + warm-up, when both sides measured it (wall time swings with the machine's load; CPU time less). */
function cpuRatio(row: LoadRow): string {
  const mh = row.modelhost.loadCpuMs === undefined ? undefined : row.modelhost.loadCpuMs + (row.modelhost.warmupCpuMs ?? 0);
  const t = row.tf.load_cpu_ms === undefined ? undefined : row.tf.load_cpu_ms + (row.tf.warmup_cpu_ms ?? 0);
  return mh === undefined || t === undefined ? '' : `; CPU time ${x(mh / t)} (${fmt(mh, 0)} vs ${fmt(t, 0)} ms)`;
}

/** The memory limit per extra loaded version: 1.5 × the weights + 10 MB. */
export const memoryLimitMb = (weightsMb: number) => 1.5 * weightsMb + 10;

/** modelhost's fma kernels' GFLOP/s over TF's on each shape both measured. */
function fmaOverTf(k: KernelResult): number[] {
  return k.rows.flatMap((row) => (row.tf && row.modelhost.fma ? [row.modelhost.fma.gflops / row.tf.gflops] : []));
}

const span = (xs: readonly number[], digits = 2) => {
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  return fmt(lo, digits) === fmt(hi, digits) ? fmt(lo, digits) : `${fmt(lo, digits)}-${fmt(hi, digits)}`;
};

/** "modelhost's kernels at 0.27-0.61x TF's GFLOP/s per core", or undefined without kernel measurements. */
export function kernelCeiling(k: KernelResult | undefined): string | undefined {
  const ratios = k ? fmaOverTf(k) : [];
  return ratios.length ? `modelhost's own kernels at ${span(ratios)}x TF's GFLOP/s per core (kernel throughput below)` : undefined;
}

export function evaluateVsTf(r: VsTfReport): VsTfGoal[] {
  const goals: VsTfGoal[] = [];
  const c = r.compute;
  const ceiling = kernelCeiling(r.kernels);
  if (c) {
    const bad = c.rows.filter((row) => !(row.ratio <= 1));
    const worst = [...c.rows].sort((a, b) => b.ratio - a.ratio)[0];
    const complete = c.failures.length === 0 && c.rows.length > 0;
    goals.push({
      id: 'compute',
      goal: 'Compute: modelhost runtime time ≤ TF on every model, batch 1 and 32',
      target: '≤ 1.0x',
      measured:
        (c.rows.length
          ? `${c.rows.length - bad.length} of ${c.rows.length} cells; worst ${worst.model} b${worst.batch} ${x(worst.ratio)}${c.failures.length ? `; failed: ${c.failures.map((f) => f.model).join(', ')}` : ''}`
          : '-') + (ceiling ? `; ${ceiling}` : ''),
      status: c.rows.length ? st(complete && bad.length === 0) : 'not measured',
    });
  } else goals.push({ id: 'compute', goal: 'Compute: modelhost runtime time ≤ TF on every model, batch 1 and 32', target: '≤ 1.0x', measured: ceiling ? `-; ${ceiling}` : '-', status: 'not measured' });

  const s = r.serving;
  if (s && s.rows.length) {
    const at16 = s.rows.filter((row) => row.connections === 16);
    const ok16 = at16.filter((row) => row.ratio >= 1.5 && row.modelhost.p99Ms <= row.tf.p99Ms);
    const failures = s.rows.reduce((n, row) => n + row.modelhost.failures + row.tf.failures, 0);
    goals.push({
      id: 'serving',
      goal: 'Serving: ≥ 1.5x the TF-backed server’s req/s at 16 connections on every model, p99 no worse, 0 failures',
      target: '≥ 1.5x, p99 ≤ TF',
      measured: `${ok16.length} of ${at16.length} models (${at16.map((row) => `${row.model} ${x(row.ratio)}`).join(', ')}); ${failures} failed requests${s.failures.length ? `; failed: ${s.failures.map((f) => f.model).join(', ')}` : ''}`,
      status: st(ok16.length === at16.length && failures === 0 && s.failures.length === 0),
    });
  } else goals.push({ id: 'serving', goal: 'Serving: ≥ 1.5x the TF-backed server’s req/s at 16 connections, p99 no worse, 0 failures', target: '≥ 1.5x', measured: '-', status: 'not measured' });

  const ratio = s?.bare && s.fmnist64 ? s.fmnist64.reqPerSec / s.bare.reqPerSec : undefined;
  goals.push({
    id: 'fmnist',
    goal: 'f_mnist, one image per request, 64 connections, vs bare node:http',
    target: '≥ 0.35',
    measured: ratio === undefined ? '-' : `${fmt(ratio, 3)} (${fmt(s!.fmnist64!.reqPerSec)} / ${fmt(s!.bare!.reqPerSec)} req/s)`,
    status: st(ratio === undefined ? undefined : ratio >= 0.35),
  });

  const mn = r.load?.rows.find((row) => row.model === 'mobilenet_v2');
  const mhLoad = mn ? mn.modelhost.loadMs + mn.modelhost.warmupMs : undefined;
  const tfLoad = mn ? mn.tf.load_ms + mn.tf.warmup_ms : undefined;
  goals.push({
    id: 'load',
    goal: 'Load + warm-up time ≤ TF’s for MobileNetV2 (fresh process)',
    target: '≤ 1.0x',
    measured: mn ? `${x(mhLoad! / tfLoad!)} (${fmt(mhLoad, 0)} vs ${fmt(tfLoad, 0)} ms)${cpuRatio(mn)}` : '-',
    status: st(mn ? mhLoad! <= tfLoad! : undefined),
  });

  const rows = r.load?.rows ?? [];
  const over = rows.filter((row) => !(row.modelhost.rssPerVersionMb <= memoryLimitMb(row.weightsMb)));
  goals.push({
    id: 'memory',
    goal: 'Resident memory per extra loaded version ≤ 1.5 × weights + 10 MB, every model',
    target: '≤ 1.5 w + 10 MB',
    measured: rows.length ? `${rows.length - over.length} of ${rows.length} models${over.length ? `; over: ${over.map((row) => `${row.model} ${fmt(row.modelhost.rssPerVersionMb, 1)} MB (limit ${fmt(memoryLimitMb(row.weightsMb), 1)})`).join(', ')}` : ''}` : '-',
    status: rows.length ? st(over.length === 0) : 'not measured',
  });
  return goals;
}

function table(head: string[], rows: string[][], align?: ('l' | 'r')[]): string {
  const sep = head.map((_, i) => ((align?.[i] ?? 'r') === 'r' ? '---:' : '---'));
  return [head, sep, ...rows].map((row) => `| ${row.join(' | ')} |`).join('\n');
}

const gflops = (k: KernelCell | undefined) => (k ? `${fmt(k.gflops, 1)}${k.agree === false ? ' (outputs differ)' : ''}` : '-');

/** What the kernel table shows, in one sentence from its numbers. */
export function kernelFinding(k: KernelResult): string {
  const ratios = fmaOverTf(k);
  const col = (pick: (row: KernelResult['rows'][number]) => KernelCell | undefined) => k.rows.flatMap((row) => (pick(row) ? [pick(row)!.gflops] : []));
  const tf = col((row) => row.tf);
  const fma = col((row) => row.modelhost.fma);
  const wasm = col((row) => row.modelhost.off);
  if (!ratios.length || !tf.length) return 'No shape was measured on both TF and modelhost’s fma kernels in this run.';
  const vectors = k.cpuVectors ? `${k.cpuVectors} on this CPU` : 'the CPU’s widest vectors';
  const under = Math.max(...ratios) < 1;
  return (
    `On one core, modelhost’s own WebAssembly SIMD kernels reach ${span(fma, 0)} GFLOP/s${wasm.length ? ` (tfjs-wasm’s kernels ${span(wasm, 0)})` : ''} where TF reaches ${span(tf, 0)}: ${span(ratios)}x TF’s throughput, ` +
    (under
      ? `because WebAssembly SIMD is 128 bits wide while TF’s oneDNN/Eigen kernels use ${vectors}; this per-core ceiling, not the runtime around the kernels, is what keeps conv/matmul-heavy models above TF’s time.`
      : `so on some shapes the kernels match TF’s per-core throughput (TF’s kernels use ${vectors}).`)
  );
}

function kernelSection(k: KernelResult): string[] {
  const out = ['### Kernel throughput (GFLOP/s, one thread)', ''];
  out.push(
    `Products and convolutions on fixed shapes, GFLOP/s = 2·m·n·k / median time (a timed call runs the op ×R on R different left operands, about ${fmt(CALL_FLOPS / 1e6)} MFLOP in all, and reads the last output to the host, so that the ~0.2 ms of a call from Python into a \`tf.function\` does not pass for kernel time). TF: \`tf.matmul\` / \`tf.nn.conv2d\` in a \`tf.function\`, intra-op ${k.tfThreads.intra_op}, inter-op ${k.tfThreads.inter_op} threads, the last output fetched with \`.numpy()\` ([bench/peers/tf_compute.py](bench/peers/tf_compute.py)); modelhost: the runtime's MatMul / BatchMatMulV2 / Conv2D kernels ([bench/vs_tf/kernel_child.ts](bench/vs_tf/kernel_child.ts); backend ${k.backend}, ${k.threads} thread${k.threads === 1 ? '' : 's'}) with \`setSimdKernels\` 'fma' (relaxed-SIMD FMA; ran: ${k.builds.fma ?? '?'}), 'plain' (SIMD128; ran: ${k.builds.plain ?? '?'}) and 'off' (tfjs-backend-wasm's own kernels: XNNPACK, or its scalar loop for batched or transposed products; ran: ${k.builds.off ?? '?'}), one child process each. Same operands on both sides; weights (MatMul's right operand, filters) held as in a model; each modelhost output compared with TF's on 64 values; the four take turns shape by shape, each warmed up.`,
    '',
  );
  out.push(
    table(
      ['shape', 'TF', 'modelhost fma', 'modelhost plain', 'tfjs-wasm', 'fma / TF'],
      k.rows.map((row) => [`${row.name}${row.reps > 1 ? ` (×${row.reps} per call)` : ''}`, gflops(row.tf), gflops(row.modelhost.fma), gflops(row.modelhost.plain), gflops(row.modelhost.off), row.tf && row.modelhost.fma ? `**${x(row.modelhost.fma.gflops / row.tf.gflops)}**` : '-']),
      ['l'],
    ),
  );
  out.push('', kernelFinding(k), '');
  for (const f of k.failures) out.push(`- ${f.name} (${f.side === 'tf' ? 'TF' : f.side === 'off' ? 'tfjs-wasm' : `modelhost ${f.side}`}) failed: ${f.error}`);
  if (k.failures.length) out.push('');
  return out;
}

/** The compute goal's profile from the kernel table: what bounds the conv/matmul-heavy models. */
function kernelProfileText(k: KernelResult): string {
  return `${kernelCeiling(k)}. ${kernelFinding(k)} See the kernel throughput table above (the same run).`;
}

export function renderVsTf(r: VsTfReport): { markdown: string; goalsText: string } {
  const goals = evaluateVsTf(r);
  const out: string[] = [];
  out.push('## Against TensorFlow (`npm run bench -- --vs-tf`)', '');
  out.push(
    `Run of ${r.date.toISOString().replace('T', ' ').slice(0, 19)} UTC${r.quick ? ' (**--quick** smoke run: short cases, not representative)' : ''}, ${fmt(r.elapsedSeconds)} s in all. Written by [bench/vs_tf/](bench/vs_tf/) between the \`vs-tf\` markers; every ratio below compares numbers measured in this one run (modelhost / TF: below 1 is faster for compute and load, above 1 is more throughput for serving).`,
    '',
  );
  out.push(...r.machine, ...r.versions, '');
  out.push(
    'To run it: a Python with TensorFlow 2.21, FastAPI and uvicorn[standard], from the local package index (`pip config list`), then the bench (the perf set is generated into `~/.cache/modelhost-bench/perf_models` on first use; `--perf-cache=DIR`):',
    '',
    '```sh',
    'python3 -m venv /work/tfvenv',
    "/work/tfvenv/bin/pip install --index-url file:///opt/pypi/simple --extra-index-url file:///opt/pypi-more/simple tensorflow-cpu==2.21.0 fastapi 'uvicorn[standard]'",
    'npm run bench -- --vs-tf --python=/work/tfvenv/bin/python      # or MODELHOST_BENCH_PYTHON=...; --quick, --models=a,b, --parts=compute,kernels,serving,load',
    '```',
    '',
  );

  out.push('### Goals (issue 17)', '');
  out.push(table(['goal', 'target', 'measured', 'status'], goals.map((g) => [g.goal, g.target, g.measured, g.status === 'NOT met' ? '**NOT met** (profile below)' : g.status]), ['l', 'l', 'l', 'l']));
  out.push('');

  // The one table of ratios.
  out.push('### Ratios, modelhost / TensorFlow', '');
  const c = (m: string, b: number) => r.compute?.rows.find((row) => row.model === m && row.batch === b);
  const sv = (m: string, n: number) => r.serving?.rows.find((row) => row.model === m && row.connections === n);
  const ld = (m: string) => r.load?.rows.find((row) => row.model === m);
  out.push(
    table(
      ['model', 'compute b1', 'compute b32', 'req/s 1 conn', 'req/s 16 conn', 'req/s 64 conn', 'p99 16 conn', 'load + warm-up', 'RSS / version (MB)', 'weights MB'],
      r.models.map((m) => {
        const l = ld(m.name);
        return [
          m.name,
          c(m.name, 1) ? x(c(m.name, 1)!.ratio) : '-',
          c(m.name, 32) ? x(c(m.name, 32)!.ratio) : '-',
          ...[1, 16, 64].map((n) => (sv(m.name, n) ? x(sv(m.name, n)!.ratio) : '-')),
          sv(m.name, 16) ? x(sv(m.name, 16)!.modelhost.p99Ms / sv(m.name, 16)!.tf.p99Ms) : '-',
          l ? x((l.modelhost.loadMs + l.modelhost.warmupMs) / (l.tf.load_ms + l.tf.warmup_ms)) : '-',
          l ? `${fmt(l.modelhost.rssPerVersionMb, 1)} vs ${fmt(l.tf.rss_per_version_mb, 1)}` : '-',
          fmt(m.weightsMb, 1),
        ];
      }),
      ['l'],
    ),
  );
  out.push('', 'compute: runtime time / TF time (below 1: modelhost faster); req/s: modelhost / TF peer (above 1: modelhost serves more); p99: modelhost / TF (below 1: better); load + warm-up: modelhost / TF (fresh process each).', '');

  out.push('### Models', '', table(['model', 'what', 'weights MB'], r.models.map((m) => [m.name, m.description, fmt(m.weightsMb, 1)]), ['l', 'l']), '');

  if (r.compute) {
    const k = r.compute;
    out.push('### Compute', '');
    out.push(
      `In-process, no HTTP: modelhost's runtime (\`tsEngine.load\`, \`model.run\`; backend ${k.backend}, ${k.threads} thread${k.threads === 1 ? '' : 's'}) in one child process, TensorFlow (\`tf.saved_model.load\`, the signature called from Python; intra-op ${k.tfThreads.intra_op}, inter-op ${k.tfThreads.inter_op} threads) in another; same inputs, the output fetched to the host on both sides, each pair of outputs compared. Per cell: warm-up, then timed calls for a time budget (at least a few calls; the slowest models get fewer), the two sides taking turns.`,
      '',
    );
    out.push(
      table(
        ['model', 'batch', 'modelhost median ms', 'p99 ms', 'TF median ms', 'p99 ms', 'ratio', 'calls (mh / TF)', 'max abs diff'],
        k.rows.map((row) => [row.model, String(row.batch), fmt(row.modelhost.medianMs, 2), fmt(row.modelhost.p99Ms, 2), fmt(row.tf.medianMs, 2), fmt(row.tf.p99Ms, 2), `**${x(row.ratio)}**`, `${row.modelhost.calls} / ${row.tf.calls}`, `${row.maxAbsDiff.toExponential(1)}${row.agree ? '' : ' DIFFER'}`]),
        ['l'],
      ),
    );
    out.push('');
    for (const f of k.failures) out.push(`- ${f.model} failed: ${f.error}`);
    if (k.failures.length) out.push('');
  }

  if (r.kernels) out.push(...kernelSection(r.kernels));

  if (r.serving) {
    const s = r.serving;
    out.push('### Serving (TF Serving REST API)', '');
    out.push(
      `\`POST /v1/models/<model>:predict\` with \`serving_default\`, one instance per request (\`{"instances": [row]}\`; f_mnist: 16 different images in turn, the others 4 different rows, floats with 4 decimals), the same bodies to both servers, autocannon in the bench process, keep-alive, no pipelining. One autocannon run per case: responses completing in the warm-up are discarded, then req/s, p50 and p99 over the measured window (longer for slow models); failures (non-2xx, errors, timeouts) over the whole run. The two servers take turns case by case.`,
      '',
      `- modelhost: \`${s.modelhostCommand}\``,
      `- TF peer: \`${s.peer.command}\` — ${s.peer.info.loop}, httptools ${s.peer.info.httptools_protocol ? 'yes' : 'no'} (h11 ${s.peer.info.h11_protocol ? 'loaded' : 'not loaded'}), ${s.peer.workers} workers × ${s.peer.info.intra_op} intra-op / ${s.peer.info.inter_op} inter-op TF threads ([bench/peers/tf_serving_app.py](bench/peers/tf_serving_app.py))`,
      '',
    );
    out.push(
      table(
        ['model', 'conn', 'modelhost req/s', 'p50 ms', 'p99 ms', 'fail', 'TF req/s', 'p50 ms', 'p99 ms', 'fail', 'req/s ratio'],
        s.rows.map((row) => [
          row.model,
          String(row.connections),
          fmt(row.modelhost.reqPerSec, 1),
          fmt(row.modelhost.p50Ms, 1),
          fmt(row.modelhost.p99Ms, 1),
          String(row.modelhost.failures),
          fmt(row.tf.reqPerSec, 1),
          fmt(row.tf.p50Ms, 1),
          fmt(row.tf.p99Ms, 1),
          String(row.tf.failures),
          `**${x(row.ratio)}**`,
        ]),
        ['l'],
      ),
    );
    out.push('');
    if (s.bare && s.fmnist64) {
      out.push(
        `f_mnist at 64 connections vs the bare \`node:http\` ceiling (bench/bare_server.ts, same bodies, back to back): modelhost ${fmt(s.fmnist64.reqPerSec)} req/s (p99 ${fmt(s.fmnist64.p99Ms, 1)} ms), bare ${fmt(s.bare.reqPerSec)} req/s → **${fmt(s.fmnist64.reqPerSec / s.bare.reqPerSec, 3)}**.`,
        '',
      );
    }
    for (const f of s.failures) out.push(`- ${f.model} not served: ${f.error}`);
    if (s.failures.length) out.push('');
  }

  if (r.load) {
    out.push('### Load and memory', '');
    out.push(
      'Each model in a fresh process on each side, same thread count: the first load (modelhost `tsEngine.load`; TF `tf.saved_model.load`) and the first call on one input (warm-up), then more copies loaded and called once; RSS per extra version = RSS growth after GC / extra copies. One-time process costs are apart: the tfjs backend init, `import tensorflow`.',
      '',
    );
    out.push(
      table(
        ['model', 'weights MB', 'modelhost load + warm-up ms', 'TF load + warm-up ms', 'ratio', 'CPU ms: modelhost / TF', 'modelhost RSS / version MB', 'TF RSS / version MB', 'limit MB', 'modelhost heap / external / WASM MB', 'init: tfjs / import TF ms'],
        r.load.rows.map((row) => [
          row.model,
          fmt(row.weightsMb, 1),
          `${fmt(row.modelhost.loadMs, 0)} + ${fmt(row.modelhost.warmupMs, 0)}`,
          `${fmt(row.tf.load_ms, 0)} + ${fmt(row.tf.warmup_ms, 0)}`,
          `**${x((row.modelhost.loadMs + row.modelhost.warmupMs) / (row.tf.load_ms + row.tf.warmup_ms))}**`,
          row.modelhost.loadCpuMs === undefined || row.tf.load_cpu_ms === undefined
            ? '-'
            : `${fmt(row.modelhost.loadCpuMs + (row.modelhost.warmupCpuMs ?? 0), 0)} / ${fmt(row.tf.load_cpu_ms + (row.tf.warmup_cpu_ms ?? 0), 0)}`,
          fmt(row.modelhost.rssPerVersionMb, 1),
          fmt(row.tf.rss_per_version_mb, 1),
          fmt(memoryLimitMb(row.weightsMb), 1),
          `${fmt(row.modelhost.heapPerVersionMb, 1)} / ${fmt(row.modelhost.externalPerVersionMb, 1)} / ${fmt(row.modelhost.wasmGrowthPerVersionMb, 1)}`,
          `${fmt(row.modelhost.initMs, 0)} / ${fmt(row.tf.import_ms, 0)}`,
        ]),
        ['l'],
      ),
    );
    out.push('');
    for (const f of r.load.failures) out.push(`- ${f.model} failed: ${f.error}`);
    if (r.load.failures.length) out.push('');
  }

  const profiles = [...r.profiles];
  const computeGoal = goals.find((g) => g.id === 'compute');
  if (computeGoal?.status === 'NOT met' && r.kernels && fmaOverTf(r.kernels).length) {
    profiles.unshift({ goal: 'Compute', title: 'the kernels against TF’s, per core', text: kernelProfileText(r.kernels) });
  }
  if (profiles.length) {
    out.push('### Profiles of the goals not met', '');
    out.push(
      'CPU profiles of the modelhost side (V8 sampling profiler, the one `node --cpu-prof` uses; [bench/vs_tf/profile.ts](bench/vs_tf/profile.ts)): self time by where the code lives, by the runtime kernel (op) on the stack, and the top functions. WASM functions are the kernels of tfjs-backend-wasm (XNNPACK and friends, one module) and of modelhost\'s runtime/simd (GEMM, convolution, fused elementwise: another module, wasm://wasm/ with its own hash); neither binary has names.',
      '',
    );
    for (const p of profiles) {
      out.push(`#### ${p.goal}: ${p.title}`, '');
      if (p.summary) out.push(summaryMarkdown(p.summary), '');
      if (p.text) out.push(p.text, '');
    }
  }
  if (r.notes.length) out.push('### Messages from this run', '', ...r.notes.map((n) => `- ${n}`), '');
  const goalsText = ['Goals (issue 17):', ...goals.map((g) => `  [${g.status === 'met' ? 'x' : g.status === 'NOT met' ? ' ' : '?'}] ${g.goal}: ${g.measured} (target ${g.target}) — ${g.status}`)].join('\n');
  return { markdown: out.join('\n').trim(), goalsText };
}

/** `text` with the vs-tf block replaced by `section` (inserted before `## Notes`, or appended, when absent). */
export function spliceVsTf(text: string, section: string): string {
  const block = `${VS_TF_START}\n${section}\n${VS_TF_END}`;
  const s = text.indexOf(VS_TF_START);
  const e = text.indexOf(VS_TF_END);
  if (s >= 0 && e > s) return text.slice(0, s) + block + text.slice(e + VS_TF_END.length);
  const notes = text.indexOf('\n## Notes');
  if (notes >= 0) return `${text.slice(0, notes + 1)}${block}\n\n${text.slice(notes + 1)}`;
  return `${text.trimEnd()}\n\n${block}\n`;
}

/** The vs-tf block of `text`, markers included, or undefined. */
export function extractVsTf(text: string): string | undefined {
  const s = text.indexOf(VS_TF_START);
  const e = text.indexOf(VS_TF_END);
  return s >= 0 && e > s ? text.slice(s, e + VS_TF_END.length) : undefined;
}

export function writeVsTf(r: VsTfReport, file: string | undefined): { goalsText: string; markdown: string } {
  const { markdown, goalsText } = renderVsTf(r);
  if (file) {
    const old = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmarks\n';
    fs.writeFileSync(file, spliceVsTf(old, markdown));
  }
  return { goalsText, markdown };
}
