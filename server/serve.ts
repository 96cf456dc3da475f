/**
 * Starts a complete model server in this process: reads the config files
 * (failing fast on a bad one), loads the first versions of every model,
 * listens, then keeps watching base paths and the model list. `stop()` is the
 * graceful shutdown: stop accepting, finish in-flight requests, unload.
 *
 *   const server = await startServer({ models: { kind: 'single', name: 'm', basePath: '/models/m' }, restApiPort: 0 });
 *   // ... server.url is http://127.0.0.1:<port>
 *   await server.stop();
 */
import type { AddressInfo } from 'node:net';
import { isDeepStrictEqual } from 'node:util';
import { consoleLogger, type Logger } from '../registry/log.js';
import type { ModelConfig } from '../registry/model_config.js';
import { recoverRegistryAt } from '../registry/recovery.js';
import { Registry } from '../registry/registry.js';
import { ServingCore } from '../registry/serving_core.js';
import { Store, type SynchronousMode } from '../registry/store.js';
import { UploadIntake } from '../registry/upload.js';
import type { ServingEngine } from '../runtime/engine.js';
import { createServingEngine, type ExecutionOptions } from '../runtime/execution/serving_engine.js';
import { toStatusError } from '../runtime/errors.js';
import { DEFAULT_RUNTIME_LIMITS, setRuntimeLimits, type RuntimeLimits } from '../runtime/limits.js';
import { setImageLimits, type ImageLimits } from '../runtime/kernels/image_limits.js';
import { readMonitoringConfig } from './config_file.js';
import { GrpcApi } from './grpc/server.js';
import { createHttpServer, type FallbackHandler, type ModelhostHttpServer } from './http_server.js';
import { ADMIN_TOKEN_ENV, TrustedProxies } from './management/auth.js';
import { managementApp } from './management/router.js';
import { ServerMetrics } from './metrics.js';
import { modelListPollSeconds, readModelList, type ModelListSource } from './model_list.js';
import { DEFAULT_MAX_REQUEST_BYTES, type RestLimits } from './rest/handler.js';
import { runWarmup } from './warmup.js';
import { setSignatureMethodNameCheck } from './inference/examples.js';

export interface ServeOptions {
  models: ModelListSource;
  /** Default 8501; 0 picks a free port. */
  restApiPort?: number;
  /** Default 0.0.0.0. */
  restApiHost?: string;
  /** TF Serving's gRPC API (--port) on this port (0 picks a free one), same host as REST; unset: no gRPC. */
  grpcPort?: number;
  /** Also serve the gRPC API on this UNIX socket (TF Serving's --grpc_socket_path); a stale socket there is replaced, any other file refused. */
  grpcSocketPath?: string;
  /** gRPC channel arguments for the gRPC server (TF Serving's --grpc_channel_arguments), e.g. grpc.max_receive_message_length. */
  grpcChannelArguments?: Readonly<Record<string, string | number>>;
  /** Seconds between base-path polls (default 1; fractions allowed). */
  fileSystemPollWaitSeconds?: number;
  monitoringConfigFile?: string;
  /** MetaGraph tags to load (default ["serve"]). */
  tags?: readonly string[];
  /** Replay assets.extra/tf_serving_warmup_requests before a version takes traffic (default true). */
  enableModelWarmup?: boolean;
  /** Times each warm-up record is replayed (TF Serving's --num_request_iterations_for_warmup; default 1; < 1 means 1). */
  warmupIterations?: number;
  /** Bound of one version's warm-up in ms (default 60000; 0: none); past it the load fails. */
  modelWarmupTimeoutMs?: number;
  /** TF Serving's --allow_version_labels_for_unavailable_models (default false; see ServingCoreOptions; the registry's labels are not checked). */
  allowVersionLabelsForUnavailableModels?: boolean;
  /** Retries of a failed version load (TF Serving's --max_num_load_retries; default 0 here, 5 in TF Serving). */
  maxNumLoadRetries?: number;
  /** Wait between load retries in µs (TF Serving's --load_retry_interval_micros; default 60000000; < 0: none). */
  loadRetryIntervalMicros?: number;
  /** TF Serving's --rest_api_enable_cors_support (default false): CORS headers on every /v1 answer. */
  restApiEnableCorsSupport?: boolean;
  /** TF Serving's --enable_signature_method_name_check (default false), process-wide: :classify/:regress need a classify/regress method_name. */
  enableSignatureMethodNameCheck?: boolean;
  /** Deadline of every /v1 request in ms (TF Serving's --rest_api_timeout_in_ms; default 30000, 0: none). */
  restApiTimeoutMs?: number;
  /** Runs the models; default: createServingEngine(execution). An engine passed here is not closed by stop(). */
  engine?: ServingEngine;
  /** Worker threads and dynamic batching for the default engine. */
  execution?: ExecutionOptions;
  /** Runtime limits (largest tensor...) for every thread that runs models; default: limits.ts's defaults. */
  limits?: Partial<RuntimeLimits>;
  /** Handles every path that is not /v1/... (default: the management API when the registry is on, else a JSON 404). */
  fallback?: FallbackHandler;
  /** Turns on the registry (SQLite truth, pins, labels, uploads, /api/v1); off: plain TF Serving behaviour. */
  registry?: RegistryServeOptions;
  /** /v1 body size and JSON depth limits (defaults: 64 MiB, 64 levels). */
  restLimits?: Partial<RestLimits>;
  /** Image decode limits, process-wide (defaults: DEFAULT_MAX_IMAGE_PIXELS, DEFAULT_MAX_GIF_FRAMES). */
  imageLimits?: Partial<ImageLimits>;
  log?: Logger;
}

