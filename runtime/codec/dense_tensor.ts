/**
 * One JSON value (a scalar, a {"b64": ...} object, or nested lists) → the
 * elements of a dense tensor of a signature input's dtype, as TF Serving's
 * GetDenseTensorShape + FillTensorProto + AddValueToTensor do it:
 * - the shape is read off the first element at each depth; every list must
 *   then have exactly that length and every leaf sit at the deepest level
 *   (ragged lists are refused with TF's texts);
 * - float/double take any number; int8/16/32 and uint8 need an integer in
 *   int32 range (stored with C++'s wrap-around for the narrow types), int64,
 *   uint32, uint64 an integer in their range, bool true/false, string a JSON
 *   string (UTF-8 bytes) or {"b64": ...}; any other dtype is UNIMPLEMENTED.
 *
 * A reader works on the fast or the exact JSON form (json_value.ts). On the
 * fast form every failure, and every number whose kind it cannot tell,
 * throws NEED_EXACT so the caller reads the exact form instead; error texts
 * are only ever built from the exact form.
 */
import { dtypeShortName, type DType } from '../dtypes.js';
import { invalidArgument, unimplemented, type StatusError } from '../errors.js';
import { allocHost, encodeString, type HostData } from '../tensor.js';
import { base64Decode } from './base64.js';
import { hasNoDoubleTokens } from './json_parse.js';
import {
  JsonNumber,
  JsonNumberArray,
  NEED_EXACT,
  isJsonArray,
  jsonArrayItem,
  isBase64Object,
  isJsonObject,
  jsonTypeName,
  jsonValueToString,
  objectGet,
  type JsonValue,
} from './json_value.js';

type Store = (data: HostData, index: number, v: JsonValue) => void;

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const UINT64_MAX = (1n << 64n) - 1n;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

