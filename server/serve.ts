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
import os from 'node:os';
import { isDeepStrictEqual } from 'node:util';
import { consoleLogger, type Logger } from '../serving/log.js';
import type { ModelConfig } from '../serving/model_config.js';
import { openRegistryStore } from '../registry/open_store.js';
import { LapsedMoveRecovery, recoverRegistry } from '../registry/recovery.js';
import { Registry } from '../registry/registry.js';
import { DEFAULT_HEARTBEAT_MS, DEFAULT_REPLICA_LAPSE_MS, defaultReplicaId, ReplicaHeartbeat } from '../registry/replicas.js';
import { ServingCore } from '../serving/serving_core.js';
import type { RegistryStore, SynchronousMode } from '../registry/store.js';
import { UploadIntake } from '../registry/upload.js';
import { ObjectStore, type ObjectStoreOptions } from '../serving/object_store/object_store.js';
import type { MetadataLimits } from '../registry/version_metadata.js';
import type { ServingEngine } from '../runtime/engine.js';
import { createServingEngine, type ExecutionOptions } from '../runtime/execution/serving_engine.js';
import { toStatusError } from '../runtime/errors.js';
import { DEFAULT_RUNTIME_LIMITS, setRuntimeLimits, type RuntimeLimits } from '../runtime/limits.js';
import { setImageLimits, type ImageLimits } from '../runtime/kernels/image_limits.js';
import { setGraphOptimizations, type GraphOptimizations } from '../runtime/graph/optimize/options.js';
import { setSimdKernels, type SimdKernelMode } from '../runtime/simd/simd_kernels.js';
import { readMonitoringConfig } from './config_file.js';
import { grpcServerCredentials } from './grpc/credentials.js';
import { GrpcApi } from './grpc/server.js';
import { createHttpServer, type FallbackHandler, type ModelhostHttpServer } from './http_server.js';
import { ADMIN_TOKEN_ENV, TrustedProxies } from './management/auth.js';
import { managementApp } from './management/router.js';
import { ServerMetrics } from './metrics.js';
import { modelListPollSeconds, readModelList, type ModelListSource } from './model_list.js';
import { DEFAULT_MAX_REQUEST_BYTES, type RestLimits } from './rest/handler.js';
import { runWarmup } from './warmup.js';
import { setSignatureMethodNameCheck } from './inference/examples.js';
import { checkLoggingConfigs, DEFAULT_REQUEST_LOG_DIR, RequestLog } from './request_log/request_logger.js';
import { RolloutGuard } from './rollout/guard.js';

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
  /** TF Serving's --ssl_config_file: an SSLConfig text file; the gRPC API then speaks TLS (client certificates with client_verify). */
  grpcSslConfigFile?: string;
  /** TF Serving's --enable_grpc_healthcheck_service: grpc.health.v1.Health on the gRPC API. */
  enableGrpcHealthcheckService?: boolean;
  /** Open health Watch streams at most (default 100); one more gets RESOURCE_EXHAUSTED. */
  grpcHealthMaxWatches?: number;
  /** TF Serving's --enable_serialization_as_tensor_content: gRPC Predict outputs in tensor_content. */
  enableSerializationAsTensorContent?: boolean;
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
  /** Request logging of models whose config has a logging_config (defaults: ./request_logs, 128 MiB files, 64 MiB queue). */
  requestLog?: RequestLogServeOptions;
  /** Load-time graph passes for every model (default: all, or MODELHOST_GRAPH_OPTIMIZATIONS). */
  graphOptimizations?: GraphOptimizations;
  /** Which SIMD kernels run float32 products and convolutions (runtime/simd). */
  simdKernels?: SimdKernelMode;
  /** s3:// base paths: --model_cache_dir, version limits, S3 settings (default: from the environment). */
  objectStore?: ObjectStoreOptions;
  /** Model versions whose last hour of requests is kept for the console's charts (--stats_max_series; default 128; 0: none). */
  statsMaxSeries?: number;
  log?: Logger;
}

export interface RequestLogServeOptions {
  /** The folder every request log file stays in (--request_log_dir). */
  dir?: string;
  /** A file is rotated before it grows past this (--request_log_max_file_bytes). */
  maxFileBytes?: number;
  /** Records waiting to be written per file series, in bytes; more are dropped and counted (--request_log_queue_bytes). */
  maxQueueBytes?: number;
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
  /** A PostgreSQL registry shared by replicas (postgresql://...); `path` is then unused. */
  url?: string;
  /** PostgreSQL connections per process (default 10). */
  poolSize?: number;
  /** Shared store: how often to poll for other replicas' changes the change feed missed (default 1000 ms). */
  refreshIntervalMs?: number;
  /** This process among the replicas (default: host name and a random suffix). */
  replicaId?: string;
  /** The address other replicas and operators reach this one at (default: the REST host:port it listens on). */
  replicaAddress?: string;
  /** Heartbeat period (default 5000 ms), and the silence after which a replica is reported gone (default 15000 ms). */
  heartbeatMs?: number;
  replicaLapseMs?: number;
  /** Shadow rollouts: request copies waiting or running at most (--rollout_shadow_queue, default 64; 0: none). */
  rolloutShadowQueue?: number;
  /** Bounds of version metadata (--metadata_max_*; registry/version_metadata.ts has the defaults). */
  metadataLimits?: Partial<MetadataLimits>;
}

