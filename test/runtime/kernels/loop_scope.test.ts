/**
 * Per-iteration memory scopes of While loops (runtime/kernels/loop_scope.ts):
 * an iteration's intermediates are freed when it ends, while loop variables,
 * TensorList items (also written by a nested loop) and variable values
 * survive, and results stay those of the unscoped loop.
 */
import os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../runtime/backend.js';
import { FunctionLibrary } from '../../../runtime/graph/functions.js';
import type { FunctionDef, NodeDef } from '../../../runtime/graph/types.js';
import { setLoopScopes } from '../../../runtime/kernels/loop_scope.js';
import '../../../runtime/kernels/index.js';
import { runScoped } from '../../../runtime/loader.js';
import { Tensor } from '../../../runtime/tensor.js';
import { ModelResources } from '../../../runtime/variables.js';
import { attr, constNode, fn, node, placeholder } from '../graph/build.js';

beforeAll(async () => {
  await initBackend();
});

afterEach(() => setLoopScopes(true));

const f32 = attr.type('float32');
const i32 = attr.type('int32');

function library(functions: FunctionDef[]) {
  const resources = new ModelResources(os.tmpdir());
  const lib = new FunctionLibrary(functions, [], resources);
  return { lib, env: { resources, functions: lib } };
}

/** while i < n: h = tanh(h * x + x); i += 1 (h, x: float32 [1, 2048]: beyond the small host path, so on the backend). */
const recurrence = [
  fn('cond', [['i', 'int32'], ['n', 'int32'], ['h', 'float32'], ['x', 'float32']], [['r', 'bool']], [node('lt', 'Less', ['i', 'n'], { T: i32 })], { r: 'lt:z:0' }),
  fn(
    'body',
    [['i', 'int32'], ['n', 'int32'], ['h', 'float32'], ['x', 'float32']],
    [['i2', 'int32'], ['n2', 'int32'], ['h2', 'float32'], ['x2', 'float32']],
    [
      constNode('one', Tensor.scalar('int32', 1)),
      node('inc', 'AddV2', ['i', 'one:output:0'], { T: i32 }),
      node('mul', 'Mul', ['h', 'x'], { T: f32 }),
      node('add', 'AddV2', ['mul:z:0', 'x'], { T: f32 }),
      node('tanh', 'Tanh', ['add:z:0'], { T: f32 }),
    ],
    { i2: 'inc:z:0', n2: 'n', h2: 'tanh:y:0', x2: 'x' },
  ),
];

const loopGraph: NodeDef[] = [
  placeholder('n', 'int32'),
  placeholder('h', 'float32'),
  placeholder('x', 'float32'),
  constNode('i0', Tensor.scalar('int32', 0)),
  node('loop', 'While', ['i0', 'n', 'h', 'x'], { cond: attr.func('cond'), body: attr.func('body'), T: attr.types(['int32', 'int32', 'float32', 'float32']) }),
];

const WIDTH = 2048;
const vec = (v: number) => Tensor.from('float32', [1, WIDTH], new Array(WIDTH).fill(v));

/** Runs the loop n times inside a run scope; returns h and the live tfjs tensors/bytes just before the run's scope ends. */
function runLoop(n: number): { h: number[]; liveTensors: number; liveBytes: number } {
  const { lib, env } = library(recurrence);
  const plan = lib.compile({ mode: 'graph', nodes: loopGraph, feeds: ['n', 'h', 'x'], fetches: ['loop:2'], targets: [], label: 't' });
  let liveTensors = 0;
  let liveBytes = 0;
  const before = tf.memory();
  const [h] = runScoped(() => {
    const out = plan.run([Tensor.scalar('int32', n), vec(0), vec(0.5)], env);
    liveTensors = tf.memory().numTensors - before.numTensors;
    liveBytes = tf.memory().numBytes - before.numBytes;
    return out;
  });
  const values = Array.from(h.values() as Float32Array).slice(0, 2);
  h.dispose();
  return { h: values, liveTensors, liveBytes };
}

