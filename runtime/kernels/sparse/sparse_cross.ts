/**
 * Feature crosses (tensorflow/core/kernels/sparse_cross_op.cc): SparseCross,
 * SparseCrossV2 and SparseCrossHashed. Each row's cross is the cartesian
 * product of that row's features from every input (sparse inputs first, then
 * dense [batch, k] inputs; the last input varies fastest), as strings joined
 * by a separator or as hashes (farmhash Fingerprint64 of strings, int64 values
 * as they are, combined with FingerprintCat64, modulo num_buckets). Keras'
 * HashedCrossing and feature columns' crossed_column run through them.
 */
import { invalidArgument } from '../../errors.js';
import { encodeString, Tensor } from '../../tensor.js';
import { registerKernel, type KernelContext } from '../registry.js';
import { fingerprint64, sipHash24 } from '../string_hash.js';

const U64 = (1n << 64n) - 1n;
const K_MUL = 0xc6a4a7935bd1e995n;
const shiftMix = (v: bigint) => v ^ (v >> 47n);

/** TF's FingerprintCat64 (core/platform/fingerprint.h). */
export function fingerprintCat64(fp1: bigint, fp2: bigint): bigint {
  let result = fp1 ^ K_MUL;
  result ^= (shiftMix((fp2 * K_MUL) & U64) * K_MUL) & U64;
  result = (result * K_MUL) & U64;
  result = (shiftMix(result) * K_MUL) & U64;
  return shiftMix(result);
}

/** One input's features per row. */
interface Column {
  count(row: number): number;
  /** The feature as raw bytes (strings) or int64. */
  feature(row: number, n: number): Uint8Array | bigint;
}

function sparseColumn(indices: Tensor, values: Tensor, batch: number): Column {
  const idx = indices.numbers();
  const cols = indices.shape[1];
  const counts = new Array<number>(batch).fill(0);
  for (let i = 0; i < indices.shape[0]; i++) {
    const row = idx[i * cols];
    if (row < 0 || row >= batch) throw invalidArgument(`Invalid batch index ${row} in sparse input: the batch size is ${batch}`);
    counts[row]++;
  }
  const starts = new Array<number>(batch).fill(0);
  for (let r = 1; r < batch; r++) starts[r] = starts[r - 1] + counts[r - 1];
  const v = values.values() as ArrayLike<Uint8Array | bigint | number>;
  return {
    count: (r) => counts[r],
    feature: (r, n) => asFeature(v[starts[r] + n]),
  };
}

function denseColumn(t: Tensor): Column {
  if (t.rank !== 2) throw invalidArgument(`Dense inputs should be a matrix but received shape [${t.shape}]`);
  const v = t.values() as ArrayLike<Uint8Array | bigint | number>;
  const k = t.shape[1];
  return { count: () => k, feature: (r, n) => asFeature(v[r * k + n]) };
}

const asFeature = (x: Uint8Array | bigint | number): Uint8Array | bigint => (x instanceof Uint8Array ? x : BigInt(x));

interface CrossInputs {
  columns: Column[];
  batch: number;
}

/** Reads the op's inputs: N sparse (indices, values, shapes) then dense. */
function readInputs(ctx: KernelContext, n: number, dense: Tensor[]): CrossInputs {
  const indices = ctx.inputs.slice(0, n);
  const values = ctx.inputs.slice(n, 2 * n);
  const shapes = ctx.inputs.slice(2 * n, 3 * n);
  for (const [i, t] of indices.entries()) {
    if (t.rank !== 2) throw invalidArgument(`Input indices should be a matrix but received shape [${t.shape}] at position ${i}`);
  }
  const batch = n > 0 ? shapes[0].numbers()[0] : dense.length > 0 ? dense[0].shape[0] : 0;
  for (const t of dense) if (t.shape[0] !== batch) throw invalidArgument(`Expected batch size ${batch} got ${t.shape[0]}`);
  const columns = [...indices.map((t, i) => sparseColumn(t, values[i], batch)), ...dense.map(denseColumn)];
  return { columns, batch };
}

/** Every row's crosses (last column fastest), as the SparseTensor triple. */
function cross<T>(inputs: CrossInputs, make: (row: number, picks: number[]) => T): { rows: number[]; values: T[]; width: number } {
  const rows: number[] = [];
  const values: T[] = [];
  let width = 0;
  const { columns, batch } = inputs;
  for (let r = 0; r < batch; r++) {
    const counts = columns.map((c) => c.count(r));
    if (columns.length === 0 || counts.some((c) => c === 0)) continue;
    const picks = new Array<number>(columns.length).fill(0);
    let made = 0;
    for (;;) {
      rows.push(r);
      values.push(make(r, picks));
      made++;
      let i = columns.length - 1;
      while (i >= 0 && ++picks[i] === counts[i]) picks[i--] = 0;
      if (i < 0) break;
    }
    width = Math.max(width, made);
  }
  return { rows, values, width };
}

