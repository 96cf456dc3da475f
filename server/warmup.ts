/**
 * Model warm-up, TF Serving's format (servables/tensorflow/saved_model_warmup.cc):
 * `<version>/assets.extra/tf_serving_warmup_requests` is a TFRecord file of
 * serialized tensorflow.serving.PredictionLog protos. Each predict, classify,
 * regress or multi-inference request in it is run once against the freshly
 * loaded model before the version takes traffic; any failure fails the load.
 * At most 1000 records. No file: nothing to do.
 *
 * The whole replay has a bound (`timeoutMs`, --model_warmup_timeout_in_ms,
 * default 60 s; 0: none): past it the run in progress is cancelled (stopped
 * between kernels in its worker) and the load fails with DEADLINE_EXCEEDED,
 * so a warm-up request that loops holds up neither startup nor uploads.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { WarmupContext } from '../serving/version_manager.js';
import type { RunOptions, Servable } from '../runtime/engine.js';
import { invalidArgument, StatusError, toStatusError, unimplemented } from '../runtime/errors.js';
import type { TensorProtoMsg } from '../runtime/proto/messages.js';
import { protoType } from '../runtime/proto/schema.js';
import { tensorFromProto } from '../runtime/proto/tensor_proto.js';
import type { Tensor } from '../runtime/tensor.js';
import { runClassify } from './inference/classify.js';
import { CLASSIFY_METHOD, REGRESS_METHOD, runPredict } from './inference/predict.js';
import { runRegress } from './inference/regress.js';
import { readTfRecords } from './tfrecord.js';

export const WARMUP_FILE = path.join('assets.extra', 'tf_serving_warmup_requests');
export const MAX_WARMUP_RECORDS = 1000;
/** Default bound of one version's whole warm-up (--model_warmup_timeout_in_ms). */
export const DEFAULT_WARMUP_TIMEOUT_MS = 60_000;

export interface WarmupOptions {
  /** Bound of the whole replay in ms (default DEFAULT_WARMUP_TIMEOUT_MS; 0: none). */
  timeoutMs?: number;
  /** Times each record is replayed (TF Serving's --num_request_iterations_for_warmup; default 1, values < 1 mean 1). */
  iterations?: number;
}

interface ModelSpecMsg {
  signatureName?: string;
}
interface InputMsg {
  exampleList?: { examples?: object[] } | null;
  exampleListWithContext?: { examples?: object[]; context?: object | null } | null;
}
interface ExampleRequestMsg {
  modelSpec?: ModelSpecMsg | null;
  input?: InputMsg | null;
}
interface PredictRequestMsg {
  modelSpec?: ModelSpecMsg | null;
  inputs?: Record<string, TensorProtoMsg>;
  outputFilter?: string[];
}
interface PredictionLogMsg {
  classifyLog?: { request?: ExampleRequestMsg | null } | null;
  regressLog?: { request?: ExampleRequestMsg | null } | null;
  predictLog?: { request?: PredictRequestMsg | null } | null;
  predictStreamedLog?: { request?: PredictRequestMsg[] } | null;
  multiInferenceLog?: { request?: { tasks?: { modelSpec?: ModelSpecMsg | null; methodName?: string }[]; input?: InputMsg | null } | null } | null;
  sessionRunLog?: object | null;
}

/** The serialized tf.Examples of an Input; with a context, the context is merged into each (as TF Serving does). */
export function serializedExamples(input: InputMsg | null | undefined): Uint8Array[] {
  const exampleType = protoType('tensorflow.Example');
  const encode = (m: object) => exampleType.encode(exampleType.fromObject(m)).finish();
  if (input?.exampleList) return (input.exampleList.examples ?? []).map(encode);
  const withContext = input?.exampleListWithContext;
  if (!withContext) return [];
  const context = withContext.context ? encode(withContext.context) : new Uint8Array(0);
  return (withContext.examples ?? []).map((e) => Buffer.concat([context, encode(e)]));
}

