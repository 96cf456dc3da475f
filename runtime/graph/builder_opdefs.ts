/**
 * The TensorFlow op definitions the graph builder can emit, transcribed from
 * TF's REGISTER_OP declarations (tensorflow/core/ops/*.cc, as of TF 2.14) in
 * their own spec syntax ("T: {int32, int64} = DT_INT32", "values: N * T"),
 * and parsed into plain OpDefs for the MetaGraph's stripped_op_list.
 *
 * Allowed-type sets are kept only to check the builder's own use of an op;
 * the plain OpDef (runtime/graph/types.ts) has no field for them.
 */
import { dtypeFromShortName, dtypeFromTfName, type DType } from '../dtypes.js';
import { internal } from '../errors.js';
import type { ArgDef, AttrValue, OpAttrDef, OpDef, TensorShape } from './types.js';

interface OpSpec {
  in?: string[];
  out?: string[];
  attr?: string[];
  stateful?: boolean;
}

const CALL_ATTRS = ['Tin: list(type) >= 0', 'Tout: list(type) >= 0', 'f: func', "config: string = ''", "config_proto: string = ''", "executor_type: string = ''"];
const WHILE_ATTRS = ['T: list(type) >= 0', 'cond: func', 'body: func', 'output_shapes: list(shape) = []', 'parallel_iterations: int = 10'];

