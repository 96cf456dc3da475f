/**
 * Request logging, TF Serving's ServerRequestLogger + RequestLogger with a
 * TFRecord file collector: each model whose config has a `logging_config`
 * gets a logger; a request to it is sampled with probability sampling_rate
 * (uniform draw < rate, as TF's UniformSampler), and a sampled request that
 * succeeded is written as one tensorflow.serving.PredictionLog (PredictLog,
 * ClassifyLog, RegressLog or MultiInferenceLog with the request and response
 * protos, and LogMetadata: model_spec {name, version, signature_name},
 * sampling_config, saved_model_tags, timestamp_secs).
 *
 *   const sink = requestLog.sample('f_mnist');      // undefined: not logged
 *   ... run the request ...
 *   sink?.log('predict', request, response, { name, version, signatureName });
 *
 * Logging never fails or holds up a request: the record is encoded after the
 * caller returns (setImmediate) and queued to the model's file writer
 * (tfrecord_writer.ts), which drops and counts what does not fit. Models with
 * the same filename_prefix share one writer (one series of files).
 *
 * Metrics (in the server's Prometheus registry):
 *   modelhost_request_log_records_total{model}          records written to files
 *   modelhost_request_log_dropped_total{model,reason}   records dropped: queue_full, write_error, encode_error, closed
 *   modelhost_request_log_queue_bytes                    bytes queued or being written now
 */
import path from 'node:path';
import protobuf from 'protobufjs';
import client from 'prom-client';
import type { Logger } from '../../serving/log.js';
import type { ModelConfig, ModelLoggingConfig } from '../../serving/model_config.js';
import { protoType } from '../../runtime/proto/schema.js';
import { DEFAULT_SIGNATURE } from '../inference/predict.js';
import { resolveLogPrefix } from './logging_config.js';
import { TfRecordFileWriter, type DropReason } from './tfrecord_writer.js';
import { modelSpecMsg } from './messages.js';

/** Default --request_log_dir: request log files go under it. */
export const DEFAULT_REQUEST_LOG_DIR = 'request_logs';
/** Default --request_log_max_file_bytes: a file is rotated before it grows past this. */
export const DEFAULT_REQUEST_LOG_MAX_FILE_BYTES = 128 * 1024 * 1024;
/** Default --request_log_queue_bytes: records waiting to be written, at most. */
export const DEFAULT_REQUEST_LOG_QUEUE_BYTES = 64 * 1024 * 1024;

export interface RequestLogOptions {
  /** The request log folder (--request_log_dir); relative: against the working directory. */
  dir: string;
  maxFileBytes?: number;
  maxQueueBytes?: number;
  /** The MetaGraph tags models are loaded with (--saved_model_tags), written into each LogMetadata. */
  savedModelTags?: readonly string[];
  /** Where the request log metrics are registered (the server's /monitoring registry). */
  metricsRegistry?: client.Registry;
  log: Logger;
}

/** PredictionLog's log_type fields. */
export type LogKind = 'predict' | 'classify' | 'regress' | 'multiInference';

/** The version that answered, for LogMetadata.model_spec. */
export interface LoggedSpec {
  name: string;
  version: number;
  /** Signature that ran ("" or unset: serving_default); multi-inference leaves it unset, as TF Serving. */
  signatureName?: string;
}

export interface RequestLogSink {
  /**
   * Runs `build` (turning a request's tensors into protos, before they are
   * freed) and returns its result; if it throws, the call is not logged
   * (counted as encode_error) and undefined is returned: the request goes on.
   */
  capture<T>(build: () => T): T | undefined;
  /** Logs one answered request (protobufjs messages or plain objects of the request and response types). */
  log(kind: LogKind, request: object, response: object, spec: LoggedSpec): void;
}

interface ModelLogger {
  config: ModelLoggingConfig;
  writer: TfRecordFileWriter;
}

/**
 * A decoded message (a gRPC request, from the vendored protos' root) as a
 * plain object of the fields it has: copying the message itself would pick up
 * its prototype's defaults, and so set a oneof member it does not have.
 */
function plain(m: object): object {
  return m instanceof protobuf.Message ? m.$type.toObject(m) : m;
}

/** Throws INVALID_ARGUMENT when a model's log files would leave the request log folder `dir`. */
export function checkLoggingConfigs(models: readonly ModelConfig[], dir: string): void {
  for (const m of models) if (m.logging) resolveLogPrefix(m.logging.filenamePrefix, path.resolve(dir), m.name);
}

export class RequestLog {
  readonly dir: string;
  private readonly maxFileBytes: number;
  private readonly maxQueueBytes: number;
  private readonly tags: string[];
  private loggers = new Map<string, ModelLogger>();
  /** Writers by resolved prefix. */
  private writers = new Map<string, TfRecordFileWriter>();
  private closing: Promise<void>[] = [];
  private pending = 0;
  private idle: (() => void)[] = [];
  private closed = false;
  private readonly written?: client.Counter<'model'>;
  private readonly dropped?: client.Counter<'model' | 'reason'>;