async function predict(model: Servable, request: PredictRequestMsg, options: RunOptions): Promise<void> {
  const inputs: Record<string, Tensor> = {};
  try {
    for (const [alias, proto] of Object.entries(request.inputs ?? {})) inputs[alias] = tensorFromProto(proto);
    const outputs = await runPredict(model, request.modelSpec?.signatureName ?? '', inputs, request.outputFilter ?? [], options);
    for (const t of Object.values(outputs)) t.dispose();
  } finally {
    for (const t of Object.values(inputs)) t.dispose();
  }
}

async function runRecord(model: Servable, log: PredictionLogMsg, options: RunOptions): Promise<void> {
  if (log.predictLog) {
    await predict(model, log.predictLog.request ?? {}, options);
  } else if (log.predictStreamedLog) {
    for (const request of log.predictStreamedLog.request ?? []) await predict(model, request, options);
  } else if (log.classifyLog) {
    const r = log.classifyLog.request ?? {};
    await runClassify(model, r.modelSpec?.signatureName ?? '', serializedExamples(r.input), options);
  } else if (log.regressLog) {
    const r = log.regressLog.request ?? {};
    await runRegress(model, r.modelSpec?.signatureName ?? '', serializedExamples(r.input), options);
  } else if (log.multiInferenceLog) {
    const r = log.multiInferenceLog.request ?? {};
    const examples = serializedExamples(r.input);
    for (const task of r.tasks ?? []) {
      const signature = task.modelSpec?.signatureName ?? '';
      if (task.methodName === CLASSIFY_METHOD) await runClassify(model, signature, examples, options);
      else if (task.methodName === REGRESS_METHOD) await runRegress(model, signature, examples, options);
      else throw unimplemented(`Unsupported signature method_name: ${task.methodName}`);
    }
  } else if (log.sessionRunLog) {
    throw unimplemented('Unsupported log_type for warmup: session_run_log');
  }
}

/** Replays the version's warm-up file, if it has one; throws (failing the load) on the first error or past the bound. */
export async function runWarmup(model: Servable, context: WarmupContext, options: WarmupOptions = {}): Promise<void> {
  const file = path.join(context.dir, WARMUP_FILE);
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  const logType = protoType('tensorflow.serving.PredictionLog');
  let count = 0;
  const timeoutMs = options.timeoutMs ?? DEFAULT_WARMUP_TIMEOUT_MS;
  const bound = new AbortController();
  const timer =
    timeoutMs > 0
      ? setTimeout(() => {
          const what = `Warm-up of version ${context.version} of model ${context.name} did not finish within ${timeoutMs} ms (at record ${count} of ${file})`;
          bound.abort(new StatusError('DEADLINE_EXCEEDED', `${what}; fix the warm-up requests or raise --model_warmup_timeout_in_ms`));
        }, timeoutMs)
      : undefined;
  try {
    for (const record of readTfRecords(bytes, file)) {
      if (++count > MAX_WARMUP_RECORDS) {
        throw invalidArgument(`Number of warmup records exceeds the maximum (${MAX_WARMUP_RECORDS}) at ${file}`);
      }
      let log: PredictionLogMsg;
      try {
        log = logType.decode(record) as PredictionLogMsg;
      } catch (e) {
        throw invalidArgument(`Failed to parse warmup record ${count} from ${file}: ${(e as Error).message}`);
      }
      for (let i = 0; i < Math.max(1, options.iterations ?? 1); i++) {
        if (bound.signal.aborted) throw bound.signal.reason;
        await runRecord(model, log, { signal: bound.signal });
      }
    }
  } catch (e) {
    if (e instanceof StatusError && e.code === 'DATA_LOSS') {
      throw new StatusError('DATA_LOSS', `${e.message}. Please verify your warmup data is in TFRecord format.`);
    }
    // A run cut by the bound may end with the worker's own error: report the bound.
    if (bound.signal.aborted) throw toStatusError(bound.signal.reason);
    throw e;
  } finally {
    clearTimeout(timer);
  }
}
