/**
 * TF Serving's predict request body → input tensors (FillPredictRequestFromJson).
 *
 *   const req = readPredictRequest(body);            // parse + "signature_name"
 *   const sig = model.signatures[req.signatureName || 'serving_default'];
 *   const { format, inputs } = req.decodeInputs(sig.inputs);
 *
 * or in one call: parsePredictRequest(body, (name) => inputSpecsOf(name)).
 *
 * Row format, {"instances": [...]}: a list of objects keyed by input name
 * (all with exactly the signature's inputs), or of bare values when the
 * signature has one input; every instance must have the same shape, and the
 * instances are stacked along a new batch dimension. Columnar format,
 * {"inputs": ...}: an object keyed by input name (extra keys ignored), or a
 * bare value for a single input; shapes are taken as written, no batching.
 * Errors are INVALID_ARGUMENT (UNIMPLEMENTED for dtypes TF Serving cannot
 * read from JSON) with TF Serving's texts.
 *
 * Bodies are read with JSON.parse when that is sure to give the same result;
 * otherwise, and for every error, with the exact parser (json_parse.ts).
 */
import type { DType } from '../dtypes.js';
import { StatusError, invalidArgument } from '../errors.js';
import { Tensor, allocHost, type HostData } from '../tensor.js';
import { JsonTensorReader, denseShape, shapeToString, sizeOfShape } from './dense_tensor.js';
import { DEFAULT_MAX_JSON_DEPTH, exceedsJsonDepth, parseJsonExact, parseJsonFast } from './json_parse.js';
import {
  JsonNumberArray,
  NEED_EXACT,
  isBase64Object,
  isJsonArray,
  jsonArrayItem,
  isJsonObject,
  jsonValueToString,
  objectEntries,
  objectGet,
  type JsonObjectMap,
  type JsonPlainObject,
  type JsonValue,
} from './json_value.js';

/** What the codec needs to know of a signature input (runtime/engine.ts TensorSpec fits). */
export interface InputSpec {
  dtype: DType;
}

export type PredictFormat = 'row' | 'columnar';

/** Bounds on what a request body may make the codec do. */
export interface CodecOptions {
  /** Deepest nesting of arrays and objects (default DEFAULT_MAX_JSON_DEPTH, 64). */
  maxJsonDepth?: number;
}

export interface DecodedPredictInputs {
  /** 'row' for "instances" (answer with "predictions"), 'columnar' for "inputs" (answer with "outputs"). */
  format: PredictFormat;
  /** One tensor per signature input, keyed by input name. */
  inputs: Record<string, Tensor>;
}

export interface ParsedPredictRequest extends DecodedPredictInputs {
  /** The request's "signature_name" (may be ""), undefined when absent. */
  signatureName: string | undefined;
}

/** "INVALID_ARGUMENT: <message>", as TF's Status::ToString prints a nested error. */
function statusText(e: StatusError): string {
  return `${e.code}: ${e.message}`;
}

function requireObject(doc: JsonValue): JsonValue {
  if (!isJsonObject(doc)) throw invalidArgument(`JSON Value: ${jsonValueToString(doc)} Is not object`);
  return doc;
}

function readSignatureName(doc: JsonValue): string | undefined {
  if (!isJsonObject(doc)) return undefined;
  const name = objectGet(doc, 'signature_name');
  if (name === undefined) return undefined;
  if (typeof name !== 'string') {
    throw invalidArgument(
      `JSON Value: ${jsonValueToString(doc)} not formatted correctly. 'signature_name' key must be a string value.`,
    );
  }
  return name;
}

/**
 * Bodies up to this size are first read with JSON.parse (fast, but it holds
 * the body as a string and every number as a JS value: ~5x the body); larger
 * ones go to the exact parser, whose long number lists are typed arrays.
 */
const FAST_PARSE_MAX_BYTES = 1 << 20;

/** A parsed predict body whose inputs are not converted yet (the signature is needed for that). */
export class PredictRequestDocument {
  /** The request's "signature_name" (may be ""), undefined when absent (the default signature). */
  readonly signatureName: string | undefined;
  /** The body as text, kept only for the fast form. */
  private readonly text: string = '';
  private fastDoc: JsonValue | undefined;
  private exactDoc: JsonValue | undefined;
  private readonly maxDepth: number;

