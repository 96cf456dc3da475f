/**
 * Predict, classify and regress over REST, in TF Serving's order
 * (http_rest_api_handler.cc): parse the body (JSON errors first), resolve the
 * model spec to a handle (NOT_FOUND, unknown label), look up the signature,
 * convert the inputs, run, format. The handle is held for the whole run and
 * released afterwards, so an in-flight request finishes on its version.
 *
 * With request logging (`requestLog`), a sampled request that succeeds is
 * logged as the PredictRequest/PredictResponse (ClassificationRequest...)
 * TF Serving's REST handler would build from it (../request_log/messages.ts).
 */
import type { ServableHandle } from '../../serving/servable_handle.js';
import type { ModelSpec, ServingCore } from '../../serving/serving_core.js';
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
import { classificationResultMsg, examplesInput, modelSpecMsg, regressionResultMsg, tensorProtos } from '../request_log/messages.js';
import type { RequestLog, RequestLogSink } from '../request_log/request_logger.js';

/** What a REST inference call is given besides its body. */
export type RestCallOptions = CodecOptions & RunOptions & { requestLog?: RequestLog };

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
  options: RestCallOptions = {},
): Promise<string> {
  const request = readPredictRequest(body, options);
  const sink = options.requestLog?.sample(spec.name);
  return withHandle(core, spec, seen, async ({ version, model }) => {
    const name = request.signatureName || DEFAULT_SIGNATURE;
    const signature = model.signatures[name];
    if (!signature) throw invalidArgument(`Serving signature name: "${name}" not found in signature def`);
    const { format, inputs } = request.decodeInputs(signature.inputs);
    let outputs: Record<string, Tensor>;
    let loggedRequest: object | undefined;
    try {
      loggedRequest = sink?.capture(() => ({ modelSpec: modelSpecMsg(spec.name, spec, request.signatureName ?? ''), inputs: tensorProtos(inputs) }));
      outputs = await runPredict(model, name, inputs, [], options);
    } finally {
      disposeAll(inputs);
    }
    try {
      const text = formatPredictResponse(outputs, format);
      const loggedResponse = loggedRequest && sink?.capture(() => ({ modelSpec: modelSpecMsg(spec.name, { version }, name), outputs: tensorProtos(outputs) }));
      if (sink && loggedRequest && loggedResponse) sink.log('predict', loggedRequest, loggedResponse, { name: spec.name, version, signatureName: name });
      return text;
    } finally {
      disposeAll(outputs);
    }
  });
}

/** Logs a sampled :classify or :regress call: the examples in, the result message out. */
function logExamplesCall(
  sink: RequestLogSink,
  method: 'classify' | 'regress',
  spec: ModelSpec,
  request: ReturnType<typeof parseExamplesRequest>,
  version: number,
  result: () => object,
): void {
  const signatureName = request.signatureName || DEFAULT_SIGNATURE;
  const input = sink.capture(() => examplesInput(request.examples, request.context));
  if (!input) return;
  sink.log(
    method,
    { modelSpec: modelSpecMsg(spec.name, spec, request.signatureName ?? ''), input },
    { modelSpec: modelSpecMsg(spec.name, { version }, signatureName), result: result() },
    { name: spec.name, version, signatureName },
  );
}

export function classifyJson(
  core: ServingCore,
  spec: ModelSpec,
  body: string | Uint8Array,
  seen: AnsweringVersion,
  options: RestCallOptions = {},
): Promise<string> {
  const request = parseExamplesRequest(body, options);
  const sink = options.requestLog?.sample(spec.name);
  return withHandle(core, spec, seen, async ({ version, model }) => {
    const result = await runClassify(model, request.signatureName ?? '', request.examples, options);
    const text = formatClassificationResult(result);
    if (sink) logExamplesCall(sink, 'classify', spec, request, version, () => classificationResultMsg(result));
    return text;
  });
}

export function regressJson(
  core: ServingCore,
  spec: ModelSpec,
  body: string | Uint8Array,
  seen: AnsweringVersion,
  options: RestCallOptions = {},
): Promise<string> {
  const request = parseExamplesRequest(body, options);
  const sink = options.requestLog?.sample(spec.name);
  return withHandle(core, spec, seen, async ({ version, model }) => {
    const values = await runRegress(model, request.signatureName ?? '', request.examples, options);
    const text = formatRegressionResult(values);
    if (sink) logExamplesCall(sink, 'regress', spec, request, version, () => regressionResultMsg(values));
    return text;
  });
}