export interface RegistryServeOptions {
  /** The SQLite file (created with its folder when missing), or ':memory:'. */
  path: string;
  /** A model created by an upload gets the base path {modelsDir}/{name}. */
  modelsDir: string;
  /** Default 4. */
  maxLoadedVersions?: number;
  /** Requests per model waiting for an on-demand load at once (default 100; more get 503). */
  onDemandMaxWaitingRequests?: number;
  /** Longest wait for an on-demand load (default 10000 ms; then 503). */
  onDemandMaxWaitMs?: number;
  /** Default 1 GiB. */
  maxUploadBytes?: number;
  /** Files and folders an uploaded archive may hold (default 10000). */
  maxArchiveEntries?: number;
  /** Bytes an uploaded archive may expand to per archive byte (default 1100). */
  maxArchiveCompressionRatio?: number;
  /** Bearer token for mutating /api/v1 calls; unset: mutations only from loopback clients connecting directly. */
  adminToken?: string;
  /** IPs/CIDRs of reverse proxies whose X-Forwarded-For is believed (default none; invalid entries refuse to start). */
  trustedProxies?: readonly string[];
  /** Every change needs the token, loopback included; starting without a token is refused. */
  requireAdminToken?: boolean;
  /** SQLite's synchronous mode: 'full' (default) makes every commit survive a power loss; 'normal' is faster. */
  synchronous?: SynchronousMode;
}

