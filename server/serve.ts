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
import { readMonitoringConfig } from './config_file.js';
import { createHttpServer, type FallbackHandler, type ModelhostHttpServer } from './http_server.js';
import { managementApp } from './management/router.js';
import { ServerMetrics } from './metrics.js';
import { modelListPollSeconds, readModelList, type ModelListSource } from './model_list.js';
import { runWarmup } from './warmup.js';

export interface ServeOptions {
  models: ModelListSource;
  /** Default 8501; 0 picks a free port. */
  restApiPort?: number;
  /** Default 0.0.0.0. */
  restApiHost?: string;
  /** Seconds between base-path polls (default 1; fractions allowed). */
  fileSystemPollWaitSeconds?: number;
  monitoringConfigFile?: string;
  /** MetaGraph tags to load (default ["serve"]). */
  tags?: readonly string[];
  /** Replay assets.extra/tf_serving_warmup_requests before a version takes traffic (default true). */
  enableModelWarmup?: boolean;
  /** Runs the models; default: createServingEngine(execution). An engine passed here is not closed by stop(). */
  engine?: ServingEngine;
  /** Worker threads and dynamic batching for the default engine. */
  execution?: ExecutionOptions;
  /** Handles every path that is not /v1/... (default: the management API when the registry is on, else a JSON 404). */
  fallback?: FallbackHandler;
  /** Turns on the registry (SQLite truth, pins, labels, uploads, /api/v1); off: plain TF Serving behaviour. */
  registry?: RegistryServeOptions;
  log?: Logger;
}

export interface RegistryServeOptions {
  /** The SQLite file (created with its folder when missing), or ':memory:'. */
  path: string;
  /** A model created by an upload gets the base path {modelsDir}/{name}. */
  modelsDir: string;
  /** Default 4. */
  maxLoadedVersions?: number;
  /** Default 1 GiB. */
  maxUploadBytes?: number;
  /** Bearer token for mutating /api/v1 calls; unset: mutations only from loopback. */
  adminToken?: string;
  /** SQLite's synchronous mode: 'full' (default) makes every commit survive a power loss; 'normal' is faster. */
  synchronous?: SynchronousMode;
}

export interface RunningServer {
  readonly core: ServingCore;
  /** Set when the registry is on. */
  readonly registry?: Registry;
  readonly http: ModelhostHttpServer;
  readonly port: number;
  /** http://<host>:<port>, with 127.0.0.1 for a wildcard host. */
  readonly url: string;
  /** Graceful stop: stop accepting, finish in-flight requests (at most `timeoutMs`), unload every model. */
  stop(timeoutMs?: number): Promise<void>;
}

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const log = options.log ?? consoleLogger;
  const metricsPath = options.monitoringConfigFile ? await readMonitoringConfig(options.monitoringConfigFile) : undefined;
  // Finish or undo what a crash interrupted before the model list is read (an interrupted upload may have left a model folder).
  if (options.registry) await recoverRegistryAt(options.registry, log);
  let models = await readModelList(options.models);
  if (models.length === 0) {
    const where = options.models.kind === 'models_dir' ? ` (${options.models.dir} has no model folders yet)` : '';
    log.warn(`No models to serve yet${where}.`);
  }

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
    warmup: options.enableModelWarmup === false ? undefined : runWarmup,
    log,
  });
  metrics = new ServerMetrics(core.monitor);

  let store: Store | undefined;
  let registry: Registry | undefined;
  let fallback = options.fallback;
  if (options.registry) {
    const r = options.registry;
    store = Store.open(r.path, { synchronous: r.synchronous });
    registry = new Registry({ store, core, modelsDir: r.modelsDir, maxLoadedVersions: r.maxLoadedVersions, log });
    const intake = new UploadIntake({ registry, engine, maxUploadBytes: r.maxUploadBytes, tags: options.tags, log });
    fallback ??= managementApp({ registry, intake, adminToken: r.adminToken, requestsPerSecond: (m) => metrics.requestRates.perSecond(m) });
    log.info(`Registry at ${r.path}; management API at /api/v1 (${r.adminToken ? 'admin token required for changes' : 'changes accepted from loopback only: no admin token set'})`);
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

  const http = createHttpServer({ core, metrics, metricsPath, fallback });
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
  const stop = (timeoutMs?: number) =>
    (stopping ??= (async () => {
      clearInterval(timer);
      await reloading;
      await http.close(timeoutMs);
      await registry?.stop();
      await core.stop();
      await closeEngine();
      store?.close();
      log.info('Server stopped.');
    })());

  return { core, registry, http, port, url, stop };
}