describe('While loops with per-iteration scopes', () => {
  it('free each iteration\'s intermediates: live tensors do not grow with the iteration count', () => {
    const short = runLoop(10);
    const long = runLoop(300);
    expect(long.liveTensors).toBe(short.liveTensors);
    expect(long.liveBytes).toBe(short.liveBytes);
    // A handful of tensors (the loop variables, the upload of x), not 300 iterations' worth.
    expect(long.liveTensors).toBeLessThan(10);
  });

  it('without them every iteration\'s intermediates live until the run ends (what the scopes remove)', () => {
    setLoopScopes(false);
    const short = runLoop(10);
    const long = runLoop(300);
    expect(long.liveTensors - short.liveTensors).toBeGreaterThanOrEqual(3 * 290);
    expect(long.liveBytes - short.liveBytes).toBeGreaterThanOrEqual(3 * 290 * WIDTH * 4);
  });

  it('give the same results as the unscoped loop', () => {
    const scoped = runLoop(25).h;
    setLoopScopes(false);
    const plain = runLoop(25).h;
    expect(scoped).toEqual(plain);
    let h = 0;
    for (let i = 0; i < 25; i++) h = Math.tanh(h * 0.5 + 0.5);
    expect(scoped[0]).toBeCloseTo(h, 5);
  });

  it('keep TensorList items written in iterations, also by a nested loop', () => {
    // outer: for j < 3: inner: for i < 4: list[j*4+i] = tanh(h * (j*4+i)); h = that item
    const listArgs: Array<[string, 'int32' | 'float32' | 'variant']> = [['i', 'int32'], ['base', 'int32'], ['h', 'float32'], ['list', 'variant']];
    const innerCond = fn('inner_cond', listArgs, [['r', 'bool']], [constNode('four', Tensor.scalar('int32', 4)), node('lt', 'Less', ['i', 'four:output:0'], { T: i32 })], { r: 'lt:z:0' });
    const innerBody = fn(
      'inner_body',
      listArgs,
      listArgs.map(([n, t]) => [`${n}2`, t] as [string, typeof t]),
      [
        constNode('one', Tensor.scalar('int32', 1)),
        node('k', 'AddV2', ['base', 'i'], { T: i32 }),
        node('kf', 'Cast', ['k:z:0'], { SrcT: i32, DstT: f32 }),
        node('mul', 'Mul', ['h', 'kf:y:0'], { T: f32 }),
        node('item', 'Tanh', ['mul:z:0'], { T: f32 }),
        node('set', 'TensorListSetItem', ['list', 'k:z:0', 'item:y:0'], { element_dtype: f32 }),
        node('inc', 'AddV2', ['i', 'one:output:0'], { T: i32 }),
      ],
      { i2: 'inc:z:0', base2: 'base', h2: 'item:y:0', list2: 'set:output_handle:0' },
    );
    const outerArgs: Array<[string, 'int32' | 'float32' | 'variant']> = [['j', 'int32'], ['h', 'float32'], ['list', 'variant']];
    const outerCond = fn('outer_cond', outerArgs, [['r', 'bool']], [constNode('three', Tensor.scalar('int32', 3)), node('lt', 'Less', ['j', 'three:output:0'], { T: i32 })], { r: 'lt:z:0' });
    const outerBody = fn(
      'outer_body',
      outerArgs,
      outerArgs.map(([n, t]) => [`${n}2`, t] as [string, typeof t]),
      [
        constNode('zero', Tensor.scalar('int32', 0)),
        constNode('one', Tensor.scalar('int32', 1)),
        constNode('four', Tensor.scalar('int32', 4)),
        node('base', 'Mul', ['j', 'four:output:0'], { T: i32 }),
        node('inner', 'While', ['zero:output:0', 'base:z:0', 'h', 'list'], {
          cond: attr.func('inner_cond'),
          body: attr.func('inner_body'),
          T: attr.types(['int32', 'int32', 'float32', 'variant']),
        }),
        node('inc', 'AddV2', ['j', 'one:output:0'], { T: i32 }),
      ],
      { j2: 'inc:z:0', h2: 'inner:output:2', list2: 'inner:output:3' },
    );
    const { lib, env } = library([innerCond, innerBody, outerCond, outerBody]);
    const nodes = [
      placeholder('h', 'float32'),
      constNode('shape', Tensor.from('int32', [2], [1, 8])),
      constNode('n', Tensor.scalar('int32', 12)),
      constNode('j0', Tensor.scalar('int32', 0)),
      node('reserve', 'TensorListReserve', ['shape', 'n'], { element_dtype: f32, shape_type: i32 }),
      node('loop', 'While', ['j0', 'h', 'reserve'], { cond: attr.func('outer_cond'), body: attr.func('outer_body'), T: attr.types(['int32', 'float32', 'variant']) }),
      node('stack', 'TensorListStack', ['loop:2', 'shape'], { element_dtype: f32 }),
    ];
    const plan = lib.compile({ mode: 'graph', nodes, feeds: ['h'], fetches: ['stack'], targets: [], label: 't' });
    const run = () => {
      const [out] = runScoped(() => plan.run([Tensor.from('float32', [1, 8], [1, 2, 3, 4, 5, 6, 7, 8].map((v) => v / 10))], env));
      const v = Array.from(out.values() as Float32Array);
      out.dispose();
      return v;
    };
    const scoped = run();
    setLoopScopes(false);
    const plain = run();
    expect(scoped).toEqual(plain);
    // Host check of the first column.
    let h = 0.1;
    const expected: number[] = [];
    for (let k = 0; k < 12; k++) expected.push((h = Math.tanh(h * k)));
    expect(scoped.filter((_, i) => i % 8 === 0).map((v) => Number(v.toFixed(5)))).toEqual(expected.map((v) => Number(Math.fround(v).toFixed(5))));
  });

  it('see a variable assigned inside the loop at every iteration', () => {
    // for i < 5: v += x; list[i] = read(v)
    const args: Array<[string, 'int32' | 'float32' | 'variant' | 'resource']> = [['i', 'int32'], ['v', 'resource'], ['x', 'float32'], ['list', 'variant']];
    const cond = fn('cond', args, [['r', 'bool']], [constNode('five', Tensor.scalar('int32', 5)), node('lt', 'Less', ['i', 'five:output:0'], { T: i32 })], { r: 'lt:z:0' });
    const body = fn(
      'body',
      args,
      args.map(([n, t]) => [`${n}2`, t] as [string, typeof t]),
      [
        constNode('one', Tensor.scalar('int32', 1)),
        node('tanh', 'Tanh', ['x'], { T: f32 }), // a backend tensor made in the iteration
        node('assign', 'AssignAddVariableOp', ['v', 'tanh:y:0'], { dtype: f32 }),
        node('read', 'ReadVariableOp', ['v', '^assign'], { dtype: f32 }),
        node('set', 'TensorListSetItem', ['list', 'i', 'read:value:0'], { element_dtype: f32 }),
        node('inc', 'AddV2', ['i', 'one:output:0'], { T: i32 }),
      ],
      { i2: 'inc:z:0', v2: 'v', x2: 'x', list2: 'set:output_handle:0' },
    );
    const { lib, env } = library([cond, body]);
    const nodes = [
      placeholder('x', 'float32'),
      node('var', 'VarHandleOp', [], { dtype: f32, shape: attr.shape([2]), shared_name: attr.s('acc') }),
      constNode('zeros', Tensor.from('float32', [2], [0, 0])),
      node('init', 'AssignVariableOp', ['var', 'zeros'], { dtype: f32 }),
      constNode('shape', Tensor.from('int32', [1], [2])),
      constNode('n', Tensor.scalar('int32', 5)),
      constNode('i0', Tensor.scalar('int32', 0)),
      node('reserve', 'TensorListReserve', ['shape', 'n'], { element_dtype: f32, shape_type: i32 }),
      node('loop', 'While', ['i0', 'var', 'x', 'reserve', '^init'], { cond: attr.func('cond'), body: attr.func('body'), T: attr.types(['int32', 'resource', 'float32', 'variant']) }),
      node('stack', 'TensorListStack', ['loop:3', 'shape'], { element_dtype: f32 }),
    ];
    const plan = lib.compile({ mode: 'graph', nodes, feeds: ['x'], fetches: ['stack'], targets: [], label: 't' });
    for (let run = 0; run < 2; run++) {
      const [out] = runScoped(() => plan.run([Tensor.from('float32', [2], [0.5, -1])], env));
      const got = Array.from(out.values() as Float32Array);
      out.dispose();
      const want = [1, 2, 3, 4, 5].flatMap((k) => [k * Math.tanh(0.5), k * Math.tanh(-1)]);
      expect(got.length).toBe(want.length);
      got.forEach((g, i) => expect(g).toBeCloseTo(want[i], 5));
    }
  });

  it('leave the engine balanced when an iteration fails: later runs free their memory as before', () => {
    // The body reads list[i] of a 3-item list for i < 5: the 4th iteration fails.
    const args: Array<[string, 'int32' | 'float32' | 'variant']> = [['i', 'int32'], ['h', 'float32'], ['list', 'variant']];
    const cond = fn('cond', args, [['r', 'bool']], [constNode('five', Tensor.scalar('int32', 5)), node('lt', 'Less', ['i', 'five:output:0'], { T: i32 })], { r: 'lt:z:0' });
    const body = fn(
      'body',
      args,
      args.map(([n, t]) => [`${n}2`, t] as [string, typeof t]),
      [
        constNode('one', Tensor.scalar('int32', 1)),
        constNode('shape', Tensor.from('int32', [2], [1, WIDTH])),
        node('get', 'TensorListGetItem', ['list', 'i', 'shape:output:0'], { element_dtype: f32 }),
        node('add', 'AddV2', ['h', 'get:item:0'], { T: f32 }),
        node('tanh', 'Tanh', ['add:z:0'], { T: f32 }),
        node('inc', 'AddV2', ['i', 'one:output:0'], { T: i32 }),
      ],
      { i2: 'inc:z:0', h2: 'tanh:y:0', list2: 'list' },
    );
    const { lib, env } = library([cond, body]);
    const nodes = [
      placeholder('h', 'float32'),
      placeholder('xs', 'float32'),
      constNode('i0', Tensor.scalar('int32', 0)),
      constNode('shape', Tensor.from('int32', [2], [1, WIDTH])),
      node('list', 'TensorListFromTensor', ['xs', 'shape'], { element_dtype: f32, shape_type: i32 }),
      node('loop', 'While', ['i0', 'h', 'list'], { cond: attr.func('cond'), body: attr.func('body'), T: attr.types(['int32', 'float32', 'variant']) }),
    ];
    const plan = lib.compile({ mode: 'graph', nodes, feeds: ['h', 'xs'], fetches: ['loop:1'], targets: [], label: 't' });
    const xs = Tensor.from('float32', [3, 1, WIDTH], new Array(3 * WIDTH).fill(0.25));
    const before = tf.memory().numTensors;
    expect(() => runScoped(() => plan.run([vec(0), xs], env))).toThrow(/Trying to access element 3 in a list with 3 elements/);
    expect(tf.memory().numTensors).toBe(before);
    expect(runLoop(50).liveTensors).toBe(runLoop(5).liveTensors);
  });
});
