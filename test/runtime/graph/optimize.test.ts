/**
 * The load-time graph passes (runtime/graph/optimize/) on small hand-made
 * graphs: each fused chain really becomes one node, chains whose
 * intermediate value has another use are left alone, each pass can be
 * turned off, and outputs stay those of the unoptimised graph.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../runtime/backend.js';
import { FunctionLibrary } from '../../../runtime/graph/functions.js';
import { GRAPH_PASSES, parseGraphOptimizations, type GraphPass } from '../../../runtime/graph/optimize/options.js';
import type { Plan } from '../../../runtime/graph/plan.js';
import { Profiler } from '../../../runtime/graph/profile.js';
import type { AttrValue, NodeDef } from '../../../runtime/graph/types.js';
import '../../../runtime/kernels/index.js';
import { Tensor } from '../../../runtime/tensor.js';
import { ModelResources } from '../../../runtime/variables.js';
import { attr, constNode, fn, node, placeholder } from './build.js';

beforeAll(async () => {
  await initBackend();
});

const ALL = new Set(GRAPH_PASSES);
const NONE = new Set<GraphPass>();
const f32 = attr.type('float32');
const s = (v: string): AttrValue => attr.s(v);
const ints = (v: number[]): AttrValue => ({ kind: 'list', list: { s: [], i: v, f: [], b: [], type: [], shape: [], tensor: [], func: [] } });
const fl = (v: number): AttrValue => ({ kind: 'f', f: v });

/** Deterministic values in [-1, 1). */
function values(n: number, seed: number): number[] {
  let x = seed;
  return Array.from({ length: n }, () => ((x = (x * 16807) % 2147483647) / 2147483647) * 2 - 1);
}
const T = (shape: number[], seed: number) => Tensor.from('float32', shape, values(shape.reduce((a, b) => a * b, 1), seed));

function compile(nodes: NodeDef[], fetch: string, passes: ReadonlySet<GraphPass>, feeds = ['x']) {
  const resources = new ModelResources('/nonexistent');
  const lib = new FunctionLibrary([], [], resources, passes);
  const plan = lib.compile({ mode: 'graph', nodes, feeds, fetches: [fetch], targets: [], label: 't' });
  lib.assertSupported('t');
  return { plan, env: { resources, functions: lib } };
}

const ops = (plan: Plan) => plan.steps.map((st) => st.node.op);
const fusedOps = (plan: Plan) =>
  plan.steps.filter((st) => st.node.op.startsWith('_Fused')).map((st) => {
    const a = st.node.attr.fused_ops;
    return a?.kind === 'list' ? a.list.s.map((b) => new TextDecoder().decode(b)) : [];
  });

/** Runs the graph optimised (all passes) and not; expects equal outputs (1e-5 relative) and returns the optimised plan. */
function sameAsUnoptimised(nodes: NodeDef[], fetch: string, x: Tensor): Plan {
  const on = compile(nodes, fetch, ALL);
  const off = compile(nodes, fetch, NONE);
  const a = on.plan.run([x], on.env)[0].values() as Float32Array;
  const b = off.plan.run([x], off.env)[0].values() as Float32Array;
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(b[i])));
  return on.plan;
}

const conv = (name: string, input: string, filter: string, op = 'Conv2D') =>
  node(name, op, [input, filter], { T: f32, strides: ints([1, 1, 1, 1]), padding: s('SAME'), data_format: s('NHWC') });

