/**
 * `npm run bench -- --vs-tf`: modelhost against TensorFlow 2.21 on the perf
 * set (bench/perf_models/), in one run, each part's ratios from numbers of
 * this run only:
 *   compute  in-process runtime vs TF, batch 1 and 32 (compute.ts)
 *   kernels  GFLOP/s of products and convolutions on fixed shapes, one thread: TF vs the runtime's ops in each SIMD kernel mode (kernels.ts)
 *   serving  `modelhost serve` vs a FastAPI + uvicorn[standard] TF server, 1/16/64 connections (serving.ts)
 *   load     load + warm-up time and RSS per extra loaded version (load.ts)
 * then, for each goal of issue 17 not met, a profile of the modelhost side,
 * and the section between the vs-tf markers of BENCHMARKS.md (report_vs_tf.ts).
 * Options: bench/vs_tf/args.ts. Without a Python with TF 2.21 it says how
 * to make one and exits with status 2.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from '../common.js';
import { machine } from '../report.js';
import { parseVsTfArgs, type VsTfOptions } from './args.js';
import { backendInfo } from './compute_child.js';
import { profileCompute, runCompute } from './compute.js';
import type { Job } from './jobs.js';
import { KERNEL_CASES, runKernels } from './kernels.js';
import { profileLoad, runLoadMemory } from './load.js';
import { defaultCacheDir, ensureGenerated, perfJobs } from './perf_set.js';
import { summaryMarkdown } from './profile.js';
import { findPython, type PythonInfo } from './python.js';
import { evaluateVsTf, memoryLimitMb, writeVsTf, type VsTfProfile, type VsTfReport } from './report_vs_tf.js';
import { profileServer } from './server_profile.js';
import { defaultTfWorkers, runServing, serveModelsDir, servingBodies } from './serving.js';

const log = (s: string) => process.stderr.write(`${s}\n`);
const serveArgs = () => (process.env.MODELHOST_BENCH_SERVE_ARGS ?? '').split(/\s+/).filter((a) => a !== '');

function versions(py: PythonInfo, threads: number, backend: string): string[] {
  return [
    `- TensorFlow ${py.tf} (${py.python}); FastAPI ${py.fastapi}, uvicorn ${py.uvicorn}, httptools ${py.httptools}, uvloop ${py.uvloop}`,
    `- modelhost runtime backend: ${backend}, ${threads} thread${threads === 1 ? '' : 's'} per model run (TF is given the same)`,
  ];
}

async function profiles(o: VsTfOptions, report: VsTfReport, jobs: readonly Job[], workDir: string): Promise<void> {
  const goals = evaluateVsTf(report);
  const notMet = (id: string) => goals.find((g) => g.id === id)?.status === 'NOT met';
  const budget = { budgetSeconds: o.quick ? 1 : 3, minCalls: 3, maxCalls: 100_000 };
  if (notMet('compute') && report.compute) {
    // The three models with the largest ratio, each at its worse batch.
    const worst = new Map<string, { model: string; batch: number; ratio: number }>();
    for (const row of report.compute.rows) if (!(row.ratio <= (worst.get(row.model)?.ratio ?? 0))) worst.set(row.model, row);
    const cells = [...worst.values()].filter((c) => c.ratio > 1).sort((a, b) => b.ratio - a.ratio).slice(0, 3);
    log(`profiling compute: ${cells.map((c) => `${c.model} b${c.batch}`).join(', ')} ...`);
    for (const p of await profileCompute(jobs, cells, budget)) {
      const ratio = cells.find((c) => c.model === p.model)!.ratio;
      report.profiles.push({ goal: 'Compute', title: `${p.model}, batch ${p.batch} (${ratio.toFixed(2)}x TF; ${p.calls} calls profiled)`, summary: p.summary });
    }
  }
  const servingWorst = report.serving?.rows.filter((r) => r.connections === 16).sort((a, b) => a.ratio - b.ratio)[0];
  const modelsDir = report.serving ? serveModelsDir(workDir, jobs) : undefined;
  if (notMet('serving') && servingWorst && modelsDir) {
    const job = jobs.find((j) => j.name === servingWorst.model)!;
    log(`profiling modelhost serve: ${job.name} at 16 connections ...`);
    const p = await profileServer({ workDir, modelsDir, model: job.name, bodies: servingBodies(job), connections: 16, seconds: Math.max(3, o.seconds), serveArgs: serveArgs() });
    for (const t of p.threads) {
      report.profiles.push({ goal: 'Serving', title: `\`modelhost serve\`, ${job.name} at 16 connections (${servingWorst.ratio.toFixed(2)}x the TF peer; ${p.load.reqPerSec.toFixed(1)} req/s while profiled): ${t.thread}`, summary: t.summary });
    }
  }
  if (notMet('fmnist') && modelsDir && jobs.some((j) => j.name === 'f_mnist')) {
    const job = jobs.find((j) => j.name === 'f_mnist')!;
    log('profiling modelhost serve: f_mnist at 64 connections ...');
    const p = await profileServer({ workDir, modelsDir, model: 'f_mnist', bodies: servingBodies(job), connections: 64, seconds: Math.max(3, o.seconds), serveArgs: serveArgs() });
    for (const t of p.threads) {
      report.profiles.push({ goal: 'f_mnist vs bare node:http', title: `\`modelhost serve\`, f_mnist at 64 connections (${p.load.reqPerSec.toFixed(0)} req/s while profiled): ${t.thread}`, summary: t.summary });
    }
  }
  if (notMet('load')) {
    const job = jobs.find((j) => j.name === 'mobilenet_v2');
    if (job) {
      log('profiling load + warm-up of mobilenet_v2 ...');
      const summary = await profileLoad(job, workDir);
      if (summary) report.profiles.push({ goal: 'Load', title: 'mobilenet_v2, first `tsEngine.load` + first call, fresh process', summary });
    }
  }
  if (notMet('memory') && report.load) {
    const over = report.load.rows.filter((r) => !(r.modelhost.rssPerVersionMb <= memoryLimitMb(r.weightsMb)));
    const rows = over.map(
      (r) =>
        `| ${r.model} | ${r.weightsMb.toFixed(1)} | ${r.modelhost.rssPerVersionMb.toFixed(1)} | ${memoryLimitMb(r.weightsMb).toFixed(1)} | ${r.modelhost.heapPerVersionMb.toFixed(1)} | ${r.modelhost.externalPerVersionMb.toFixed(1)} | ${r.modelhost.wasmGrowthPerVersionMb.toFixed(1)} | ${r.tf.rss_per_version_mb.toFixed(1)} |`,
    );
    const text = [
      'Where the resident memory of each extra loaded version goes on the modelhost side (process.memoryUsage() after forced GC, and the WASM memory of the tfjs backend, which only grows): JS heap (graph, plans), external (ArrayBuffers held on the host: checkpoint bytes, host copies of tensors) and WASM (tensors uploaded to the backend).',
      '',
      '| model | weights MB | RSS / version MB | limit MB | JS heap MB | external MB | WASM growth MB | TF RSS / version MB |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...rows,
    ].join('\n');
    report.profiles.push({ goal: 'Memory', title: 'RSS per extra version, by kind', text } satisfies VsTfProfile);
  }
}

export async function runVsTf(argv: readonly string[]): Promise<number> {
  const o = parseVsTfArgs(argv);
  let py: PythonInfo;
  try {
    py = await findPython(o.python);
  } catch (e) {
    log(e instanceof Error ? e.message : String(e));
    return 2;
  }
  const started = Date.now();
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-vs-tf-'));
  const out = o.write ? (o.out ?? path.join(ROOT, 'BENCHMARKS.md')) : undefined;
  try {
    // The kernels part runs fixed shapes, not the perf set.
    const models = [...o.parts].some((p) => p !== 'kernels') ? o.models : [];
    const cacheDir = o.perfCache ?? defaultCacheDir();
    if (models.length) {
      log(`perf set (${models.join(', ')}) in ${cacheDir} ...`);
      await ensureGenerated(py.python, cacheDir, models, log);
    }
    const jobs = perfJobs(cacheDir, workDir, models);
    const { backend, threads } = await backendInfo();
    const report: VsTfReport = {
      date: new Date(),
      quick: o.quick,
      elapsedSeconds: 0,
      machine: machine(),
      versions: versions(py, threads, backend),
      models: jobs.map((j) => ({ name: j.name, description: j.description, weightsMb: j.weightsBytes / 2 ** 20 })),
      profiles: [],
      notes: [],
    };
    if (o.parts.has('compute')) {
      log(`compute (${o.budgetSeconds} s per cell and side) ...`);
      report.compute = await runCompute(py.python, jobs, { budgetSeconds: o.budgetSeconds, minCalls: o.quick ? 2 : 3, maxCalls: 100_000 }, log);
    }
    if (o.parts.has('kernels')) {
      log(`kernels (${KERNEL_CASES.length} shapes × TF, modelhost fma / plain / tfjs-wasm; ${o.budgetSeconds} s per cell and side) ...`);
      report.kernels = await runKernels(py.python, { budgetSeconds: o.budgetSeconds, minCalls: o.quick ? 2 : 3, maxCalls: 100_000 }, log);
    }
    if (o.parts.has('load')) {
      log(`load + warm-up and memory (fresh processes, ${o.extra} extra version(s)) ...`);
      report.load = await runLoadMemory(py.python, jobs, workDir, threads, o.extra, log);
    }
    if (o.parts.has('serving')) {
      const tfWorkers = o.tfWorkers ?? defaultTfWorkers();
      const tfThreads = Math.max(1, Math.floor(os.availableParallelism() / tfWorkers));
      log(`serving (${o.warmupSeconds} s warm-up + ${o.seconds} s per case, TF peer ${tfWorkers} workers × ${tfThreads} threads) ...`);
      report.serving = await runServing(py.python, jobs, workDir, { seconds: o.seconds, warmupSeconds: o.warmupSeconds, tfWorkers, tfThreads, serveArgs: serveArgs() }, log);
    }
    if (o.profile) await profiles(o, report, jobs, workDir);
    report.elapsedSeconds = (Date.now() - started) / 1000;
    const { goalsText, markdown } = writeVsTf(report, out);
    // --no-write: the section goes to stdout instead.
    if (!out) process.stdout.write(`${markdown}\n`);
    log(`\n${goalsText}`);
    for (const p of report.profiles) if (p.summary) log(`\nprofile, ${p.goal}: ${p.title}\n${summaryMarkdown(p.summary).split('\n').slice(0, 14).join('\n')}`);
    log(out ? `\nwrote ${path.relative(process.cwd(), out) || out} (${report.elapsedSeconds.toFixed(0)} s)` : `\n(${report.elapsedSeconds.toFixed(0)} s; nothing written)`);
    return 0;
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}
