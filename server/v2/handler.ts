/**
 * The Open Inference Protocol (KServe v2 / Triton) over REST, answered from
 * the /v1 handler (server/rest/handler.ts) once it has read the body: the
 * same body limit (--max_request_bytes), JSON depth limit (--max_json_depth),
 * deadline, cancellation, on-demand loading and metrics. Inference runs the
 * signature through runPredict, as /v1 predict does, so both give the same
 * numbers for the same input.
 *
 * Infer request: {id?, parameters?: {signature_name?, binary_data_output?},
 * inputs: [{name, shape, datatype, data | parameters.binary_data_size}],
 * outputs?: [{name, parameters?: {binary_data?}}]}. Inputs are the
 * signature's input aliases; the signature is parameters.signature_name
 * (default serving_default). Errors are {"error": "..."} with 400 for a bad
 * request, 404 for an unknown model or version.
 *
 * Binary tensor extension: with an Inference-Header-Content-Length header the
 * body is that many bytes of JSON followed by the binary inputs in order; an
 * answer with any binary output is sent the same way (application/octet-stream).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ModelSpec, ServingCore } from '../../serving/serving_core.js';
import { dtypeShortName } from '../../runtime/dtypes.js';
import { exceedsJsonDepth } from '../../runtime/codec/json_parse.js';
import type { RunOptions, TensorSpec } from '../../runtime/engine.js';
import { failedPrecondition, invalidArgument, notFound } from '../../runtime/errors.js';
import { packageRoot } from '../../runtime/package_root.js';
import type { Tensor } from '../../runtime/tensor.js';
import { DEFAULT_SIGNATURE, runPredict } from '../inference/predict.js';
import type { RestApi } from '../metrics.js';
import { parseV2Route } from './route.js';
import { binaryData, jsonData, tensorFromV2, v2Datatype, v2Shape, type V2Input } from './tensors.js';

/** What a v2 request fills in of the REST handler's outcome. */
export interface V2Outcome {
  body: string | Uint8Array;
  api: RestApi;
  model: string;
  version?: number;
  spec?: ModelSpec;
  /** Content-Type of the answer (default application/json). */
  contentType?: string;
  headers?: Record<string, string>;
}

export interface V2Options extends RunOptions {
  maxJsonDepth: number;
  /** The Inference-Header-Content-Length request header, when sent. */
  headerLength?: string;
  /** The request's routing key (server/rest/handler.ts): keeps a client on one side of a rollout. */
  routingKey?: string;
}

/** Extensions this server implements, as GET /v2 lists them. */
export const V2_EXTENSIONS = ['binary_tensor_data'];

let serverVersion: string | undefined;
export function modelhostVersion(): string {
  if (serverVersion === undefined) {
    const pkg = JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version?: string };
    serverVersion = pkg.version ?? '';
  }
  return serverVersion;
}

/**
 * Answers one v2 request into `outcome`; throws StatusError (the caller
 * writes {"error": ...}). Health answers 200 with {"live": true},
 * {"ready": true} or {"name", "ready": true}; a model or version that is not
 * ready answers 400 (the protocol's "4xx means false"), an unknown model 404.
 */
/** The api and model a v2 request is counted under in metrics (before or without an answer). */
export function v2RequestLabels(method: string, urlPath: string): Pick<V2Outcome, 'api' | 'model' | 'spec'> {
  try {
    const route = parseV2Route(method, urlPath);
    if (!('spec' in route)) return { api: route.kind === 'server_metadata' ? 'metadata' : 'status', model: '' };
    const api: RestApi = route.kind === 'infer' ? 'predict' : route.kind === 'model_ready' ? 'status' : 'metadata';
    return { api, model: route.spec.name, spec: route.spec };
  } catch {
    return { api: 'unknown', model: '' };
  }
}

