import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../runtime/backend.js';
import { FunctionLibrary } from '../../../runtime/graph/functions.js';
import type { FunctionDef, NodeDef } from '../../../runtime/graph/types.js';
import '../../../runtime/kernels/index.js';
import { Tensor } from '../../../runtime/tensor.js';
import { ModelResources } from '../../../runtime/variables.js';
import { attr, constNode, fn, node, placeholder } from './build.js';

beforeAll(async () => {
  await initBackend();
});

function library(functions: FunctionDef[] = []) {
  const resources = new ModelResources();
  const lib = new FunctionLibrary(functions, [], resources);
  return { lib, env: { resources, functions: lib } };
}

const f32 = (shape: number[], v: number[]) => Tensor.from('float32', shape, v);
const values = (t: Tensor) => Array.from(t.values() as Float32Array);

// y = 0.5 * x + 2, the half_plus_two graph.
const halfPlusTwo: NodeDef[] = [
  placeholder('x', 'float32'),
  constNode('a', Tensor.scalar('float32', 0.5)),
  constNode('b', Tensor.scalar('float32', 2)),
  node('mul', 'Mul', ['a', 'x'], { T: attr.type('float32') }),
  node('y', 'Add', ['mul', 'b'], { T: attr.type('float32') }),
  node('unused', 'NoSuchOp', ['x']),
];

