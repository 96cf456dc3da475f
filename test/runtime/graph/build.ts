/** Small builders for hand-written graphs in tests. */
import type { DType } from '../../../runtime/dtypes.js';
import type { AttrValue, FunctionDef, NodeDef } from '../../../runtime/graph/types.js';
import { Tensor } from '../../../runtime/tensor.js';

export const attr = {
  type: (type: DType): AttrValue => ({ kind: 'type', type }),
  i: (i: number): AttrValue => ({ kind: 'i', i }),
  b: (b: boolean): AttrValue => ({ kind: 'b', b }),
  s: (s: string): AttrValue => ({ kind: 's', s: new TextEncoder().encode(s) }),
  tensor: (tensor: Tensor): AttrValue => ({ kind: 'tensor', tensor }),
  func: (name: string): AttrValue => ({ kind: 'func', func: { name, attr: {} } }),
  types: (type: DType[]): AttrValue => ({
    kind: 'list',
    list: { s: [], i: [], f: [], b: [], type, shape: [], tensor: [], func: [] },
  }),
  shape: (dims: number[]): AttrValue => ({ kind: 'shape', shape: { unknownRank: false, dims } }),
};

export function node(name: string, op: string, input: string[] = [], a: Record<string, AttrValue> = {}): NodeDef {
  return { name, op, input, device: '', attr: a };
}

export function constNode(name: string, t: Tensor): NodeDef {
  return node(name, 'Const', [], { value: attr.tensor(t), dtype: attr.type(t.dtype) });
}

export function placeholder(name: string, dtype: DType): NodeDef {
  return node(name, 'Placeholder', [], { dtype: attr.type(dtype) });
}

export function fn(
  name: string,
  inputs: Array<[string, DType]>,
  outputs: Array<[string, DType]>,
  nodes: NodeDef[],
  ret: Record<string, string>,
  controlRet: Record<string, string> = {},
): FunctionDef {
  const arg = ([n, type]: [string, DType]) => ({ name: n, type, typeAttr: '', numberAttr: '', typeListAttr: '', isRef: false });
  return {
    signature: {
      name,
      inputArg: inputs.map(arg),
      outputArg: outputs.map(arg),
      controlOutput: Object.keys(controlRet),
      attr: [],
      isStateful: false,
    },
    attr: {},
    nodeDef: nodes,
    ret,
    controlRet,
  };
}