export async function processV2(
  core: ServingCore,
  method: string,
  urlPath: string,
  body: Uint8Array,
  outcome: V2Outcome,
  options: V2Options,
): Promise<void> {
  const route = parseV2Route(method, urlPath);
  switch (route.kind) {
    case 'live':
      outcome.api = 'status';
      outcome.body = '{"live":true}';
      return;
    case 'server_ready':
      // Listening means the initial model loads are done (serve waits for them before listening).
      outcome.api = 'status';
      outcome.body = '{"ready":true}';
      return;
    case 'server_metadata':
      outcome.api = 'metadata';
      outcome.body = JSON.stringify({ name: 'modelhost', version: modelhostVersion(), extensions: V2_EXTENSIONS });
      return;
    case 'model_ready':
      outcome.api = 'status';
      outcome.model = route.spec.name;
      outcome.spec = route.spec;
      outcome.body = modelReady(core, route.spec);
      return;
    case 'model_metadata':
      outcome.api = 'metadata';
      outcome.model = route.spec.name;
      outcome.spec = route.spec;
      outcome.body = modelMetadata(core, route.spec, outcome);
      return;
    case 'infer':
      outcome.api = 'predict';
      outcome.model = route.spec.name;
      outcome.spec = route.spec;
      await infer(core, { ...route.spec, routing: { key: options.routingKey } }, body, outcome, options);
      return;
  }
}

function availableVersions(core: ServingCore, name: string): number[] {
  return core.monitor
    .getVersionStates(name)
    .filter((s) => s.state === 'AVAILABLE')
    .map((s) => s.version);
}

/** Throws NOT_FOUND for an unknown model, FAILED_PRECONDITION (the spec's "not ready") when no (or not that) version is loaded. */
export function checkModelReady(core: ServingCore, spec: ModelSpec): void {
  if (!core.hasModel(spec.name) && core.monitor.getVersionStates(spec.name).length === 0) {
    throw notFound(`Model "${spec.name}" is not served here`);
  }
  const ready = availableVersions(core, spec.name);
  const ok = spec.version === undefined ? ready.length > 0 : ready.includes(spec.version);
  if (!ok) {
    const which = spec.version === undefined ? `No version of model "${spec.name}" is` : `Version ${spec.version} of model "${spec.name}" is not`;
    throw failedPrecondition(`${which} ready`);
  }
}

function modelReady(core: ServingCore, spec: ModelSpec): string {
  checkModelReady(core, spec);
  return JSON.stringify({ name: spec.name, ready: true });
}

function tensorMetadata(specs: Readonly<Record<string, TensorSpec>>) {
  return Object.keys(specs)
    .sort()
    .map((name) => {
      const t = specs[name];
      return { name, datatype: v2Datatype(t.dtype) ?? dtypeShortName(t.dtype).toUpperCase(), shape: v2Shape(t.shape.dims, t.shape.unknownRank) };
    });
}

export interface V2ModelMetadata {
  name: string;
  versions: string[];
  platform: string;
  inputs: { name: string; datatype: string; shape: number[] }[];
  outputs: { name: string; datatype: string; shape: number[] }[];
}

function modelMetadata(core: ServingCore, spec: ModelSpec, outcome: V2Outcome): string {
  return JSON.stringify(v2ModelMetadata(core, spec, outcome));
}

