/**
 * Parsing kernels: ParseExample (v1), ParseExampleV2, ParseSingleExample
 * (tensorflow/core/kernels/example_parsing_ops.cc on
 * util/example_proto_fast_parsing.cc), DecodeRaw, ParseTensor, SerializeTensor.
 *
 * Example parsing follows TF's fast parser:
 *  - dense features: a fixed shape needs exactly prod(shape) values, a first
 *    dimension of -1 is variable length (rows padded with the scalar default
 *    to the batch's longest); a missing feature takes its default, or is an
 *    error when the default is empty; a kind-less Feature counts as missing;
 *  - sparse features: COO indices [n, 2] (example, position), values [n],
 *    dense shape [batch, max count];
 *  - ragged features (V2): flat values and row_splits of the requested type;
 *  - duplicate keys: the last one wins; keys not asked for are ignored;
 *  - a scalar `serialized` (V2, ParseSingleExample) drops the batch dimension.
 * Error texts are TF's ("Name: <unknown>, Feature: x (data type: float) is
 * required but could not be found.", "... Data types don't match. ...").
 * Outputs are declared by argument name (`dense_values` etc.) so function
 * bodies can refer to "ParseExampleV2:dense_values:0".
 */
import { dtypeShortName, type DType } from '../dtypes.js';
import { invalidArgument } from '../errors.js';
import { checkTensorSize, MAX_JS_ARRAY_ELEMENTS, oomError } from '../limits.js';
import type { TensorShape } from '../graph/types.js';
import { rawElementSize, decodeTensorBytes } from '../proto/tensor_bytes.js';
import { tensorFromProto, tensorToProto } from '../proto/tensor_proto.js';
import type { TensorProtoMsg } from '../proto/messages.js';
import { protoType } from '../proto/schema.js';
import { allocHost, decodeString, shapeString, sizeOf, Tensor } from '../tensor.js';
import type { Attrs } from './attrs.js';
import { decodeExample, type FeatureValues } from './parsing_example.js';
import { registerKernel } from './registry.js';

export type FeatureDType = 'float32' | 'int64' | 'string';
type Value = number | bigint | Uint8Array;

export interface DenseConfig {
  key: string;
  dtype: FeatureDType;
  /** The dense shape as declared (first dim -1 when variable length). */
  shape: number[];
  variableLength: boolean;
  /** Elements per row: prod(shape), or prod(shape[1:]) when variable length. */
  stride: number;
  defaultValue: Tensor;
}

export interface ListConfig {
  key: string;
  dtype: FeatureDType;
}

export interface ParseConfig {
  dense: DenseConfig[];
  sparse: ListConfig[];
  ragged: (ListConfig & { splitType: 'int32' | 'int64' })[];
}

/** PartialTensorShape::DebugString: "[?,2]", "<unknown>". */
const partialShapeString = (s: TensorShape) =>
  s.unknownRank ? '<unknown>' : `[${s.dims.map((d) => (d < 0 ? '?' : String(d))).join(',')}]`;

function checkFeatureType(t: DType): FeatureDType {
  if (t !== 'float32' && t !== 'int64' && t !== 'string') throw invalidArgument(`Invalid config dtype: ${dtypeShortName(t)}`);
  return t;
}

function denseConfigs(keys: string[], types: DType[], shapes: TensorShape[], defaults: Tensor[]): DenseConfig[] {
  if (keys.length !== shapes.length) throw invalidArgument('len(dense_keys) != len(dense_shapes)');
  if (keys.length !== types.length) throw invalidArgument('len(dense_keys) != len(dense_types)');
  if (keys.length !== defaults.length) {
    throw invalidArgument(`Expected len(dense_defaults) == len(dense_keys) but got: ${defaults.length} vs. ${keys.length}`);
  }
  return keys.map((key, d) => {
    const s = shapes[d];
    if (s.unknownRank || s.dims.slice(1).some((x) => x < 0)) {
      throw invalidArgument(`dense_shapes[${d}] has unknown rank or unknown inner dimensions: ${partialShapeString(s)}`);
    }
    const variableLength = s.dims.length > 0 && s.dims[0] < 0;
    const stride = sizeOf(variableLength ? s.dims.slice(1) : s.dims);
    const def = defaults[d];
    if (variableLength) {
      if (def.size !== 1) {
        throw invalidArgument(
          `dense_shape[${d}] is a variable length shape: ${partialShapeString(s)}, therefore def_value[${d}] must contain a single element (the padding element).  But its shape is: ${shapeString(def.shape)}`,
        );
      }
    } else if (def.size > 0) {
      const compatible = def.rank === s.dims.length && def.shape.every((x, k) => x === s.dims[k]);
      if (!compatible) {
        throw invalidArgument(
          `def_value[${d}].shape() == ${shapeString(def.shape)} is not compatible with dense_shapes_[${d}] == ${partialShapeString(s)}`,
        );
      }
    }
    const dtype = checkFeatureType(types[d]);
    if (def.dtype !== dtype) {
      throw invalidArgument(
        `dense_defaults[${d}].dtype() == ${dtypeShortName(def.dtype)} != dense_types_[${d}] == ${dtypeShortName(dtype)}`,
      );
    }
    return { key, dtype, shape: s.dims, variableLength, stride, defaultValue: def };
  });
}

