/**
 * The modelhost side of the kernels part of `npm run bench -- --vs-tf`
 * (kernels.ts): one process, one SIMD kernel mode (`setSimdKernels`, once at
 * start), a case's op run through the runtime's own kernel (`kernelFor`:
 * MatMul, BatchMatMulV2, Conv2D) call by call, as the executor calls it.
 *
 *   node dist/bench/vs_tf/kernel_child.js --simd=fma|plain|off
 *
 * Line protocol (line_server.ts): `info` → backend, threads, build (the
 * kernels that run products: fma, plain or off); `kernel` (case,
 * left_seeds, budget_s, min_calls, max_calls, sample: output indices) →
 * times_ms, warmup_calls, sample (the last output's values at those
 * indices). A call runs the kernel once per left operand (one per seed),
 * operands already on the backend, and reads the last output to the host.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../runtime/backend.js';
import type { AttrValue } from '../../runtime/graph/types.js';
import { Attrs } from '../../runtime/kernels/attrs.js';
import '../../runtime/kernels/index.js';
import { kernelFor, type KernelContext } from '../../runtime/kernels/registry.js';
import { setSimdKernels, simdKernelBuild, SIMD_KERNEL_MODES, type SimdKernelMode } from '../../runtime/simd/simd_kernels.js';
import { Tensor } from '../../runtime/tensor.js';
import { backendInfo } from './compute_child.js';
import { patternValue, type KernelCase } from './kernels.js';
import { answerLines, runChild } from './line_server.js';
import { measureCalls } from './timing.js';

const EMPTY_LIST = { s: [], i: [], f: [], b: [], type: [], shape: [], tensor: [], func: [] };
const ints = (i: number[]): AttrValue => ({ kind: 'list', list: { ...EMPTY_LIST, i } });
const str = (s: string): AttrValue => ({ kind: 's', s: new TextEncoder().encode(s) });
const bool = (b: boolean): AttrValue => ({ kind: 'b', b });

/** The op and attrs that run a case, as a SavedModel's graph would have them. */
function opOf(c: KernelCase): { op: string; attr: Record<string, AttrValue> } {
  if (c.kind === 'conv2d') return { op: 'Conv2D', attr: { T: { kind: 'type', type: 'float32' }, strides: ints([1, 1, 1, 1]), padding: str('SAME'), data_format: str('NHWC'), dilations: ints([1, 1, 1, 1]) } };
  if (c.a.length === 2) return { op: 'MatMul', attr: { T: { kind: 'type', type: 'float32' }, transpose_a: bool(false), transpose_b: bool(c.transposeB) } };
  return { op: 'BatchMatMulV2', attr: { T: { kind: 'type', type: 'float32' }, adj_x: bool(false), adj_y: bool(c.transposeB) } };
}

/** Operand `seed` of a case on the backend; a weight is made persistent, as the loader makes a model's variables and constants. */
function operand(shape: number[], seed: number, weight: boolean): Tensor {
  const size = shape.reduce((p, d) => p * d, 1);
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) values[i] = patternValue(i, seed);
  const t = Tensor.fromTf(tf.tensor(values, shape, 'float32'), 'float32');
  return weight ? t.keep() : t;
}

/**
 * One timed measurement of a case, each call running the op once per left
 * operand (`leftSeeds`, kernels.ts); `sample`: the last output's values at
 * these indices.
 */
export function measureKernel(c: KernelCase, leftSeeds: readonly number[], budget: { budgetSeconds: number; minCalls: number; maxCalls: number }, sample: readonly number[]) {
  const { op, attr } = opOf(c);
  const def = kernelFor(op);
  if (!def) throw new Error(`no kernel for ${op}`);
  if (leftSeeds.length === 0) throw new Error('kernel needs at least one left operand seed');
  const [aShape, bShape, weight] = c.kind === 'conv2d' ? [c.input, c.filter, true] : [c.a, c.b, c.weight];
  const right = operand(bShape, 1, weight);
  const lefts = leftSeeds.map((seed) => operand(aShape, seed, false));
  const contexts = lefts.map((left): KernelContext => ({ node: { name: `bench_${op}`, op, input: [], device: '', attr }, attrs: new Attrs(attr, `bench_${op}`, op), inputs: [left, right], resources: undefined as never, functions: undefined as never }));
  let last: number[] = [];
  const call = () => {
    for (let r = 0; r < contexts.length - 1; r++) def.kernel(contexts[r])[0].dispose();
    const [y] = def.kernel(contexts[contexts.length - 1]);
    const values = y.values() as Float32Array;
    last = sample.map((i) => values[i]);
    y.dispose();
  };
  try {
    return { ...measureCalls(call, budget), sample: last };
  } finally {
    for (const t of [right, ...lefts]) t.dispose();
  }
}

async function main(): Promise<void> {
  const arg = process.argv.find((a) => a.startsWith('--simd='))?.slice('--simd='.length);
  if (!arg || !(SIMD_KERNEL_MODES as readonly string[]).includes(arg)) throw new Error(`kernel_child needs --simd=${SIMD_KERNEL_MODES.join('|')}, got ${arg ?? 'nothing'}`);
  await initBackend();
  setSimdKernels(arg as SimdKernelMode);
  await answerLines(async (cmd) => {
    switch (cmd.cmd) {
      case 'info': {
        let build: string;
        try {
          build = simdKernelBuild();
        } catch (e) {
          build = `unavailable: ${e instanceof Error ? e.message : String(e)}`;
        }
        return { ...(await backendInfo()), build, node: process.version };
      }
      case 'kernel': {
        const r = measureKernel(cmd.case as KernelCase, cmd.left_seeds as number[], { budgetSeconds: cmd.budget_s as number, minCalls: cmd.min_calls as number, maxCalls: cmd.max_calls as number }, cmd.sample as number[]);
        return { times_ms: r.timesMs, warmup_calls: r.warmupCalls, sample: r.sample };
      }
      default:
        throw new Error(`unknown command ${String(cmd.cmd)}`);
    }
  });
}

if (import.meta.url === `file://${process.argv[1]}`) runChild(main);