describe('fusion: Conv2D / DepthwiseConv2dNative / MatMul + BiasAdd + activation', () => {
  it('replaces Conv2D + BiasAdd + Relu by one _FusedConv2D named as the Relu', () => {
    const nodes = [
      placeholder('x', 'float32'),
      constNode('w', T([3, 3, 2, 4], 1)),
      constNode('b', T([4], 2)),
      conv('conv', 'x', 'w'),
      node('bias', 'BiasAdd', ['conv', 'b'], { T: f32 }),
      node('relu', 'Relu', ['bias'], { T: f32 }),
    ];
    const plan = sameAsUnoptimised(nodes, 'relu', T([2, 5, 5, 2], 3));
    expect(ops(plan)).toEqual(['_FusedConv2D']);
    expect(plan.steps[0].node.name).toBe('relu');
    expect(fusedOps(plan)).toEqual([['BiasAdd', 'Relu']]);
  });

  it('leaves a chain whose intermediate value has another consumer unfused', () => {
    const nodes = [
      placeholder('x', 'float32'),
      constNode('w', T([3, 3, 2, 4], 1)),
      constNode('b', T([4], 2)),
      conv('conv', 'x', 'w'),
      node('bias', 'BiasAdd', ['conv', 'b'], { T: f32 }),
      node('relu', 'Relu', ['bias'], { T: f32 }),
      node('other', 'Neg', ['conv'], { T: f32 }),
      node('y', 'AddV2', ['relu', 'other'], { T: f32 }),
    ];
    const plan = sameAsUnoptimised(nodes, 'y', T([1, 4, 4, 2], 3));
    expect(ops(plan)).toContain('Conv2D');
    expect(ops(plan)).toContain('BiasAdd');
    expect(ops(plan).filter((o) => o.startsWith('_Fused'))).toEqual([]);
  });

  it('stops a chain at a value that is fetched, and fuses what comes before it', () => {
    const nodes = [
      placeholder('x', 'float32'),
      constNode('w', T([2, 3], 1)),
      constNode('b', T([3], 2)),
      node('mm', 'MatMul', ['x', 'w'], { T: f32 }),
      node('bias', 'BiasAdd', ['mm', 'b'], { T: f32 }),
      node('relu', 'Relu', ['bias'], { T: f32 }),
    ];
    const { plan } = compile(nodes, 'bias', ALL);
    expect(ops(plan)).toEqual(['_FusedMatMul']);
    expect(fusedOps(plan)).toEqual([['BiasAdd']]);
  });

  it('fuses MatMul + BiasAdd + Tanh (an activation the WASM kernel lacks, applied after it)', () => {
    const nodes = [
      placeholder('x', 'float32'),
      constNode('w', T([5, 3], 1)),
      constNode('b', T([3], 2)),
      node('mm', 'MatMul', ['x', 'w'], { T: f32, transpose_a: attr.b(false), transpose_b: attr.b(false) }),
      node('bias', 'BiasAdd', ['mm', 'b'], { T: f32 }),
      node('y', 'Tanh', ['bias'], { T: f32 }),
    ];
    const plan = sameAsUnoptimised(nodes, 'y', T([4, 5], 3));
    expect(fusedOps(plan)).toEqual([['BiasAdd', 'Tanh']]);
  });

  it('fuses a transposed MatMul with LeakyRelu, keeping its alpha', () => {
    const nodes = [
      placeholder('x', 'float32'),
      constNode('w', T([3, 5], 1)),
      constNode('b', T([3], 2)),
      node('mm', 'MatMul', ['x', 'w'], { T: f32, transpose_a: attr.b(false), transpose_b: attr.b(true) }),
      node('bias', 'BiasAdd', ['mm', 'b'], { T: f32 }),
      node('y', 'LeakyRelu', ['bias'], { T: f32, alpha: fl(0.3) }),
    ];
    const plan = sameAsUnoptimised(nodes, 'y', T([4, 5], 3));
    expect(fusedOps(plan)).toEqual([['BiasAdd', 'LeakyRelu']]);
    expect(plan.steps[0].node.attr.leakyrelu_alpha).toEqual(fl(0.3));
  });

  it('fuses DepthwiseConv2dNative + BiasAdd + Relu6, strided', () => {
    const nodes = [
      placeholder('x', 'float32'),
      constNode('w', T([3, 3, 3, 2], 1)),
      constNode('b', T([6], 2)),
      node('dw', 'DepthwiseConv2dNative', ['x', 'w'], { T: f32, strides: ints([1, 2, 2, 1]), padding: s('VALID'), data_format: s('NHWC') }),
      node('bias', 'BiasAdd', ['dw', 'b'], { T: f32 }),
      node('y', 'Relu6', ['bias'], { T: f32 }),
    ];
    const x = Tensor.from('float32', [1, 7, 7, 3], values(147, 3).map((v) => v * 20));
    const plan = sameAsUnoptimised(nodes, 'y', x);
    expect(ops(plan)).toEqual(['_FusedDepthwiseConv2dNative']);
  });

  it('does not fuse with the fusion pass off', () => {
    const nodes = [
      placeholder('x', 'float32'),
      constNode('w', T([3, 3, 2, 4], 1)),
      conv('conv', 'x', 'w'),
      node('relu', 'Relu', ['conv'], { T: f32 }),
    ];
    const { plan } = compile(nodes, 'relu', parseGraphOptimizations('constant_folding,identity_pruning,invariant_caching,batchnorm_folding'));
    expect(ops(plan)).toEqual(['Conv2D', 'Relu']);
  });
});

