// The pieces of `npm run bench -- --vs-tf` that need no TensorFlow: argument
// parsing, the timing loop, JSON bodies, the modelhost side of one compute
// measurement on f_mnist (runtime in-process) and its CPU profile summary,
// the goals and the BENCHMARKS.md section between its markers (kept when the
// rest of the file is regenerated), and the message without a Python.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderReport, writeReport, type BenchReport } from '../../bench/report.js';
import { parseVsTfArgs } from '../../bench/vs_tf/args.js';
import { loadJob, measureJob } from '../../bench/vs_tf/compute_child.js';
import { instanceJson, readJobInputs, type Job } from '../../bench/vs_tf/jobs.js';
import { perfJobs, PERF_SET } from '../../bench/vs_tf/perf_set.js';
import { profileThis, summarise } from '../../bench/vs_tf/profile.js';
import { findPython } from '../../bench/vs_tf/python.js';
import { evaluateVsTf, renderVsTf, spliceVsTf, VS_TF_END, VS_TF_START, writeVsTf, type VsTfReport } from '../../bench/vs_tf/report_vs_tf.js';
import type { ServingRow } from '../../bench/vs_tf/serving.js';
import { measureCalls, percentile, timeStats } from '../../bench/vs_tf/timing.js';
import type { WindowResult } from '../../bench/vs_tf/window_load.js';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vs-tf-test-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('--vs-tf arguments', () => {
  it('defaults to every model and part, full budgets', () => {
    const o = parseVsTfArgs(['--vs-tf']);
    expect(o.models).toEqual([...PERF_SET]);
    expect([...o.parts]).toEqual(['compute', 'serving', 'load']);
    expect([o.budgetSeconds, o.seconds, o.warmupSeconds, o.extra, o.profile, o.write]).toEqual([2, 3, 1, 2, true, true]);
  });
  it('takes --name=value and --name value', () => {
    const o = parseVsTfArgs(['--vs-tf', '--python=/opt/py', '--models', 'f_mnist,mlp', '--parts=compute', '--quick', '--tf-workers', '3', '--no-profile', '--no-write']);
    expect(o.python).toBe('/opt/py');
    expect(o.models).toEqual(['f_mnist', 'mlp']);
    expect([...o.parts]).toEqual(['compute']);
    expect([o.quick, o.budgetSeconds, o.seconds, o.tfWorkers, o.profile, o.write]).toEqual([true, 0.5, 1, 3, false, false]);
  });
  it('names what is wrong', () => {
    expect(() => parseVsTfArgs(['--models=mlp,vgg'])).toThrow(/unknown vgg; known: f_mnist, mlp/);
    expect(() => parseVsTfArgs(['--budget=-1'])).toThrow(/--budget must be a positive number, got '-1'/);
    expect(() => parseVsTfArgs(['--tf-workers=1.5'])).toThrow(/positive integer/);
    expect(() => parseVsTfArgs(['--python'])).toThrow(/--python needs a value/);
    expect(() => parseVsTfArgs(['--fast'])).toThrow(/unknown argument --fast/);
  });
});

describe('timing', () => {
  it('a zero budget makes exactly one (warm-up) call', () => {
    let calls = 0;
    const r = measureCalls(() => calls++, { budgetSeconds: 0, minCalls: 0, maxCalls: 0 });
    expect([calls, r.warmupCalls, r.timesMs.length]).toEqual([1, 1, 0]);
  });
  it('times at least minCalls calls after the warm-up', () => {
    const r = measureCalls(() => undefined, { budgetSeconds: 0.01, minCalls: 7, maxCalls: 1000 });
    expect(r.timesMs.length).toBeGreaterThanOrEqual(7);
    expect(r.warmupCalls).toBeGreaterThanOrEqual(2);
  });
  it('nearest-rank percentiles', () => {
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect([percentile(xs, 0.5), percentile(xs, 0.99), percentile([3], 0.99)]).toEqual([50, 99, 3]);
    expect(timeStats([4, 1, 3, 2])).toEqual({ calls: 4, medianMs: 2, p99Ms: 4 });
  });
});

