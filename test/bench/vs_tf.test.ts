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
import { measureKernel } from '../../bench/vs_tf/kernel_child.js';
import { KERNEL_CASES, kernelFlops, kernelReps, leftSeeds, outputShape, patternValue, sampleIndices, widestVectors, type KernelCase, type KernelResult } from '../../bench/vs_tf/kernels.js';
import { perfJobs, PERF_SET } from '../../bench/vs_tf/perf_set.js';
import { profileThis, summarise } from '../../bench/vs_tf/profile.js';
import { findPython } from '../../bench/vs_tf/python.js';
import { evaluateVsTf, renderVsTf, spliceVsTf, VS_TF_END, VS_TF_START, writeVsTf, type VsTfReport } from '../../bench/vs_tf/report_vs_tf.js';
import type { ServingRow } from '../../bench/vs_tf/serving.js';
import { measureCalls, percentile, timeStats } from '../../bench/vs_tf/timing.js';
import { setSimdKernels, simdKernelBuild } from '../../runtime/simd/simd_kernels.js';
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
    expect([...o.parts]).toEqual(['compute', 'kernels', 'serving', 'load']);
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
    expect(() => parseVsTfArgs(['--parts=kernel'])).toThrow(/unknown kernel; known: compute, kernels, serving, load/);
    expect([...parseVsTfArgs(['--parts=kernels']).parts]).toEqual(['kernels']);
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
      const profileOnce = async () => summarise((await profileThis(() => measureJob(loaded, 32, { budgetSeconds: 0.3, minCalls: 3, maxCalls: 10_000 }, 1), 100)).profile);
      // Most of a run is inside kernels the executor called (under vitest the
      // line numbers are the transformed source's, so op names may be file:line).
      const inKernels = (x: ReturnType<typeof summarise>) => x.byKernel.filter((k) => k.name !== '(outside any kernel)').reduce((a, k) => a + k.share, 0);
      let s = await profileOnce();
      // A sampling window can land on V8 work outside the run (a WebAssembly tier-up, once seen on a loaded
      // machine): one more window then.
      if (inKernels(s) <= 0.5) s = await profileOnce();
      expect(s.totalMs).toBeGreaterThan(50);
      expect(inKernels(s)).toBeGreaterThan(0.5);
      expect(s.byArea.map((a) => a.name)).toContain('runtime kernels (JS)');
      expect(s.byArea.reduce((a, b) => a + b.share, 0)).toBeCloseTo(1, 5);
    } finally {
      loaded.model.dispose();
    }
  });
});

/** A case's output computed in float64 on the host from the same operands (the reference), left operand `seed`. */
function reference(c: KernelCase, seed: number): Float64Array {
  const out = new Float64Array(outputShape(c).reduce((p, d) => p * d, 1));
  if (c.kind === 'conv2d') {
    const [n, h, w, cin] = c.input;
    const [kh, kw, , cout] = c.filter;
    const [pt, pl] = [Math.floor((kh - 1) / 2), Math.floor((kw - 1) / 2)];
    for (let b = 0; b < n; b++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++)
          for (let o = 0; o < cout; o++) {
            let acc = 0;
            for (let ky = 0; ky < kh; ky++)
              for (let kx = 0; kx < kw; kx++) {
                const [iy, ix] = [y - pt + ky, x - pl + kx];
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                for (let i = 0; i < cin; i++) acc += patternValue(((b * h + iy) * w + ix) * cin + i, seed) * patternValue(((ky * kw + kx) * cin + i) * cout + o, 1);
              }
            out[((b * h + y) * w + x) * cout + o] = acc;
          }
    return out;
  }
  const [m, k] = c.a.slice(-2);
  const batches = c.a.length === 3 ? c.a[0] : 1;
  const n = outputShape(c).at(-1)!;
  const bAt = (bi: number, p: number, j: number) => (c.transposeB ? bi * n * k + j * k + p : bi * k * n + p * n + j);
  for (let bi = 0; bi < batches; bi++)
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let p = 0; p < k; p++) acc += patternValue(bi * m * k + i * k + p, seed) * patternValue(bAt(bi, p, j), 1);
        out[(bi * m + i) * n + j] = acc;
      }
  return out;
}