  constructor(private readonly options: RequestLogOptions) {
    this.dir = path.resolve(options.dir);
    this.maxFileBytes = options.maxFileBytes ?? DEFAULT_REQUEST_LOG_MAX_FILE_BYTES;
    this.maxQueueBytes = options.maxQueueBytes ?? DEFAULT_REQUEST_LOG_QUEUE_BYTES;
    this.tags = [...(options.savedModelTags ?? ['serve'])];
    const registers = options.metricsRegistry ? [options.metricsRegistry] : [];
    if (registers.length > 0) {
      this.written = new client.Counter({
        name: 'modelhost_request_log_records_total',
        help: 'Request log records (PredictionLog) written to TFRecord files, by model.',
        labelNames: ['model'],
        registers,
      });
      this.dropped = new client.Counter({
        name: 'modelhost_request_log_dropped_total',
        help: 'Sampled requests whose log record was dropped, by model and reason (queue_full, write_error, encode_error, closed).',
        labelNames: ['model', 'reason'],
        registers,
      });
      const writers = () => this.writers;
      new client.Gauge({
        name: 'modelhost_request_log_queue_bytes',
        help: 'Bytes of request log records queued or being written now (bounded by --request_log_queue_bytes per file series).',
        registers,
        collect() {
          let total = 0;
          for (const w of writers().values()) total += w.queuedBytes;
          this.set(total);
        },
      });
    }
  }

  /** Throws INVALID_ARGUMENT when a model's logging config cannot be served (its files would leave the request log folder). */
  check(models: readonly ModelConfig[]): void {
    checkLoggingConfigs(models, this.dir);
  }

  /** Serves the logging configs of `models` from now on (checked first: on error nothing changes). */
  update(models: readonly ModelConfig[]): void {
    this.check(models);
    const loggers = new Map<string, ModelLogger>();
    const writers = new Map<string, TfRecordFileWriter>();
    for (const m of models) {
      if (!m.logging) continue;
      const prefix = resolveLogPrefix(m.logging.filenamePrefix, this.dir, m.name);
      let writer = writers.get(prefix) ?? this.writers.get(prefix);
      writer ??= new TfRecordFileWriter({
        prefix,
        root: this.dir,
        maxFileBytes: this.maxFileBytes,
        maxQueueBytes: this.maxQueueBytes,
        log: this.options.log,
        onWritten: (model, n) => this.written?.inc({ model }, n),
        onDropped: (model, reason) => this.drop(model, reason),
      });
      writers.set(prefix, writer);
      const before = this.loggers.get(m.name);
      if (!before || before.writer !== writer || before.config.samplingRate !== m.logging.samplingRate) {
        this.options.log.info(`Request logging for model ${m.name}: sampling rate ${m.logging.samplingRate}, to ${prefix}.*.tfrecord`);
      }
      loggers.set(m.name, { config: m.logging, writer });
    }
    // A removed series is closed once the records already logged to it are queued.
    for (const [prefix, writer] of this.writers) if (!writers.has(prefix)) this.closing.push(this.encoded().then(() => writer.close()));
    for (const name of this.loggers.keys()) if (!loggers.has(name)) this.options.log.info(`Request logging for model ${name}: off`);
    this.loggers = loggers;
    this.writers = writers;
  }

  /** A sink when this request of `model` is sampled; undefined otherwise (no logging config, or not drawn). */
  sample(model: string): RequestLogSink | undefined {
    const logger = this.loggers.get(model);
    if (!logger || !(Math.random() < logger.config.samplingRate)) return undefined;
    let failed = false;
    return {
      capture: <T>(build: () => T): T | undefined => {
        if (failed) return undefined;
        try {
          return build();
        } catch (e) {
          failed = true;
          this.drop(model, 'encode_error');
          this.options.log.error(`Request log: a request of model ${model} could not be turned into its log record: ${(e as Error).message}`);
          return undefined;
        }
      },
      log: (kind, request, response, spec) => {
        if (!failed) this.defer(logger, kind, request, response, spec);
      },
    };
  }

  /** Resolves once every record logged before the call is written or dropped. */
  async flush(): Promise<void> {
    await this.encoded();
    await Promise.all([...this.writers.values()].map((w) => w.flush()));
  }

  /** Resolves once the records logged so far are encoded and queued. */
  private async encoded(): Promise<void> {
    if (this.pending > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  /** Writes what is queued, fsyncs and closes every file; records logged later are dropped. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    await Promise.all([...this.writers.values()].map((w) => w.close()));
    await Promise.all(this.closing);
  }

  private drop(model: string, reason: DropReason | 'encode_error'): void {
    this.dropped?.inc({ model, reason });
  }

  /** Encodes and queues after the caller's answer is on its way. */
  private defer(logger: ModelLogger, kind: LogKind, request: object, response: object, spec: LoggedSpec): void {
    if (this.closed) return this.drop(spec.name, 'closed');
    this.pending++;
    setImmediate(() => {
      try {
        logger.writer.enqueue(this.encode(logger.config, kind, request, response, spec), spec.name);
      } catch (e) {
        this.drop(spec.name, 'encode_error');
        this.options.log.error(`Request log: a ${kind} record of model ${spec.name} could not be encoded: ${(e as Error).message}`);
      } finally {
        if (--this.pending === 0) for (const resolve of this.idle.splice(0)) resolve();
      }
    });
  }

  private encode(config: ModelLoggingConfig, kind: LogKind, request: object, response: object, spec: LoggedSpec): Uint8Array {
    const type = protoType('tensorflow.serving.PredictionLog');
    const signatureName = spec.signatureName === undefined ? undefined : spec.signatureName || DEFAULT_SIGNATURE;
    const message = type.fromObject({
      logMetadata: {
        modelSpec: modelSpecMsg(spec.name, { version: spec.version }, signatureName),
        samplingConfig: { samplingRate: config.samplingRate, attributes: config.attributes },
        savedModelTags: this.tags,
        timestampSecs: Math.floor(Date.now() / 1000),
      },
      [`${kind}Log`]: { request: plain(request), response: plain(response) },
    });
    return type.encode(message).finish();
  }
}