describe('graph compiler and plans', () => {
  it('runs a pruned graph: ops only other outputs need do not matter', () => {
    const { lib, env } = library();
    const plan = lib.compile({ mode: 'graph', nodes: halfPlusTwo, feeds: ['x:0'], fetches: ['y:0'], targets: [], label: 't' });
    lib.assertSupported('t');
    expect(values(plan.run([f32([3], [1, 2, 5])], env)[0])).toEqual([2.5, 3, 4.5]);
  });

  it('folds constant subgraphs at compile time', () => {
    const { lib, env } = library();
    const nodes = [
      placeholder('x', 'float32'),
      constNode('c1', Tensor.scalar('float32', 3)),
      constNode('c2', Tensor.scalar('float32', 4)),
      node('c3', 'Mul', ['c1', 'c2'], { T: attr.type('float32') }),
      node('y', 'Add', ['x', 'c3'], { T: attr.type('float32') }),
    ];
    const plan = lib.compile({ mode: 'graph', nodes, feeds: ['x'], fetches: ['y'], targets: [], label: 't' });
    expect(plan.steps.map((s) => s.node.name)).toEqual(['y']);
    expect(values(plan.run([f32([1], [1])], env)[0])).toEqual([13]);
  });

  it('lists every unsupported op with the nodes that use it', () => {
    const { lib } = library();
    lib.compile({ mode: 'graph', nodes: halfPlusTwo, feeds: ['x:0'], fetches: ['unused:0'], targets: [], label: 't' });
    expect(() => lib.assertSupported('SavedModel m')).toThrowError(/NoSuchOp \(used by unused\)/);
  });

  it('a fed tensor cuts its producer off, like a TF session', () => {
    const { lib, env } = library();
    const plan = lib.compile({ mode: 'graph', nodes: halfPlusTwo, feeds: ['mul:0'], fetches: ['y:0'], targets: [], label: 't' });
    expect(values(plan.run([f32([1], [10])], env)[0])).toEqual([12]);
  });

  it('refuses cyclic graphs (TF1 control flow) with a clear message', () => {
    const { lib } = library();
    const nodes = [node('a', 'Identity', ['b']), node('b', 'Identity', ['a'])];
    expect(() => lib.compile({ mode: 'graph', nodes, feeds: [], fetches: ['a'], targets: [], label: 't' })).toThrowError(/cycle/);
  });

  it('names the node and placeholder when a required feed is missing', () => {
    const { lib, env } = library();
    const plan = lib.compile({ mode: 'graph', nodes: halfPlusTwo, feeds: [], fetches: ['y:0'], targets: [], label: 't' });
    expect(() => plan.run([], env)).toThrowError(/You must feed a value for placeholder tensor 'x'/);
  });

  it('calls library functions and resolves "node:arg:index" references', () => {
    const body = fn(
      'double_then_split',
      [['v', 'float32']],
      [['first', 'float32']],
      [
        node('twice', 'AddV2', ['v', 'v'], { T: attr.type('float32') }),
        constNode('axis', Tensor.scalar('int32', 0)),
        node('parts', 'Split', ['axis', 'twice:z:0'], { T: attr.type('float32'), num_split: attr.i(2) }),
      ],
      { first: 'parts:output:1' },
    );
    const { lib, env } = library([body]);
    const nodes = [
      placeholder('x', 'float32'),
      node('call', 'StatefulPartitionedCall', ['x'], { f: attr.func('double_then_split'), Tin: attr.types(['float32']), Tout: attr.types(['float32']) }),
    ];
    const plan = lib.compile({ mode: 'graph', nodes, feeds: ['x'], fetches: ['call'], targets: [], label: 't' });
    expect(values(plan.run([f32([4], [1, 2, 3, 4])], env)[0])).toEqual([6, 8]);
  });

  it('runs a While loop whose body is a library function', () => {
    // while i < 5: i += 1; acc *= 2
    const cond = fn('cond', [['i', 'int32'], ['acc', 'float32']], [['r', 'bool']], [
      constNode('five', Tensor.scalar('int32', 5)),
      node('lt', 'Less', ['i', 'five'], { T: attr.type('int32') }),
    ], { r: 'lt:z:0' });
    const body = fn('body', [['i', 'int32'], ['acc', 'float32']], [['i2', 'int32'], ['acc2', 'float32']], [
      constNode('one', Tensor.scalar('int32', 1)),
      constNode('two', Tensor.scalar('float32', 2)),
      node('inc', 'AddV2', ['i', 'one:output:0'], { T: attr.type('int32') }),
      node('dbl', 'Mul', ['acc', 'two:output:0'], { T: attr.type('float32') }),
    ], { i2: 'inc:z:0', acc2: 'dbl:z:0' });
    const { lib, env } = library([cond, body]);
    const nodes = [
      placeholder('acc', 'float32'),
      constNode('i0', Tensor.scalar('int32', 0)),
      node('loop', 'StatelessWhile', ['i0', 'acc'], { cond: attr.func('cond'), body: attr.func('body'), T: attr.types(['int32', 'float32']) }),
    ];
    const plan = lib.compile({ mode: 'graph', nodes, feeds: ['acc'], fetches: ['loop:0', 'loop:1'], targets: [], label: 't' });
    const [i, acc] = plan.run([Tensor.scalar('float32', 3)], env);
    expect(i.numbers()).toEqual([5]);
    expect(acc.numbers()).toEqual([96]);
  });

  it('keeps TF1 variable state across runs (VariableV2 + Assign + AssignAdd)', () => {
    const { lib, env } = library();
    const nodes = [
      node('v', 'VariableV2', [], { dtype: attr.type('float32'), shape: attr.shape([]) }),
      constNode('zero', Tensor.scalar('float32', 0)),
      constNode('one', Tensor.scalar('float32', 1)),
      node('init', 'Assign', ['v', 'zero'], { T: attr.type('float32') }),
      node('incr', 'AssignAdd', ['v', 'one'], { T: attr.type('float32') }),
      node('read', 'Identity', ['v'], { T: attr.type('float32') }),
    ];
    const init = lib.compile({ mode: 'graph', nodes, feeds: [], fetches: [], targets: ['init'], label: 'init' });
    const incr = lib.compile({ mode: 'graph', nodes, feeds: [], fetches: ['incr'], targets: [], label: 'incr' });
    const read = lib.compile({ mode: 'graph', nodes, feeds: [], fetches: ['read'], targets: [], label: 'read' });
    init.run([], env);
    incr.run([], env);
    expect(incr.run([], env)[0].numbers()).toEqual([2]);
    expect(read.run([], env)[0].numbers()).toEqual([2]);
  });
});
