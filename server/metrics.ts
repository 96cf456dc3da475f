/**
 * Prometheus metrics, served at the path named by `--monitoring_config_file`
 * (TF Serving's `prometheus_config { enable: true, path: ... }`):
 *
 *   modelhost_requests_total{model,version,api,status}          counter
 *   modelhost_request_duration_seconds{model,version,api,status} histogram
 *   modelhost_model_load_attempts_total{model,version,status}    counter
 *   modelhost_model_load_duration_seconds{model,status}          histogram (load + warm-up)
 *   modelhost_model_versions{model,state}                        gauge (versions per state now)
 *   modelhost_batch_size{model}                                  histogram (elements per batch, --enable_batching)
 *   modelhost_batch_padding_size{model}                          histogram (rows padded to allowed_batch_sizes)
 *   modelhost_batch_queuing_seconds{model}                       histogram (a request's wait for its batch)
 * plus the Node.js process metrics of prom-client.
 *
 * `status` is a TensorFlow status code name (OK, NOT_FOUND, ...). Requests for
 * models the server does not know are counted under model="" so that unknown
 * names cannot grow the label set without bound.
 *
 * `requestRates` keeps each model's inference requests (predict, classify,
 * regress; any outcome) per second over a sliding window, for the management
 * API's `requests_per_second` (the web console's overview); `stats` keeps the
 * last hour of each model version's inference requests, errors and latency
 * percentiles (server/request_stats.ts) for `GET /api/v1/models/{m}/stats`.
 */
import client from 'prom-client';
import type { ServableState, ServableStateMonitor } from '../serving/servable_state.js';
import type { BatchReport } from '../runtime/execution/batching_servable.js';
import { RequestStats, type RequestStatsOptions } from './request_stats.js';

/** How a request arrived (the `protocol` label of the request metrics). */
/** 'rest': TF Serving's REST API (/v1); 'grpc': its gRPC API; 'v2': the Open Inference Protocol (/v2). */
export type Protocol = 'rest' | 'grpc' | 'v2';

export type RestApi = 'predict' | 'classify' | 'regress' | 'multi_inference' | 'status' | 'metadata' | 'reload_config' | 'unknown';

const INFERENCE_APIS: ReadonlySet<RestApi> = new Set(['predict', 'classify', 'regress', 'multi_inference']);

/**
 * Events per second per key over the last `windowSeconds` whole seconds: a
 * ring of one-second buckets per key, so memory stays constant per key.
 */
export class RequestRates {
  private readonly rings = new Map<string, { second: Float64Array; count: Uint32Array }>();

  constructor(
    readonly windowSeconds = 60,
    private readonly nowMs: () => number = Date.now,
  ) {}

  record(key: string, n = 1): void {
    const now = Math.floor(this.nowMs() / 1000);
    let ring = this.rings.get(key);
    if (!ring) {
      ring = { second: new Float64Array(this.windowSeconds).fill(-1), count: new Uint32Array(this.windowSeconds) };
      this.rings.set(key, ring);
    }
    const slot = now % this.windowSeconds;
    if (ring.second[slot] !== now) {
      ring.second[slot] = now;
      ring.count[slot] = 0;
    }
    ring.count[slot] += n;
  }

  /** Mean events per second over the window ending now (0 for a key never recorded). */
  perSecond(key: string): number {
    const ring = this.rings.get(key);
    if (!ring) return 0;
    const now = Math.floor(this.nowMs() / 1000);
    let total = 0;
    for (let i = 0; i < this.windowSeconds; i++) {
      if (ring.second[i] > now - this.windowSeconds && ring.second[i] <= now) total += ring.count[i];
    }
    return total / this.windowSeconds;
  }
}

/** Told of every finished inference request (the rollout guard rails); `version` '' when none answered. */
export type InferenceListener = (model: string, version: string, ok: boolean, seconds: number) => void;