describe('jobs', () => {
  it('one input row as a TF Serving instance: nested, floats rounded', () => {
    const file = path.join(tmp, 'inputs.bin');
    fs.writeFileSync(file, Buffer.from(new Float32Array([0.123456, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]).buffer));
    const job: Job = { name: 't', description: '', dir: '', signature: 's', input: 'x', dtype: 'float32', shape: [2, 3, 2], inputs: file, output: 'y', weightsBytes: 0 };
    const all = readJobInputs(job);
    expect(instanceJson(job, all, 0)).toEqual([[0.1235, 1], [2, 3], [4, 5]]);
    expect(instanceJson(job, all, 1)).toEqual([[6, 7], [8, 9], [10, 11]]);
    expect(() => readJobInputs({ ...job, shape: [3, 3, 2] })).toThrow(/12 values, expected 18/);
  });
});

describe('the modelhost side of one compute measurement (f_mnist, no TF needed)', () => {
  it('runs `probabilities` at batch 1 and 32 and profiles it by kernel', async () => {
    const [job] = perfJobs(path.join(tmp, 'no-cache'), tmp, ['f_mnist']);
    expect(job).toMatchObject({ signature: 'probabilities', dtype: 'string', shape: [32] });
    const { loaded, loadMs } = await loadJob(job);
    try {
      expect(loadMs).toBeGreaterThan(0);
      for (const batch of [1, 32]) {
        const r = measureJob(loaded, batch, { budgetSeconds: 0.05, minCalls: 3, maxCalls: 50 }, 64);
        expect(r.timesMs.length).toBeGreaterThanOrEqual(3);
        expect(r.sample).toHaveLength(Math.min(64, batch * 10));
        // Softmax rows: ten probabilities summing to 1.
        expect(r.sample.slice(0, 10).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      }
      const { profile } = await profileThis(() => measureJob(loaded, 32, { budgetSeconds: 0.3, minCalls: 3, maxCalls: 10_000 }, 1), 100);
      const s = summarise(profile);
      expect(s.totalMs).toBeGreaterThan(50);
      // Most of a run is inside kernels the executor called (under vitest the
      // line numbers are the transformed source's, so op names may be file:line).
      const inKernels = s.byKernel.filter((k) => k.name !== '(outside any kernel)').reduce((a, k) => a + k.share, 0);
      expect(inKernels).toBeGreaterThan(0.5);
      expect(s.byArea.map((a) => a.name)).toContain('runtime kernels (JS)');
      expect(s.byArea.reduce((a, b) => a + b.share, 0)).toBeCloseTo(1, 5);
    } finally {
      loaded.model.dispose();
    }
  });
});

const win = (reqPerSec: number, p99Ms: number, failures = 0): WindowResult => ({ connections: 16, seconds: 3, responses: reqPerSec * 3, reqPerSec, p50Ms: p99Ms / 2, p99Ms, failures, non2xx: failures, errors: 0, timeouts: 0 });

function report(): VsTfReport {
  const stats = (m: number) => ({ calls: 10, medianMs: m, p99Ms: m * 1.2 });
  const serving = (model: string, connections: number, mh: number, tf: number): ServingRow => ({ model, connections, modelhost: { ...win(mh, 10), connections }, tf: { ...win(tf, 20), connections }, ratio: mh / tf });
  const load = (model: string, weightsMb: number, mhMs: number, tfMs: number, rss: number) => ({
    model,
    weightsMb,
    modelhost: { initMs: 10, loadMs: mhMs, warmupMs: 0, rssPerVersionMb: rss, heapPerVersionMb: 1, externalPerVersionMb: 1, wasmGrowthPerVersionMb: 1, baselineRssMb: 100, extra: 2 },
    tf: { import_ms: 3000, load_ms: tfMs, warmup_ms: 0, second_load_ms: null, second_warmup_ms: null, rss_per_version_mb: 5, baseline_rss_mb: 500 },
  });
  return {
    date: new Date('2026-01-02T03:04:05Z'),
    quick: false,
    elapsedSeconds: 60,
    machine: ['- CPU: test'],
    versions: ['- TensorFlow 2.21.0'],
    models: [
      { name: 'f_mnist', description: 'f', weightsMb: 0.4 },
      { name: 'mobilenet_v2', description: 'm', weightsMb: 13.6 },
    ],
    compute: {
      backend: 'wasm',
      threads: 1,
      tfThreads: { intra_op: 1, inter_op: 1 },
      rows: [
        { model: 'f_mnist', batch: 1, modelhost: stats(0.1), tf: stats(0.4), ratio: 0.25, maxAbsDiff: 0, agree: true },
        { model: 'mobilenet_v2', batch: 32, modelhost: stats(300), tf: stats(100), ratio: 3, maxAbsDiff: 1e-6, agree: true },
      ],
      failures: [],
    },
    serving: {
      rows: [serving('f_mnist', 16, 300, 100), serving('mobilenet_v2', 16, 10, 20)],
      bare: win(1000, 2),
      fmnist64: win(400, 30),
      peer: { workers: 2, threads: 1, info: { pid: 1, loop: 'uvloop.Loop', httptools_protocol: true, h11_protocol: false, tf_version: '2.21.0', intra_op: 1, inter_op: 1 }, command: 'uvicorn ...' },
      modelhostCommand: 'modelhost serve ...',
      failures: [],
    },
    load: { rows: [load('f_mnist', 0.4, 100, 50, 1), load('mobilenet_v2', 13.6, 900, 1000, 40)], failures: [] },
    profiles: [],
    notes: [],
  };
}

describe('goals and the BENCHMARKS.md section', () => {
  it('marks each goal met or NOT met from the ratios of the run', () => {
    const goals = Object.fromEntries(evaluateVsTf(report()).map((g) => [g.id, g]));
    expect(goals.compute.status).toBe('NOT met');
    expect(goals.compute.measured).toContain('1 of 2 cells; worst mobilenet_v2 b32 3.00x');
    expect(goals.serving.status).toBe('NOT met');
    expect(goals.serving.measured).toContain('1 of 2 models');
    expect(goals.fmnist.status).toBe('met');
    expect(goals.fmnist.measured).toContain('0.400');
    expect(goals.load.status).toBe('met');
    // mobilenet_v2: 40 MB > 1.5 × 13.6 + 10 = 30.4 MB.
    expect(goals.memory.status).toBe('NOT met');
    expect(goals.memory.measured).toContain('mobilenet_v2 40.0 MB (limit 30.4)');
  });
  it('a failed request fails the serving goal; missing parts are "not measured"', () => {
    const r = report();
    r.serving!.rows = [{ ...r.serving!.rows[0], modelhost: win(300, 10, 1) }];
    expect(evaluateVsTf(r).find((g) => g.id === 'serving')!.status).toBe('NOT met');
    const none = { ...report(), compute: undefined, serving: undefined, load: undefined };
    expect(evaluateVsTf(none).map((g) => g.status)).toEqual(Array(5).fill('not measured'));
  });
  it('renders one table of ratios per run', () => {
    const { markdown } = renderVsTf(report());
    expect(markdown).toContain('| f_mnist | 0.25x | - | - | 3.00x | - | 0.50x | 2.00x | 1.0 vs 5.0 | 0.4 |');
    expect(markdown).toContain('**NOT met** (profile below)');
  });
  it('writes its section between markers before Notes, replaces it on the next run, and `npm run bench` keeps it', () => {
    const file = path.join(tmp, 'BENCHMARKS.md');
    const base: BenchReport = { date: new Date(), quick: true, seconds: 1, warmup: 0, http: [], commands: [], notes: [] };
    fs.writeFileSync(file, renderReport(base, 'hand-written notes').markdown);
    writeVsTf(report(), file);
    let text = fs.readFileSync(file, 'utf8');
    expect(text.indexOf(VS_TF_START)).toBeGreaterThan(0);
    expect(text.indexOf(VS_TF_END)).toBeLessThan(text.indexOf('## Notes'));
    const r2 = report();
    r2.elapsedSeconds = 4242;
    writeVsTf(r2, file);
    text = fs.readFileSync(file, 'utf8');
    expect(text.split(VS_TF_START)).toHaveLength(2);
    expect(text).toContain('4,242 s in all');
    writeReport(base, file);
    const after = fs.readFileSync(file, 'utf8');
    expect(after).toContain('4,242 s in all');
    expect(after).toContain('hand-written notes');
    expect(after.split(VS_TF_START)).toHaveLength(2);
    expect(spliceVsTf('# x\n', 'S')).toBe(`# x\n\n${VS_TF_START}\nS\n${VS_TF_END}\n`);
  });
});

describe('without a Python with TensorFlow', () => {
  it('says how to install one', async () => {
    await expect(findPython(path.join(tmp, 'no-such-python'))).rejects.toThrow(/python3 -m venv .*\n[\s\S]*tensorflow-cpu==2\.21\.0 fastapi 'uvicorn\[standard\]'/);
  });
});