describe('batchnorm_folding: inference BatchNorm after a convolution', () => {
  const bnInputs = [constNode('gamma', T([4], 5)), constNode('beta', T([4], 6)), constNode('mean', T([4], 7)), constNode('var', Tensor.from('float32', [4], [0.5, 1.5, 2, 0.9]))];

  it('folds FusedBatchNormV3 (is_training=false) + Relu into the _FusedConv2D', () => {
    const nodes = [
      placeholder('x', 'float32'),
      constNode('w', T([3, 3, 2, 4], 1)),
      ...bnInputs,
      conv('conv', 'x', 'w'),
      node('bn', 'FusedBatchNormV3', ['conv', 'gamma', 'beta', 'mean', 'var'], { T: f32, U: f32, epsilon: fl(0.001), is_training: attr.b(false), data_format: s('NHWC') }),
      node('y', 'Relu', ['bn'], { T: f32 }),
    ];
    const plan = sameAsUnoptimised(nodes, 'y', T([2, 6, 6, 2], 3));
    expect(ops(plan)).toEqual(['_FusedConv2D']);
    expect(fusedOps(plan)).toEqual([['FusedBatchNorm', 'Relu']]);
  });

  it('leaves a training-mode FusedBatchNormV3 alone', () => {
    const nodes = [
      placeholder('x', 'float32'),
      constNode('w', T([3, 3, 2, 4], 1)),
      ...bnInputs,
      conv('conv', 'x', 'w'),
      node('bn', 'FusedBatchNormV3', ['conv', 'gamma', 'beta', 'mean', 'var'], { T: f32, U: f32, epsilon: fl(0.001), is_training: attr.b(true), data_format: s('NHWC') }),
    ];
    const { plan } = compile(nodes, 'bn', ALL);
    expect(ops(plan)).toEqual(['Conv2D', 'FusedBatchNormV3']);
  });

  it('folds the Mul/AddV2 pair Keras 3 exports (with a bias before it) and the activation', () => {
    const nodes = [
      placeholder('x', 'float32'),
      constNode('w', T([3, 3, 2, 4], 1)),
      constNode('b', T([4], 2)),
      constNode('m', T([4], 8)),
      constNode('sh', T([4], 9)),
      conv('conv', 'x', 'w'),
      node('bias', 'BiasAdd', ['conv', 'b'], { T: f32 }),
      node('mul', 'Mul', ['bias', 'm'], { T: f32 }),
      node('add', 'AddV2', ['sh', 'mul'], { T: f32 }),
      node('y', 'Elu', ['add'], { T: f32 }),
    ];
    const plan = sameAsUnoptimised(nodes, 'y', T([1, 5, 5, 2], 3));
    expect(fusedOps(plan)).toEqual([['BiasAdd', 'Mul', 'Add', 'Elu']]);
  });

  it('keeps the exact result when the Mul operand is not per-channel (a full tensor)', () => {
    const nodes = [
      placeholder('x', 'float32'),
      constNode('w', T([3, 3, 2, 4], 1)),
      constNode('m', T([1, 5, 5, 4], 8)),
      conv('conv', 'x', 'w'),
      node('mul', 'Mul', ['conv', 'm'], { T: f32 }),
      node('y', 'Relu', ['mul'], { T: f32 }),
    ];
    const plan = sameAsUnoptimised(nodes, 'y', T([1, 5, 5, 2], 3));
    expect(fusedOps(plan)).toEqual([['Mul', 'Relu']]);
  });

  it('leaves the BatchNorm out with batchnorm_folding off (fusion alone)', () => {
    const nodes = [
      placeholder('x', 'float32'),
      constNode('w', T([3, 3, 2, 4], 1)),
      constNode('m', T([4], 8)),
      conv('conv', 'x', 'w'),
      node('mul', 'Mul', ['conv', 'm'], { T: f32 }),
      node('y', 'Relu', ['mul'], { T: f32 }),
    ];
    const { plan } = compile(nodes, 'y', parseGraphOptimizations('fusion,constant_folding'));
    expect(ops(plan)).toEqual(['Conv2D', 'Mul', 'Relu']);
  });
});