const SPECS: Record<string, OpSpec> = {
  // array_ops.cc
  Const: { out: ['output: dtype'], attr: ['value: tensor', 'dtype: type'] },
  Placeholder: { out: ['output: dtype'], attr: ['dtype: type', 'shape: shape = { unknown_rank: true }'] },
  PlaceholderWithDefault: { in: ['input: dtype'], out: ['output: dtype'], attr: ['dtype: type', 'shape: shape'] },
  Identity: { in: ['input: T'], out: ['output: T'], attr: ['T: type'] },
  Shape: { in: ['input: T'], out: ['output: out_type'], attr: ['T: type', 'out_type: {int32, int64} = DT_INT32'] },
  Reshape: { in: ['tensor: T', 'shape: Tshape'], out: ['output: T'], attr: ['T: type', 'Tshape: {int32, int64} = DT_INT32'] },
  Squeeze: { in: ['input: T'], out: ['output: T'], attr: ['T: type', 'squeeze_dims: list(int) >= 0 = []'] },
  ExpandDims: { in: ['input: T', 'dim: Tdim'], out: ['output: T'], attr: ['T: type', 'Tdim: {int32, int64} = DT_INT32'] },
  Pack: { in: ['values: N * T'], out: ['output: T'], attr: ['N: int >= 1', 'T: type', 'axis: int = 0'] },
  Fill: { in: ['dims: index_type', 'value: T'], out: ['output: T'], attr: ['T: type', 'index_type: {int32, int64} = DT_INT32'] },
  Tile: { in: ['input: T', 'multiples: Tmultiples'], out: ['output: T'], attr: ['T: type', 'Tmultiples: {int32, int64} = DT_INT32'] },
  StridedSlice: {
    in: ['input: T', 'begin: Index', 'end: Index', 'strides: Index'],
    out: ['output: T'],
    attr: ['T: type', 'Index: {int32, int64}', 'begin_mask: int = 0', 'end_mask: int = 0', 'ellipsis_mask: int = 0', 'new_axis_mask: int = 0', 'shrink_axis_mask: int = 0'],
  },
  GatherV2: {
    in: ['params: Tparams', 'indices: Tindices', 'axis: Taxis'],
    out: ['output: Tparams'],
    attr: ['batch_dims: int = 0', 'Tparams: type', 'Tindices: {int16, int32, int64}', 'Taxis: {int32, int64}'],
  },
  Where: { in: ['input: T'], out: ['index: int64'], attr: ['T: {numbertype, bool} = DT_BOOL'] },
  // math_ops.cc
  Cast: { in: ['x: SrcT'], out: ['y: DstT'], attr: ['SrcT: type', 'DstT: type', 'Truncate: bool = false'] },
  Range: {
    in: ['start: Tidx', 'limit: Tidx', 'delta: Tidx'],
    out: ['output: Tidx'],
    attr: ['Tidx: {bfloat16, half, float, double, int8, int16, int32, int64, uint16, uint32} = DT_INT32'],
  },
  AddV2: {
    in: ['x: T', 'y: T'],
    out: ['z: T'],
    attr: ['T: {bfloat16, half, float, double, uint8, uint16, uint32, uint64, int8, int16, int32, int64, complex64, complex128}'],
  },
  Mul: {
    in: ['x: T', 'y: T'],
    out: ['z: T'],
    attr: ['T: {bfloat16, half, float, double, uint8, int8, uint16, int16, int32, uint32, uint64, int64, complex64, complex128}'],
  },
  Less: { in: ['x: T', 'y: T'], out: ['z: bool'], attr: ['T: realnumbertype'] },
  LogicalAnd: { in: ['x: bool', 'y: bool'], out: ['z: bool'] },
  Equal: { in: ['x: T', 'y: T'], out: ['z: bool'], attr: ['T: type', 'incompatible_shape_error: bool = true'] },
  Max: {
    in: ['input: T', 'reduction_indices: Tidx'],
    out: ['output: T'],
    attr: ['keep_dims: bool = false', 'T: {realnumbertype, quantizedtype}', 'Tidx: {int32, int64} = DT_INT32'],
  },
  ArgMax: {
    in: ['input: T', 'dimension: Tidx'],
    out: ['output: output_type'],
    attr: ['T: {numbertype, bool}', 'Tidx: {int16, int32, int64} = DT_INT32', 'output_type: {int16, uint16, int32, int64} = DT_INT64'],
  },
  MatMul: {
    in: ['a: T', 'b: T'],
    out: ['product: T'],
    attr: [
      'transpose_a: bool = false',
      'transpose_b: bool = false',
      'T: {bfloat16, half, float, double, int32, int64, uint8, uint16, uint32, uint64, complex64, complex128}',
    ],
  },
  // nn_ops.cc
  BiasAdd: { in: ['value: T', 'bias: T'], out: ['output: T'], attr: ['T: numbertype', "data_format: {'NHWC', 'NCHW'} = 'NHWC'"] },
  Relu: { in: ['features: T'], out: ['activations: T'], attr: ['T: {realnumbertype, qint8}'] },
  Softmax: { in: ['logits: T'], out: ['softmax: T'], attr: ['T: {half, bfloat16, float, double}'] },
  // string_ops.cc, image_ops.cc
  DecodeBase64: { in: ['input: string'], out: ['output: string'] },
  DecodeImage: {
    in: ['contents: string'],
    out: ['image: dtype'],
    attr: ['channels: int = 0', 'dtype: {uint8, uint16, float} = DT_UINT8', 'expand_animations: bool = true'],
  },
  // list_ops.cc
  TensorListFromTensor: {
    in: ['tensor: element_dtype', 'element_shape: shape_type'],
    out: ['output_handle: variant'],
    attr: ['element_dtype: type', 'shape_type: {int32, int64}'],
  },
  TensorListReserve: {
    in: ['element_shape: shape_type', 'num_elements: int32'],
    out: ['handle: variant'],
    attr: ['element_dtype: type', 'shape_type: {int32, int64}'],
  },
  TensorListGetItem: {
    in: ['input_handle: variant', 'index: int32', 'element_shape: int32'],
    out: ['item: element_dtype'],
    attr: ['element_dtype: type'],
  },
  TensorListSetItem: {
    in: ['input_handle: variant', 'index: int32', 'item: element_dtype'],
    out: ['output_handle: variant'],
    attr: ['element_dtype: type'],
  },
  TensorListStack: {
    in: ['input_handle: variant', 'element_shape: int32'],
    out: ['tensor: element_dtype'],
    attr: ['element_dtype: type', 'num_elements: int = -1'],
  },
  // functional_ops.cc
  PartitionedCall: { in: ['args: Tin'], out: ['output: Tout'], attr: CALL_ATTRS },
  StatefulPartitionedCall: { in: ['args: Tin'], out: ['output: Tout'], attr: CALL_ATTRS, stateful: true },
  While: { in: ['input: T'], out: ['output: T'], attr: WHILE_ATTRS, stateful: true },
  StatelessWhile: { in: ['input: T'], out: ['output: T'], attr: WHILE_ATTRS },
  // no_op.cc, resource_variable_ops.cc, io_ops.cc
  NoOp: {},
  VarHandleOp: {
    out: ['resource: resource'],
    attr: ["container: string = ''", "shared_name: string = ''", 'dtype: type', 'shape: shape', 'allowed_devices: list(string) = []'],
    stateful: true,
  },
  ReadVariableOp: { in: ['resource: resource'], out: ['value: dtype'], attr: ['dtype: type'], stateful: true },
  AssignVariableOp: { in: ['resource: resource', 'value: dtype'], attr: ['dtype: type', 'validate_shape: bool = false'], stateful: true },
  RestoreV2: {
    in: ['prefix: string', 'tensor_names: string', 'shape_and_slices: string'],
    out: ['tensors: dtypes'],
    attr: ['dtypes: list(type) >= 1'],
    stateful: true,
  },
  SaveV2: {
    in: ['prefix: string', 'tensor_names: string', 'shape_and_slices: string', 'tensors: dtypes'],
    attr: ['dtypes: list(type) >= 1'],
    stateful: true,
  },
};

function specDtype(name: string): DType | undefined {
  return name.startsWith('DT_') ? dtypeFromTfName(name) : dtypeFromShortName(name);
}

