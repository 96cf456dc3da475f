/**
 * TF Serving's gRPC API (`--port`, default 8500) on @grpc/grpc-js, with the
 * vendored .proto files (proto/): PredictionService.Predict, Classify,
 * Regress, MultiInference and GetModelMetadata, ModelService.GetModelStatus. Every call goes through the
 * same ServingCore as REST (handles, registry on-demand loading, batching in
 * the engine) and the same inference entry points (server/inference/), and is
 * counted in the same request metrics. Errors are StatusErrors sent with the
 * gRPC code of the same name and TF Serving's text.
 *
 * Messages larger than `maxReceiveMessageBytes` are refused by grpc-js with
 * RESOURCE_EXHAUSTED before they are decoded. Every listening address uses
 * the same credentials (plaintext, or TLS from --ssl_config_file; see
 * credentials.ts); the standard health service is added on request
 * (health.ts).
 *
 * With request logging, a sampled Predict, Classify, Regress or
 * MultiInference call that succeeds is logged with its request and response
 * messages (server/request_log/).
 */
import fs from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import type { ServableHandle } from '../../serving/servable_handle.js';
import type { ModelConfig } from '../../serving/model_config.js';
import type { ModelSpec, ServingCore } from '../../serving/serving_core.js';
import { failedPrecondition, invalidArgument, StatusError, unimplemented, toStatusError, type StatusCode } from '../../runtime/errors.js';
import { signatureDefToProto } from '../../runtime/proto/convert.js';
import { bigIntToInt64, int64ToNumber, type Int64Like } from '../../runtime/proto/long.js';
import type { TensorProtoMsg } from '../../runtime/proto/messages.js';
import { tensorFromProto, tensorToProto } from '../../runtime/proto/tensor_proto.js';
import type { Tensor } from '../../runtime/tensor.js';
import { runClassify } from '../inference/classify.js';
import { CLASSIFY_METHOD, DEFAULT_SIGNATURE, REGRESS_METHOD, runPredict } from '../inference/predict.js';
import { runRegress } from '../inference/regress.js';
import type { RestApi, ServerMetrics } from '../metrics.js';
import { modelConfigsFromMessage, type ModelServerConfigMsg } from '../config_file.js';
import { modelVersionStates } from '../rest/status_json.js';
import { checkModelReady, modelhostVersion, runInfer, v2ModelMetadata } from '../v2/handler.js';
import { GrpcHealthService } from './health.js';
import { serviceDefinition, servingProtoRoot, UndecodableRequest } from './protos.js';
import { modelInferResponse, parsedInferFrom, type ModelInferRequestMsg } from './v2_messages.js';
import type { RequestLog } from '../request_log/request_logger.js';
import { routingKeyOf } from '../../registry/rollout/routing.js';

export interface GrpcServerOptions {
  core: ServingCore;
  metrics?: ServerMetrics;
  /** Largest request message in bytes; larger ones get RESOURCE_EXHAUSTED. */
  maxReceiveMessageBytes: number;
  /** gRPC channel arguments (--grpc_channel_arguments), passed to grpc-js; they win over maxReceiveMessageBytes. */
  channelArguments?: Readonly<Record<string, string | number>>;
  /** Serves this model list from now on (HandleReloadConfigRequest); resolves once it is applied. */
  reloadConfig(models: ModelConfig[]): Promise<void>;
  /** Request logging (models with a logging_config); unset: nothing is logged. */
  requestLog?: RequestLog;
  /** Credentials of every listening address (default plaintext); see credentials.ts. */
  credentials?: grpc.ServerCredentials;
  /** Serve grpc.health.v1.Health (TF Serving's --enable_grpc_healthcheck_service). */
  healthCheck?: boolean;
  /** Open health Watch streams at most (default DEFAULT_HEALTH_MAX_WATCHES). */
  healthMaxWatches?: number;
  /** Predict answers numeric and string outputs in tensor_content (TF Serving's --enable_serialization_as_tensor_content). */
  serializeAsTensorContent?: boolean;
}

