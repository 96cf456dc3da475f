/**
 * Output tensors → the predict response body, byte for byte as TF Serving's
 * MakeJsonFromTensors writes it (rapidjson PrettyWriter):
 *
 *   row (request had "instances"):
 *     {\n    "predictions": [[2.5, 3.0], [3.5, 4.0]\n    ]\n}
 *     one entry per batch item; with several outputs each entry is an object
 *     keyed by output name. Every output needs a batch dimension (dim 0) of
 *     the same size.
 *   columnar (request had "inputs"):
 *     {\n    "outputs": [\n        3.5,\n        4.0\n    ]\n}
 *     the tensor itself, or an object keyed by output name.
 *
 * Values: float as TF prints floats (2.5, 3.0, 0.1, 9e+06, NaN, Infinity),
 * double likewise at double precision, integers exactly (int64 included),
 * bool true/false, strings as JSON strings of their UTF-8 text; string
 * outputs whose name ends in "_bytes" are written as {"b64": "..."}. Bytes
 * that are not valid UTF-8 are replaced by U+FFFD (TF Serving copies them
 * raw, which is not valid JSON). float16, bfloat16, uint16, complex,
 * resource and variant outputs are refused, as TF Serving refuses them.
 *
 * Several outputs are written in `outputOrder` when given (the rest after it,
 * sorted), else sorted by name (TF Serving's own order is its hash map's).
 */
import { dtypeShortName } from '../dtypes.js';
import { invalidArgument } from '../errors.js';
import { decodeString, type Tensor } from '../tensor.js';
import { base64Encode } from './base64.js';
import { PrettyJsonWriter } from './json_writer.js';
import { formatDecimal } from './number_format.js';
import type { PredictFormat } from './predict_request.js';

/** Writes element i of a tensor as one JSON value. */
type ValueWriter = (w: PrettyJsonWriter, i: number) => void;

function valueWriter(name: string, t: Tensor): ValueWriter {
  const unsupported = (): ValueWriter => () => {
    throw invalidArgument(`Failed to write JSON value for tensor type: ${dtypeShortName(t.dtype)}`);
  };
  switch (t.dtype) {
    case 'float32': {
      const v = t.values() as Float32Array;
      return (w, i) => w.raw(formatDecimal(v[i], 'float'));
    }
    case 'float64': {
      const v = t.values() as Float64Array;
      return (w, i) => w.raw(formatDecimal(v[i], 'double'));
    }
    case 'int32':
    case 'int16':
    case 'int8':
    case 'uint8':
    case 'uint32': {
      const v = t.values() as Int32Array;
      return (w, i) => w.raw(String(v[i]));
    }
    case 'int64':
    case 'uint64': {
      const v = t.values() as BigInt64Array;
      return (w, i) => w.raw(v[i].toString());
    }
    case 'bool': {
      const v = t.values() as Uint8Array;
      return (w, i) => w.raw(v[i] ? 'true' : 'false');
    }
    case 'string': {
      const v = t.values() as Uint8Array[];
      if (name.endsWith('_bytes')) {
        return (w, i) => {
          w.startObject();
          w.key('b64');
          w.string(base64Encode(v[i]));
          w.endObject();
        };
      }
      return (w, i) => w.string(decodeString(v[i]));
    }
    default:
      return unsupported();
  }
}

/** AddTensorValues: dims from `dim` on as nested arrays; a scalar is written bare. Returns the next offset. */
function writeTensorValues(
  w: PrettyJsonWriter,
  shape: readonly number[],
  write: ValueWriter,
  dim: number,
  offset: number,
): number {
  const rank = shape.length;
  if (dim > rank - 1) {
    write(w, offset);
    return offset + 1;
  }
  w.startArray();
  const n = shape[dim];
  if (dim === rank - 1) {
    for (let i = 0; i < n; i++) write(w, offset++);
  } else {
    for (let i = 0; i < n; i++) offset = writeTensorValues(w, shape, write, dim + 1, offset);
  }
  w.endArray();
  return offset;
}

function orderedNames(outputs: Readonly<Record<string, Tensor>>, outputOrder?: readonly string[]): string[] {
  const all = Object.keys(outputs).sort();
  if (!outputOrder) return all;
  const first = outputOrder.filter((n) => Object.hasOwn(outputs, n));
  const listed = new Set(first);
  return [...first, ...all.filter((n) => !listed.has(n))];
}

/** The predict response body for these outputs in the request's format. */
export function formatPredictResponse(
  outputs: Readonly<Record<string, Tensor>>,
  format: PredictFormat,
  outputOrder?: readonly string[],
): string {
  const names = orderedNames(outputs, outputOrder);
  if (names.length === 0) throw invalidArgument('Cannot convert empty tensor map to JSON');
  return format === 'row' ? rowFormat(outputs, names) : columnarFormat(outputs, names);
}

function rowFormat(outputs: Readonly<Record<string, Tensor>>, names: string[]): string {
  let batch = -1;
  for (const name of names) {
    const t = outputs[name];
    if (t.rank === 0) throw invalidArgument(`Tensor name: ${name} has no shape information `);
    const cur = t.shape[0];
    if (batch >= 0 && batch !== cur) {
      throw invalidArgument(`Tensor name: ${name} has inconsistent batch size: ${cur} expecting: ${batch}`);
    }
    batch = cur;
  }
  const writers = names.map((name) => valueWriter(name, outputs[name]));
  const offsets = names.map(() => 0);
  const asObjects = names.length > 1;
  const w = new PrettyJsonWriter();
  w.startObject();
  w.key('predictions');
  w.startArray();
  for (let item = 0; item < batch; item++) {
    if (asObjects) w.startObject();
    w.setSingleLineArrays(true);
    for (let k = 0; k < names.length; k++) {
      if (asObjects) w.key(names[k]);
      offsets[k] = writeTensorValues(w, outputs[names[k]].shape, writers[k], 1, offsets[k]);
    }
    w.setSingleLineArrays(false);
    if (asObjects) w.endObject();
  }
  w.endArray();
  w.endObject();
  return w.toString();
}

function columnarFormat(outputs: Readonly<Record<string, Tensor>>, names: string[]): string {
  const asObject = names.length > 1;
  const w = new PrettyJsonWriter();
  w.startObject();
  w.key('outputs');
  if (asObject) w.startObject();
  for (const name of names) {
    if (asObject) w.key(name);
    writeTensorValues(w, outputs[name].shape, valueWriter(name, outputs[name]), 0, 0);
  }
  if (asObject) w.endObject();
  w.endObject();
  return w.toString();
}
