/**
 * (e) kernels: the per-core throughput of the products and convolutions
 * that conv/matmul-heavy models spend their time in, on fixed shapes, one
 * thread: TensorFlow (`tf.matmul` / `tf.nn.conv2d` in a tf.function, the
 * `kernel` command of bench/peers/tf_compute.py started with 1 thread) and
 * modelhost's runtime through its real ops (MatMul, BatchMatMulV2, Conv2D of
 * runtime/kernels/) in three children (kernel_child.ts), one per SIMD
 * kernel mode: 'fma' and 'plain' (modelhost's own WebAssembly kernels,
 * runtime/simd/) and 'off' (tfjs-backend-wasm's own: XNNPACK, or its scalar
 * loop for batched and transposed products). The four sides take turns
 * shape by shape (the order rotates), each warmed up (timing.ts); every
 * modelhost output is compared with TF's on 64 values spread over it.
 *
 * A timed call runs the op R times (`kernelReps`: about CALL_FLOPS of work
 * per call), on R different left operands (TF would merge identical ops),
 * and reads the last output to the host: a call from Python into a
 * tf.function costs ~0.2 ms before any kernel runs, which would otherwise
 * be most of the time of the small shapes.
 *
 * Operands are the same numbers on both sides (`patternValue`, mirrored in
 * tf_compute.py). The right operand of MatMul and the filter of Conv2D are
 * held as a model holds its weights: persistent tensors on modelhost's side
 * (its kernels keep the packed panels of a weight used by few rows), a
 * tf.Variable on TF's; the attention product's operands are both
 * activations.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from '../common.js';
import { compareSamples } from './compute.js';
import { LineChild } from './line_child.js';
import { timeStats, type TimeStats, type TimingBudget } from './timing.js';

/** A product: `a` · `b` (rank 2: MatMul; rank 3: BatchMatMulV2), `b` transposed when transposeB (adj_y). */
export interface MatMulCase {
  name: string;
  kind: 'matmul';
  a: number[];
  b: number[];
  transposeB: boolean;
  /** The right operand is a weight (a Dense layer's kernel), not an activation. */
  weight: boolean;
}

/** An NHWC convolution, HWIO filter, stride 1, SAME padding, no dilation (Conv2D). */
export interface ConvCase {
  name: string;
  kind: 'conv2d';
  input: [number, number, number, number];
  filter: [number, number, number, number];
}

export type KernelCase = MatMulCase | ConvCase;

const matmul = (a: number[], b: number[], transposeB = false, weight = true): MatMulCase => {
  const bShown = transposeB ? [...b.slice(0, -2), b[b.length - 1], b[b.length - 2]] : b;
  return { name: `matmul [${a.join(',')}]x[${bShown.join(',')}]${transposeB ? ' (B transposed)' : ''}`, kind: 'matmul', a, b, transposeB, weight };
};
const conv = (input: ConvCase['input'], kh: number, kw: number, cout: number): ConvCase => ({
  name: `conv [${input.join(',')}] ${kh}x${kw}→${cout} SAME`,
  kind: 'conv2d',
  input,
  filter: [kh, kw, input[3], cout],
});

/** The shapes measured (the left operand of a product, or a convolution's input, is its first shape): Dense layers at batch 2048 and 32, a square product, attention scores (Q·Kᵀ per head), the convolutions of the perf set's CNNs. */
export const KERNEL_CASES: readonly KernelCase[] = [
  matmul([2048, 128], [128, 128]),
  matmul([2048, 128], [128, 512]),
  matmul([512, 512], [512, 512]),
  matmul([32, 128], [128, 512]),
  matmul([128, 64, 32], [128, 64, 32], true, false),
  conv([32, 32, 32, 32], 3, 3, 32),
  conv([32, 16, 16, 64], 3, 3, 64),
  conv([1, 56, 56, 64], 3, 3, 64),
  conv([1, 28, 28, 256], 1, 1, 64),
];