/** The default signature's inputs and outputs (serving_default, else the first by name). */
export function v2ModelMetadata(core: ServingCore, spec: ModelSpec, seen: { version?: number }): V2ModelMetadata {
  const handle = core.getHandle(spec);
  try {
    seen.version = handle.version;
    const signatures = handle.model.signatures;
    const name = DEFAULT_SIGNATURE in signatures ? DEFAULT_SIGNATURE : Object.keys(signatures).sort()[0];
    const sig = name === undefined ? undefined : signatures[name];
    const versions = spec.version === undefined ? availableVersions(core, handle.name) : [handle.version];
    return {
      name: handle.name,
      versions: versions.map(String),
      platform: 'tensorflow_savedmodel',
      inputs: sig ? tensorMetadata(sig.inputs) : [],
      outputs: sig ? tensorMetadata(sig.outputs) : [],
    };
  } finally {
    handle.release();
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** An infer request as parsed from JSON (REST) or a ModelInferRequest (gRPC). */
export interface ParsedInfer {
  id?: string;
  signatureName: string;
  binaryOutput: boolean;
  inputs: V2Input[];
  outputs?: { name: string; binary: boolean }[];
}

/** Splits off and parses the JSON header; slices binary inputs from what follows it. */
function parseInfer(body: Uint8Array, options: V2Options): ParsedInfer {
  let json = body;
  let rest: Uint8Array | undefined;
  if (options.headerLength !== undefined) {
    const n = Number(options.headerLength);
    if (!/^\d+$/.test(options.headerLength) || n > body.length) {
      throw invalidArgument(`Inference-Header-Content-Length must be a whole number of bytes within the body's ${body.length}, got "${options.headerLength}"`);
    }
    json = body.subarray(0, n);
    rest = body.subarray(n);
  }
  if (exceedsJsonDepth(json, options.maxJsonDepth)) {
    throw invalidArgument(`The request nests arrays and objects more than ${options.maxJsonDepth} levels deep (the limit set by --max_json_depth)`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(json.buffer, json.byteOffset, json.byteLength).toString('utf8'));
  } catch (e) {
    throw invalidArgument(`The inference request is not valid JSON: ${(e as Error).message}`);
  }
  if (!isObject(doc)) throw invalidArgument('The inference request must be a JSON object');
  if (doc.id !== undefined && typeof doc.id !== 'string') throw invalidArgument('"id" must be a string');
  const params = doc.parameters ?? {};
  if (!isObject(params)) throw invalidArgument('"parameters" must be an object');
  if (params.signature_name !== undefined && typeof params.signature_name !== 'string') throw invalidArgument('"parameters.signature_name" must be a string');
  if (!Array.isArray(doc.inputs) || doc.inputs.length === 0) throw invalidArgument('"inputs" must be a non-empty array of tensors');
  let at = 0;
  const seen = new Set<string>();
  const inputs = doc.inputs.map((raw, i): V2Input => {
    if (!isObject(raw) || typeof raw.name !== 'string') throw invalidArgument(`inputs[${i}] must be an object with a string "name"`);
    const name = raw.name;
    if (seen.has(name)) throw invalidArgument(`Input '${name}' is given more than once`);
    seen.add(name);
    if (typeof raw.datatype !== 'string') throw invalidArgument(`Input '${name}': "datatype" must be a string`);
    const p = raw.parameters ?? {};
    if (!isObject(p)) throw invalidArgument(`Input '${name}': "parameters" must be an object`);
    const input: V2Input = { name, shape: raw.shape as number[], datatype: raw.datatype };
    if (p.binary_data_size !== undefined) {
      const size = p.binary_data_size;
      if (!Number.isSafeInteger(size) || (size as number) < 0) throw invalidArgument(`Input '${name}': binary_data_size must be a non-negative integer`);
      if (raw.data !== undefined) throw invalidArgument(`Input '${name}' has both "data" and binary_data_size`);
      if (!rest || at + (size as number) > rest.length) {
        throw invalidArgument(`Input '${name}': binary_data_size ${size} goes past the binary data after the JSON header (Inference-Header-Content-Length)`);
      }
      input.binary = rest.subarray(at, at + (size as number));
      at += size as number;
    } else {
      if (raw.data === undefined) throw invalidArgument(`Input '${name}' has no "data"`);
      input.data = raw.data;
    }
    return input;
  });
  if (rest && at !== rest.length) throw invalidArgument(`${rest.length - at} bytes after the JSON header belong to no input's binary_data_size`);
  let outputs: ParsedInfer['outputs'];
  if (doc.outputs !== undefined) {
    if (!Array.isArray(doc.outputs)) throw invalidArgument('"outputs" must be an array');
    outputs = doc.outputs.map((raw, i) => {
      if (!isObject(raw) || typeof raw.name !== 'string') throw invalidArgument(`outputs[${i}] must be an object with a string "name"`);
      const p = raw.parameters ?? {};
      if (!isObject(p)) throw invalidArgument(`Output '${raw.name}': "parameters" must be an object`);
      // An output's own binary_data wins over the request's binary_data_output.
      return { name: raw.name, binary: p.binary_data === undefined ? params.binary_data_output === true : p.binary_data === true };
    });
  }
  return {
    id: doc.id as string | undefined,
    signatureName: (params.signature_name as string | undefined) || DEFAULT_SIGNATURE,
    binaryOutput: params.binary_data_output === true,
    inputs,
    outputs,
  };
}

function disposeAll(tensors: Record<string, Tensor>): void {
  for (const t of Object.values(tensors)) t.dispose();
}

async function infer(core: ServingCore, spec: ModelSpec, body: Uint8Array, outcome: V2Outcome, options: V2Options): Promise<void> {
  const request = parseInfer(body, options);
  const result = await runInfer(core, spec, request, outcome, options);
  try {
    writeInferResponse(result.model, result.version, request, result.outputs, outcome);
  } finally {
    disposeAll(result.outputs);
  }
}

/**
 * Runs a parsed infer request on the version `spec` names (inputs by alias of
 * the signature `request.signatureName`); the caller disposes the outputs.
 */
export async function runInfer(
  core: ServingCore,
  spec: ModelSpec,
  request: ParsedInfer,
  seen: { version?: number },
  options: RunOptions,
): Promise<{ model: string; version: number; outputs: Record<string, Tensor> }> {
  const handle = core.getHandle(spec);
  try {
    seen.version = handle.version;
    const { model } = handle;
    const name = request.signatureName;
    const signature = model.signatures[name];
    if (!signature) throw invalidArgument(`Serving signature name: "${name}" not found in signature def`);
    const expected = Object.keys(signature.inputs).sort();
    const inputs: Record<string, Tensor> = {};
    const given = new Set(request.inputs.map((i) => i.name));
    const missing = expected.filter((k) => !given.has(k));
    if (missing.length > 0) {
      throw invalidArgument(
        `Missing input${missing.length > 1 ? 's' : ''} ${missing.map((k) => `'${k}'`).join(', ')} of signature "${name}" ` +
          `(it takes {${expected.join(', ')}}; the request gave {${[...given].join(', ')}})`,
      );
    }
    try {
      for (const input of request.inputs) {
        const tensorSpec = signature.inputs[input.name];
        if (!tensorSpec) throw invalidArgument(`Input '${input.name}' is not an input of signature "${name}", which takes {${expected.join(', ')}}`);
        inputs[input.name] = tensorFromV2(input, tensorSpec.dtype);
      }
      const outputs = await runPredict(model, name, inputs, request.outputs?.map((o) => o.name) ?? [], options);
      return { model: handle.name, version: handle.version, outputs };
    } finally {
      disposeAll(inputs);
    }
  } finally {
    handle.release();
  }
}

function writeInferResponse(modelName: string, version: number, request: ParsedInfer, outputs: Record<string, Tensor>, outcome: V2Outcome): void {
  const names = request.outputs ? request.outputs.map((o) => o.name) : Object.keys(outputs).sort();
  const binaryNames = new Set(request.outputs ? request.outputs.filter((o) => o.binary).map((o) => o.name) : request.binaryOutput ? names : []);
  const parts: string[] = [];
  const blobs: Buffer[] = [];
  for (const n of names) {
    const t = outputs[n];
    const datatype = v2Datatype(t.dtype);
    if (!datatype) throw invalidArgument(`Output '${n}' is of type ${dtypeShortName(t.dtype)}, which the Open Inference Protocol cannot carry`);
    const head = `{"name":${JSON.stringify(n)},"datatype":"${datatype}","shape":[${t.shape.join(',')}]`;
    if (binaryNames.has(n)) {
      const blob = binaryData(t);
      blobs.push(blob);
      parts.push(`${head},"parameters":{"binary_data_size":${blob.length}}}`);
    } else {
      parts.push(`${head},"data":${jsonData(t)}}`);
    }
  }
  const id = request.id !== undefined ? `,"id":${JSON.stringify(request.id)}` : '';
  const json = `{"model_name":${JSON.stringify(modelName)},"model_version":"${version}"${id},"outputs":[${parts.join(',')}]}`;
  if (blobs.length === 0) {
    outcome.body = json;
    return;
  }
  const header = Buffer.from(json, 'utf8');
  outcome.body = Buffer.concat([header, ...blobs]);
  outcome.contentType = 'application/octet-stream';
  outcome.headers = { 'Inference-Header-Content-Length': String(header.length) };
}
