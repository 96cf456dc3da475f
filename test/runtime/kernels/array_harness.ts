/**
 * Test harness for the array kernels: runs one registered kernel the way the
 * executor would (a NodeDef, typed attrs, input tensors) and turns tensors
 * into plain JS values for assertions.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DType } from '../../../runtime/dtypes.js';
import type { AttrValue, TensorShape } from '../../../runtime/graph/types.js';
import '../../../runtime/kernels/array.js';
import { Attrs } from '../../../runtime/kernels/attrs.js';
import { kernelFor, type FunctionCaller, type KernelContext, type ResourceManager } from '../../../runtime/kernels/registry.js';
import { decodeString, Tensor } from '../../../runtime/tensor.js';

/** Array kernels use neither variables nor functions: any access fails the test. */
function unavailable<T extends object>(what: string): T {
  return new Proxy({} as T, {
    get: () => () => {
      throw new Error(`array kernels must not use ${what}`);
    },
  });
}

export function run(op: string, inputs: Tensor[], attrs: Record<string, AttrValue> = {}, name = `${op}_node`): Tensor[] {
  const def = kernelFor(op);
  if (!def) throw new Error(`no kernel registered for ${op}`);
  const ctx: KernelContext = {
    node: { name, op, input: inputs.map((_, i) => `input_${i}`), device: '', attr: attrs },
    attrs: new Attrs(attrs, name, op),
    inputs,
    resources: unavailable<ResourceManager>('resources'),
    functions: unavailable<FunctionCaller>('functions'),
  };
  return def.kernel(ctx);
}

/** Runs a single-output kernel. */
export function run1(op: string, inputs: Tensor[], attrs: Record<string, AttrValue> = {}): Tensor {
  const out = run(op, inputs, attrs);
  if (out.length !== 1) throw new Error(`${op} returned ${out.length} outputs`);
  return out[0];
}

function emptyList() {
  return { s: [], i: [], f: [], b: [], type: [], shape: [], tensor: [], func: [] };
}

export const attr = {
  i: (i: number): AttrValue => ({ kind: 'i', i }),
  b: (b: boolean): AttrValue => ({ kind: 'b', b }),
  s: (s: string): AttrValue => ({ kind: 's', s: new TextEncoder().encode(s) }),
  type: (type: DType): AttrValue => ({ kind: 'type', type }),
  tensor: (tensor: Tensor): AttrValue => ({ kind: 'tensor', tensor }),
  shape: (dims: number[] | undefined): AttrValue => {
    const shape: TensorShape = dims ? { unknownRank: false, dims } : { unknownRank: true, dims: [] };
    return { kind: 'shape', shape };
  },
  ints: (i: number[]): AttrValue => ({ kind: 'list', list: { ...emptyList(), i } }),
};

/** A tensor living on the tfjs backend (float32 / int32 / bool, or int64-tagged int32). */
export function onBackend(dtype: DType, shape: number[], values: number[] | boolean[]): Tensor {
  const storage = dtype === 'bool' ? 'bool' : dtype === 'float32' ? 'float32' : 'int32';
  return Tensor.fromTf(tf.tensor(values as number[], shape, storage), dtype);
}

export const f32 = (shape: number[], values: number[]) => Tensor.from('float32', shape, values);
export const i32 = (shape: number[], values: number[]) => Tensor.from('int32', shape, values);
export const i64 = (shape: number[], values: Array<number | bigint>) => Tensor.from('int64', shape, values);
export const str = (shape: number[], values: string[]) => Tensor.from('string', shape, values);
export const bool = (shape: number[], values: boolean[]) => Tensor.from('bool', shape, values);
export const scalarI32 = (v: number) => Tensor.scalar('int32', v);

/** Elements as plain JS values: strings decoded, bools as booleans, int64 as bigint, numbers otherwise. */
export function vals(t: Tensor): unknown[] {
  if (t.dtype === 'string') return (t.values() as Uint8Array[]).map(decodeString);
  const v = t.values() as ArrayLike<number | bigint>;
  const out = Array.from(v);
  if (t.dtype === 'bool') return out.map((x) => x !== 0);
  return out;
}

/** { shape, dtype, values } for compact expectations. */
export function view(t: Tensor): { dtype: DType; shape: number[]; values: unknown[] } {
  return { dtype: t.dtype, shape: [...t.shape], values: vals(t) };
}