/** The output shape of a case. */
export function outputShape(c: KernelCase): number[] {
  if (c.kind === 'conv2d') return [c.input[0], c.input[1], c.input[2], c.filter[3]];
  const rows = c.a[c.a.length - 2];
  const cols = c.transposeB ? c.b[c.b.length - 2] : c.b[c.b.length - 1];
  return [...c.a.slice(0, -2), rows, cols];
}

/** Floating-point operations of one call: 2·m·n·k per product (a multiply and an add per step), over the batch. */
export function kernelFlops(c: KernelCase): number {
  const out = outputShape(c).reduce((p, d) => p * d, 1);
  const depth = c.kind === 'conv2d' ? c.filter[0] * c.filter[1] * c.filter[2] : c.a[c.a.length - 1];
  return 2 * out * depth;
}

/**
 * Element i of operand `seed` (0: the left operand or input, 1: the right
 * operand or filter): values in [-1, 1] with a step of 0.001, the same
 * float32 on both sides (tf_compute.py computes it with numpy).
 */
export function patternValue(i: number, seed: number): number {
  return Math.fround((((i * 7919 + seed * 104729) % 2001) - 1000) / 1000);
}

/** Work per timed call: each call runs a case's op this many floating-point operations' worth of times, at least once. */
export const CALL_FLOPS = 256e6;

export function kernelReps(c: KernelCase): number {
  return Math.max(1, Math.floor(CALL_FLOPS / kernelFlops(c)));
}

/** The operand seeds of the left operands of `reps` runs in one call: 0, then 2, 3, ... (1 is the right operand's). */
export function leftSeeds(reps: number): number[] {
  return Array.from({ length: reps }, (_, r) => (r === 0 ? 0 : r + 1));
}

/** Indices of the `count` output values compared: spread evenly over an output of `size` values. */
export function sampleIndices(size: number, count = 64): number[] {
  return Array.from({ length: Math.min(count, size) }, (_, i) => Math.floor((i * size) / Math.min(count, size)));
}

/** The kernel modes of the modelhost side, in the table's order. */
export const KERNEL_SIDES = ['fma', 'plain', 'off'] as const;
export type KernelSide = (typeof KERNEL_SIDES)[number];

export interface KernelCell {
  stats: TimeStats;
  gflops: number;
  /** Largest |modelhost - TF| over the compared values (modelhost sides only). */
  maxAbsDiff?: number;
  agree?: boolean;
}

export interface KernelRow {
  name: string;
  /** Of one run of the op; a timed call runs it `reps` times. */
  flops: number;
  reps: number;
  tf?: KernelCell;
  /** By modelhost kernel mode; a mode missing from here failed (see `failures`). */
  modelhost: Partial<Record<KernelSide, KernelCell>>;
}

export interface KernelResult {
  /** tfjs backend and its thread count in the modelhost children; the build each mode ran (fma, plain, or off). */
  backend: string;
  threads: number;
  builds: Partial<Record<KernelSide, string>>;
  tfThreads: { intra_op: number; inter_op: number };
  /** The widest float vectors this CPU has (from /proc/cpuinfo; undefined elsewhere): what TF's kernels use. */
  cpuVectors?: string;
  rows: KernelRow[];
  failures: { name: string; side: string; error: string }[];
}

/** The widest SIMD float vectors of this CPU by its /proc/cpuinfo flags ('AVX-512 (512-bit)', ...), undefined when unknown. */
export function widestVectors(cpuinfo = '/proc/cpuinfo'): string | undefined {
  let flags: Set<string>;
  try {
    const line = fs.readFileSync(cpuinfo, 'utf8').split('\n').find((l) => /^(flags|Features)\s*:/.test(l));
    if (!line) return undefined;
    flags = new Set(line.slice(line.indexOf(':') + 1).trim().split(/\s+/));
  } catch {
    return undefined;
  }
  if (flags.has('avx512f')) return 'AVX-512 (512-bit)';
  if (flags.has('avx2') || flags.has('avx')) return `${flags.has('avx2') ? 'AVX2' : 'AVX'} (256-bit)`;
  if (flags.has('sve')) return 'SVE';
  if (flags.has('asimd') || flags.has('sse2')) return `${flags.has('asimd') ? 'NEON' : 'SSE'} (128-bit)`;
  return undefined;
}

