/**
 * TF Serving's classify / regress request body → serialized tf.Example
 * protos (FillClassificationRequestFromJson / FillRegressionRequestFromJson):
 *
 *   {"signature_name": "...", "context": {...}, "examples": [{"x": 80.0, "tags": ["a", "b"]}]}
 *
 * Each example is an object of features; a feature is one value or a list:
 * JSON strings and {"b64": ...} go to bytes_list, numbers written with a '.'
 * or exponent (or NaN/Infinity) to float_list, integers and true/false to
 * int64_list; mixing kinds, null, nested lists and uint64-only integers are
 * refused with TF Serving's texts.
 *
 * With a "context", TF Serving feeds each example as the serialized context
 * followed by the serialized example (protobuf concatenation = merge: the
 * example's features add to, and replace same-named, context features).
 * `examples` holds exactly those bytes, ready to be the signature's string
 * input; `context` the serialized context alone.
 */
import { invalidArgument } from '../errors.js';
import { bigIntToInt64 } from '../proto/long.js';
import { protoType } from '../proto/schema.js';
import { encodeString } from '../tensor.js';
import { JsonTensorReader } from './dense_tensor.js';
import { parseJsonExact } from './json_parse.js';
import type { CodecOptions } from './predict_request.js';
import {
  isBase64Object,
  isJsonArray,
  jsonArrayItem,
  isJsonNumber,
  isJsonObject,
  jsonTypeName,
  jsonValueToString,
  numberParts,
  objectEntries,
  objectGet,
  type JsonValue,
} from './json_value.js';

export interface ParsedExamplesRequest {
  /** The request's "signature_name" (may be ""), undefined when absent. */
  signatureName: string | undefined;
  /** One serialized tf.Example per entry of "examples", the serialized context prepended when there is one. */
  examples: Uint8Array[];
  /** The serialized "context" Example, when the request has one. */
  context: Uint8Array | undefined;
}

type FeatureKind = 'bytes' | 'float' | 'int64';

interface FeatureBuilder {
  kind: FeatureKind | undefined;
  values: (Uint8Array | number | bigint)[];
}

const INT64_MAX = (1n << 63n) - 1n;

function addValueToFeature(reader: JsonTensorReader, v: JsonValue, name: string, feature: FeatureBuilder): void {
  const unexpectedType = (): never => {
    throw invalidArgument(`Feature: ${name} has element with unexpected JSON type: ${jsonTypeName(v)}`);
  };
  const want = (kind: FeatureKind): void => {
    if (feature.kind !== undefined && feature.kind !== kind) {
      throw invalidArgument(`Unexpected element type in feature: ${name} expecting type: ${feature.kind}`);
    }
    feature.kind = kind;
  };
  if (v === null || isJsonArray(v)) unexpectedType();
  if (typeof v === 'boolean') {
    want('int64');
    feature.values.push(v ? 1n : 0n);
  } else if (typeof v === 'string') {
    want('bytes');
    feature.values.push(encodeString(v));
  } else if (isJsonNumber(v)) {
    const { value, int } = numberParts(v);
    if (int === undefined) {
      want('float');
      feature.values.push(value);
    } else {
      want('int64');
      if (int > INT64_MAX) throw invalidArgument(`Feature: ${name} has uint64_t element. Only int64_t is supported.`);
      feature.values.push(int);
    }
  } else if (isJsonObject(v)) {
    if (!isBase64Object(v)) unexpectedType();
    want('bytes');
    feature.values.push(reader.decodeBase64Object(v));
  } else {
    unexpectedType();
  }
}

function featureMessage(f: FeatureBuilder): Record<string, unknown> {
  switch (f.kind) {
    case 'bytes':
      return { bytesList: { value: f.values } };
    case 'float':
      return { floatList: { value: f.values } };
    case 'int64':
      return { int64List: { value: (f.values as bigint[]).map((b) => bigIntToInt64(b)) } };
    default:
      return {};
  }
}

/** MakeExampleFromJsonObject, serialized. */
function exampleBytes(reader: JsonTensorReader, v: JsonValue): Uint8Array {
  if (!isJsonObject(v)) throw invalidArgument(`Example must be JSON object but got JSON ${jsonTypeName(v)}`);
  const feature = Object.create(null) as Record<string, Record<string, unknown>>; // a feature may be named "__proto__"
  for (const [name, content] of objectEntries(v)) {
    const builder: FeatureBuilder = { kind: undefined, values: [] };
    if (isJsonArray(content)) {
      for (let i = 0; i < content.length; i++) addValueToFeature(reader, jsonArrayItem(content, i), name, builder);
    } else {
      addValueToFeature(reader, content, name, builder);
    }
    feature[name] = featureMessage(builder);
  }
  return protoType('tensorflow.Example').encode({ features: { feature } }).finish();
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** Parses a classify or regress request body; throws TF Serving's INVALID_ARGUMENT errors. */
export function parseExamplesRequest(body: string | Uint8Array, options: CodecOptions = {}): ParsedExamplesRequest {
  const doc = parseJsonExact(body, options.maxJsonDepth);
  if (!isJsonObject(doc)) throw invalidArgument(`JSON Value: ${jsonValueToString(doc)} Is not object`);
  const formatError = (message: string): never => {
    throw invalidArgument(`JSON Value: ${jsonValueToString(doc)} ${message}`);
  };
  const reader = new JsonTensorReader(true);

  let signatureName: string | undefined;
  const sig = objectGet(doc, 'signature_name');
  if (sig !== undefined) {
    if (typeof sig !== 'string') {
      throw invalidArgument(
        `JSON Value: ${jsonValueToString(doc)} not formatted correctly. 'signature_name' key must be a string value.`,
      );
    }
    signatureName = sig;
  }

  const contextValue = objectGet(doc, 'context');
  const context = contextValue === undefined ? undefined : exampleBytes(reader, contextValue);

  const list = objectGet(doc, 'examples');
  if (list === undefined) formatError("When method is classify, key 'examples' is expected and was not found");
  if (!isJsonArray(list)) return formatError("Expecting 'examples' value to be an list/array");
  if (list.length === 0) formatError("'examples' value is an empty array");

  const examples: Uint8Array[] = [];
  for (let i = 0; i < list.length; i++) {
    const bytes = exampleBytes(reader, jsonArrayItem(list, i));
    examples.push(context === undefined ? bytes : concat(context, bytes));
  }
  return { signatureName, examples, context };
}