describe('kernel throughput cases (the modelhost side, no TF needed)', () => {
  it('the fixed shapes: outputs and 2·m·n·k', () => {
    expect(KERNEL_CASES.map((c) => c.name)).toContain('matmul [128,64,32]x[128,32,64] (B transposed)');
    const att = KERNEL_CASES.find((c) => c.kind === 'matmul' && c.transposeB)!;
    expect([outputShape(att), kernelFlops(att)]).toEqual([[128, 64, 64], 2 * 128 * 64 * 64 * 32]);
    const conv = KERNEL_CASES.find((c) => c.name === 'conv [1,56,56,64] 3x3→64 SAME')!;
    expect([outputShape(conv), kernelFlops(conv)]).toEqual([[1, 56, 56, 64], 2 * 56 * 56 * 64 * 3 * 3 * 64]);
    expect(kernelFlops(KERNEL_CASES[2])).toBe(2 * 512 ** 3);
    expect(sampleIndices(1000, 4)).toEqual([0, 250, 500, 750]);
    // About CALL_FLOPS per timed call: the small product runs 61 times, the large ones once.
    expect(KERNEL_CASES.map(kernelReps)).toEqual([3, 1, 1, 61, 7, 1, 1, 1, 9]);
    expect(leftSeeds(3)).toEqual([0, 2, 3]);
    expect(sampleIndices(3)).toEqual([0, 1, 2]);
    // float32 values in [-1, 1] on a 0.001 grid, the two operands different.
    expect([patternValue(0, 0), patternValue(1, 0), patternValue(0, 1)]).toEqual([Math.fround(-1), Math.fround(0.916), Math.fround(-0.323)]);
  });

  it('each SIMD kernel mode runs MatMul, BatchMatMulV2 (adj_y) and Conv2D to the float64 reference', async () => {
    const cases: KernelCase[] = [
      { name: 'mm', kind: 'matmul', a: [40, 24], b: [24, 20], transposeB: false, weight: true },
      { name: 'att', kind: 'matmul', a: [3, 10, 8], b: [3, 12, 8], transposeB: true, weight: false },
      { name: 'conv', kind: 'conv2d', input: [2, 7, 6, 5], filter: [3, 3, 5, 9] },
    ];
    try {
      for (const mode of ['fma', 'plain', 'off'] as const) {
        setSimdKernels(mode);
        expect(simdKernelBuild()).toBe(mode);
        for (const c of cases) {
          const size = outputShape(c).reduce((p, d) => p * d, 1);
          const idx = sampleIndices(size, 16);
          const r = measureKernel(c, [0, 2, 3], { budgetSeconds: 0.01, minCalls: 3, maxCalls: 20 }, idx);
          expect(r.timesMs.length).toBeGreaterThanOrEqual(3);
          // Three runs per call on left operands 0, 2 and 3: the sample is the last one's.
          const want = reference(c, 3);
          idx.forEach((at, i) => expect(Math.abs(r.sample[i] - want[at]), `${mode} ${c.name} [${at}]`).toBeLessThan(1e-4 * Math.max(1, Math.abs(want[at]))));
        }
      }
    } finally {
      setSimdKernels('auto');
    }
  });

  it('names the widest vectors from cpuinfo flags', () => {
    const file = path.join(tmp, 'cpuinfo');
    fs.writeFileSync(file, 'processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma avx512f avx512bw\n');
    expect(widestVectors(file)).toBe('AVX-512 (512-bit)');
    fs.writeFileSync(file, 'flags\t\t: fpu sse2 avx avx2 fma\n');
    expect(widestVectors(file)).toBe('AVX2 (256-bit)');
    fs.writeFileSync(file, 'Features\t: fp asimd evtstrm\n');
    expect(widestVectors(file)).toBe('NEON (128-bit)');
    expect(widestVectors(path.join(tmp, 'none'))).toBeUndefined();
  });
});