export interface RunningServer {
  readonly core: ServingCore;
  /** Set when the registry is on. */
  readonly registry?: Registry;
  readonly http: ModelhostHttpServer;
  readonly port: number;
  /** The bound gRPC port, when gRPC is on. */
  readonly grpcPort?: number;
  /** Request logging (flush() waits for the records logged so far to be written). */
  readonly requestLog: RequestLog;
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
  if (options.registry) {
    const beat = options.registry.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
    const lapse = options.registry.replicaLapseMs ?? DEFAULT_REPLICA_LAPSE_MS;
    if (lapse <= beat) throw new Error(`--replica_lapse_ms (${lapse}) must be longer than --replica_heartbeat_ms (${beat}), or live replicas would be reported gone.`);
  }
  const metricsPath = options.monitoringConfigFile ? await readMonitoringConfig(options.monitoringConfigFile) : undefined;
  const grpcCredentials = await grpcServerCredentials(options.grpcSslConfigFile); // a bad SSLConfig stops the start here
  let store: RegistryStore | undefined;
  // Made before recovery: an interrupted upload to an s3:// base path is adopted or undone by whether its marker is published.
  const objectStore = new ObjectStore({ log, ...options.objectStore });
  const replicaId = options.registry ? (options.registry.replicaId ?? defaultReplicaId()) : undefined;
  if (options.registry) {
    const r = options.registry;
    store = await openRegistryStore({ path: r.path, synchronous: r.synchronous, url: r.url, postgres: { poolSize: r.poolSize } });
    // Finish or undo what a crash interrupted before the model list is read (an interrupted upload may have left a model folder).
    try {
      await recoverRegistry(store, r.modelsDir, log, { replicaLapseMs: r.replicaLapseMs, self: replicaId, objectStore });
    } catch (e) {
      objectStore.close();
      await store.close();
      throw e;
    }
  }
  const requestLogDir = options.requestLog?.dir ?? DEFAULT_REQUEST_LOG_DIR;
  let models: ModelConfig[];
  try {
    models = await readModelList(options.models);
    checkLoggingConfigs(models, requestLogDir);
  } catch (e) {
    await store?.close();
    throw e;
  }
  if (models.length === 0) {
    const where = options.models.kind === 'models_dir' ? ` (${options.models.dir} has no model folders yet)` : '';
    log.warn(`No models to serve yet${where}.`);
  }

  setRuntimeLimits({ ...DEFAULT_RUNTIME_LIMITS, ...options.limits }); // before the engine: its workers take this thread's limits
  setImageLimits(options.imageLimits); // before the engine starts its workers, which copy them
  if (options.graphOptimizations) setGraphOptimizations(options.graphOptimizations); // likewise
  if (options.simdKernels) setSimdKernels(options.simdKernels); // likewise
  const ownEngine = options.engine === undefined;
  let metrics: ServerMetrics | undefined;
  const engine =
    options.engine ?? createServingEngine({ ...options.execution, onWorkerExit: (m) => log.error(m), onBatch: (b) => metrics?.observeBatch(b) });
  log.info(`Running models with ${engine.name}`);
  await objectStore.init();
  const closeEngine = async () => {
    objectStore.close();
    if (ownEngine) await engine.close();
  };
  const core = new ServingCore({
    engine: objectStore.wrapEngine(engine),
    objectStore,
    fileSystemPollWaitSeconds: options.fileSystemPollWaitSeconds ?? 1,
    tags: options.tags,
    maxLoadRetries: options.maxNumLoadRetries,
    allowVersionLabelsForUnavailableModels: options.allowVersionLabelsForUnavailableModels,
    loadRetryIntervalMs: options.loadRetryIntervalMicros === undefined ? undefined : options.loadRetryIntervalMicros / 1000,
    warmup:
      options.enableModelWarmup === false
        ? undefined
        : (model, context) => runWarmup(model, { ...context, dir: objectStore.localDir(context.dir) }, { timeoutMs: options.modelWarmupTimeoutMs, iterations: options.warmupIterations }),
    log,
  });
  metrics = new ServerMetrics(core.monitor, { stats: { maxSeries: options.statsMaxSeries } });
  const requestLog = new RequestLog({ ...options.requestLog, dir: requestLogDir, savedModelTags: options.tags, metricsRegistry: metrics.registry, log });
  requestLog.update(models);