export interface RunningServer {
  readonly core: ServingCore;
  /** Set when the registry is on. */
  readonly registry?: Registry;
  readonly http: ModelhostHttpServer;
  readonly port: number;
  /** The bound gRPC port, when gRPC is on. */
  readonly grpcPort?: number;
  /** http://<host>:<port>, with 127.0.0.1 for a wildcard host. */
  readonly url: string;
  /**
   * Graceful stop, bounded: stop accepting, finish in-flight requests, unload
   * every model, all within `timeoutMs` (default 30 s). At the bound,
   * connections still open are cut (their runs cancelled) and loads or
   * warm-ups still running are abandoned (the engine is closed under them).
   */
  stop(timeoutMs?: number): Promise<void>;
}

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const log = options.log ?? consoleLogger;
  setSignatureMethodNameCheck(options.enableSignatureMethodNameCheck ?? false);
  if (options.registry?.requireAdminToken && !options.registry.adminToken) {
    throw new Error(`--require_admin_token is set but no admin token is: set ${ADMIN_TOKEN_ENV} or --admin_token_file.`);
  }
  if (options.registry) new TrustedProxies(options.registry.trustedProxies); // refuses a bad entry before anything starts
  const metricsPath = options.monitoringConfigFile ? await readMonitoringConfig(options.monitoringConfigFile) : undefined;
  // Finish or undo what a crash interrupted before the model list is read (an interrupted upload may have left a model folder).
  if (options.registry) await recoverRegistryAt(options.registry, log);
  let models = await readModelList(options.models);
  if (models.length === 0) {
    const where = options.models.kind === 'models_dir' ? ` (${options.models.dir} has no model folders yet)` : '';
    log.warn(`No models to serve yet${where}.`);
  }

  setRuntimeLimits({ ...DEFAULT_RUNTIME_LIMITS, ...options.limits }); // before the engine: its workers take this thread's limits
  setImageLimits(options.imageLimits); // before the engine starts its workers, which copy them
  const ownEngine = options.engine === undefined;
  let metrics: ServerMetrics | undefined;
  const engine =
    options.engine ?? createServingEngine({ ...options.execution, onWorkerExit: (m) => log.error(m), onBatch: (b) => metrics?.observeBatch(b) });
  log.info(`Running models with ${engine.name}`);
  const closeEngine = () => (ownEngine ? engine.close() : Promise.resolve());
  const core = new ServingCore({
    engine,
    fileSystemPollWaitSeconds: options.fileSystemPollWaitSeconds ?? 1,
    tags: options.tags,
    maxLoadRetries: options.maxNumLoadRetries,
    allowVersionLabelsForUnavailableModels: options.allowVersionLabelsForUnavailableModels,
    loadRetryIntervalMs: options.loadRetryIntervalMicros === undefined ? undefined : options.loadRetryIntervalMicros / 1000,
    warmup: options.enableModelWarmup === false ? undefined : (model, context) => runWarmup(model, context, { timeoutMs: options.modelWarmupTimeoutMs, iterations: options.warmupIterations }),
    log,
  });
  metrics = new ServerMetrics(core.monitor);

  let store: Store | undefined;
  let registry: Registry | undefined;
  let fallback = options.fallback;
  if (options.registry) {
    const r = options.registry;
    store = Store.open(r.path, { synchronous: r.synchronous });
    registry = new Registry({
      store,
      core,
      modelsDir: r.modelsDir,
      maxLoadedVersions: r.maxLoadedVersions,
      onDemandMaxWaitingRequests: r.onDemandMaxWaitingRequests,
      onDemandMaxWaitMs: r.onDemandMaxWaitMs,
      log,
    });
    const intake = new UploadIntake({
      registry,
      engine,
      maxUploadBytes: r.maxUploadBytes,
      maxArchiveEntries: r.maxArchiveEntries,
      maxArchiveCompressionRatio: r.maxArchiveCompressionRatio,
      tags: options.tags,
      log,
    });
    fallback ??= managementApp({
      registry,
      intake,
      adminToken: r.adminToken,
      trustedProxies: r.trustedProxies,
      requireAdminToken: r.requireAdminToken,
      requestsPerSecond: (m) => metrics.requestRates.perSecond(m),
    });
    const who = r.adminToken ? 'admin token required for changes' : 'changes accepted from loopback clients connecting directly (no proxy): no admin token set';
    const proxies = r.trustedProxies?.length ? `; trusted proxies ${r.trustedProxies.join(', ')}` : '';
    log.info(`Registry at ${r.path}; management API at /api/v1 (${who}${proxies})`);
  }
  try {
    await core.start(models);
  } catch (e) {
    await registry?.stop();
    await core.stop();
    await closeEngine();
    store?.close();
    throw e;
  }

  const http = createHttpServer({ core, metrics, metricsPath, fallback, restApiTimeoutMs: options.restApiTimeoutMs, restApiCors: options.restApiEnableCorsSupport, restLimits: options.restLimits, configuredModels: () => models.map((m) => m.name) });
  const host = options.restApiHost ?? '0.0.0.0';
  try {
    await new Promise<void>((resolve, reject) => {
      http.server.once('error', reject);
      http.server.listen(options.restApiPort ?? 8501, host, () => {
        http.server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    await registry?.stop();
    await core.stop();
    await closeEngine();
    store?.close();
    throw e;
  }
  const port = (http.server.address() as AddressInfo).port;
  // gRPC requests are bounded like REST bodies (--max_request_bytes).
  const grpcApi =
    options.grpcPort === undefined && options.grpcSocketPath === undefined
      ? undefined
      : new GrpcApi({
          core,
          metrics,
          maxReceiveMessageBytes: options.restLimits?.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES,
          channelArguments: options.grpcChannelArguments,
          // Like TF Serving, a later poll of a config file (or models folder) that changed replaces this list again.
          reloadConfig: async (next) => {
            models = next;
            await core.reloadConfig(next);
          },
        });
  let grpcPort: number | undefined;
  try {
    if (grpcApi && options.grpcPort !== undefined) grpcPort = await grpcApi.listen(host, options.grpcPort);
    if (grpcApi && options.grpcSocketPath !== undefined) await grpcApi.listenUnix(options.grpcSocketPath);
  } catch (e) {
    await http.close(0);
    await registry?.stop();
    await core.stop();
    await closeEngine();
    store?.close();
    throw e;
  }
  if (grpcPort !== undefined) log.info(`Running gRPC ModelServer at ${host}:${grpcPort} ...`);
  if (options.grpcSocketPath !== undefined) log.info(`Running gRPC ModelServer at UNIX socket ${options.grpcSocketPath} ...`);
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const url = `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}`;
  log.info(`Exporting HTTP/REST API at ${host}:${port}${metricsPath ? `; Prometheus metrics at ${metricsPath}` : ''}`);

  // Re-read the model list (config file or models directory) and apply changes.
  let reloading: Promise<void> | undefined;
  const pollSeconds = modelListPollSeconds(options.models);
  const reload = async () => {
    let next: ModelConfig[];
    try {
      next = await readModelList(options.models);
    } catch (e) {
      log.error(`Keeping the current models; the model list could not be read: ${toStatusError(e).message}`);
      return;
    }
    if (isDeepStrictEqual(next, models)) return;
    models = next;
    await core.reloadConfig(next).catch((e) => log.error(`Applying the new model list failed: ${toStatusError(e).message}`));
  };
  const timer =
    pollSeconds > 0
      ? setInterval(() => {
          reloading ??= reload().finally(() => (reloading = undefined));
        }, pollSeconds * 1000)
      : undefined;

  let stopping: Promise<void> | undefined;
  const stop = (timeoutMs = 30_000) =>
    (stopping ??= (async () => {
      const deadline = Date.now() + timeoutMs;
      const left = () => Math.max(0, deadline - Date.now());
      clearInterval(timer);
      await within(reloading, left());
      await Promise.all([http.close(left()), grpcApi?.close(left())]);
      await within(registry?.stop(), left());
      // Loads and warm-ups still running past the bound are not waited for: closing the engine fails them.
      const coreStopped = core.stop();
      const clean = await within(coreStopped, left());
      await closeEngine();
      if (!clean) await within(coreStopped, 1000);
      store?.close();
      log.info(clean ? 'Server stopped.' : `Server stopped; work still running after ${timeoutMs} ms was abandoned.`);
    })());

  return { core, registry, http, port, grpcPort, url, stop };
}

/** Waits for `p` at most `ms`; true when it settled in time (a rejection counts as settled). */
async function within(p: Promise<unknown> | undefined, ms: number): Promise<boolean> {
  if (!p) return true;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([p.then(() => true, () => true), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
