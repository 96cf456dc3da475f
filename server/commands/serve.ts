/**
 * `modelhost serve`: TensorFlow Serving's model server flags, same names and
 * defaults (`--rest_api_port=8501`, `--model_name`, `--model_base_path`,
 * `--model_config_file`, ...), plus `--models_dir` (default ./models) for the
 * no-flags case: every sub-folder is a model named after it, and the registry
 * flags (`--registry_path`, `--max_loaded_versions`, `--max_upload_bytes`,
 * the admin token and access flags; see docs/registry.md) and execution flags
 * (`--inference_threads`; TF Serving's `--enable_batching` and
 * `--batching_parameters_file`).
 *
 * SIGTERM or SIGINT stops gracefully (stop accepting, finish in-flight
 * requests, unload) within --shutdown_timeout_seconds and exits 0; a second
 * signal exits at once, and so does a stop that overruns the bound by 5 s
 * (exit code 1).
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_MAX_ARCHIVE_COMPRESSION_RATIO, DEFAULT_MAX_ARCHIVE_ENTRIES } from '../../registry/archive.js';
import { consoleLogger } from '../../serving/log.js';
import { DEFAULT_MAX_VERSION_BYTES, DEFAULT_MAX_VERSION_OBJECTS, DEFAULT_MODEL_CACHE_DIR } from '../../serving/object_store/object_store.js';
import { invalidArgument } from '../../runtime/errors.js';
import { autoBatchingParameters, defaultBatchingParameters } from '../../runtime/execution/batching_parameters.js';
import { defaultThreads, DEFAULT_WORKER_HEAP_MB, DEFAULT_WORKER_WASM_MB } from '../../runtime/execution/worker_pool.js';
import { DEFAULT_MAX_STRING_TENSOR_BYTES, DEFAULT_MAX_TENSOR_ELEMENTS } from '../../runtime/limits.js';
import { perModelBatchingParameters, readBatchingParameters } from '../config_file.js';
import { DEFAULT_HEALTH_MAX_WATCHES } from '../grpc/health.js';
import { ADMIN_TOKEN_ENV, resolveAdminToken } from '../management/auth.js';
import { SYNCHRONOUS_MODES, type SynchronousMode } from '../../registry/store.js';
import { checkRegistryUrl, REGISTRY_URL_ENV } from '../../registry/open_store.js';
import { DEFAULT_POOL_SIZE } from '../../registry/postgres_store.js';
import { DEFAULT_REFRESH_INTERVAL_MS } from '../../registry/registry.js';
import { DEFAULT_HEARTBEAT_MS, DEFAULT_REPLICA_LAPSE_MS } from '../../registry/replicas.js';
import type { ModelListSource } from '../model_list.js';
import { startServer, type ServeOptions } from '../serve.js';
import { DEFAULT_STATS_MAX_SERIES } from '../request_stats.js';
import { DEFAULT_METADATA_LIMITS } from '../../registry/version_metadata.js';
import { DEFAULT_MAX_BUFFERED_REQUEST_BYTES, DEFAULT_MAX_REQUEST_BYTES } from '../rest/handler.js';
import { DEFAULT_MAX_JSON_DEPTH } from '../../runtime/codec/index.js';
import { DEFAULT_MAX_GIF_FRAMES, DEFAULT_MAX_IMAGE_PIXELS } from '../../runtime/kernels/image_limits.js';
import { DEFAULT_REQUEST_LOG_DIR, DEFAULT_REQUEST_LOG_MAX_FILE_BYTES, DEFAULT_REQUEST_LOG_QUEUE_BYTES } from '../request_log/request_logger.js';
import { parseGraphOptimizations, type GraphOptimizations } from '../../runtime/graph/optimize/options.js';
import { SIMD_KERNEL_MODES, simdKernelMode, type SimdKernelMode } from '../../runtime/simd/simd_kernels.js';
import { addNoEffectFlags, noEffectLogLine, parseGrpcChannelArguments, tfInt, versionText, type GrpcChannelArgument } from './tf_serving_flags.js';

interface ServeFlags {
  port: number;
  grpc_channel_arguments?: GrpcChannelArgument[];
  grpc_socket_path?: string;
  ssl_config_file?: string;
  use_alts_credentials?: boolean;
  enable_grpc_healthcheck_service: boolean;
  grpc_health_max_watches: number;
  enable_serialization_as_tensor_content: boolean;
  rest_api_port: number;
  rest_api_host: string;
  model_name?: string;
  model_base_path?: string;
  model_config_file?: string;
  model_config_file_poll_wait_seconds: number;
  file_system_poll_wait_seconds: number;
  monitoring_config_file?: string;
  saved_model_tags: string;
  enable_model_warmup: boolean;
  models_dir: string;
  registry_path: string;
  registry_synchronous: SynchronousMode;
  registry_url?: string;
  registry_pool_size: number;
  registry_refresh_interval_ms: number;
  replica_id?: string;
  replica_address?: string;
  replica_heartbeat_ms: number;
  replica_lapse_ms: number;
  max_loaded_versions: number;
  on_demand_max_waiting_requests: number;
  on_demand_max_wait_ms: number;
  rollout_shadow_queue: number;
  max_upload_bytes: number;
  max_archive_entries: number;
  max_archive_compression_ratio: number;
  admin_token?: string;
  admin_token_file?: string;
  trusted_proxies: string;
  require_admin_token: boolean;
  enable_batching: boolean;
  auto_batching: boolean;
  batching_parameters_file?: string;
  enable_per_model_batching_params: boolean;
  inference_threads: number;
  inference_model_copies: number;
  max_tensor_elements: number;
  max_string_tensor_bytes: number;
  inference_worker_heap_mb: number;
  inference_worker_wasm_mb: number;
  rest_api_timeout_in_ms: number;
  model_warmup_timeout_in_ms: number;
  shutdown_timeout_seconds: number;
  max_request_bytes: number;
  max_json_depth: number;
  max_buffered_request_bytes: number;
  max_image_pixels: number;
  max_gif_frames: number;
  graph_optimizations?: GraphOptimizations;
  simd_kernels: SimdKernelMode;
  enable_signature_method_name_check: boolean;
  enable_per_model_batching_parameters?: boolean;
  version: boolean;
  num_request_iterations_for_warmup: number;
  rest_api_enable_cors_support: boolean;
  max_num_load_retries: number;
  allow_version_labels_for_unavailable_models: boolean;
  load_retry_interval_micros: number;
  request_log_dir: string;
  request_log_max_file_bytes: number;
  request_log_queue_bytes: number;
  model_cache_dir: string;
  object_store_max_version_objects: number;
  object_store_max_version_bytes: number;
  stats_max_series: number;
  metadata_max_description_chars: number;
  metadata_max_tags: number;
  metadata_max_metrics: number;
  metadata_max_key_chars: number;
  metadata_max_value_chars: number;
}

function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number >= 0.');
  return n;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a number > 0.');
  return n;
}

function registryUrl(value: string): string {
  try {
    checkRegistryUrl(value);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
  return value;
}

function replicaId(value: string): string {
  if (!/^[A-Za-z0-9_.:-]{1,128}$/.test(value)) throw new InvalidArgumentError('expected 1 to 128 letters, digits, or _ . : -');
  return value;
}

function replicaAddress(value: string): string {
  if (value.length < 1 || value.length > 256 || /\s/.test(value)) throw new InvalidArgumentError('expected host:port (at most 256 characters, no spaces).');
  return value;
}

function poolSize(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1 || n > 100) throw new InvalidArgumentError('expected a whole number from 1 to 100.');
  return n;
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number >= 1.');
  return n;
}

function simdMode(value: string): SimdKernelMode {
  if (!(SIMD_KERNEL_MODES as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${SIMD_KERNEL_MODES.join(', ')}`);
  return value as SimdKernelMode;
}

function graphPasses(value: string): GraphOptimizations {
  try {
    return parseGraphOptimizations(value);
  } catch (e) {
    throw new InvalidArgumentError(e instanceof Error ? e.message : String(e));
  }
}

function nonNegativeInteger(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number >= 0.');
  return n;
}

/** --max_json_depth: deeper limits would let a body reach the stack's depth in the recursive parser and writer. */
function jsonDepth(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1 || n > 1000) throw new InvalidArgumentError('expected a whole number from 1 to 1000.');
  return n;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number (0-65535).');
  return n;
}