/** An op the builder knows: its plain OpDef plus the allowed dtypes of type attrs with a concrete set. */
export interface BuilderOp {
  def: OpDef;
  allowed: ReadonlyMap<string, readonly DType[]>;
}

const emptyList = () => ({ s: [], i: [], f: [], b: [], type: [], shape: [], tensor: [], func: [] });

function parseDefault(type: string, text: string, where: string): AttrValue {
  const t = text.trim();
  const unquote = (s: string) => s.replace(/^'(.*)'$/, '$1').replace(/^"(.*)"$/, '$1');
  switch (type) {
    case 'type': {
      const d = specDtype(t);
      if (!d) throw internal(`${where}: unknown default type ${t}`);
      return { kind: 'type', type: d };
    }
    case 'int':
      return { kind: 'i', i: Number(t) };
    case 'float':
      return { kind: 'f', f: Number(t) };
    case 'bool':
      return { kind: 'b', b: t === 'true' };
    case 'string':
      return { kind: 's', s: new TextEncoder().encode(unquote(t)) };
    case 'shape':
      if (t.replace(/\s/g, '') !== '{unknown_rank:true}') throw internal(`${where}: unsupported shape default ${t}`);
      return { kind: 'shape', shape: { unknownRank: true, dims: [] } };
    default:
      if (type.startsWith('list(') && t === '[]') return { kind: 'list', list: emptyList() };
      throw internal(`${where}: unsupported default ${t} for ${type}`);
  }
}

function parseAttr(spec: string, where: string): { def: OpAttrDef; allowed?: DType[] } {
  const m = /^(\w+):\s*(.+?)(?:\s*>=\s*(\d+))?(?:\s*=\s*(.+))?$/.exec(spec);
  if (!m) throw internal(`${where}: bad attr spec '${spec}'`);
  const [, name, typeText, , defaultText] = m;
  let type = typeText.trim();
  let allowed: DType[] | undefined;
  if (type.startsWith('{')) {
    const items = type.slice(1, -1).split(',').map((s) => s.trim());
    if (items.every((s) => s.startsWith("'") || s.startsWith('"'))) type = 'string';
    else {
      const dtypes = items.map(specDtype);
      allowed = dtypes.every((d) => d !== undefined) ? (dtypes as DType[]) : undefined;
      type = 'type';
    }
  } else if (/^(numbertype|realnumbertype|quantizedtype)$/.test(type)) {
    type = 'type';
  }
  const def: OpAttrDef = { name, type };
  if (defaultText !== undefined) def.defaultValue = parseDefault(type, defaultText, `${where} attr ${name}`);
  return { def, allowed };
}

function parseArg(spec: string, attrs: OpAttrDef[], where: string): ArgDef {
  const m = /^(\w+):\s*(?:(\w+)\s*\*\s*)?(\w+)$/.exec(spec);
  if (!m) throw internal(`${where}: bad arg spec '${spec}'`);
  const [, name, numberAttr, typeText] = m;
  const arg: ArgDef = { name, typeAttr: '', numberAttr: numberAttr ?? '', typeListAttr: '', isRef: false };
  const fixed = specDtype(typeText);
  if (fixed) arg.type = fixed;
  else {
    const attr = attrs.find((a) => a.name === typeText);
    if (!attr) throw internal(`${where}: arg ${name} names unknown attr ${typeText}`);
    if (attr.type === 'list(type)') arg.typeListAttr = typeText;
    else arg.typeAttr = typeText;
  }
  return arg;
}

function parseOp(name: string, spec: OpSpec): BuilderOp {
  const where = `op ${name}`;
  const allowed = new Map<string, DType[]>();
  const attr = (spec.attr ?? []).map((s) => {
    const parsed = parseAttr(s, where);
    if (parsed.allowed) allowed.set(parsed.def.name, parsed.allowed);
    return parsed.def;
  });
  return {
    def: {
      name,
      inputArg: (spec.in ?? []).map((s) => parseArg(s, attr, where)),
      outputArg: (spec.out ?? []).map((s) => parseArg(s, attr, where)),
      controlOutput: [],
      attr,
      isStateful: spec.stateful ?? false,
    },
    allowed,
  };
}

const parsed = new Map<string, BuilderOp>();

/** The definition of a TF op the builder can emit; INTERNAL for an op it does not know. */
export function builderOp(name: string): BuilderOp {
  let op = parsed.get(name);
  if (!op) {
    const spec = SPECS[name];
    if (!spec) throw internal(`the graph builder has no definition of op ${name}`);
    op = parseOp(name, spec);
    parsed.set(name, op);
  }
  return op;
}

/** Every op name the builder can emit. */
export function builderOpNames(): string[] {
  return Object.keys(SPECS).sort();
}

/** A known shape as TF's TensorShape ("null" is an unknown rank; -1 an unknown dimension). */
export function tensorShape(dims: readonly number[] | null): TensorShape {
  return dims === null ? { unknownRank: true, dims: [] } : { unknownRank: false, dims: [...dims] };
}