interface Measured {
  times_ms: number[];
  sample: number[];
}

export function startKernelChild(mode: KernelSide): Promise<LineChild> {
  return LineChild.start(process.execPath, [path.join(ROOT, 'dist', 'bench', 'vs_tf', 'kernel_child.js'), `--simd=${mode}`], `modelhost kernel child (${mode})`, {}, ROOT);
}

const cell = (m: Measured, flops: number): KernelCell => {
  const stats = timeStats(m.times_ms);
  return { stats, gflops: flops / (stats.medianMs * 1e6) };
};

export async function runKernels(python: string, budget: TimingBudget, log: (s: string) => void, cases: readonly KernelCase[] = KERNEL_CASES): Promise<KernelResult> {
  const children = new Map<KernelSide, LineChild>();
  let tf: LineChild | undefined;
  try {
    for (const mode of KERNEL_SIDES) children.set(mode, await startKernelChild(mode));
    const info = await children.get('fma')!.ask<{ backend: string; threads: number }>({ cmd: 'info' });
    const builds: KernelResult['builds'] = {};
    for (const [mode, child] of children) builds[mode] = (await child.ask<{ build: string }>({ cmd: 'info' })).build;
    tf = await LineChild.start(python, [path.join(ROOT, 'bench', 'peers', 'tf_compute.py'), '--threads', '1'], 'TF compute peer (kernels)');
    const tfInfo = await tf.ask<{ intra_op: number; inter_op: number }>({ cmd: 'info' });
    const sides: { side: KernelSide | 'tf'; child: LineChild }[] = [{ side: 'tf', child: tf }, ...[...children].map(([side, child]) => ({ side, child }))];
    const rows: KernelRow[] = [];
    const failures: KernelResult['failures'] = [];
    let turn = 0;
    for (const c of cases) {
      const flops = kernelFlops(c);
      const reps = kernelReps(c);
      const callFlops = flops * reps;
      const cmd = { cmd: 'kernel', case: c, left_seeds: leftSeeds(reps), budget_s: budget.budgetSeconds, min_calls: budget.minCalls, max_calls: budget.maxCalls, sample: sampleIndices(outputShape(c).reduce((p, d) => p * d, 1)) };
      const order = sides.map((_, i) => sides[(i + turn) % sides.length]);
      turn++;
      const answers = new Map<string, Measured>();
      for (const { side, child } of order) {
        try {
          answers.set(side, await child.ask<Measured>(cmd));
        } catch (e) {
          const error = e instanceof Error ? e.message.split('\n')[0] : String(e);
          failures.push({ name: c.name, side, error });
          log(`  ${c.name} (${side}): FAILED ${error}`);
        }
      }
      const tfAnswer = answers.get('tf');
      const row: KernelRow = { name: c.name, flops, reps, tf: tfAnswer && cell(tfAnswer, callFlops), modelhost: {} };
      for (const side of KERNEL_SIDES) {
        const a = answers.get(side);
        if (!a) continue;
        row.modelhost[side] = { ...cell(a, callFlops), ...(tfAnswer ? compareSamples(a.sample, tfAnswer.sample) : {}) };
      }
      rows.push(row);
      const g = (k: KernelCell | undefined) => (k ? `${k.gflops.toFixed(1)}${k.agree === false ? ' (DIFFERS)' : ''}` : '-');
      log(`  ${c.name.padEnd(42)} GFLOP/s: TF ${g(row.tf)}, fma ${g(row.modelhost.fma)}, plain ${g(row.modelhost.plain)}, tfjs-wasm ${g(row.modelhost.off)}`);
    }
    return { backend: info.backend, threads: info.threads, builds, tfThreads: { intra_op: tfInfo.intra_op, inter_op: tfInfo.inter_op }, cpuVectors: widestVectors(), rows, failures };
  } finally {
    for (const child of children.values()) await child.stop();
    await tf?.stop();
  }
}