/** Per-example values of a list-like feature (sparse, ragged or variable-length dense). */
type Rows = Value[][];

export interface ParseResult {
  dense: Tensor[];
  sparse: Tensor[][];
  ragged: Tensor[][];
}

function exampleText(bytes: Uint8Array): string {
  return decodeString(bytes);
}

function valuesOf(f: FeatureValues): Value[] {
  return f.kind === 'none' ? [] : f.values;
}

function makeTensor(dtype: FeatureDType, shape: number[], values: Value[]): Tensor {
  return Tensor.from(dtype, shape, values);
}

/**
 * Parses `serialized` Examples with `config`. `single` drops the batch
 * dimension (scalar input). Throws TF's INVALID_ARGUMENT texts.
 */
export function parseExamples(serialized: Uint8Array[], names: string[], config: ParseConfig, single: boolean): ParseResult {
  const batch = serialized.length;
  const fixed: Value[][] = config.dense.map(() => []);
  const varlen: Rows[] = config.dense.map(() => []);
  const sparse: Rows[] = config.sparse.map(() => []);
  const ragged: Rows[] = config.ragged.map(() => []);

  for (let e = 0; e < batch; e++) {
    const example = decodeExample(serialized[e]);
    if (!example) throw invalidArgument(`Could not parse example input, value: '${exampleText(serialized[e])}'`);
    const name = names.length > 0 ? names[e] : '<unknown>';
    const exampleError = (key: string, suffix: string) =>
      invalidArgument(`Name: ${name}, Key: ${key}, Index: ${e}.  ${suffix}`);

    config.dense.forEach((c, d) => {
      const f = example.get(c.key);
      if (f === undefined || f.kind === 'none') {
        if (c.variableLength) {
          varlen[d].push([]);
          return;
        }
        if (c.defaultValue.size === 0) {
          throw invalidArgument(
            `Name: ${name}, Feature: ${c.key} (data type: ${dtypeShortName(c.dtype)}) is required but could not be found.`,
          );
        }
        fixed[d].push(...Array.from(c.defaultValue.values() as ArrayLike<Value>));
        return;
      }
      if (f.kind !== c.dtype) {
        throw exampleError(
          c.key,
          c.variableLength
            ? `Data types don't match. Expected type: ${dtypeShortName(c.dtype)}`
            : `Data types don't match. Data type: ${dtypeShortName(f.kind)} but expected type: ${dtypeShortName(c.dtype)}`,
        );
      }
      const typeStr = c.dtype === 'string' ? 'bytes' : dtypeShortName(c.dtype);
      if (!c.variableLength) {
        if (f.values.length !== c.stride) {
          throw exampleError(
            c.key,
            `Number of ${typeStr} values != expected.  Values size: ${f.values.length} but output shape: ${shapeString(c.shape)}`,
          );
        }
        fixed[d].push(...f.values);
      } else {
        if (c.stride === 0 ? f.values.length !== 0 : f.values.length % c.stride !== 0) {
          throw exampleError(
            c.key,
            `Number of ${typeStr} values is not a multiple of stride length. Saw ${f.values.length} values but output shape is: ${partialShapeString({ unknownRank: false, dims: c.shape })}`,
          );
        }
        varlen[d].push(f.values);
      }
    });

    const listFeature = (c: ListConfig, rows: Rows) => {
      const f = example.get(c.key);
      if (f !== undefined && f.kind !== 'none' && f.kind !== c.dtype) {
        throw exampleError(
          c.key,
          `Data types don't match. Expected type: ${dtypeShortName(c.dtype)}, Actual type: ${dtypeShortName(f.kind)}`,
        );
      }
      rows.push(f === undefined ? [] : valuesOf(f));
    };
    config.sparse.forEach((c, d) => listFeature(c, sparse[d]));
    config.ragged.forEach((c, d) => listFeature(c, ragged[d]));
  }

  const lead = single ? [] : [batch];
  const dense = config.dense.map((c, d) => {
    if (!c.variableLength) return makeTensor(c.dtype, [...lead, ...c.shape], fixed[d]);
    const rows = varlen[d];
    const inner = c.shape.slice(1);
    // reduce, not Math.max(...rows): a spread of a large batch overflows the stack.
    const maxRows = c.stride === 0 ? 0 : rows.reduce((m, r) => Math.max(m, r.length / c.stride), 0);
    const pad = (c.defaultValue.values() as ArrayLike<Value>)[0];
    const width = maxRows * c.stride;
    // One long example pads every other row to its length: check before padding.
    checkTensorSize([...lead, maxRows, ...inner], c.dtype);
    if (rows.length * width > MAX_JS_ARRAY_ELEMENTS) throw oomError([...lead, maxRows, ...inner], c.dtype);
    const out: Value[] = new Array(rows.length * width).fill(pad);
    rows.forEach((r, e) => r.forEach((v, k) => (out[e * width + k] = v)));
    return makeTensor(c.dtype, [...lead, maxRows, ...inner], out);
  });

  const sparseOut = config.sparse.map((c, d) => {
    const rows = sparse[d];
    const values = rows.flat();
    const cols = single ? 1 : 2;
    const indices = new BigInt64Array(values.length * cols);
    let n = 0;
    rows.forEach((r, e) =>
      r.forEach((_, k) => {
        if (single) indices[n++] = BigInt(k);
        else {
          indices[n++] = BigInt(e);
          indices[n++] = BigInt(k);
        }
      }),
    );
    const maxCount = rows.reduce((m, r) => Math.max(m, r.length), 0);
    const denseShape = single ? [BigInt(maxCount)] : [BigInt(batch), BigInt(maxCount)];
    return [
      Tensor.fromHost('int64', [values.length, cols], indices),
      makeTensor(c.dtype, [values.length], values),
      Tensor.fromHost('int64', [denseShape.length], BigInt64Array.from(denseShape)),
    ];
  });

  const raggedOut = config.ragged.map((c, d) => {
    const rows = ragged[d];
    const values = rows.flat();
    const splits: number[] = single ? [] : [0];
    if (!single) rows.forEach((r) => splits.push(splits[splits.length - 1] + r.length));
    return [makeTensor(c.dtype, [values.length], values), Tensor.from(c.splitType, [splits.length], splits)];
  });

  return { dense, sparse: sparseOut, ragged: raggedOut };
}

