/**
 * InitializeTableFromTextFileV2's reading of a vocabulary file, as TF's
 * TextFileLineIterator (core/kernels/lookup_util.cc): one entry per line;
 * key and value each the whole line (-2), the line number (-1) or a column
 * split on `delimiter`; at most `vocabSize` lines when it is not -1; an
 * empty line is an error.
 */
import { dtypeShortName, type DType } from '../../dtypes.js';
import { invalidArgument } from '../../errors.js';

export const WHOLE_LINE = -2;
export const LINE_NUMBER = -1;

export interface TextFileSpec {
  file: string;
  keyIndex: number;
  valueIndex: number;
  vocabSize: number;
  delimiter: string;
  offset: number;
  keyDtype: DType;
  valueDtype: DType;
}

const INT = /^\s*[+-]?\d+\s*$/;
const FLOAT = /^\s*[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|inf(inity)?|nan)\s*$/i;

function convert(token: string, dtype: DType, lineNo: number, offset: number, asKey: boolean): unknown {
  switch (dtype) {
    case 'int32': {
      const n = INT.test(token) ? Number(token) : NaN;
      if (!Number.isInteger(n) || n < -2147483648 || n > 2147483647) throw invalidArgument(`Field ${token} in line ${lineNo} is not a valid int32.`);
      return (n + offset) | 0;
    }
    case 'int64': {
      const n = INT.test(token) ? BigInt(token.trim()) : undefined;
      if (n === undefined || n < -(2n ** 63n) || n >= 2n ** 63n) throw invalidArgument(`Field ${token} in line ${lineNo} is not a valid int64.`);
      return n;
    }
    case 'float32':
    case 'float64': {
      if (!FLOAT.test(token)) throw invalidArgument(`Field ${token} in line ${lineNo} is not a valid ${dtype === 'float64' ? 'double' : 'float'}.`);
      const t = token.trim().toLowerCase().replace(/^\+/, '');
      const n = t.endsWith('nan') ? NaN : t.includes('inf') ? (t.startsWith('-') ? -Infinity : Infinity) : Number(t);
      return dtype === 'float64' ? n : Math.fround(n);
    }
    case 'string':
      // Keys as the table holds them (latin1 text of the bytes), values as bytes.
      return asKey ? token : new Uint8Array(Buffer.from(token, 'latin1'));
    default:
      throw invalidArgument(`Data type ${dtypeShortName(dtype)} not supported.`);
  }
}

/** The file's lines as TF's InputBuffer::ReadLine gives them (no "\n", no trailing "\r"). */
function lines(bytes: Buffer): string[] {
  const text = bytes.toString('latin1');
  const out = text.split('\n');
  if (out.length > 0 && out[out.length - 1] === '' && text.length > 0) out.pop();
  if (text.length === 0) return [];
  return out.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

/** Parallel keys (as LookupTable holds them) and values read from the file's bytes. */
export function readTextFileEntries(bytes: Buffer, spec: TextFileSpec): { keys: unknown[]; values: unknown[] } {
  const { keyIndex, valueIndex, vocabSize, delimiter, offset } = spec;
  if (keyIndex === LINE_NUMBER && spec.keyDtype !== 'int64') {
    throw invalidArgument(`Key index for line number requires table key dtype of int64, got ${dtypeShortName(spec.keyDtype)}`);
  }
  if (valueIndex === LINE_NUMBER && spec.valueDtype !== 'int64') {
    throw invalidArgument(`Value index for line number requires table value dtype of int64, got ${dtypeShortName(spec.valueDtype)}`);
  }
  const all = lines(bytes);
  const keys: unknown[] = [];
  const values: unknown[] = [];
  const splitNeeded = Math.max(keyIndex, valueIndex) >= 0;
  for (let i = 0; i < all.length; i++) {
    if (vocabSize !== -1 && i >= vocabSize) break;
    const line = all[i];
    if (line === '') throw invalidArgument(`Invalid content in ${spec.file}: empty line found at position ${positionAfter(all, i)}.`);
    const tokens = splitNeeded ? line.split(delimiter) : [];
    const expected = Math.max(keyIndex, valueIndex) + 1;
    if (splitNeeded && tokens.length < expected) {
      throw invalidArgument(`Invalid number of columns in ${spec.file} line ${i} (${line}) : expected at least ${expected} got ${tokens.length}`);
    }
    const pick = (index: number, dtype: DType, isKey: boolean) =>
      index === LINE_NUMBER ? BigInt(i + offset) : convert(index === WHOLE_LINE ? line : tokens[index], dtype, i, isKey ? 0 : offset, isKey);
    keys.push(pick(keyIndex, spec.keyDtype, true));
    values.push(pick(valueIndex, spec.valueDtype, false));
  }
  if (vocabSize !== -1 && all.length < vocabSize) {
    throw invalidArgument(`Invalid vocab_size in ${spec.file}: expected ${vocabSize} but got ${all.length}`);
  }
  return { keys, values };
}

/** Byte offset just past line `i` (TF reports the buffer position after reading it). */
function positionAfter(all: string[], i: number): number {
  let n = 0;
  for (let j = 0; j <= i; j++) n += all[j].length + 1;
  return n;
}