interface ModelSpecMsg {
  name?: string;
  version?: { value?: Int64Like } | null;
  versionLabel?: string;
  signatureName?: string;
}

interface PredictRequestMsg {
  modelSpec?: ModelSpecMsg | null;
  inputs?: Record<string, TensorProtoMsg>;
  outputFilter?: string[];
}

/** ClassificationRequest / RegressionRequest: an Input of tf.Examples (input.proto). */
interface ExamplesRequestMsg {
  modelSpec?: ModelSpecMsg | null;
  input?: {
    exampleList?: { examples?: object[] } | null;
    exampleListWithContext?: { examples?: object[]; context?: object | null } | null;
  } | null;
}

interface MultiInferenceRequestMsg {
  tasks?: { modelSpec?: ModelSpecMsg | null; methodName?: string }[];
  input?: ExamplesRequestMsg['input'];
}

interface ReloadConfigRequestMsg {
  config?: ModelServerConfigMsg | null;
}

interface GetModelMetadataRequestMsg {
  modelSpec?: ModelSpecMsg | null;
  metadataField?: string[];
}

interface GetModelStatusRequestMsg {
  modelSpec?: ModelSpecMsg | null;
}

/** What one call reports to the metrics. */
interface V2ModelRequestMsg {
  name?: string;
  version?: string;
}

interface CallRecord {
  api: RestApi;
  model: string;
  version?: number;
  /** What the request asked for, once its model_spec parsed. */
  spec?: ModelSpec;
  /** x-routing-key (or x-request-id) metadata: keeps a client on one side of a rollout. */
  routingKey?: string;
}

/** An inference call's spec, which a running rollout may route when it names no version or label. */
function routed(spec: ModelSpec, rec: CallRecord): ModelSpec {
  return { ...spec, routing: { key: rec.routingKey } };
}

function specFromProto(m: ModelSpecMsg | null | undefined): ModelSpec {
  if (!m) throw invalidArgument('Missing ModelSpec');
  const spec: ModelSpec = { name: m.name ?? '' };
  if (m.version) spec.version = int64ToNumber(m.version.value ?? 0, 'model_spec.version');
  else if (m.versionLabel) spec.label = m.versionLabel;
  return spec;
}

function disposeAll(tensors: Record<string, Tensor>): void {
  for (const t of Object.values(tensors)) t.dispose();
}

export class GrpcApi {
  private readonly root = servingProtoRoot();
  readonly server: grpc.Server;
  private readonly health?: GrpcHealthService;
  private readonly credentials: grpc.ServerCredentials;

  constructor(private readonly options: GrpcServerOptions) {
    this.credentials = options.credentials ?? grpc.ServerCredentials.createInsecure();
    this.server = new grpc.Server({
      'grpc.max_receive_message_length': options.maxReceiveMessageBytes,
      'grpc.max_send_message_length': -1,
      ...options.channelArguments,
    });
    this.server.addService(serviceDefinition(this.root, 'tensorflow.serving.PredictionService'), {
      Predict: this.unary('predict', (req: PredictRequestMsg, rec, signal) => this.predict(req, rec, signal)),
      GetModelMetadata: this.unary('metadata', (req: GetModelMetadataRequestMsg, rec) => this.metadata(req, rec)),
      Classify: this.unary('classify', (req: ExamplesRequestMsg, rec, signal) => this.classify(req, rec, signal)),
      Regress: this.unary('regress', (req: ExamplesRequestMsg, rec, signal) => this.regress(req, rec, signal)),
      MultiInference: this.unary('multi_inference', (req: MultiInferenceRequestMsg, rec, signal) => this.multiInference(req, rec, signal)),
    });
    this.server.addService(serviceDefinition(this.root, 'tensorflow.serving.ModelService'), {
      GetModelStatus: this.unary('status', (req: GetModelStatusRequestMsg, rec) => this.status(req, rec)),
      HandleReloadConfigRequest: this.unary('reload_config', (req: ReloadConfigRequestMsg) => this.reloadConfig(req)),
    });
    // The Open Inference Protocol (KServe v2) over gRPC, on the same port, through server/v2/'s infer code.
    this.server.addService(serviceDefinition(this.root, 'inference.GRPCInferenceService'), {
      ServerLive: this.unary('status', () => ({ live: true })),
      // Listening means the initial model loads are done (serve waits for them before listening).
      ServerReady: this.unary('status', () => ({ ready: true })),
      ServerMetadata: this.unary('metadata', () => ({ name: 'modelhost', version: modelhostVersion(), extensions: [] })),
      ModelReady: this.unary('status', (req: V2ModelRequestMsg, rec) => this.v2ModelReady(req, rec)),
      ModelMetadata: this.unary('metadata', (req: V2ModelRequestMsg, rec) => {
        const spec = this.v2Spec(req.name, req.version, rec);
        return v2ModelMetadata(this.options.core, spec, rec);
      }),
      ModelInfer: this.unary('predict', (req: ModelInferRequestMsg, rec, signal) => this.v2Infer(req, rec, signal)),
    });
    if (options.healthCheck) {
      this.health = new GrpcHealthService(options.healthMaxWatches);
      this.health.addTo(this.server);
    }
  }