function stringsOf(t: Tensor): string[] {
  return t.strings();
}

function serializedInput(t: Tensor, version: 1 | 2): { bytes: Uint8Array[]; single: boolean } {
  if (version === 1 && t.rank !== 1) throw invalidArgument(`Expected serialized to be a vector, got shape: ${shapeString(t.shape)}`);
  if (version === 2 && t.rank > 1) {
    throw invalidArgument(`Expected serialized to be a scalar or vector, got shape: ${shapeString(t.shape)}`);
  }
  return { bytes: t.values() as Uint8Array[], single: t.rank === 0 };
}

function namesInput(t: Tensor, serializedCount: number): string[] {
  if (t.size === 0) return [];
  if (t.rank !== 1) throw invalidArgument(`Expected names to be a vector, got shape: ${shapeString(t.shape)}`);
  if (t.size !== serializedCount) {
    throw invalidArgument(`Expected len(names) == len(serialized), but got: ${t.size} vs. ${serializedCount}`);
  }
  return stringsOf(t);
}

/** Flattens the kernel outputs in OpDef order. */
function outputs(r: ParseResult, withRagged: boolean): Tensor[] {
  return [
    ...r.sparse.map((s) => s[0]),
    ...r.sparse.map((s) => s[1]),
    ...r.sparse.map((s) => s[2]),
    ...r.dense,
    ...(withRagged ? [...r.ragged.map((g) => g[0]), ...r.ragged.map((g) => g[1])] : []),
  ];
}