function sparseOutput(batch: number, result: { rows: number[]; width: number }, values: Tensor): Tensor[] {
  const n = result.rows.length;
  const indices = new BigInt64Array(n * 2);
  let col = 0;
  for (let i = 0; i < n; i++) {
    col = i > 0 && result.rows[i] === result.rows[i - 1] ? col + 1 : 0;
    indices[2 * i] = BigInt(result.rows[i]);
    indices[2 * i + 1] = BigInt(col);
  }
  return [Tensor.fromHost('int64', [n, 2], indices), values, Tensor.fromHost('int64', [2], BigInt64Array.from([BigInt(batch), BigInt(result.width)]))];
}

const featureText = (f: Uint8Array | bigint) => (f instanceof Uint8Array ? f : encodeString(f.toString()));

function joinFeatures(parts: Uint8Array[], sep: Uint8Array): Uint8Array {
  const out: number[] = [];
  parts.forEach((p, i) => {
    if (i > 0) out.push(...sep);
    out.push(...p);
  });
  return Uint8Array.from(out);
}

const OUTPUTS = [{ name: 'output_indices' }, { name: 'output_values' }, { name: 'output_shape' }];

registerKernel({
  op: 'SparseCross',
  outputs: OUTPUTS,
  kernel: (ctx) => {
    const n = ctx.attrs.int('N');
    const inputs = readInputs(ctx, n, ctx.inputs.slice(3 * n));
    if (ctx.attrs.bool('hashed_output')) {
      const buckets = BigInt(ctx.attrs.int('num_buckets'));
      const key = BigInt.asUintN(64, BigInt(ctx.attrs.int('hash_key')));
      const res = cross(inputs, (r, picks) => {
        let h = key;
        picks.forEach((p, i) => {
          const f = inputs.columns[i].feature(r, p);
          h = fingerprintCat64(h, f instanceof Uint8Array ? fingerprint64(f) : BigInt.asUintN(64, f));
        });
        return buckets > 0n ? h % buckets : h % ((1n << 63n) - 1n);
      });
      return sparseOutput(inputs.batch, res, Tensor.fromHost('int64', [res.values.length], BigInt64Array.from(res.values)));
    }
    const sep = encodeString('_X_');
    const res = cross(inputs, (r, picks) => joinFeatures(picks.map((p, i) => featureText(inputs.columns[i].feature(r, p))), sep));
    return sparseOutput(inputs.batch, res, Tensor.fromHost('string', [res.values.length], res.values));
  },
});

registerKernel({
  op: 'SparseCrossV2',
  outputs: OUTPUTS,
  kernel: (ctx) => {
    const n = ctx.attrs.int('N');
    const dense = ctx.inputs.slice(3 * n, ctx.inputs.length - 1);
    const sep = (ctx.inputs[ctx.inputs.length - 1].values() as Uint8Array[])[0];
    const inputs = readInputs(ctx, n, dense);
    const res = cross(inputs, (r, picks) => joinFeatures(picks.map((p, i) => featureText(inputs.columns[i].feature(r, p))), sep));
    return sparseOutput(inputs.batch, res, Tensor.fromHost('string', [res.values.length], res.values));
  },
});

registerKernel({
  op: 'SparseCrossHashed',
  outputs: OUTPUTS,
  kernel: (ctx) => {
    const n = ctx.attrs.int('N');
    const m = ctx.inputs.length;
    const dense = ctx.inputs.slice(3 * n, m - 3);
    const buckets = BigInt(ctx.inputs[m - 3].numbers()[0]);
    const strong = Boolean((ctx.inputs[m - 2].values() as ArrayLike<number>)[0]);
    const saltT = ctx.inputs[m - 1];
    if (saltT.size !== 2) throw invalidArgument(`Input "salt" must have length 2 but has length ${saltT.size}`);
    const salt = Array.from(saltT.values() as BigInt64Array, (x) => BigInt.asUintN(64, x)) as [bigint, bigint];
    const inputs = readInputs(ctx, n, dense);
    // Keyed columns: int64 features hash 4 bytes of the value (TF hashes sizeof(DataType) bytes).
    const int64Bytes = (v: bigint) => {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setBigInt64(0, v, true);
      return b.subarray(0, 4);
    };
    const hashOf = (f: Uint8Array | bigint, sparse: boolean): bigint => {
      if (strong) return sipHash24(salt, f instanceof Uint8Array ? f : int64Bytes(f));
      if (f instanceof Uint8Array) return fingerprint64(f);
      return sparse ? fingerprint64(int64Bytes(f)) : BigInt.asUintN(64, f);
    };
    const res = cross(inputs, (r, picks) => {
      let h = 0n;
      picks.forEach((p, i) => {
        const f = hashOf(inputs.columns[i].feature(r, p), i < n);
        h = i === 0 ? f : fingerprintCat64(h, f);
      });
      return buckets > 0n ? h % buckets : h % ((1n << 63n) - 1n);
    });
    return sparseOutput(inputs.batch, res, Tensor.fromHost('int64', [res.values.length], BigInt64Array.from(res.values)));
  },
});