describe('fusion inside function bodies', () => {
  it('renames references to the fused node\'s output argument', () => {
    const body = fn(
      'f',
      [['x', 'float32']],
      [['y', 'float32']],
      [
        constNode('w', T([3, 2], 1)),
        constNode('b', T([2], 2)),
        node('mm', 'MatMul', ['x', 'w:output:0'], { T: f32 }),
        node('bias', 'BiasAdd', ['mm:product:0', 'b:output:0'], { T: f32 }),
        node('act', 'Relu', ['bias:output:0'], { T: f32 }),
        node('out', 'Neg', ['act:activations:0'], { T: f32 }),
      ],
      { y: 'act:activations:0' },
    );
    for (const passes of [ALL, NONE]) {
      const resources = new ModelResources('/nonexistent');
      const lib = new FunctionLibrary([body], [], resources, passes);
      const plan = lib.plan('f');
      expect(plan.steps.some((st) => st.node.op === '_FusedMatMul')).toBe(passes === ALL);
      const y = plan.run([Tensor.from('float32', [1, 3], [1, 2, 3])], { resources, functions: lib })[0];
      const w = values(6, 1);
      const b = values(2, 2);
      const want = [0, 1].map((j) => Math.max(0, 1 * w[j] + 2 * w[2 + j] + 3 * w[4 + j] + b[j]));
      Array.from(y.values() as Float32Array).forEach((v, j) => expect(v).toBeCloseTo(want[j], 5));
    }
  });
});

describe('constant_folding, identity_pruning, invariant_caching', () => {
  const graph = [
    placeholder('x', 'float32'),
    constNode('c1', Tensor.scalar('float32', 3)),
    constNode('c2', Tensor.scalar('float32', 4)),
    node('c3', 'Mul', ['c1', 'c2'], { T: f32 }),
    node('id', 'Identity', ['x'], { T: f32 }),
    node('y', 'AddV2', ['id', 'c3'], { T: f32 }),
  ];

  it('each can be turned off on its own', () => {
    expect(ops(compile(graph, 'y', ALL).plan)).toEqual(['AddV2']);
    expect(ops(compile(graph, 'y', parseGraphOptimizations('identity_pruning')).plan)).toEqual(['Const', 'Const', 'Mul', 'AddV2']);
    expect(ops(compile(graph, 'y', parseGraphOptimizations('constant_folding')).plan)).toEqual(['Identity', 'AddV2']);
    for (const passes of [ALL, NONE]) {
      const { plan, env } = compile(graph, 'y', passes);
      expect(Array.from(plan.run([Tensor.from('float32', [2], [1, 2])], env)[0].values() as Float32Array)).toEqual([13, 14]);
    }
  });

  it('invariant caching runs a step on persistent inputs once, and again when a variable changes', () => {
    const nodes = [
      placeholder('x', 'float32'),
      node('v', 'VarHandleOp', [], { dtype: f32, shape: attr.shape([2]), shared_name: s('v'), container: s('') }),
      node('read', 'ReadVariableOp', ['v'], { dtype: f32 }),
      node('sq', 'Square', ['read'], { T: f32 }),
      node('y', 'AddV2', ['x', 'sq'], { T: f32 }),
    ];
    const { plan, env } = compile(nodes, 'y', ALL);
    const variable = env.resources.variable('v', 'float32', [2]);
    variable.assign(Tensor.from('float32', [2], [2, 3]));
    const profiler = new Profiler();
    const run = (x: number[]) => Array.from(profiler.measure(() => plan.run([Tensor.from('float32', [2], x)], env))[0].values() as Float32Array);
    expect(run([1, 1])).toEqual([5, 10]);
    expect(run([0, 1])).toEqual([4, 10]);
    expect(profiler.ops().find((o) => o.op === 'Square')?.count).toBe(1);
    variable.assign(Tensor.from('float32', [2], [1, 5]));
    expect(run([0, 0])).toEqual([1, 25]);
    expect(profiler.ops().find((o) => o.op === 'Square')?.count).toBe(2);
    plan.dispose();
  });

  it('parses pass lists and refuses unknown names', () => {
    expect([...parseGraphOptimizations('all')]).toEqual([...GRAPH_PASSES]);
    expect([...parseGraphOptimizations('none')]).toEqual([]);
    expect([...parseGraphOptimizations('fusion, constant_folding')]).toEqual(['fusion', 'constant_folding']);
    expect(() => parseGraphOptimizations('fusion,frobnicate')).toThrow(/unknown graph optimization 'frobnicate'/);
  });
});