export class ServerMetrics {
  readonly registry = new client.Registry();
  /** Called for every inference request, after the metrics are counted. */
  readonly inferenceListeners: InferenceListener[] = [];
  /** Inference requests per second per model (last 60 s), for the management API. */
  readonly requestRates = new RequestRates(60);
  /** The last hour of inference requests per model and version, for the console's charts. */
  readonly stats: RequestStats;
  private readonly requests: client.Counter<'model' | 'version' | 'api' | 'status' | 'protocol'>;
  private readonly latency: client.Histogram<'model' | 'version' | 'api' | 'status' | 'protocol'>;
  private readonly loads: client.Counter<'model' | 'version' | 'status'>;
  private readonly loadLatency: client.Histogram<'model' | 'status'>;
  private readonly loadStarted = new Map<string, number>();
  private readonly batchSize: client.Histogram<'model'>;
  private readonly batchPadding: client.Histogram<'model'>;
  private readonly batchQueuing: client.Histogram<'model'>;

  constructor(monitor: ServableStateMonitor, options: { stats?: RequestStatsOptions } = {}) {
    this.stats = new RequestStats(options.stats);
    const registers = [this.registry];
    this.requests = new client.Counter({
      name: 'modelhost_requests_total',
      help: 'API requests, by model, version, API, TensorFlow status code and protocol (rest, grpc).',
      labelNames: ['model', 'version', 'api', 'status', 'protocol'],
      registers,
    });
    this.latency = new client.Histogram({
      name: 'modelhost_request_duration_seconds',
      help: 'API request latency (REST: from the first byte read to the last byte written; gRPC: from the decoded call to its answer).',
      labelNames: ['model', 'version', 'api', 'status', 'protocol'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.loads = new client.Counter({
      name: 'modelhost_model_load_attempts_total',
      help: 'Model version loads (including warm-up), by outcome; status != "OK" counts failures.',
      labelNames: ['model', 'version', 'status'],
      registers,
    });
    this.loadLatency = new client.Histogram({
      name: 'modelhost_model_load_duration_seconds',
      help: 'Time to load and warm up a model version.',
      labelNames: ['model', 'status'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers,
    });
    new client.Gauge({
      name: 'modelhost_model_versions',
      help: 'Model versions currently in each state (START, LOADING, AVAILABLE, UNLOADING, END).',
      labelNames: ['model', 'state'],
      registers,
      collect() {
        this.reset();
        for (const s of monitor.all()) this.inc({ model: s.name, state: s.state });
      },
    });
    const sizes = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];
    this.batchSize = new client.Histogram({
      name: 'modelhost_batch_size',
      help: 'Elements (dimension 0) per batch run by the dynamic batcher, before padding.',
      labelNames: ['model'],
      buckets: sizes,
      registers,
    });
    this.batchPadding = new client.Histogram({
      name: 'modelhost_batch_padding_size',
      help: 'Rows added to a batch to reach one of allowed_batch_sizes.',
      labelNames: ['model'],
      buckets: [0, ...sizes],
      registers,
    });
    this.batchQueuing = new client.Histogram({
      name: 'modelhost_batch_queuing_seconds',
      help: 'Time a request waited in the batching queue before its batch started.',
      labelNames: ['model'],
      buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    client.collectDefaultMetrics({ register: this.registry });
    monitor.subscribe((s) => this.onState(s));
  }

  observeRequest(model: string, version: string, api: RestApi, status: string, seconds: number, protocol: Protocol = 'rest'): void {
    const labels = { model, version, api, status, protocol };
    this.requests.inc(labels);
    this.latency.observe(labels, seconds);
    if (model !== '' && INFERENCE_APIS.has(api)) {
      this.requestRates.record(model);
      this.stats.record(model, version, protocol, status === 'OK', seconds);
      for (const listener of this.inferenceListeners) listener(model, version, status === 'OK', seconds);
    }
  }

  observeBatch(b: BatchReport): void {
    const labels = { model: b.model };
    this.batchSize.observe(labels, b.size);
    this.batchPadding.observe(labels, b.padding);
    for (const s of b.queuedSeconds) this.batchQueuing.observe(labels, s);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  private onState(s: ServableState): void {
    const key = `${s.name}\u0000${s.version}`;
    if (s.state === 'LOADING') {
      this.loadStarted.set(key, performance.now());
      return;
    }
    const started = this.loadStarted.get(key);
    if (started === undefined || (s.state !== 'AVAILABLE' && s.state !== 'END')) return;
    this.loadStarted.delete(key);
    const status = s.status.code;
    this.loads.inc({ model: s.name, version: String(s.version), status });
    this.loadLatency.observe({ model: s.name, status }, (performance.now() - started) / 1000);
  }
}
