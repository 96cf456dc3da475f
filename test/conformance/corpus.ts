/**
 * Reads the conformance corpus written by tools/conformance/make_models.py:
 * SavedModels exported by real TensorFlow, each with TensorFlow's answers in
 * expected.json ({"runs": [{"signature", "inputs", "outputs"}]}, replayed in
 * order on one loaded model).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { DType } from '../../runtime/dtypes.js';
import { Tensor } from '../../runtime/tensor.js';

export const CORPUS_DIR = path.resolve(import.meta.dirname, 'corpus');

type JsonValue = number | string | boolean | { b64: string } | [number | string, number | string];
export interface JsonTensor {
  dtype: string;
  shape: number[];
  values: JsonValue[];
}
export interface CorpusRun {
  signature: string;
  inputs: Record<string, JsonTensor>;
  outputs: Record<string, JsonTensor>;
}
export interface CorpusCase {
  /** "family/name" */
  id: string;
  modelDir: string;
  runs: CorpusRun[];
  /**
   * "spectral": outputs went through a float32 FFT (tools/conformance/registry.py @spectral), so
   * float values are compared with an absolute floor scaled to the tensor's largest |value|.
   */
  tolerance?: 'spectral';
}

export function listCorpus(root = CORPUS_DIR): CorpusCase[] {
  const cases: CorpusCase[] = [];
  if (!fs.existsSync(root)) return cases;
  for (const family of fs.readdirSync(root).sort()) {
    const familyDir = path.join(root, family);
    if (!fs.statSync(familyDir).isDirectory()) continue;
    for (const name of fs.readdirSync(familyDir).sort()) {
      const expected = path.join(familyDir, name, 'expected.json');
      if (!fs.existsSync(expected)) continue;
      const { runs, tolerance } = JSON.parse(fs.readFileSync(expected, 'utf8')) as { runs: CorpusRun[]; tolerance?: 'spectral' };
      cases.push({ id: `${family}/${name}`, modelDir: path.join(familyDir, name, 'model'), runs, tolerance });
    }
  }
  return cases;
}

const number = (v: JsonValue): number => (v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : (v as number));
const bytes = (v: JsonValue): Uint8Array | string => (typeof v === 'object' && v !== null && 'b64' in v ? Buffer.from(v.b64, 'base64') : (v as string));

/** The JSON tensor as a runtime Tensor. */
export function toTensor(t: JsonTensor): Tensor {
  const dtype = t.dtype as DType;
  if (dtype === 'string') return Tensor.from('string', t.shape, t.values.map(bytes));
  if (dtype === 'complex64' || dtype === 'complex128') {
    const flat = (t.values as [number, number][]).flatMap(([re, im]) => [number(re), number(im)]);
    return Tensor.fromHost(dtype, t.shape, dtype === 'complex64' ? Float32Array.from(flat) : Float64Array.from(flat));
  }
  return Tensor.from(dtype, t.shape, t.values.map((v) => (typeof v === 'boolean' ? v : number(v))));
}

/** Expected values in the comparable form `actualValues` gives. */
export function expectedValues(t: JsonTensor): (number | string | boolean | bigint)[] {
  if (t.dtype === 'string') return t.values.map((v) => Buffer.from(bytes(v) as string | Uint8Array).toString('base64'));
  if (t.dtype === 'complex64' || t.dtype === 'complex128') return (t.values as [number, number][]).flatMap(([re, im]) => [number(re), number(im)]);
  if (t.dtype === 'int64' || t.dtype === 'uint64') return t.values.map((v) => BigInt(v as number));
  return t.values.map((v) => (typeof v === 'boolean' ? v : number(v)));
}

/** The tensor's values as plain JS: strings as base64, int64 as bigint, complex as [re, im, ...]. */
export function actualValues(t: Tensor): (number | string | boolean | bigint)[] {
  const v = t.values() as ArrayLike<unknown>;
  if (t.dtype === 'string') return Array.from(v as ArrayLike<Uint8Array>, (b) => Buffer.from(b).toString('base64'));
  if (t.dtype === 'bool') return Array.from(v as ArrayLike<number | boolean>, (b) => Boolean(b));
  if (t.dtype === 'int64' || t.dtype === 'uint64') return Array.from(v as ArrayLike<bigint>, (b) => BigInt(b));
  return Array.from(v as ArrayLike<number>, Number);
}

/** Relative tolerance for floats of this dtype (TF's own float32 results vs ours). */
export function tolerance(dtype: string): number {
  if (dtype === 'float16' || dtype === 'bfloat16') return dtype === 'float16' ? 1e-3 : 1e-2;
  if (dtype === 'float64' || dtype === 'complex128') return 1e-12;
  return 1e-5;
}

/**
 * Differences between an output and TF's, as readable lines (empty when equal).
 * Floats compare within tol × max(1, |TF's value|). With `spectral`, the floor
 * is instead max(1, largest finite |value| of TF's tensor): an FFT in float32
 * (TF's DUCC for complex64) has errors of about eps × log2(n) × the largest
 * value of the transform in every output, so a bin near zero is only as exact
 * as the tensor's scale allows; ours is computed in float64, so the
 * difference is TF's rounding, amplified by whatever follows (log, DCT sums).
 */
export function compareTensor(name: string, actual: Tensor, expected: JsonTensor, spectral = false): string[] {
  const problems: string[] = [];
  if (actual.dtype !== expected.dtype) problems.push(`${name}: dtype ${actual.dtype}, TF ${expected.dtype}`);
  if (JSON.stringify(actual.shape) !== JSON.stringify(expected.shape)) problems.push(`${name}: shape [${actual.shape}], TF [${expected.shape}]`);
  if (problems.length) return problems;
  const got = actualValues(actual);
  const want = expectedValues(expected);
  const tol = tolerance(expected.dtype);
  let floor = 1;
  if (spectral) for (const w of want) if (typeof w === 'number' && Number.isFinite(w)) floor = Math.max(floor, Math.abs(w));
  let bad = 0;
  for (let i = 0; i < want.length; i++) {
    const a = got[i];
    const w = want[i];
    const equal =
      typeof w === 'number' && typeof a === 'number'
        ? (Number.isNaN(w) && Number.isNaN(a)) || a === w || Math.abs(a - w) <= tol * Math.max(floor, Math.abs(w))
        : a === w;
    if (!equal && bad++ < 5) problems.push(`${name}[${i}]: ${String(a)}, TF ${String(w)}`);
  }
  if (bad > 5) problems.push(`${name}: ${bad} of ${want.length} values differ`);
  return problems;
}