  /** `body` as received: raw bytes, or text. */
  constructor(
    private readonly body: string | Uint8Array,
    options: CodecOptions = {},
  ) {
    this.maxDepth = options.maxJsonDepth ?? DEFAULT_MAX_JSON_DEPTH;
    // Small bodies first try JSON.parse; too deep ones go to the exact parser, which refuses them with the limit's error.
    if (body.length <= FAST_PARSE_MAX_BYTES) {
      const text =
        typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
      const tooDeep = exceedsJsonDepth(typeof body === 'string' ? Buffer.from(body, 'utf8') : body, this.maxDepth);
      const fast = tooDeep ? undefined : parseJsonFast(text);
      if (fast !== undefined && isJsonObject(fast)) {
        const name = objectGet(fast, 'signature_name');
        if (name === undefined || typeof name === 'string') {
          this.text = text;
          this.fastDoc = fast;
          this.signatureName = name;
          return;
        }
      }
    }
    // Errors (and bodies JSON.parse cannot be trusted with) go through the exact parser.
    const doc = requireObject(parseJsonExact(body, this.maxDepth));
    this.exactDoc = doc;
    this.signatureName = readSignatureName(doc);
  }

  /** Converts "instances" or "inputs" to tensors for a signature with these inputs. */
  decodeInputs(inputs: Readonly<Record<string, InputSpec>>): DecodedPredictInputs {
    if (Object.keys(inputs).length === 0) {
      const name = this.signatureName ? this.signatureName : 'DEFAULT';
      throw invalidArgument(`Failed to get input map for signature: ${name}`);
    }
    if (this.fastDoc !== undefined) {
      try {
        return new PredictDecoder(new JsonTensorReader(false, this.text), this.fastDoc, inputs).decode();
      } catch (e) {
        if (e !== NEED_EXACT && !(e instanceof StatusError)) throw e;
      }
    }
    this.exactDoc ??= parseJsonExact(this.body, this.maxDepth);
    return new PredictDecoder(new JsonTensorReader(true), this.exactDoc, inputs).decode();
  }
}

/** Parses the body and reads "signature_name"; throws TF Serving's errors for bad JSON. */
export function readPredictRequest(body: string | Uint8Array, options: CodecOptions = {}): PredictRequestDocument {
  return new PredictRequestDocument(body, options);
}

/**
 * Parses a predict body. `inputSpecs` is asked for the inputs of the named
 * signature (undefined: none given) once "signature_name" is known; it may
 * throw (unknown signature) and its error is passed on.
 */
export function parsePredictRequest(
  body: string | Uint8Array,
  inputSpecs: (signatureName: string | undefined) => Readonly<Record<string, InputSpec>>,
): ParsedPredictRequest {
  const doc = readPredictRequest(body);
  const decoded = doc.decodeInputs(inputSpecs(doc.signatureName));
  return { signatureName: doc.signatureName, ...decoded };
}

interface RowState {
  dtype: DType;
  shape: number[];
  size: number;
  data: HostData;
  count: number;
}

/** One conversion pass over one form of the document. */
class PredictDecoder {
  private readonly names: string[];

  constructor(
    private readonly reader: JsonTensorReader,
    private readonly doc: JsonValue,
    private readonly specs: Readonly<Record<string, InputSpec>>,
  ) {
    this.names = Object.keys(specs);
  }

  private formatError(message: string): never {
    this.reader.fail(() => invalidArgument(`JSON Value: ${jsonValueToString(this.doc)} ${message}`));
  }

  decode(): DecodedPredictInputs {
    const doc = this.doc;
    if (!isJsonObject(doc)) return this.formatError('Is not object');
    const instances = objectGet(doc, 'instances');
    const inputs = objectGet(doc, 'inputs');
    if (instances !== undefined) {
      if (inputs !== undefined) {
        this.formatError("Not formatted correctly expecting only one of 'inputs' or 'instances' keys to exist ");
      }
      if (!isJsonArray(instances)) this.formatError("Expecting 'instances' to be an list/array");
      if (instances.length === 0) this.formatError("No values in 'instances' array");
      return { format: 'row', inputs: this.fromInstances(instances) };
    }
    if (inputs !== undefined) return { format: 'columnar', inputs: this.fromInputs(inputs) };
    return this.reader.fail(() => invalidArgument("Missing 'inputs' or 'instances' key"));
  }

