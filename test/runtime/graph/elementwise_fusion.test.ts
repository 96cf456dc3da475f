/**
 * The elementwise_fusion pass and its kernel, on the conformance corpus's
 * recurrent Keras models (TF's answers in expected.json): each While body
 * step's gate math becomes one _ModelhostFusedElementwise call, and the
 * answers stay TensorFlow's. LSTM(16) and GRU(12) take the SIMD path (piece
 * width a multiple of 4), a bidirectional LSTM(6) the scalar loop; a
 * region whose operands broadcast another way runs op by op.
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../runtime/backend.js';
import { FUSED_ELEMENTWISE_OP, type Region } from '../../../runtime/graph/optimize/elementwise_fusion.js';
import { GRAPH_PASSES, type GraphPass } from '../../../runtime/graph/optimize/options.js';
import type { Profiler } from '../../../runtime/graph/profile.js';
import '../../../runtime/kernels/index.js';
import type { AttrValue } from '../../../runtime/graph/types.js';
import { Tensor } from '../../../runtime/tensor.js';
import { run } from '../kernels/array_harness.js';
import { runPredict } from '../../../server/commands/run.js';
import { CORPUS_DIR, type CorpusRun } from '../../conformance/corpus.js';

beforeAll(async () => {
  await initBackend();
});

interface Case {
  name: string;
  /** Fused calls per run: one per time step (two directions for the bidirectional model). */
  steps: number;
}
const CASES: Case[] = [
  { name: 'lstm_sequence_tf_saved_model_save', steps: 7 },
  { name: 'gru_sequence_tf_saved_model_save', steps: 7 },
  { name: 'bidirectional_lstm_sequences_tf_saved_model_save', steps: 10 },
];

function nest(values: unknown[], shape: number[]): unknown {
  if (shape.length <= 1) return values;
  const step = values.length / shape[0];
  return Array.from({ length: shape[0] }, (_, i) => nest(values.slice(i * step, (i + 1) * step), shape.slice(1)));
}

const ALL = new Set<GraphPass>(GRAPH_PASSES);
const WITHOUT = new Set<GraphPass>(GRAPH_PASSES.filter((p) => p !== 'elementwise_fusion'));

describe('elementwise_fusion on recurrent Keras models', () => {
  for (const c of CASES) {
    it(`${c.name}: one fused call per step, no gate op left, TF's answers`, async () => {
      const dir = path.join(CORPUS_DIR, 'keras_saved', c.name);
      const runs = (JSON.parse(fs.readFileSync(path.join(dir, 'expected.json'), 'utf8')) as { runs: CorpusRun[] }).runs;
      for (const run of runs) {
        const x = Object.values(run.inputs)[0];
        const body = JSON.stringify({ inputs: nest(x.values as unknown[], x.shape) });
        let profiler: Profiler | undefined;
        const fused = await runPredict(path.join(dir, 'model'), body, { graphOptimizations: ALL, profileRuns: 1, onProfile: (_, p) => (profiler = p) });
        const ops = new Map(profiler!.ops().map((o) => [o.op, o.count]));
        expect(ops.get(FUSED_ELEMENTWISE_OP)).toBe(c.steps);
        for (const gone of ['Sigmoid', 'Tanh', 'Split', 'Mul']) expect(ops.has(gone), gone).toBe(false);
        const want = (Object.values(run.outputs)[0].values as number[]).flat();
        const got = (JSON.parse(fused) as { outputs: number[][] }).outputs.flat();
        got.forEach((v, i) => expect(Math.abs(v - want[i])).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(want[i]))));
        // Against the same graph without the pass: equal, up to the SIMD exp in Sigmoid.
        const plain = (JSON.parse(await runPredict(path.join(dir, 'model'), body, { graphOptimizations: WITHOUT })) as { outputs: number[][] }).outputs.flat();
        got.forEach((v, i) => expect(Math.abs(v - plain[i])).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(plain[i]))));
      }
    });
  }
});

/** Runs the fused kernel on a region. */
function fused(region: Region, inputs: Tensor[]): Tensor[] {
  return run(FUSED_ELEMENTWISE_OP, inputs, regionAttrs(region, region.outputs.length));
}

function regionAttrs(region: unknown, outputs = 1): Record<string, AttrValue> {
  return {
    T: { kind: 'type', type: 'float32' },
    num_outputs: { kind: 'i', i: outputs },
    region: { kind: 's', s: new TextEncoder().encode(JSON.stringify(region)) },
  };
}

const T = (shape: number[], values: number[]) => Tensor.from('float32', shape, values);
const vals = (t: Tensor) => Array.from(t.values() as Float32Array);

