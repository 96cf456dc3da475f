/**
 * The JSON documents the codec reads, in the two forms the parser produces:
 *
 * - fast form: what JSON.parse returns (plain objects, JS numbers). Cheap,
 *   but a number does not say whether it was written "3" or "3.0". Code
 *   reading it throws NEED_EXACT whenever that matters, or anything fails,
 *   and the request is read again in exact form.
 * - exact form: from parseJsonExact (json_parse.ts). Objects are Maps (key
 *   order kept). A plain JS number is an integer token when integral (exact,
 *   within 2^53) and a double token otherwise (NaN and infinities included);
 *   JsonNumber holds the rest: doubles with integral values ("3.0", "-0.0",
 *   "1e5") and integers beyond 2^53 (exact bigint).
 *
 * Also here: rapidjson's type names ("Number", "Object", ...) and
 * JsonValueToString, the way TF Serving echoes a value in its error texts.
 */
import { formatDecimal, formatShortestDouble } from './number_format.js';
import { PrettyJsonWriter } from './json_writer.js';

/** An exact-form number a plain JS number cannot stand for (see the module comment). */
export class JsonNumber {
  constructor(
    /** The value as a double (rapidjson's GetDouble()). */
    readonly value: number,
    /** The exact value of an integer token beyond 2^53; undefined for a double token. */
    readonly int: bigint | undefined,
  ) {}
}

/** Elements per chunk of a JsonNumberArray (512 KiB of doubles). */
export const NUMBER_CHUNK = 65536;

/**
 * An exact-form array of 256 or more numbers, none an integer beyond 2^53:
 * the values as doubles in Float64Array chunks of NUMBER_CHUNK (the last one
 * shorter), 8 bytes each where a JS array of numbers and JsonNumbers takes 8
 * to 40, so that a large tensor in a request costs about its size. `flags`
 * (per chunk, undefined when none) mark the double tokens with integral
 * values ("3.0"), JsonNumber elsewhere in the exact form. Read it through
 * isJsonArray / jsonArrayItem like any array.
 */
export class JsonNumberArray {
  constructor(
    readonly chunks: readonly Float64Array[],
    readonly flags: readonly (Uint8Array | undefined)[],
    readonly length: number,
  ) {}

  /** The element as the exact form holds single numbers (a number, or a JsonNumber for "3.0"). */
  item(i: number): number | JsonNumber {
    const c = Math.floor(i / NUMBER_CHUNK);
    const k = i % NUMBER_CHUNK;
    const v = this.chunks[c][k];
    const f = this.flags[c];
    return f !== undefined && f[k] === 1 ? new JsonNumber(v, undefined) : v;
  }
}

export type JsonObjectMap = Map<string, JsonValue>;
export interface JsonPlainObject {
  [key: string]: JsonValue;
}
export type JsonValue =
  | null
  | boolean
  | string
  | number
  | JsonNumber
  | JsonValue[]
  | JsonNumberArray
  | JsonObjectMap
  | JsonPlainObject;

export function isJsonArray(v: JsonValue | undefined): v is JsonValue[] | JsonNumberArray {
  return Array.isArray(v) || v instanceof JsonNumberArray;
}

export function jsonArrayItem(v: JsonValue[] | JsonNumberArray, i: number): JsonValue {
  return v instanceof JsonNumberArray ? v.item(i) : v[i];
}

/** Thrown by fast-form readers when only the exact form can decide (or word an error). */
export const NEED_EXACT: unique symbol = Symbol('need exact JSON form');

export function isJsonObject(v: JsonValue | undefined): v is JsonObjectMap | JsonPlainObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof JsonNumber) && !(v instanceof JsonNumberArray);
}

export function isJsonNumber(v: JsonValue | undefined): v is number | JsonNumber {
  return typeof v === 'number' || v instanceof JsonNumber;
}

export function objectGet(o: JsonObjectMap | JsonPlainObject, key: string): JsonValue | undefined {
  if (o instanceof Map) return o.get(key);
  return Object.hasOwn(o, key) ? o[key] : undefined;
}

export function objectSize(o: JsonObjectMap | JsonPlainObject): number {
  return o instanceof Map ? o.size : Object.keys(o).length;
}

export function objectEntries(o: JsonObjectMap | JsonPlainObject): [string, JsonValue][] {
  return o instanceof Map ? [...o] : Object.entries(o);
}

/** TF Serving's IsValBase64Object: an object whose only member is "b64" holding a string. */
export function isBase64Object(v: JsonValue | undefined): v is JsonObjectMap | JsonPlainObject {
  if (!isJsonObject(v)) return false;
  return objectSize(v) === 1 && typeof objectGet(v, 'b64') === 'string';
}

/** rapidjson's type name as TF Serving prints it ("Null", "False", "True", "Object", "Array", "String", "Number"). */
export function jsonTypeName(v: JsonValue): string {
  if (v === null) return 'Null';
  if (v === false) return 'False';
  if (v === true) return 'True';
  if (typeof v === 'string') return 'String';
  if (isJsonNumber(v)) return 'Number';
  if (isJsonArray(v)) return 'Array';
  return 'Object';
}

/** An exact-form number as value + exact integer (undefined for double tokens). */
export function numberParts(v: number | JsonNumber): { value: number; int: bigint | undefined } {
  if (v instanceof JsonNumber) return v;
  return { value: v, int: Number.isInteger(v) ? BigInt(v) : undefined };
}

/** rapidjson's Value::Accept into a writer; false when it stops at a NaN/infinity it refuses to write. */
function accept(w: PrettyJsonWriter, v: JsonValue): boolean {
  if (v === null) w.raw('null');
  else if (v === true) w.raw('true');
  else if (v === false) w.raw('false');
  else if (typeof v === 'string') w.string(v);
  else if (isJsonNumber(v)) {
    const { value, int } = numberParts(v);
    if (int !== undefined) w.raw(int.toString());
    else return w.rawOrRefuse(formatShortestDouble(value));
  } else if (isJsonArray(v)) {
    w.startArray();
    for (let i = 0; i < v.length; i++) if (!accept(w, jsonArrayItem(v, i))) return false;
    w.endArray();
  } else {
    w.startObject();
    for (const [k, item] of objectEntries(v)) {
      w.key(k);
      if (!accept(w, item)) return false;
    }
    w.endObject();
  }
  return true;
}

const FLOAT_LIMIT = 3.4028234e38;

/**
 * TF Serving's JsonValueToString: a double within float range prints as the
 * float it rounds to, other doubles with double precision, everything else
 * through rapidjson's pretty writer (objects and arrays span lines).
 */
export function jsonValueToString(v: JsonValue): string {
  if (isJsonNumber(v)) {
    const { value, int } = numberParts(v);
    if (int === undefined) {
      const isFloat = value >= -FLOAT_LIMIT && value <= FLOAT_LIMIT;
      return isFloat ? formatDecimal(Math.fround(value), 'float') : formatDecimal(value, 'double');
    }
  }
  const w = new PrettyJsonWriter();
  accept(w, v);
  return w.toString();
}
