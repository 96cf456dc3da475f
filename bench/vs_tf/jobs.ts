/**
 * A model of the perf set as both sides of `--vs-tf` are given it: where the
 * SavedModel is, which signature, input and output to use, and the file of
 * its 32 inputs (raw little-endian values, or a JSON list of strings). The
 * Python peers read the same JSON (bench/peers/tf_common.py).
 */
import fs from 'node:fs';
import type { DType } from '../../runtime/dtypes.js';
import { Tensor } from '../../runtime/tensor.js';

export interface Job {
  name: string;
  description: string;
  /** The SavedModel (a version folder). */
  dir: string;
  signature: string;
  /** Signature input key. */
  input: string;
  dtype: 'float32' | 'int32' | 'string';
  /** Shape of the 32 inputs in `inputs`. */
  shape: number[];
  /** File of the inputs. */
  inputs: string;
  /** Signature output key compared and fetched. */
  output: string;
  /** Size of variables/ (the weights), bytes. */
  weightsBytes: number;
}

/** The first `batch` inputs of a job as host values (strings, or a typed array view). */
export function readJobInputs(job: Job): string[] | Float32Array | Int32Array {
  if (job.dtype === 'string') return JSON.parse(fs.readFileSync(job.inputs, 'utf8')) as string[];
  const buf = fs.readFileSync(job.inputs);
  // Copy into a fresh, aligned buffer (small files come from a shared pool at any offset).
  const bytes = new Uint8Array(buf.length);
  bytes.set(buf);
  const n = buf.length / 4;
  const values = job.dtype === 'float32' ? new Float32Array(bytes.buffer, 0, n) : new Int32Array(bytes.buffer, 0, n);
  const expected = job.shape.reduce((a, b) => a * b, 1);
  if (n !== expected) throw new Error(`${job.inputs}: ${n} values, expected ${expected} for shape [${job.shape}]`);
  return values;
}

/** The first `batch` inputs as a runtime tensor. */
export function batchTensor(job: Job, all: string[] | Float32Array | Int32Array, batch: number): Tensor {
  const inner = job.shape.slice(1);
  const per = inner.reduce((a, b) => a * b, 1);
  if (batch > job.shape[0]) throw new Error(`${job.name}: batch ${batch} > ${job.shape[0]} inputs`);
  if (Array.isArray(all)) return Tensor.from('string', [batch], all.slice(0, batch));
  return Tensor.fromHost(job.dtype as DType, [batch, ...inner], all.slice(0, batch * per));
}

/** One input row as JSON (a TF Serving `instances` element): nested arrays, floats rounded to 4 decimals. */
export function instanceJson(job: Job, all: string[] | Float32Array | Int32Array, row: number): unknown {
  if (Array.isArray(all)) return all[row];
  const inner = job.shape.slice(1);
  const per = inner.reduce((a, b) => a * b, 1);
  const flat = all.subarray(row * per, (row + 1) * per);
  const round = job.dtype === 'float32' ? (x: number) => Math.round(x * 1e4) / 1e4 : (x: number) => x;
  const build = (dim: number, offset: number): unknown => {
    if (dim === inner.length) return round(flat[offset]);
    const stride = inner.slice(dim + 1).reduce((a, b) => a * b, 1);
    return Array.from({ length: inner[dim] }, (_, i) => build(dim + 1, offset + i * stride));
  };
  return build(0, 0);
}