const sparseTypes = (a: Attrs) => a.types('sparse_types', []).map(checkFeatureType);

const exampleOutputs = (sparseCount: string) => [
  { name: 'sparse_indices', count: (a: Attrs) => a.int(sparseCount, 0) },
  { name: 'sparse_values', count: (a: Attrs) => a.types('sparse_types', []).length },
  { name: 'sparse_shapes', count: (a: Attrs) => a.int(sparseCount, 0) },
  { name: 'dense_values', count: (a: Attrs) => a.types('Tdense', []).length },
];

registerKernel({
  op: 'ParseExample',
  outputs: exampleOutputs('Nsparse'),
  kernel: (ctx) => {
    const nSparse = ctx.attrs.int('Nsparse', 0);
    const nDense = ctx.attrs.int('Ndense', 0);
    const [serializedT, namesT] = ctx.inputs;
    const { bytes } = serializedInput(serializedT, 1);
    const names = namesInput(namesT, bytes.length);
    const sparseKeys = ctx.inputs.slice(2, 2 + nSparse).map((t) => stringsOf(t)[0]);
    const denseKeys = ctx.inputs.slice(2 + nSparse, 2 + nSparse + nDense).map((t) => stringsOf(t)[0]);
    const defaults = ctx.inputs.slice(2 + nSparse + nDense);
    const types = sparseTypes(ctx.attrs);
    if (types.length !== nSparse) throw invalidArgument('len(sparse_keys) != len(sparse_types)');
    const config: ParseConfig = {
      sparse: sparseKeys.map((key, d) => ({ key, dtype: types[d] })),
      dense: denseConfigs(denseKeys, ctx.attrs.types('Tdense', []), ctx.attrs.shapes('dense_shapes', []), defaults),
      ragged: [],
    };
    return outputs(parseExamples(bytes, names, config, false), false);
  },
});

registerKernel({
  op: 'ParseExampleV2',
  outputs: [
    ...exampleOutputs('num_sparse'),
    { name: 'ragged_values', count: (a) => a.types('ragged_value_types', []).length },
    { name: 'ragged_row_splits', count: (a) => a.types('ragged_split_types', []).length },
  ],
  kernel: (ctx) => {
    const [serializedT, namesT, sparseKeysT, denseKeysT, raggedKeysT, ...defaults] = ctx.inputs;
    const { bytes, single } = serializedInput(serializedT, 2);
    const names = namesInput(namesT, bytes.length);
    const sparseKeys = stringsOf(sparseKeysT);
    const denseKeys = stringsOf(denseKeysT);
    const raggedKeys = stringsOf(raggedKeysT);
    const types = sparseTypes(ctx.attrs);
    const numSparse = ctx.attrs.int('num_sparse', 0);
    if (sparseKeys.length !== numSparse) {
      throw invalidArgument(`Expected len(sparse_keys) == num_sparse, but got: ${sparseKeys.length} vs. ${numSparse}`);
    }
    if (types.length !== numSparse) throw invalidArgument('len(sparse_keys) != len(sparse_types)');
    const raggedTypes = ctx.attrs.types('ragged_value_types', []).map(checkFeatureType);
    const splitTypes = ctx.attrs.types('ragged_split_types', []);
    if (raggedKeys.length !== raggedTypes.length || raggedKeys.length !== splitTypes.length) {
      throw invalidArgument(
        `Expected len(ragged_keys) == len(ragged_value_types) == len(ragged_split_types), but got: ${raggedKeys.length}, ${raggedTypes.length}, ${splitTypes.length}`,
      );
    }
    const config: ParseConfig = {
      sparse: sparseKeys.map((key, d) => ({ key, dtype: types[d] })),
      dense: denseConfigs(denseKeys, ctx.attrs.types('Tdense', []), ctx.attrs.shapes('dense_shapes', []), defaults),
      ragged: raggedKeys.map((key, d) => ({
        key,
        dtype: raggedTypes[d],
        splitType: splitTypes[d] === 'int32' ? 'int32' : 'int64',
      })),
    };
    return outputs(parseExamples(bytes, names, config, single), true);
  },
});