  let registry: Registry | undefined;
  let guard: RolloutGuard | undefined;
  let fallback = options.fallback;
  if (options.registry && store) {
    const r = options.registry;
    try {
      registry = await Registry.open({
        store,
        refreshIntervalMs: r.refreshIntervalMs,
        replicaId,
        replicaLapseMs: r.replicaLapseMs,
        core,
        modelsDir: r.modelsDir,
        maxLoadedVersions: r.maxLoadedVersions,
        onDemandMaxWaitingRequests: r.onDemandMaxWaitingRequests,
        onDemandMaxWaitMs: r.onDemandMaxWaitMs,
        shadowQueue: r.rolloutShadowQueue,
        metadataLimits: r.metadataLimits,
        log,
      });
    } catch (e) {
      await core.stop();
      await closeEngine();
      await store.close();
      throw e;
    }
    guard = new RolloutGuard({ registry, actor: store.kind === 'sqlite' ? 'guard' : `guard@${registry.replicaId}`, log });
    const rolloutGuard = guard;
    metrics.inferenceListeners.push((m, v, ok, seconds) => rolloutGuard.observe(m, v, ok, seconds));
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
      requestStats: metrics.stats,
      rolloutWindowStats: (m) => guard?.stats(m),
    });
    const who = r.adminToken ? 'admin token required for changes' : 'changes accepted from loopback clients connecting directly (no proxy): no admin token set';
    const proxies = r.trustedProxies?.length ? `; trusted proxies ${r.trustedProxies.join(', ')}` : '';
    log.info(`Registry at ${store.location}${store.kind === 'sqlite' ? '' : ' (shared by replicas)'}; management API at /api/v1 (${who}${proxies})`);
  }
  try {
    await core.start(models);
  } catch (e) {
    await registry?.stop();
    await core.stop();
    await closeEngine();
    await store?.close();
    throw e;
  }

  const http = createHttpServer({ core, metrics, metricsPath, fallback, restApiTimeoutMs: options.restApiTimeoutMs, restApiCors: options.restApiEnableCorsSupport, restLimits: options.restLimits, requestLog, configuredModels: () => models.map((m) => m.name) });
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
    await store?.close();
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
          credentials: grpcCredentials,
          healthCheck: options.enableGrpcHealthcheckService,
          healthMaxWatches: options.grpcHealthMaxWatches,
          serializeAsTensorContent: options.enableSerializationAsTensorContent,
          // Like TF Serving, a later poll of a config file (or models folder) that changed replaces this list again.
          reloadConfig: async (next) => {
            requestLog.update(next); // refuses (nothing changed) a logging config whose files would leave --request_log_dir
            models = next;
            await core.reloadConfig(next);
          },
          requestLog,
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
    await store?.close();
    throw e;
  }
  // The registry's record of this replica: what it serves, seen by every replica at /api/v1/replicas.
  let heartbeat: ReplicaHeartbeat | undefined;
  if (registry && store) {
    const shown = host === '0.0.0.0' || host === '::' ? os.hostname() : host;
    heartbeat = new ReplicaHeartbeat({
      store,
      monitor: core.monitor,
      id: registry.replicaId!,
      address: options.registry?.replicaAddress ?? `${shown.includes(':') ? `[${shown}]` : shown}:${port}`,
      heartbeatMs: options.registry?.heartbeatMs,
      servingVersion: (model) => registry.chooseDefault(model, core.manager.availableVersions(model)),
      log,
    });
    try {
      await heartbeat.start();
    } catch (e) {
      log.warn(`Replica ${heartbeat.id}: the first heartbeat could not be recorded (retrying): ${(e as Error).message}`);
    }
    log.info(`Replica ${heartbeat.id} at ${heartbeat.address}`);
  }
  guard?.start();
  // Shared store: an upload or purge left by a replica that died is finished or undone by a live one once its heartbeat lapses.
  const lapsedMoves =
    registry && store && store.kind !== 'sqlite'
      ? new LapsedMoveRecovery({
          store,
          objectStore,
          lapseMs: options.registry?.replicaLapseMs,
          everyMs: options.registry?.heartbeatMs,
          onChange: (models) => registry.reloadFromStore(models),
          log,
        })
      : undefined;
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
      requestLog.check(next);
    } catch (e) {
      log.error(`Keeping the current models; the model list could not be read: ${toStatusError(e).message}`);
      return;
    }
    if (isDeepStrictEqual(next, models)) return;
    models = next;
    requestLog.update(next);
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
      guard?.stop();
      await within(reloading, left());
      await Promise.all([http.close(left()), grpcApi?.close(left())]);
      // No request is answered any more: write what is queued, fsync and close the request log files.
      await within(requestLog.close(), left());
      await within(lapsedMoves?.stop(), left());
      await within(registry?.stop(), left());
      await within(heartbeat?.stop(), left());
      // Loads and warm-ups still running past the bound are not waited for: closing the engine fails them.
      const coreStopped = core.stop();
      const clean = await within(coreStopped, left());
      await closeEngine();
      if (!clean) await within(coreStopped, 1000);
      await store?.close();
      log.info(clean ? 'Server stopped.' : `Server stopped; work still running after ${timeoutMs} ms was abandoned.`);
    })());

  return { core, registry, http, port, grpcPort, requestLog, url, stop };
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