function bool(value: string | undefined): boolean {
  if (value === undefined || value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new InvalidArgumentError('expected true or false.');
}

/** Which models to serve, from the flags (exported for tests). */
export function modelListFromFlags(flags: Pick<ServeFlags, 'model_name' | 'model_base_path' | 'model_config_file' | 'model_config_file_poll_wait_seconds' | 'file_system_poll_wait_seconds' | 'models_dir'>): ModelListSource {
  if (flags.model_config_file !== undefined) {
    if (flags.model_base_path !== undefined) {
      throw new InvalidArgumentError('--model_config_file and --model_base_path are exclusive: list the model in the config file.');
    }
    return { kind: 'config_file', file: flags.model_config_file, pollSeconds: flags.model_config_file_poll_wait_seconds };
  }
  if (flags.model_base_path !== undefined) {
    return { kind: 'single', name: flags.model_name ?? 'default', basePath: flags.model_base_path };
  }
  if (flags.model_name !== undefined) {
    throw new InvalidArgumentError('--model_name needs --model_base_path (the folder holding its numbered versions).');
  }
  return { kind: 'models_dir', dir: flags.models_dir, pollSeconds: flags.file_system_poll_wait_seconds };
}

async function serve(flags: ServeFlags): Promise<void> {
  if (flags.version) {
    process.stdout.write(`${versionText()}\n`);
    return;
  }
  const log = consoleLogger;
  const noEffect = noEffectLogLine(flags as unknown as Record<string, unknown>);
  if (noEffect) log.info(noEffect);
  if (flags.use_alts_credentials && flags.ssl_config_file) {
    throw invalidArgument('Either use_alts_credentials must be false or ssl_config_file must be empty.');
  }
  if (!flags.enable_batching && flags.batching_parameters_file !== undefined) {
    throw invalidArgument('server_options.batching_parameters_file is set without setting server_options.enable_batching to true.');
  }
  let batching;
  if (flags.enable_batching) {
    batching = flags.batching_parameters_file ? await readBatchingParameters(flags.batching_parameters_file) : defaultBatchingParameters();
    log.info(
      `Batching: max_batch_size ${batching.maxBatchSize}, batch_timeout_micros ${batching.batchTimeoutMicros}, max_enqueued_batches ${batching.maxEnqueuedBatches}, num_batch_threads ${batching.numBatchThreads}${batching.allowedBatchSizes.length ? `, allowed_batch_sizes ${batching.allowedBatchSizes.join(',')}` : ''}`,
    );
  } else if (flags.auto_batching) {
    log.info('Automatic batching of concurrent requests to batch-shaped signatures (--auto_batching=false turns it off)');
  }
  const adminToken = resolveAdminToken({ flag: flags.admin_token, file: flags.admin_token_file, env: process.env[ADMIN_TOKEN_ENV] }, (m) => log.warn(m));
  const options: ServeOptions = {
    models: modelListFromFlags(flags),
    restApiPort: flags.rest_api_port,
    grpcPort: flags.port,
    grpcChannelArguments: flags.grpc_channel_arguments && Object.fromEntries(flags.grpc_channel_arguments.map((a) => [a.key, a.value])),
    // TF Serving's empty default means no socket.
    grpcSocketPath: flags.grpc_socket_path || undefined,
    grpcSslConfigFile: flags.ssl_config_file || undefined,
    enableGrpcHealthcheckService: flags.enable_grpc_healthcheck_service,
    grpcHealthMaxWatches: flags.grpc_health_max_watches,
    enableSerializationAsTensorContent: flags.enable_serialization_as_tensor_content,
    restApiHost: flags.rest_api_host,
    fileSystemPollWaitSeconds: flags.file_system_poll_wait_seconds,
    monitoringConfigFile: flags.monitoring_config_file,
    tags: flags.saved_model_tags.split(',').map((t) => t.trim()).filter((t) => t !== ''),
    enableModelWarmup: flags.enable_model_warmup,
    modelWarmupTimeoutMs: flags.model_warmup_timeout_in_ms,
    warmupIterations: flags.num_request_iterations_for_warmup,
    restApiTimeoutMs: flags.rest_api_timeout_in_ms,
    enableSignatureMethodNameCheck: flags.enable_signature_method_name_check,
    restApiEnableCorsSupport: flags.rest_api_enable_cors_support,
    maxNumLoadRetries: flags.max_num_load_retries,
    allowVersionLabelsForUnavailableModels: flags.allow_version_labels_for_unavailable_models,
    loadRetryIntervalMicros: flags.load_retry_interval_micros,
    execution: {
      threads: flags.inference_threads,
      modelCopies: flags.inference_model_copies,
      workerHeapMb: flags.inference_worker_heap_mb,
      workerWasmMb: flags.inference_worker_wasm_mb,
      batching,
      autoBatching: !batching && flags.auto_batching ? autoBatchingParameters(flags.inference_threads) : undefined,
      batchingFor: batching && (flags.enable_per_model_batching_parameters ?? flags.enable_per_model_batching_params) ? perModelBatchingParameters : undefined,
    },
    registry: {
      path: flags.registry_path,
      synchronous: flags.registry_synchronous,
      url: flags.registry_url,
      poolSize: flags.registry_pool_size,
      refreshIntervalMs: flags.registry_refresh_interval_ms,
      replicaId: flags.replica_id,
      replicaAddress: flags.replica_address,
      heartbeatMs: flags.replica_heartbeat_ms,
      replicaLapseMs: flags.replica_lapse_ms,
      modelsDir: flags.models_dir,
      maxLoadedVersions: flags.max_loaded_versions,
      onDemandMaxWaitingRequests: flags.on_demand_max_waiting_requests,
      onDemandMaxWaitMs: flags.on_demand_max_wait_ms,
      rolloutShadowQueue: flags.rollout_shadow_queue,
      maxUploadBytes: flags.max_upload_bytes,
      maxArchiveEntries: flags.max_archive_entries,
      maxArchiveCompressionRatio: flags.max_archive_compression_ratio,
      adminToken,
      trustedProxies: flags.trusted_proxies.split(',').map((p) => p.trim()).filter((p) => p !== ''),
      requireAdminToken: flags.require_admin_token,
      metadataLimits: {
        maxDescriptionChars: flags.metadata_max_description_chars,
        maxTags: flags.metadata_max_tags,
        maxMetrics: flags.metadata_max_metrics,
        maxKeyChars: flags.metadata_max_key_chars,
        maxValueChars: flags.metadata_max_value_chars,
      },
    },
    limits: { maxTensorElements: flags.max_tensor_elements, maxStringTensorBytes: flags.max_string_tensor_bytes },
    restLimits: { maxRequestBytes: flags.max_request_bytes, maxJsonDepth: flags.max_json_depth, maxBufferedRequestBytes: flags.max_buffered_request_bytes },
    imageLimits: { maxPixels: flags.max_image_pixels, maxGifFrames: flags.max_gif_frames },
    requestLog: { dir: flags.request_log_dir, maxFileBytes: flags.request_log_max_file_bytes, maxQueueBytes: flags.request_log_queue_bytes },
    graphOptimizations: flags.graph_optimizations,
    simdKernels: flags.simd_kernels,
    objectStore: { cacheDir: flags.model_cache_dir, maxVersionObjects: flags.object_store_max_version_objects, maxVersionBytes: flags.object_store_max_version_bytes },
    statsMaxSeries: flags.stats_max_series,
    log,
  };
  const server = await startServer(options);

  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn(`${signal} again: exiting without waiting.`);
      process.exit(1);
    }
    stopping = true;
    const boundMs = flags.shutdown_timeout_seconds * 1000;
    log.info(`${signal} received: finishing in-flight requests (at most ${flags.shutdown_timeout_seconds} s), then exiting.`);
    setTimeout(() => {
      log.error(`Shutdown still not done ${flags.shutdown_timeout_seconds + 5} s after ${signal}: exiting without waiting.`);
      process.exit(1);
    }, boundMs + 5000).unref();
    server.stop(boundMs).then(
      () => process.exit(0),
      (e: Error) => {
        log.error(`Shutdown failed: ${e.message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

export function addServeCommand(program: Command): void {
  const command = program
    .command('serve')
    .description('Serve SavedModels over the TensorFlow Serving REST API, hot-swapping versions as they appear.')
    .addOption(new Option('--port <port>', "port of TF Serving's gRPC API (PredictionService, ModelService; 0: pick a free one)").argParser(port).default(8500))
    .option('--grpc_channel_arguments <args>', 'gRPC channel arguments, key=value,key=value (e.g. grpc.max_receive_message_length=8388608)', parseGrpcChannelArguments)
    .option('--grpc_socket_path <path>', 'also serve the gRPC API on this UNIX socket')
    .option('--ssl_config_file <file>', 'TF Serving: SSLConfig in protobuf text format (server_key, server_cert, custom_ca, client_verify); the gRPC API then speaks TLS')
    .option('--enable_grpc_healthcheck_service [bool]', 'TF Serving: serve the standard gRPC health service (grpc.health.v1.Health) on the gRPC API', bool, false)
    .option('--grpc_health_max_watches <n>', 'health Watch streams open at once at most; one more gets RESOURCE_EXHAUSTED', positiveInteger, DEFAULT_HEALTH_MAX_WATCHES)
    .option('--enable_serialization_as_tensor_content [bool]', 'TF Serving: gRPC Predict answers outputs in tensor_content instead of typed fields', bool, false)
    .option('--rest_api_port <port>', 'port of the REST API (0: pick a free one)', port, 8501)
    .option('--rest_api_host <host>', 'address the REST API listens on', '0.0.0.0')
    .option('--model_name <name>', 'name of the model served from --model_base_path (default "default")')
    .option('--model_base_path <path>', 'folder holding the numbered version folders of one model')
    .option('--model_config_file <file>', 'ModelServerConfig in protobuf text format (model_config_list), for several models')
    .option('--model_config_file_poll_wait_seconds <s>', 'seconds between re-reads of --model_config_file (0: read once)', nonNegativeNumber, 0)
    .option('--file_system_poll_wait_seconds <s>', 'seconds between polls of the base paths for new versions (fractions allowed)', nonNegativeNumber, 1)
    .option('--monitoring_config_file <file>', 'MonitoringConfig in protobuf text format; prometheus_config enables metrics')
    .option('--saved_model_tags <tags>', 'comma-separated tags of the MetaGraph to load', 'serve')
    .option('--enable_model_warmup [bool]', 'replay assets.extra/tf_serving_warmup_requests before a version takes traffic', bool, true)
    .option('--models_dir <dir>', 'with no --model_base_path or --model_config_file: serve every sub-folder as a model; also where uploads of new models go', 'models')
    .option('--registry_path <file>', "the registry's SQLite file (':memory:' keeps nothing)", 'data/registry.db')
    .addOption(
      new Option('--registry_synchronous <mode>', "SQLite synchronous mode of the registry: 'full' (every commit survives a power loss) or 'normal' (faster; a power loss may undo the last commits)")
        .choices(SYNCHRONOUS_MODES)
        .default('full'),
    )
    .addOption(
      new Option('--registry_url <url>', 'a PostgreSQL registry shared by replicas (postgresql://user[:password]@host[:port]/db) instead of --registry_path')
        .env(REGISTRY_URL_ENV)
        .argParser(registryUrl),
    )
    .option('--registry_pool_size <n>', 'PostgreSQL connections per process (with --registry_url)', poolSize, DEFAULT_POOL_SIZE)
    .option(
      '--registry_refresh_interval_ms <ms>',
      "with --registry_url: how often to poll for other replicas' changes that LISTEN/NOTIFY missed (0: never)",
      nonNegativeInteger,
      DEFAULT_REFRESH_INTERVAL_MS,
    )
    .option('--replica_id <id>', 'this process among the replicas sharing the registry (default: host name and a random suffix)', replicaId)
    .option('--replica_address <host:port>', 'the address shown for this replica at /api/v1/replicas (default: the REST host:port)', replicaAddress)
    .option('--replica_heartbeat_ms <ms>', 'how often this replica records its heartbeat and loaded versions in the registry', positiveInteger, DEFAULT_HEARTBEAT_MS)
    .option('--replica_lapse_ms <ms>', 'a replica silent for longer is reported gone (and its unfinished uploads finished or undone by the live replicas)', positiveInteger, DEFAULT_REPLICA_LAPSE_MS)
    .option('--max_loaded_versions <n>', 'versions of a model kept loaded at most (least recently used evicted; default policy only)', positiveInteger, 4)
    .option('--on_demand_max_waiting_requests <n>', 'requests per model that may wait at once for a version to load on demand (more: 503)', positiveInteger, 100)
    .option('--on_demand_max_wait_ms <ms>', 'longest a request waits for its version to load on demand (then: 503)', positiveInteger, 10_000)
    .option('--rollout_shadow_queue <n>', 'shadow rollouts: request copies waiting or running at most; more are dropped and counted (0: none)', nonNegativeInteger, 64)
    .option('--max_upload_bytes <n>', 'largest upload, and largest SavedModel an archive may expand to', positiveInteger, 1024 * 1024 * 1024)
    .option('--max_archive_entries <n>', 'files and folders an uploaded archive may hold', positiveInteger, DEFAULT_MAX_ARCHIVE_ENTRIES)
    .option('--max_archive_compression_ratio <r>', 'bytes an uploaded archive may expand to per byte of archive (deflate tops out near 1030)', positiveNumber, DEFAULT_MAX_ARCHIVE_COMPRESSION_RATIO)
    .option('--admin_token_file <file>', `file holding the bearer token that changes through /api/v1 need (else $${ADMIN_TOKEN_ENV}; none: loopback only)`)
    .option('--admin_token <token>', `the bearer token on the command line, visible in ps: prefer $${ADMIN_TOKEN_ENV} or --admin_token_file`)
    .option('--require_admin_token [bool]', 'every change needs the token, from loopback too; refuse to start without one', bool, false)
    .option('--trusted_proxies <list>', 'comma-separated IPs/CIDRs of reverse proxies whose X-Forwarded-For is believed (default: none)', '')
    .option('--inference_threads <n>', 'worker threads running models (0: run them on the HTTP event loop)', nonNegativeInteger, defaultThreads())
    .option('--inference_model_copies <n>', "worker threads each model is loaded into (0: as many as fit in a quarter of the machine's memory, a copy counted as 5x the model's size on disk; fewer saves memory for large models)", nonNegativeInteger, 0)
    .option('--max_tensor_elements <n>', 'most elements one tensor may have; a model asking for more answers RESOURCE_EXHAUSTED (2^28: 1 GiB of float32)', positiveInteger, DEFAULT_MAX_TENSOR_ELEMENTS)
    .option('--max_string_tensor_bytes <n>', 'most bytes one string tensor may hold (its strings plus 24 per element)', positiveInteger, DEFAULT_MAX_STRING_TENSOR_BYTES)
    .option('--inference_worker_heap_mb <n>', 'JavaScript heap cap of each inference worker in MiB; a worker over it is replaced', positiveInteger, DEFAULT_WORKER_HEAP_MB)
    .option('--inference_worker_wasm_mb <n>', 'WASM memory an inference worker may grow to (MiB); a request going over gets 429 and the worker is recycled (0: up to 4096)', nonNegativeInteger, DEFAULT_WORKER_WASM_MB)
    .option('--rest_api_timeout_in_ms <ms>', 'deadline of every /v1 request; past it: 504 and the run is stopped (0: none)', nonNegativeInteger, 30000)
    .option('--model_warmup_timeout_in_ms <ms>', "bound of one version's warm-up; past it the version's load fails (0: none)", nonNegativeInteger, 60000)
    .option('--shutdown_timeout_seconds <s>', 'on SIGTERM/SIGINT: how long in-flight work may finish before it is cut and the server exits', nonNegativeNumber, 30)
    .option('--enable_batching [bool]', 'merge concurrent requests to the same model version and signature into one run', bool, false)
    .option('--auto_batching [bool]', "without --enable_batching: merge concurrent requests to signatures whose inputs and outputs all have a batch dimension, of models that write no state; a lone request never waits; like TF Serving's batching it assumes a model treats each row on its own", bool, true)
    .option('--enable_per_model_batching_params [bool]', 'with --enable_batching: a version folder\'s batching_params.pbtxt replaces the server-wide batching parameters for it', bool, false)
    .option('--batching_parameters_file <file>', 'BatchingParameters in protobuf text format (max_batch_size, batch_timeout_micros, ...); needs --enable_batching')
    .option('--max_request_bytes <n>', 'largest /v1 request body; a larger one answers 413 unread', positiveInteger, DEFAULT_MAX_REQUEST_BYTES)
    .option('--max_buffered_request_bytes <n>', 'request body bytes held at once across all REST requests, from the first byte read until the answer is sent; a request that would go over answers 503 at once', positiveInteger, DEFAULT_MAX_BUFFERED_REQUEST_BYTES)
    .option('--max_json_depth <n>', 'deepest nesting of arrays and objects in a /v1 JSON body (at most 1000); deeper answers 400', jsonDepth, DEFAULT_MAX_JSON_DEPTH)
    .option('--max_image_pixels <n>', 'largest image (height x width, x frames for GIF) the decode ops accept; larger answers 400 before decoding', positiveInteger, DEFAULT_MAX_IMAGE_PIXELS)
    .option('--max_gif_frames <n>', 'most frames a GIF the decode ops accept may have; more answers 400', positiveInteger, DEFAULT_MAX_GIF_FRAMES)
    .option('--graph_optimizations <passes>', "load-time graph passes: 'all', 'none' or a comma-separated list of constant_folding, identity_pruning, invariant_caching, fusion, batchnorm_folding, elementwise_fusion (default: $MODELHOST_GRAPH_OPTIMIZATIONS, else all)", graphPasses)
    .option('--simd_kernels <mode>', "which kernels run float32 matrix products and convolutions: auto (modelhost's WebAssembly kernels with fused multiply-add where this Node.js can, else plain SIMD128), fma, plain, or off (tfjs-backend-wasm's own) (default: $MODELHOST_SIMD_KERNELS, else auto)", simdMode, simdKernelMode())
    .option('--metadata_max_description_chars <n>', "longest description of a version (characters)", positiveInteger, DEFAULT_METADATA_LIMITS.maxDescriptionChars)
    .option('--metadata_max_tags <n>', 'most tags a version may have', nonNegativeInteger, DEFAULT_METADATA_LIMITS.maxTags)
    .option('--metadata_max_metrics <n>', 'most metrics a version may have', nonNegativeInteger, DEFAULT_METADATA_LIMITS.maxMetrics)
    .option('--metadata_max_key_chars <n>', 'longest tag key or metric name (characters)', positiveInteger, DEFAULT_METADATA_LIMITS.maxKeyChars)
    .option('--metadata_max_value_chars <n>', "longest tag value, and longest source, of a version (characters)", positiveInteger, DEFAULT_METADATA_LIMITS.maxValueChars)
    .option('--stats_max_series <n>', "model versions whose last hour of requests the console charts (about 135 KB each at most; least recently used idle ones replaced; 0: none)", nonNegativeInteger, DEFAULT_STATS_MAX_SERIES)
    .option('--enable_signature_method_name_check [bool]', 'TF Serving: :classify and :regress need a signature whose method_name is classify / regress (off: any signature with the right inputs and outputs, as TF2 exports)', bool, false)
    .option('--enable_per_model_batching_parameters [bool]', "TF Serving's spelling of --enable_per_model_batching_params (wins when both are given)", bool)
    .option('--allow_version_labels_for_unavailable_models [bool]', 'TF Serving: a config label may name a version not loaded yet, when the label is new (without the registry; registry labels may always)', bool, false)
    .option('--max_num_load_retries <n>', 'TF Serving: times a failed version load is tried again before it ends in END (TF Serving defaults to 5; here 0, so a broken version fails at once; < 0 means 0)', tfInt, 0)
    .option('--load_retry_interval_micros <us>', 'TF Serving: wait between load retries in microseconds (negative: none)', tfInt, 60_000_000)
    .option('--rest_api_enable_cors_support [bool]', 'TF Serving: CORS headers (Access-Control-Allow-Origin: *) on every /v1 answer', bool, false)
    .option('--num_request_iterations_for_warmup <n>', 'TF Serving: times each warm-up record is replayed (used only if > 0; else once)', tfInt, 0)
    .option('--request_log_dir <dir>', "folder every request log file stays in: a logging_config's filename_prefix is taken under it (an absolute one must point inside it; '..' is refused)", DEFAULT_REQUEST_LOG_DIR)
    .option('--request_log_max_file_bytes <n>', 'a request log file is closed (fsync) and the next one started before it grows past this', positiveInteger, DEFAULT_REQUEST_LOG_MAX_FILE_BYTES)
    .option('--request_log_queue_bytes <n>', 'request log records waiting to be written, per file series; a record that does not fit is dropped and counted (modelhost_request_log_dropped_total)', positiveInteger, DEFAULT_REQUEST_LOG_QUEUE_BYTES)
    .option('--version [bool]', 'print the version and exit', bool, false)
    .option('--model_cache_dir <dir>', 'where versions on s3:// base paths are downloaded and verified before loading (docs/OBJECT_STORAGE.md)', DEFAULT_MODEL_CACHE_DIR)
    .option('--object_store_max_version_objects <n>', 'most objects (files) one version on object storage may have; more: its load fails', positiveInteger, DEFAULT_MAX_VERSION_OBJECTS)
    .option('--object_store_max_version_bytes <n>', 'most bytes one version on object storage may have; more: its load fails', positiveInteger, DEFAULT_MAX_VERSION_BYTES);
  // TF Serving's flags that change nothing here (TF internals, gRPC-only): accepted, logged once.
  addNoEffectFlags(command);
  command.action((flags: ServeFlags) => serve(flags));
}