registerKernel({
  op: 'ParseSingleExample',
  outputs: exampleOutputs('num_sparse'),
  kernel: (ctx) => {
    const [serializedT, ...defaults] = ctx.inputs;
    if (serializedT.rank !== 0) {
      throw invalidArgument(`Expected serialized to be a scalar, got shape: ${shapeString(serializedT.shape)}`);
    }
    const sparseKeys = ctx.attrs.strings('sparse_keys', []);
    const types = sparseTypes(ctx.attrs);
    if (types.length !== sparseKeys.length) throw invalidArgument('len(sparse_keys) != len(sparse_types)');
    const config: ParseConfig = {
      sparse: sparseKeys.map((key, d) => ({ key, dtype: types[d] })),
      dense: denseConfigs(
        ctx.attrs.strings('dense_keys', []),
        ctx.attrs.types('Tdense', []),
        ctx.attrs.shapes('dense_shapes', []),
        defaults,
      ),
      ragged: [],
    };
    return outputs(parseExamples(serializedT.values() as Uint8Array[], [], config, true), false);
  },
});

// ---------------------------------------------------------------- raw bytes and TensorProto

registerKernel({
  op: 'DecodeRaw',
  kernel: (ctx) => {
    const input = ctx.inputs[0];
    const outType = ctx.attrs.type('out_type');
    const littleEndian = ctx.attrs.bool('little_endian', true);
    const width = rawElementSize(outType);
    if (width === undefined || outType === 'bfloat16') {
      throw invalidArgument(`DecodeRaw does not support out_type ${dtypeShortName(outType)}`);
    }
    const strs = input.values() as Uint8Array[];
    const len = strs.length > 0 ? strs[0].length : 0;
    if (len % width !== 0) {
      throw invalidArgument(
        `Input to DecodeRaw has length ${len} that is not a multiple of ${width}, the size of ${dtypeShortName(outType)}`,
      );
    }
    const per = len / width;
    const out = allocHost(outType, input.size * per);
    strs.forEach((s, i) => {
      if (s.length !== len) {
        throw invalidArgument(
          `DecodeRaw requires input strings to all be the same size, but element ${i} has size ${s.length} != ${len}`,
        );
      }
      let bytes = s;
      if (!littleEndian && width > 1) {
        bytes = new Uint8Array(s.length);
        // complex values swap each of their two halves.
        const unit = outType === 'complex64' || outType === 'complex128' ? width / 2 : width;
        for (let k = 0; k < s.length; k += unit) for (let j = 0; j < unit; j++) bytes[k + j] = s[k + unit - 1 - j];
      }
      const decoded = decodeTensorBytes(outType, bytes, per);
      const step = outType === 'complex64' || outType === 'complex128' ? 2 * per : per;
      (out as Float64Array).set(decoded as Float64Array, i * step);
    });
    return [Tensor.fromHost(outType, [...input.shape, per], out)];
  },
});

registerKernel({
  op: 'ParseTensor',
  kernel: (ctx) => {
    const input = ctx.inputs[0];
    if (input.rank !== 0) throw invalidArgument(`Expected \`serialized\` to be a scalar, got shape: ${shapeString(input.shape)}`);
    const outType = ctx.attrs.type('out_type');
    let proto: TensorProtoMsg;
    try {
      proto = protoType('tensorflow.TensorProto').decode((input.values() as Uint8Array[])[0]) as unknown as TensorProtoMsg;
    } catch {
      throw invalidArgument('Could not parse `serialized` as TensorProto');
    }
    let t: Tensor;
    try {
      t = tensorFromProto(proto);
    } catch {
      throw invalidArgument('Could not parse `serialized` as TensorProto');
    }
    if (t.dtype !== outType) {
      throw invalidArgument(
        `Type mismatch between parsed tensor (${dtypeShortName(t.dtype)}) and dtype (${dtypeShortName(outType)})`,
      );
    }
    return [t];
  },
});

registerKernel({
  op: 'SerializeTensor',
  kernel: (ctx) => {
    const type = protoType('tensorflow.TensorProto');
    const msg = tensorToProto(ctx.inputs[0], { tensorContent: true });
    return [Tensor.scalar('string', type.encode(type.fromObject(msg as unknown as Record<string, unknown>)).finish())];
  },
});
