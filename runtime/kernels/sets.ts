/**
 * Set operations behind tf.sets (tensorflow/core/kernels/set_kernels.cc):
 * DenseToDenseSetOperation, DenseToSparseSetOperation,
 * SparseToSparseSetOperation and SetSize. Each set is the last dimension of
 * a row (dense: every value; sparse: the values present); results are sorted
 * (std::set order: numbers ascending, strings bytewise) and returned as a
 * SparseTensor whose last dimension is the largest result.
 * Registered only if no other family registered the op first.
 */
import { dtypeShortName } from '../dtypes.js';
import { invalidArgument } from '../errors.js';
import { checkTensorSize } from '../limits.js';
import { allocHost, shapeString, Tensor } from '../tensor.js';
import { kernelFor, registerKernel, type KernelContext, type KernelDef } from './registry.js';

function register(def: KernelDef): void {
  const ops = (Array.isArray(def.op) ? def.op : [def.op]).filter((op) => !kernelFor(op));
  if (ops.length > 0) registerKernel({ ...def, op: ops });
}

type Elem = number | bigint | Uint8Array;

function compare(a: Elem, b: Elem): number {
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
    return a.length - b.length;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

const keyOf = (e: Elem) => (e instanceof Uint8Array ? Buffer.from(e).toString('latin1') : e);

/** Groups of set members: flat row index (over the leading dims) → members. */
interface Sets {
  leading: number[];
  rows: Map<number, Elem[]>;
}

const SET_TYPES = new Set(['int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'string']);

function checkType(t: Tensor, op: string): void {
  if (!SET_TYPES.has(t.dtype)) throw invalidArgument(`${op}: invalid set type ${dtypeShortName(t.dtype)}`);
}

function denseSets(t: Tensor, op: string, name: string): Sets {
  checkType(t, op);
  if (t.rank < 2) throw invalidArgument(`Expected rank >= 2 for ${name}, got ${t.rank}.`);
  const leading = t.shape.slice(0, -1);
  const n = t.shape[t.rank - 1];
  const v = t.values() as ArrayLike<Elem>;
  const rows = new Map<number, Elem[]>();
  const count = leading.reduce((a, b) => a * b, 1);
  for (let r = 0; r < count; r++) {
    const m: Elem[] = [];
    for (let k = 0; k < n; k++) m.push(v[r * n + k]);
    rows.set(r, m);
  }
  return { leading, rows };
}

function sparseSets(indicesT: Tensor, valuesT: Tensor, shapeT: Tensor, op: string, name: string): Sets {
  checkType(valuesT, op);
  const shape = shapeT.numbers();
  if (shape.length < 2) throw invalidArgument(`Expected rank >= 2 for ${name}, got ${shape.length}.`);
  if (indicesT.rank !== 2 || indicesT.shape[1] !== shape.length || indicesT.shape[0] !== valuesT.size) {
    throw invalidArgument(`${name}: invalid sparse tensor: indices ${shapeString(indicesT.shape)}, values ${shapeString(valuesT.shape)}, shape ${shapeString([shape.length])}`);
  }
  const leading = shape.slice(0, -1);
  const idx = indicesT.numbers();
  const v = valuesT.values() as ArrayLike<Elem>;
  const rank = shape.length;
  const rows = new Map<number, Elem[]>();
  for (let i = 0; i < valuesT.size; i++) {
    let flat = 0;
    for (let d = 0; d < rank - 1; d++) {
      const c = idx[i * rank + d];
      if (!(c >= 0 && c < shape[d])) throw invalidArgument(`${name}: index ${c} out of bounds for dimension ${d} of size ${shape[d]}`);
      flat = flat * shape[d] + c;
    }
    let m = rows.get(flat);
    if (!m) rows.set(flat, (m = []));
    m.push(v[i]);
  }
  return { leading, rows };
}

function unique(m: Elem[] | undefined): Elem[] {
  if (!m) return [];
  const seen = new Map<unknown, Elem>();
  for (const e of m) seen.set(keyOf(e), e);
  return [...seen.values()].sort(compare);
}

function setOperation(ctx: KernelContext, a: Sets, b: Sets, op: string, dtype: Tensor['dtype']): Tensor[] {
  const operation = ctx.attrs.string('set_operation');
  if (!['a-b', 'b-a', 'intersection', 'union'].includes(operation)) throw invalidArgument(`Invalid set_operation ${operation}.`);
  if (a.leading.length !== b.leading.length || a.leading.some((d, i) => d !== b.leading[i])) {
    throw invalidArgument(`${op}: shapes [${a.leading}] and [${b.leading}] of the sets' leading dimensions do not match`);
  }
  const leading = a.leading;
  const count = leading.reduce((x, y) => x * y, 1);
  const results: Array<[number, Elem[]]> = [];
  let maxSize = 0;
  for (let r = 0; r < count; r++) {
    const sa = unique(a.rows.get(r));
    const sb = unique(b.rows.get(r));
    const inB = new Set(sb.map(keyOf));
    const inA = new Set(sa.map(keyOf));
    let res: Elem[];
    if (operation === 'a-b') res = sa.filter((e) => !inB.has(keyOf(e)));
    else if (operation === 'b-a') res = sb.filter((e) => !inA.has(keyOf(e)));
    else if (operation === 'intersection') res = sa.filter((e) => inB.has(keyOf(e)));
    else res = unique([...sa, ...sb]);
    if (res.length > 0) results.push([r, res]);
    maxSize = Math.max(maxSize, res.length);
  }
  const nnz = results.reduce((s, [, m]) => s + m.length, 0);
  const rank = leading.length + 1;
  checkTensorSize([nnz, rank], 'int64');
  const indices = new BigInt64Array(nnz * rank);
  const values = allocHost(dtype, nnz) as unknown as Elem[];
  let k = 0;
  for (const [r, m] of results) {
    const coords: number[] = new Array(leading.length);
    let rest = r;
    for (let d = leading.length - 1; d >= 0; d--) {
      coords[d] = rest % leading[d];
      rest = Math.floor(rest / leading[d]);
    }
    m.forEach((e, j) => {
      coords.forEach((c, d) => (indices[k * rank + d] = BigInt(c)));
      indices[k * rank + leading.length] = BigInt(j);
      values[k] = e;
      k++;
    });
  }
  return [
    Tensor.fromHost('int64', [nnz, rank], indices),
    Tensor.fromHost(dtype, [nnz], values as never),
    Tensor.from('int64', [rank], [...leading, maxSize].map((d) => BigInt(d))),
  ];
}

const OUTPUTS = [{ name: 'result_indices' }, { name: 'result_values' }, { name: 'result_shape' }];

register({
  op: 'DenseToDenseSetOperation',
  outputs: OUTPUTS,
  kernel: (ctx) => {
    const [s1, s2] = ctx.inputs;
    const op = 'DenseToDenseSetOperation';
    return setOperation(ctx, denseSets(s1, op, 'set1'), denseSets(s2, op, 'set2'), op, s1.dtype);
  },
});

register({
  op: 'DenseToSparseSetOperation',
  outputs: OUTPUTS,
  kernel: (ctx) => {
    const [s1, i2, v2, sh2] = ctx.inputs;
    const op = 'DenseToSparseSetOperation';
    return setOperation(ctx, denseSets(s1, op, 'set1'), sparseSets(i2, v2, sh2, op, 'set2'), op, s1.dtype);
  },
});

register({
  op: 'SparseToSparseSetOperation',
  outputs: OUTPUTS,
  kernel: (ctx) => {
    const [i1, v1, sh1, i2, v2, sh2] = ctx.inputs;
    const op = 'SparseToSparseSetOperation';
    return setOperation(ctx, sparseSets(i1, v1, sh1, op, 'set1'), sparseSets(i2, v2, sh2, op, 'set2'), op, v1.dtype);
  },
});

register({
  op: 'SetSize',
  kernel: (ctx) => {
    const [iT, vT, shT] = ctx.inputs;
    const sets = sparseSets(iT, vT, shT, 'SetSize', 'set');
    const count = sets.leading.reduce((a, b) => a * b, 1);
    const out = new Int32Array(checkTensorSize(sets.leading, 'int32'));
    for (let r = 0; r < count; r++) out[r] = unique(sets.rows.get(r)).length;
    return [Tensor.fromHost('int32', sets.leading, out)];
  },
});