describe('_ModelhostFusedElementwise', () => {
  // y = sigmoid(piece0 + b) * tanh(piece1) - c, with x split in two along the last axis.
  const region: Region = {
    inputs: 3,
    ops: [
      { op: 'Split', inputs: [{ ext: 0 }], numSplit: 2, splitDim: -1, wide: false },
      { op: 'AddV2', inputs: [{ op: 0, out: 0 }, { ext: 1 }], wide: false },
      { op: 'Sigmoid', inputs: [{ op: 1, out: 0 }], wide: false },
      { op: 'Tanh', inputs: [{ op: 0, out: 1 }], wide: false },
      { op: 'Mul', inputs: [{ op: 2, out: 0 }, { op: 3, out: 0 }], wide: false },
      { op: 'Sub', inputs: [{ op: 4, out: 0 }, { ext: 2 }], wide: false },
    ],
    outputs: [{ op: 5, out: 0 }],
  };
  const f = Math.fround;
  const sig = (v: number) => f(1 / (1 + Math.exp(-v)));
  const reference = (x: number[], rows: number, cols: number, b: (r: number, j: number) => number, c: (r: number, j: number) => number) => {
    const out: number[] = [];
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < cols; j++) {
        const p0 = x[r * 2 * cols + j];
        const p1 = x[r * 2 * cols + cols + j];
        out.push(f(f(sig(f(p0 + b(r, j))) * f(Math.tanh(p1))) - c(r, j)));
      }
    }
    return out;
  };
  const data = (n: number, seed: number) => Array.from({ length: n }, (_, i) => Math.sin(i * 1.7 + seed) * 3);

  it('SIMD path: per-column vector and scalar operands, every row', () => {
    const x = data(3 * 16, 1);
    const b = data(8, 2);
    const [y] = fused(region, [T([3, 16], x), T([8], b), T([], [0.25])]);
    expect(y.shape).toEqual([3, 8]);
    const want = reference(x, 3, 8, (_, j) => b[j], () => 0.25);
    vals(y).forEach((v, i) => expect(Math.abs(v - want[i])).toBeLessThanOrEqual(3e-7 * Math.max(1, Math.abs(want[i]))));
  });

  it('scalar loop when the pieces are not a multiple of 4 wide: the same float32 arithmetic', () => {
    const x = data(2 * 10, 3);
    const c = data(2 * 5, 4);
    const [y] = fused(region, [T([2, 10], x), T([], [1.5]), T([2, 5], c)]);
    const want = reference(x, 2, 5, () => 1.5, (r, j) => c[r * 5 + j]);
    vals(y).forEach((v, i) => expect(Math.abs(v - want[i])).toBeLessThanOrEqual(2e-7 * Math.max(1, Math.abs(want[i]))));
  });

  it('op by op when operands broadcast another way ([rows, 1]), as the graph computes', () => {
    const x = data(3 * 8, 5);
    const b = data(3, 6);
    const [y] = fused(region, [T([3, 8], x), T([3, 1], b), T([], [0])]);
    expect(y.shape).toEqual([3, 4]);
    const want = reference(x, 3, 4, (r) => b[r], () => 0);
    vals(y).forEach((v, i) => expect(Math.abs(v - want[i])).toBeLessThanOrEqual(3e-7 * Math.max(1, Math.abs(want[i]))));
  });

  it("op by op gives the ops' own errors (a Split that does not divide the axis)", () => {
    expect(() => fused(region, [T([2, 7], data(14, 1)), T([], [0]), T([], [0])])).toThrow(/Number of ways to split should evenly divide the split dimension/);
  });
});

describe('_ModelhostFusedElementwise from an untrusted SavedModel', () => {
  // The op can arrive in a model file with any region attr: it must never reach the generated code or the
  // interpreter's indices unchecked.
  const base: Region = {
    inputs: 1,
    ops: [
      { op: 'Split', inputs: [{ ext: 0 }], numSplit: 2, splitDim: -1, wide: false },
      { op: 'Mul', inputs: [{ op: 0, out: 0 }, { op: 0, out: 1 }], wide: false },
    ],
    outputs: [{ op: 1, out: 0 }],
  };
  const x = () => T([2, 6], data6());
  const data6 = () => Array.from({ length: 12 }, (_, i) => i / 7);
  const bad: [string, unknown][] = [
    ['code in an index', { ...base, ops: [{ ...base.ops[0], inputs: [{ ext: '0]; globalThis.pwned = 1; //' }] }, base.ops[1]] }],
    ['an index past the inputs', { ...base, ops: [{ ...base.ops[0], inputs: [{ ext: 5 }] }, base.ops[1]] }],
    ['a later op', { ...base, ops: [base.ops[0], { ...base.ops[1], inputs: [{ op: 1, out: 0 }, { op: 0, out: 1 }] }] }],
    ['a Split piece that does not exist', { ...base, ops: [base.ops[0], { ...base.ops[1], inputs: [{ op: 0, out: 2 }, { op: 0, out: 1 }] }] }],
    ['an unknown op', { ...base, ops: [base.ops[0], { ...base.ops[1], op: 'Exp' }] }],
    ['a wrong arity', { ...base, ops: [base.ops[0], { ...base.ops[1], inputs: [{ op: 0, out: 0 }] }] }],
    ['a huge num_split', { ...base, ops: [{ ...base.ops[0], numSplit: 1e9 }, base.ops[1]] }],
    ['no outputs', { ...base, outputs: [] }],
    ['an outside input as output', { ...base, outputs: [{ ext: 0 }] }],
    ['a different input count', { ...base, inputs: 2 }],
    ['not an object', 'hello'],
  ];
  for (const [name, region] of bad) {
    it(`refuses ${name} with INVALID_ARGUMENT`, () => {
      const attempt = () => run(FUSED_ELEMENTWISE_OP, [x()], regionAttrs(region));
      expect(attempt).toThrow(/_ModelhostFusedElementwise: invalid region attr/);
      expect((globalThis as { pwned?: number }).pwned).toBeUndefined();
    });
  }

  it('runs a well-formed region from a model file', () => {
    const [y] = fused(base, [x()]);
    const v = data6();
    const want = Array.from({ length: 6 }, (_, i) => Math.fround(Math.fround(v[Math.floor(i / 3) * 6 + (i % 3)]) * Math.fround(v[Math.floor(i / 3) * 6 + 3 + (i % 3)])));
    expect(vals(y)).toEqual(want);
  });
});