  private fromInstances(instances: JsonValue[] | JsonNumberArray): Record<string, Tensor> {
    if (instances instanceof JsonNumberArray && this.names.length === 1) {
      // Plain numbers for one input: read at once; on an error the loop below words it per element.
      const name = this.names[0];
      try {
        return Object.fromEntries([[name, this.readWhole(instances, this.specs[name].dtype)]]);
      } catch (e) {
        if (!(e instanceof StatusError)) throw e;
      }
    }
    if (!isJsonObject(jsonArrayItem(instances, 0)) && this.names.length > 1) {
      this.reader.fail(() =>
        invalidArgument(
          'instances is a plain list, but expecting list of objects as multiple input tensors required as per ' +
            'tensorinfo_map',
        ),
      );
    }
    const isElementObject = (v: JsonValue): v is JsonObjectMap | JsonPlainObject => isJsonObject(v) && !isBase64Object(v);
    const elementsAreObjects = isElementObject(jsonArrayItem(instances, 0));
    const sortedNames = [...this.names].sort();
    const states = new Map<string, RowState>();

    for (let item = 0; item < instances.length; item++) {
      const elem = jsonArrayItem(instances, item);
      if (elementsAreObjects) {
        if (!isElementObject(elem)) {
          this.reader.fail(() => invalidArgument(`Expecting object but got list at item ${item} of input list`));
        }
        const keys = new Set<string>();
        for (const [name, value] of objectEntries(elem)) {
          keys.add(name);
          this.wrapped(
            () => this.addInstanceItem(value, name, instances.length, states),
            (e) => `Failed to process element: ${item} key: ${name} of 'instances' list. Error: ${statusText(e)}`,
          );
        }
        if (keys.size !== sortedNames.length || sortedNames.some((n) => !keys.has(n))) {
          this.reader.fail(() =>
            invalidArgument(
              `Failed to process element: ${item} of 'instances' list. JSON object: ${jsonValueToString(elem)}` +
                ` keys must be equal to: ${sortedNames.join(',')}`,
            ),
          );
        }
      } else {
        if (isElementObject(elem)) {
          this.reader.fail(() => invalidArgument(`Expecting value/list but got object at item ${item} of input list`));
        }
        const name = sortedNames[0];
        this.wrapped(
          () => this.addInstanceItem(elem, name, instances.length, states),
          (e) => `Failed to process element: ${item} of 'instances' list. Error: ${statusText(e)}`,
        );
      }
    }

    return Object.fromEntries(
      [...states].map(([name, s]) => [name, Tensor.fromHost(s.dtype, [instances.length, ...s.shape], s.data)]),
    );
  }

  /** Runs `f`; a StatusError from it becomes INVALID_ARGUMENT with the wrapping text. */
  private wrapped(f: () => void, wrap: (e: StatusError) => string): void {
    try {
      f();
    } catch (e) {
      if (e instanceof StatusError) throw invalidArgument(wrap(e));
      throw e;
    }
  }

  /** AddInstanceItem: one instance's value for one input, checked against the first instance's shape. */
  private addInstanceItem(item: JsonValue, name: string, batch: number, states: Map<string, RowState>): void {
    const spec = Object.hasOwn(this.specs, name) ? this.specs[name] : undefined;
    if (spec === undefined) {
      this.reader.fail(() => invalidArgument(`JSON object: does not have named input: ${name}`));
    }
    const shape = denseShape(item);
    const size = sizeOfShape(shape);
    const state = states.get(name);
    if (state === undefined) {
      const data = allocHost(spec.dtype, batch * size);
      this.reader.fill(item, shape, spec.dtype, data, 0);
      states.set(name, { dtype: spec.dtype, shape, size, data, count: 1 });
      return;
    }
    const sameShape = size === state.size && shapeToString(shape) === shapeToString(state.shape);
    if (sameShape && state.count < batch) {
      this.reader.fill(item, shape, spec.dtype, state.data, state.count * size);
      state.count++;
      return;
    }
    // Mismatch: conversion errors in this item come first, then the size/shape error.
    this.reader.read(item, shape, spec.dtype);
    if (size !== state.size) {
      this.reader.fail(() => invalidArgument(`Expecting tensor size: ${state.size} but got: ${size}`));
    }
    this.reader.fail(() =>
      invalidArgument(`Expecting shape ${shapeToString(state.shape)} but got: ${shapeToString(shape)}`),
    );
  }

  private fromInputs(value: JsonValue): Record<string, Tensor> {
    // Object.fromEntries: an input may be named "__proto__".
    const out: [string, Tensor][] = [];
    if (!isJsonObject(value) || isBase64Object(value)) {
      if (this.names.length > 1) {
        this.reader.fail(() =>
          invalidArgument(
            'inputs is a plain value/list, but expecting an object as multiple input tensors required as per tensorinfo_map',
          ),
        );
      }
      const name = this.names[0];
      out.push([name, this.readWhole(value, this.specs[name].dtype)]);
      return Object.fromEntries(out);
    }
    for (const name of this.names) {
      const item = objectGet(value, name);
      if (item === undefined) {
        this.reader.fail(() => invalidArgument(`Missing named input: ${name} in 'inputs' object.`));
      }
      out.push([name, this.readWhole(item, this.specs[name].dtype)]);
    }
    return Object.fromEntries(out);
  }

  private readWhole(value: JsonValue, dtype: DType): Tensor {
    const shape = denseShape(value);
    return Tensor.fromHost(dtype, shape, this.reader.read(value, shape, dtype));
  }
}
