/**
 * Predict, classify and regress over REST, in TF Serving's order
 * (http_rest_api_handler.cc): parse the body (JSON errors first), resolve the
 * model spec to a handle (NOT_FOUND, unknown label), look up the signature,
 * convert the inputs, run, format. The handle is held for the whole run and
 * released afterwards, so an in-flight request finishes on its version.
 */
import type { ServableHandle } from '../../registry/servable_handle.js';
import type { ModelSpec, ServingCore } from '../../registry/serving_core.js';
import {
  formatClassificationResult,
  formatPredictResponse,
  formatRegressionResult,
  parseExamplesRequest,
  readPredictRequest,
  type CodecOptions,
} from '../../runtime/codec/index.js';
import type { RunOptions } from '../../runtime/engine.js';
import { invalidArgument } from '../../runtime/errors.js';
import type { Tensor } from '../../runtime/tensor.js';
import { runClassify } from '../inference/classify.js';
import { DEFAULT_SIGNATURE, runPredict } from '../inference/predict.js';
import { runRegress } from '../inference/regress.js';

/** Receives the version that answered, for metrics. */
export interface AnsweringVersion {
  version?: number;
}

async function withHandle<T>(core: ServingCore, spec: ModelSpec, seen: AnsweringVersion, fn: (h: ServableHandle) => Promise<T>): Promise<T> {
  const handle = core.getHandle(spec);
  seen.version = handle.version;
  try {
    return await fn(handle);
  } finally {
    handle.release();
  }
}

function disposeAll(tensors: Record<string, Tensor>): void {
  for (const t of Object.values(tensors)) t.dispose();
}

export function predictJson(
  core: ServingCore,
  spec: ModelSpec,
  body: string | Uint8Array,
  seen: AnsweringVersion,
  options: CodecOptions & RunOptions = {},
): Promise<string> {
  const request = readPredictRequest(body, options);
  return withHandle(core, spec, seen, async ({ model }) => {
    const name = request.signatureName || DEFAULT_SIGNATURE;
    const signature = model.signatures[name];
    if (!signature) throw invalidArgument(`Serving signature name: "${name}" not found in signature def`);
    const { format, inputs } = request.decodeInputs(signature.inputs);
    let outputs: Record<string, Tensor>;
    try {
      outputs = await runPredict(model, name, inputs, [], options);
    } finally {
      disposeAll(inputs);
    }
    try {
      return formatPredictResponse(outputs, format);
    } finally {
      disposeAll(outputs);
    }
  });
}

export function classifyJson(
  core: ServingCore,
  spec: ModelSpec,
  body: string | Uint8Array,
  seen: AnsweringVersion,
  options: CodecOptions & RunOptions = {},
): Promise<string> {
  const request = parseExamplesRequest(body, options);
  return withHandle(core, spec, seen, async ({ model }) =>
    formatClassificationResult(await runClassify(model, request.signatureName ?? '', request.examples, options)),
  );
}

export function regressJson(
  core: ServingCore,
  spec: ModelSpec,
  body: string | Uint8Array,
  seen: AnsweringVersion,
  options: CodecOptions & RunOptions = {},
): Promise<string> {
  const request = parseExamplesRequest(body, options);
  return withHandle(core, spec, seen, async ({ model }) =>
    formatRegressionResult(await runRegress(model, request.signatureName ?? '', request.examples, options)),
  );
}