const win = (reqPerSec: number, p99Ms: number, failures = 0): WindowResult => ({ connections: 16, seconds: 3, responses: reqPerSec * 3, reqPerSec, p50Ms: p99Ms / 2, p99Ms, failures, non2xx: failures, errors: 0, timeouts: 0 });

function kernels(): KernelResult {
  const cell = (gflops: number, agree = true) => ({ stats: { calls: 10, medianMs: 1, p99Ms: 1.2 }, gflops, maxAbsDiff: 0, agree });
  return {
    backend: 'wasm',
    threads: 1,
    builds: { fma: 'fma', plain: 'plain', off: 'off' },
    tfThreads: { intra_op: 1, inter_op: 1 },
    cpuVectors: 'AVX-512 (512-bit)',
    rows: [
      { name: 'matmul [512,512]x[512,512]', flops: 2 * 512 ** 3, reps: 1, tf: { stats: { calls: 10, medianMs: 2, p99Ms: 2.5 }, gflops: 120 }, modelhost: { fma: cell(42), plain: cell(33.3), off: cell(25) } },
      { name: 'conv [1,56,56,64] 3x3→64 SAME', flops: 231_211_008, reps: 2, tf: { stats: { calls: 10, medianMs: 3, p99Ms: 3.5 }, gflops: 80 }, modelhost: { fma: cell(40), plain: cell(30, false) } },
    ],
    failures: [{ name: 'conv [1,56,56,64] 3x3→64 SAME', side: 'off', error: 'out of memory' }],
  };
}

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
    kernels: kernels(),
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
  it('renders the kernel throughput table and names it in the compute goal and its profile', () => {
    const r = report();
    const compute = evaluateVsTf(r).find((g) => g.id === 'compute')!;
    expect(compute.measured).toContain("modelhost's own kernels at 0.35-0.50x TF's GFLOP/s per core (kernel throughput below)");
    const { markdown } = renderVsTf(r);
    expect(markdown).toContain('### Kernel throughput (GFLOP/s, one thread)');
    expect(markdown).toContain('| shape | TF | modelhost fma | modelhost plain | tfjs-wasm | fma / TF |');
    expect(markdown).toContain('| matmul [512,512]x[512,512] | 120.0 | 42.0 | 33.3 | 25.0 | **0.35x** |');
    expect(markdown).toContain('| conv [1,56,56,64] 3x3→64 SAME (×2 per call) | 80.0 | 40.0 | 30.0 (outputs differ) | - | **0.50x** |');
    expect(markdown).toContain('- conv [1,56,56,64] 3x3→64 SAME (tfjs-wasm) failed: out of memory');
    expect(markdown).toContain('reach 40-42 GFLOP/s (tfjs-wasm’s kernels 25) where TF reaches 80-120: 0.35-0.50x TF’s throughput, because WebAssembly SIMD is 128 bits wide while TF’s oneDNN/Eigen kernels use AVX-512 (512-bit) on this CPU');
    // The compute goal is not met: its profile starts with the kernel ceiling, after the table it cites.
    const profile = markdown.indexOf('#### Compute: the kernels against TF’s, per core');
    expect(profile).toBeGreaterThan(markdown.indexOf('### Kernel throughput'));
    expect(markdown.slice(profile)).toContain("modelhost's own kernels at 0.35-0.50x TF's GFLOP/s per core");
    // Met compute goal: no kernel profile; kernels alone: the compute goal still cites them, not measured.
    r.compute!.rows = r.compute!.rows.filter((row) => row.ratio <= 1);
    expect(renderVsTf(r).markdown).not.toContain('#### Compute: the kernels');
    const alone = { ...report(), compute: undefined, serving: undefined, load: undefined, models: [] };
    const g = evaluateVsTf(alone).find((goal) => goal.id === 'compute')!;
    expect([g.status, g.measured]).toEqual(['not measured', "-; modelhost's own kernels at 0.35-0.50x TF's GFLOP/s per core (kernel throughput below)"]);
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