  /** Listens on `host:port` (0: a free port); resolves with the bound port. */
  listen(host: string, port: number): Promise<number> {
    const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    return new Promise((resolve, reject) => {
      this.server.bindAsync(address, this.credentials, (err, bound) => (err ? reject(err) : resolve(bound)));
    });
  }

  /** Listens on a UNIX socket too (TF Serving's --grpc_socket_path). A stale socket is replaced; any other file there is refused. */
  async listenUnix(socketPath: string): Promise<void> {
    const existing = fs.lstatSync(socketPath, { throwIfNoEntry: false });
    if (existing && !existing.isSocket()) {
      throw invalidArgument(`--grpc_socket_path ${socketPath} exists and is not a socket; refusing to replace it.`);
    }
    if (existing) fs.unlinkSync(socketPath);
    await new Promise<void>((resolve, reject) => {
      this.server.bindAsync(`unix:${socketPath}`, this.credentials, (err) => (err ? reject(err) : resolve()));
    });
  }

  /** Health NOT_SERVING; stops accepting; waits for calls in flight up to `timeoutMs`, then cuts them. */
  close(timeoutMs: number): Promise<void> {
    this.health?.shutdown();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, timeoutMs);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /**
   * A unary handler: runs `fn` (retrying once after an on-demand load, as
   * REST does), answers, and records the call in the metrics. A cancelled
   * call (client gone, deadline passed) aborts its run.
   */
  private unary<Req, Res>(
    api: RestApi,
    fn: (req: Req, rec: CallRecord, signal: AbortSignal) => Promise<Res> | Res,
  ): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => {
      const started = performance.now();
      const lifetime = new AbortController();
      call.on('cancelled', () => lifetime.abort(new StatusError('CANCELLED', 'The client cancelled the call')));
      const rec: CallRecord = { api, model: '', routingKey: routingKeyOf((h) => call.metadata.get(h).map(String)) };
      const request: unknown = call.request;
      const run = () => {
        if (request instanceof UndecodableRequest) throw invalidArgument(request.message);
        return fn(call.request, rec, lifetime.signal);
      };
      void this.withOnDemand(rec, lifetime.signal, run).then(
        (res) => {
          callback(null, res);
          this.observe(rec, 'OK', started);
        },
        (e: unknown) => {
          const err = toStatusError(e);
          callback({ code: grpc.status[err.code], details: err.message });
          this.observe(rec, err.code, started);
        },
      );
    };
  }

  private async withOnDemand<T>(rec: CallRecord, signal: AbortSignal, run: () => Promise<T> | T): Promise<T> {
    try {
      return await run();
    } catch (e) {
      const err = toStatusError(e);
      const spec = rec.spec;
      if (err.code !== 'NOT_FOUND' || !spec || rec.api === 'status' || (spec.version === undefined && spec.label === undefined)) throw err;
      let release: (() => void) | undefined;
      try {
        release = await this.options.core.loadOnDemand(spec, signal);
      } catch (loadError) {
        const le = toStatusError(loadError);
        if (le.code === 'UNAVAILABLE') throw le;
      }
      if (!release) throw err;
      try {
        return await run();
      } finally {
        release();
      }
    }
  }

  private observe(rec: CallRecord, code: StatusCode, started: number): void {
    const metrics = this.options.metrics;
    if (!metrics) return;
    const model = this.options.core.hasModel(rec.model) ? rec.model : '';
    metrics.observeRequest(model, rec.version === undefined ? '' : String(rec.version), rec.api, code, (performance.now() - started) / 1000, 'grpc');
  }

  private async withHandle<T>(spec: ModelSpec, rec: CallRecord, fn: (h: ServableHandle) => Promise<T> | T): Promise<T> {
    const handle = this.options.core.getHandle(spec);
    rec.version = handle.version;
    try {
      return await fn(handle);
    } finally {
      handle.release();
    }
  }

  private responseSpec(name: string, version: number, signatureName: string) {
    return { name, version: { value: bigIntToInt64(version) }, signatureName };
  }

  /**
   * predict_util.cc RunPredict: outputs as typed *_val fields (AsProtoField,
   * TF Serving's default), or with serializeAsTensorContent as raw bytes in
   * tensor_content (AsProtoTensorContent).
   */
  private predict(req: PredictRequestMsg, rec: CallRecord, signal: AbortSignal) {
    const spec = specFromProto(req.modelSpec);
    Object.assign(rec, { model: spec.name, spec });
    const sink = this.options.requestLog?.sample(spec.name);
    return this.withHandle(routed(spec, rec), rec, async ({ name, version, model }) => {
      const signatureName = req.modelSpec?.signatureName || DEFAULT_SIGNATURE;
      if (!model.signatures[signatureName]) throw failedPrecondition(`Serving signature key "${signatureName}" not found.`);
      const inputs: Record<string, Tensor> = {};
      let outputs: Record<string, Tensor>;
      try {
        for (const [alias, proto] of Object.entries(req.inputs ?? {})) inputs[alias] = tensorFromProto(proto);
        outputs = await runPredict(model, signatureName, inputs, req.outputFilter ?? [], { signal });
      } finally {
        disposeAll(inputs);
      }
      try {
        const out: Record<string, TensorProtoMsg> = {};
        const tensorContent = this.options.serializeAsTensorContent ?? false;
        for (const [alias, t] of Object.entries(outputs)) out[alias] = tensorToProto(t, { tensorContent });
        const response = { modelSpec: this.responseSpec(name, version, signatureName), outputs: out };
        sink?.log('predict', req, response, { name, version, signatureName });
        return response;
      } finally {
        disposeAll(outputs);
      }
    });
  }

  /**
   * The request's tf.Examples, serialized. With a context, each is the
   * context's bytes followed by the example's (a protobuf merge), as TF
   * Serving's InputToSerializedExampleTensor does.
   */
  private serializedExamples(req: ExamplesRequestMsg): Uint8Array[] {
    const example = this.root.lookupType('tensorflow.Example');
    const input = req.input;
    if (input?.exampleListWithContext) {
      const list = input.exampleListWithContext;
      const context = list.context ? example.encode(list.context).finish() : new Uint8Array(0);
      return (list.examples ?? []).map((e) => Buffer.concat([context, example.encode(e).finish()]));
    }
    return (input?.exampleList?.examples ?? []).map((e) => example.encode(e).finish());
  }

  /** classification_service.cc: the examples through runClassify, as REST. */
  private classify(req: ExamplesRequestMsg, rec: CallRecord, signal: AbortSignal) {
    const spec = specFromProto(req.modelSpec);
    Object.assign(rec, { model: spec.name, spec });
    const sink = this.options.requestLog?.sample(spec.name);
    return this.withHandle(routed(spec, rec), rec, async ({ name, version, model }) => {
      const signatureName = req.modelSpec?.signatureName || DEFAULT_SIGNATURE;
      const result = await runClassify(model, signatureName, this.serializedExamples(req), { signal });
      const response = {
        modelSpec: this.responseSpec(name, version, signatureName),
        result: { classifications: result.map((classes) => ({ classes })) },
      };
      sink?.log('classify', req, response, { name, version, signatureName });
      return response;
    });
  }

  /** regression_service.cc: the examples through runRegress, as REST. */
  private regress(req: ExamplesRequestMsg, rec: CallRecord, signal: AbortSignal) {
    const spec = specFromProto(req.modelSpec);
    Object.assign(rec, { model: spec.name, spec });
    const sink = this.options.requestLog?.sample(spec.name);
    return this.withHandle(routed(spec, rec), rec, async ({ name, version, model }) => {
      const signatureName = req.modelSpec?.signatureName || DEFAULT_SIGNATURE;
      const values = await runRegress(model, signatureName, this.serializedExamples(req), { signal });
      const response = { modelSpec: this.responseSpec(name, version, signatureName), result: { regressions: values.map((value) => ({ value })) } };
      sink?.log('regress', req, response, { name, version, signatureName });
      return response;
    });
  }

  /**
   * multi_inference.cc: every task on the same model and the same examples,
   * each signature at most once, classify or regress. The handle is the
   * first task's model spec's (multi_inference_helper.cc). Each task runs as
   * its own classify/regress (TF Serving runs them in one session run; the
   * results are the same).
   */
  private multiInference(req: MultiInferenceRequestMsg, rec: CallRecord, signal: AbortSignal) {
    const tasks = req.tasks ?? [];
    const spec = specFromProto(tasks[0]?.modelSpec ?? {});
    Object.assign(rec, { model: spec.name, spec });
    const sink = this.options.requestLog?.sample(spec.name);
    return this.withHandle(routed(spec, rec), rec, async ({ version, model }) => {
      const seen = new Set<string>();
      for (const task of tasks) {
        const name = task.modelSpec?.name ?? '';
        if (!name) throw invalidArgument('Found ModelSpec with an empty model name.');
        if (name !== spec.name) throw invalidArgument('All ModelSpecs in a MultiInferenceRequest must access the same model name.');
        const signatureName = task.modelSpec?.signatureName || DEFAULT_SIGNATURE;
        if (seen.has(signatureName)) throw invalidArgument(`Duplicate evaluation of signature: ${signatureName}`);
        seen.add(signatureName);
        if (!model.signatures[signatureName]) throw invalidArgument(`Requested signature not found in model graph: ${signatureName}`);
        if (task.methodName !== CLASSIFY_METHOD && task.methodName !== REGRESS_METHOD) {
          throw unimplemented(`Unsupported signature method_name: ${task.methodName ?? ''}`);
        }
      }
      const examples = this.serializedExamples(req);
      const results = [];
      for (const task of tasks) {
        const signatureName = task.modelSpec?.signatureName ?? '';
        const modelSpec = this.responseSpec(spec.name, version, signatureName);
        if (task.methodName === CLASSIFY_METHOD) {
          const result = await runClassify(model, signatureName, examples, { signal });
          results.push({ modelSpec, classificationResult: { classifications: result.map((classes) => ({ classes })) } });
        } else {
          const values = await runRegress(model, signatureName, examples, { signal });
          results.push({ modelSpec, regressionResult: { regressions: values.map((value) => ({ value })) } });
        }
      }
      const response = { results };
      sink?.log('multiInference', req, response, { name: spec.name, version });
      return response;
    });
  }

  /**
   * model_service_impl.cc: only a model_config_list; the new list replaces
   * the served one (relative base paths against the working directory), and
   * the answer comes once it is applied. A failure is the call's status.
   */
  private async reloadConfig(req: ReloadConfigRequestMsg) {
    const config = req.config ?? {};
    if (!config.modelConfigList) {
      throw invalidArgument('ServerModelConfig type not supported by HandleReloadConfigRequest. Only ModelConfigList is currently supported');
    }
    let models: ModelConfig[];
    try {
      models = modelConfigsFromMessage(config, process.cwd(), 'HandleReloadConfigRequest');
    } catch (e) {
      throw e instanceof StatusError ? e : invalidArgument((e as Error).message);
    }
    await this.options.reloadConfig(models);
    return { status: { errorCode: 0, errorMessage: '' } };
  }

  /** get_model_metadata_impl.cc: only "signature_def", as a SignatureDefMap packed in an Any. */
  /** A v2 request's model and version ("" or absent: the latest), recorded for metrics and on-demand loading. */
  private v2Spec(name: string | undefined, version: string | undefined, rec: CallRecord): ModelSpec {
    const spec: ModelSpec = { name: name ?? '' };
    if (version) {
      if (!/^\d+$/.test(version)) throw invalidArgument(`Model version "${version}" is not a version number`);
      spec.version = Number(version);
    }
    Object.assign(rec, { model: spec.name, spec });
    return spec;
  }

  private v2ModelReady(req: V2ModelRequestMsg, rec: CallRecord) {
    try {
      checkModelReady(this.options.core, this.v2Spec(req.name, req.version, rec));
      return { ready: true };
    } catch (e) {
      // Known but not loaded: not ready (an unknown model stays NOT_FOUND).
      if (toStatusError(e).code === 'FAILED_PRECONDITION') return { ready: false };
      throw e;
    }
  }

  private async v2Infer(req: ModelInferRequestMsg, rec: CallRecord, signal: AbortSignal) {
    const spec = this.v2Spec(req.modelName, req.modelVersion, rec);
    const request = parsedInferFrom(req);
    const result = await runInfer(this.options.core, routed(spec, rec), request, rec, { signal });
    try {
      return modelInferResponse(result.model, result.version, request, result.outputs);
    } finally {
      disposeAll(result.outputs);
    }
  }

  private metadata(req: GetModelMetadataRequestMsg, rec: CallRecord) {
    const spec = specFromProto(req.modelSpec);
    Object.assign(rec, { model: spec.name, spec });
    const fields = req.metadataField ?? [];
    if (fields.length === 0) throw invalidArgument('GetModelMetadataRequest must specify at least one metadata_field');
    for (const f of fields) if (f !== 'signature_def') throw invalidArgument(`Metadata field ${f} is not supported`);
    const mapType = this.root.lookupType('tensorflow.serving.SignatureDefMap');
    return this.withHandle(spec, rec, ({ name, version, model }) => {
      const signatureDef = Object.fromEntries(Object.entries(model.signatureDefs).map(([k, v]) => [k, signatureDefToProto(v)]));
      const value = mapType.encode(mapType.fromObject({ signatureDef })).finish();
      return {
        modelSpec: this.responseSpec(name, version, ''),
        // google/protobuf/any.proto comes bundled with protobufjs, with its field names as written (type_url).
        metadata: { signature_def: { type_url: 'type.googleapis.com/tensorflow.serving.SignatureDefMap', value } },
      };
    });
  }

  /** get_model_status_impl.cc: a version, or every version the monitor knows (labels are ignored). */
  private status(req: GetModelStatusRequestMsg, rec: CallRecord) {
    const spec = specFromProto(req.modelSpec);
    rec.model = spec.name;
    const states = modelVersionStates(this.options.core.monitor, spec.name, spec.version);
    const stateEnum = this.root.lookupEnum('tensorflow.serving.ModelVersionStatus.State');
    const codeEnum = this.root.lookupEnum('tensorflow.error.Code');
    return {
      modelVersionStatus: states.map((s) => ({
        version: bigIntToInt64(s.version),
        state: stateEnum.values[s.state] ?? 0,
        status: { errorCode: codeEnum.values[s.status.code] ?? 2, errorMessage: s.status.message },
      })),
    };
  }
}