export function shapeToString(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

export function sizeOfShape(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** GetDenseTensorShape: list lengths along the first element at each depth. */
export function denseShape(v: JsonValue): number[] {
  const shape: number[] = [];
  let cur: JsonValue = v;
  while (isJsonArray(cur)) {
    shape.push(cur.length);
    if (cur.length === 0) break;
    cur = jsonArrayItem(cur, 0);
  }
  return shape;
}

export class JsonTensorReader {
  private noDoubleTokensCache: boolean | undefined;
  private cursor = 0;

  constructor(
    /** True for the exact JSON form; false for JSON.parse output. */
    readonly exact: boolean,
    /** The request text (the fast form consults it for double tokens). */
    private readonly body = '',
  ) {}

  /** Throws the error on the exact form; NEED_EXACT on the fast form. */
  fail(build: () => StatusError): never {
    if (!this.exact) throw NEED_EXACT;
    throw build();
  }

  /**
   * Writes the elements of `v` (whose shape is `shape`, from denseShape) into
   * `data` from `offset` on, converting to `dtype`. Returns the element count.
   */
  fill(v: JsonValue, shape: readonly number[], dtype: DType, data: HostData, offset: number): number {
    this.cursor = offset;
    this.fillLevel(v, 0, shape, dtype, this.storeFor(dtype), data);
    return this.cursor - offset;
  }

  /** Allocates storage for `size` elements and fills it (for values read whole). */
  read(v: JsonValue, shape: readonly number[], dtype: DType): HostData {
    const data = allocHost(dtype, sizeOfShape(shape));
    this.fill(v, shape, dtype, data, 0);
    return data;
  }

  private fillLevel(
    v: JsonValue,
    level: number,
    shape: readonly number[],
    dtype: DType,
    store: Store,
    data: HostData,
  ): void {
    const rank = shape.length;
    if (!isJsonArray(v)) {
      if (level !== rank) {
        this.fail(() =>
          invalidArgument(
            `JSON Value: ${jsonValueToString(v)} found at incorrect level: ${level + 1} in the JSON DOM.` +
              ` Expected at level: ${rank}`,
          ),
        );
      }
      if (isJsonObject(v)) {
        if (dtype === 'string') (data as Uint8Array[])[this.cursor] = this.decodeBase64Object(v);
        else this.typeError(v, dtype);
      } else {
        store(data, this.cursor, v);
      }
      this.cursor++;
      return;
    }
    if (level >= rank) {
      this.fail(() => invalidArgument(`Encountered list at unexpected level: ${level} expected < ${rank}`));
    }
    if (v.length !== shape[level]) {
      this.fail(() =>
        invalidArgument(
          `Encountered list at unexpected size: ${v.length} at level: ${level} expected size: ${shape[level]}`,
        ),
      );
    }
    if (v instanceof JsonNumberArray) {
      if (level === rank - 1) this.fillNumbers(v, dtype, store, data);
      else this.fillLevel(v.item(0), level + 1, shape, dtype, store, data); // a number above the last level: its error
    } else if (level === rank - 1) {
      for (let i = 0; i < v.length; i++) {
        const item = v[i];
        if (isJsonArray(item) || isJsonObject(item)) {
          this.fillLevel(item, level + 1, shape, dtype, store, data);
        } else {
          store(data, this.cursor, item);
          this.cursor++;
        }
      }
    } else {
      for (let i = 0; i < v.length; i++) this.fillLevel(v[i], level + 1, shape, dtype, store, data);
    }
  }

  /** The numbers of a last-level list: copied at once into float storage, else one by one as any list. */
  private fillNumbers(v: JsonNumberArray, dtype: DType, store: Store, data: HostData): void {
    if (dtype === 'float32' || dtype === 'float64') {
      for (const chunk of v.chunks) {
        (data as Float32Array | Float64Array).set(chunk, this.cursor);
        this.cursor += chunk.length;
      }
      return;
    }
    for (let i = 0; i < v.length; i++) {
      store(data, this.cursor, v.item(i));
      this.cursor++;
    }
  }

  /** JsonDecodeBase64Object: {"b64": "<standard base64>"} → bytes. */
  decodeBase64Object(v: JsonValue): Uint8Array {
    if (!isBase64Object(v)) {
      this.fail(() => invalidArgument(`JSON Value: ${jsonValueToString(v)} not formatted correctly for base64 data`));
    }
    const bytes = base64Decode(objectGet(v, 'b64') as string);
    if (bytes === undefined) this.fail(() => invalidArgument('Unable to base64 decode'));
    return bytes;
  }

  typeError(v: JsonValue, dtype: DType): never {
    this.fail(() =>
      invalidArgument(
        `JSON Value: ${jsonValueToString(v)} Type: ${jsonTypeName(v)} is not of expected type: ${dtypeShortName(dtype)}`,
      ),
    );
  }

  private noDoubleTokens(): boolean {
    if (this.noDoubleTokensCache === undefined) this.noDoubleTokensCache = hasNoDoubleTokens(this.body);
    return this.noDoubleTokensCache;
  }

  /**
   * The exact integer of an integer token, or undefined for anything else
   * (strings, doubles such as 3.0). On the fast form, integers that may have
   * been written as "3.0" or lost digits ask for the exact form.
   */
  private integerOf(v: JsonValue): bigint | undefined {
    if (v instanceof JsonNumber) return v.int;
    if (typeof v !== 'number' || !Number.isInteger(v)) return undefined;
    if (!this.exact && !this.noDoubleTokens()) throw NEED_EXACT;
    return BigInt(v);
  }

  private storeFor(dtype: DType): Store {
    switch (dtype) {
      case 'float32':
      case 'float64':
        return (data, i, v) => {
          if (typeof v === 'number') {
            // JSON.parse cannot tell "-0" (an integer, read as +0) from "-0.0".
            if (v === 0 && 1 / v < 0) throw NEED_EXACT;
            (data as Float32Array)[i] = v;
          } else if (v instanceof JsonNumber) {
            (data as Float32Array)[i] = v.value;
          } else {
            this.typeError(v, dtype);
          }
        };
      case 'int32':
      case 'int16':
      case 'int8':
      case 'uint8':
        return (data, i, v) => {
          if (typeof v === 'number' && Number.isInteger(v) && v >= INT32_MIN && v <= INT32_MAX) {
            if (!this.exact && !this.noDoubleTokens()) throw NEED_EXACT;
            (data as Int32Array)[i] = v;
            return;
          }
          const int = this.integerOf(v);
          if (int === undefined || int < INT32_MIN || int > INT32_MAX) this.typeError(v, dtype);
          (data as Int32Array)[i] = Number(int);
        };
      case 'int64':
        return (data, i, v) => {
          const int = this.integerOf(v);
          if (int === undefined || int < INT64_MIN || int > INT64_MAX) this.typeError(v, dtype);
          (data as BigInt64Array)[i] = int;
        };
      case 'uint32':
        return (data, i, v) => {
          const int = this.integerOf(v);
          if (int === undefined || int < 0n || int > 4294967295n) this.typeError(v, dtype);
          (data as Uint32Array)[i] = Number(int);
        };
      case 'uint64':
        return (data, i, v) => {
          const int = this.integerOf(v);
          if (int === undefined || int < 0n || int > UINT64_MAX) this.typeError(v, dtype);
          (data as BigUint64Array)[i] = int;
        };
      case 'bool':
        return (data, i, v) => {
          if (typeof v !== 'boolean') this.typeError(v, dtype);
          (data as Uint8Array)[i] = v ? 1 : 0;
        };
      case 'string':
        return (data, i, v) => {
          if (typeof v !== 'string') this.typeError(v, dtype);
          (data as Uint8Array[])[i] = encodeString(v);
        };
      default:
        return (_data, _i, v) => {
          this.fail(() =>
            unimplemented(`Conversion of JSON Value: ${jsonValueToString(v)} to type: ${dtypeShortName(dtype)}`),
          );
        };
    }
  }
}
