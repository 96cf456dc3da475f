/**
 * TF Serving's per-model `logging_config` (tensorflow_serving/config/
 * logging_config.proto) in a model_config_list entry, checked, and the rule
 * that keeps request log files inside one folder.
 *
 *   config {
 *     name: "f_mnist" base_path: "/models/f_mnist"
 *     logging_config {
 *       log_collector_config { type: "file" filename_prefix: "f_mnist/requests" }
 *       sampling_config { sampling_rate: 0.1 }
 *     }
 *   }
 *
 * TF Serving's open-source server registers no LogCollector (a logging_config
 * there fails with "No request-logger-creator provided."); modelhost's
 * collector, type "" or "file", writes TFRecord files of PredictionLog
 * (server/request_log/request_logger.ts).
 *
 * The path rule (resolveLogPrefix): every file lives under the request log
 * folder (--request_log_dir). A relative filename_prefix is taken under it; an
 * absolute one must already point inside it; a `..` segment is refused
 * anywhere, and so is an empty prefix or one ending in a separator (the last
 * segment is the start of the file names). Symbolic links are checked when a
 * file is opened (TfRecordFileWriter): a folder that resolves outside the
 * request log folder is refused then.
 */
import path from 'node:path';
import type { ModelLoggingConfig } from '../../serving/model_config.js';
import { invalidArgument } from '../../runtime/errors.js';

/** Collector types modelhost writes: both mean TFRecord files of PredictionLog. */
export const LOG_COLLECTOR_TYPES: readonly string[] = ['', 'file'];

export interface LoggingConfigMsg {
  logCollectorConfig?: { type?: string; filenamePrefix?: string } | null;
  samplingConfig?: {
    samplingRate?: number;
    attributes?: number;
    perTaskSamplingConfigs?: { dc?: string; taskIndex?: number | null; samplingRate?: number }[];
  } | null;
  customLoggingConfig?: object | null;
}

function checkRate(rate: number, what: string, model: string): number {
  if (!Number.isFinite(rate) || rate < 0 || rate > 1) {
    throw invalidArgument(`Model ${model}: ${what} is ${rate}; a sampling rate must be in [0, 1] (0: log nothing, 1: log every request).`);
  }
  return rate;
}

/**
 * The checked logging config of `model`. A per_task_sampling_configs rule
 * applies as in TF Serving's RequestLogger, for a server with no data centre
 * and no task index: the first rule naming neither replaces sampling_rate;
 * rules naming a dc or a task_index never match here.
 */
export function loggingConfigFrom(msg: LoggingConfigMsg, model: string): ModelLoggingConfig {
  if (msg.customLoggingConfig) throw invalidArgument(`Model ${model}: logging_config.custom_logging_config is not supported.`);
  const collector = msg.logCollectorConfig ?? {};
  const collectorType = collector.type ?? '';
  if (!LOG_COLLECTOR_TYPES.includes(collectorType)) {
    throw invalidArgument(
      `Model ${model}: Cannot find LogCollector::Factory for type: ${collectorType}. modelhost writes TFRecord files of PredictionLog: use type "file" (or leave it empty).`,
    );
  }
  const filenamePrefix = collector.filenamePrefix ?? '';
  checkPrefixText(filenamePrefix, model);
  const sampling = msg.samplingConfig ?? {};
  let samplingRate = checkRate(sampling.samplingRate ?? 0, 'sampling_config.sampling_rate', model);
  for (const [i, rule] of (sampling.perTaskSamplingConfigs ?? []).entries()) {
    const rate = checkRate(rule.samplingRate ?? 0, `per_task_sampling_configs[${i}].sampling_rate`, model);
    const matches = !rule.dc && (rule.taskIndex === undefined || rule.taskIndex === null);
    if (matches) {
      samplingRate = rate;
      break;
    }
  }
  return { collectorType, filenamePrefix, samplingRate, attributes: sampling.attributes ?? 0 };
}

const segments = (p: string) => p.split(/[/\\]/);

/** The checks that need no folder: not empty, no NUL, no `..`, a file-name stem at the end. */
function checkPrefixText(prefix: string, model: string): void {
  const what = `Model ${model}: logging_config.log_collector_config.filename_prefix`;
  if (prefix === '') throw invalidArgument(`${what} is empty; name the log files, e.g. "${model}/requests".`);
  if (prefix.includes('\0')) throw invalidArgument(`${what} contains a NUL character.`);
  if (segments(prefix).includes('..')) {
    throw invalidArgument(`${what} "${prefix}" contains "..": request logs stay inside the request log folder (--request_log_dir).`);
  }
  const last = segments(prefix).at(-1);
  if (last === '' || last === '.') {
    throw invalidArgument(`${what} "${prefix}" ends in a folder; end it with the start of the file names, e.g. "${prefix.replace(/[/\\.]*$/, '')}/requests".`);
  }
}

/**
 * The absolute path prefix of a model's log files under `root` (the request
 * log folder, absolute): a relative prefix is taken under it, an absolute one
 * must lie inside it. Throws INVALID_ARGUMENT naming the model otherwise.
 */
export function resolveLogPrefix(prefix: string, root: string, model: string): string {
  checkPrefixText(prefix, model);
  const base = path.resolve(root);
  const resolved = path.isAbsolute(prefix) ? path.resolve(prefix) : path.resolve(base, prefix);
  // The files are `<prefix>.<...>.tfrecord` beside the prefix: its folder must be the log folder or below it.
  if (!isInside(path.dirname(resolved), base)) {
    throw invalidArgument(
      `Model ${model}: logging_config.log_collector_config.filename_prefix "${prefix}" is outside the request log folder ${base} (--request_log_dir); use a path relative to it.`,
    );
  }
  return resolved;
}

/** True when `p` is `dir` itself or below it (both absolute and normalised). */
export function isInside(p: string, dir: string): boolean {
  const rel = path.relative(dir, p);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}
