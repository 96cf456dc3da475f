/**
 * What the server is told to serve: one entry per model, as in TF Serving's
 * ModelConfig (tensorflow_serving/config/model_server_config.proto), reduced
 * to the fields modelhost acts on. Built from flags, from a config file
 * (server/config_file.ts) or from the sub-folders of a models directory.
 */
import { invalidArgument } from '../runtime/errors.js';

/** Which numbered versions under a base path should be served. */
export type VersionPolicy =
  | { kind: 'latest'; numVersions: number }
  | { kind: 'all' }
  | { kind: 'specific'; versions: number[] };

export interface ModelConfig {
  name: string;
  /** Absolute path of the folder holding the numbered version folders. */
  basePath: string;
  /** Only "tensorflow" is served. */
  platform: string;
  versionPolicy: VersionPolicy;
  /**
   * True when the policy was named explicitly (a config file's
   * model_version_policy). The registry treats a model without one
   * differently: every valid version stays addressable (registry/load_set.ts).
   */
  versionPolicyExplicit?: boolean;
  /** Label → version number ("stable" → 2). */
  versionLabels: Record<string, number>;
  /** The config's logging_config (request logging, acted on by server/request_log/); unset: requests are not logged. */
  logging?: ModelLoggingConfig;
}

/** TF Serving's LoggingConfig of one model, checked (sampling rate in [0, 1], a known collector type). */
export interface ModelLoggingConfig {
  /** log_collector_config.type: "" or "file" (TFRecord files). */
  collectorType: string;
  /** log_collector_config.filename_prefix as written; server/request_log/ resolves it under --request_log_dir. */
  filenamePrefix: string;
  /** The rate in force: sampling_config.sampling_rate, or the first per_task_sampling_configs rule that matches. */
  samplingRate: number;
  /** sampling_config.attributes (bitwise OR of SamplingConfig.Attributes), copied into each record's LogMetadata. */
  attributes: number;
}

/** TF Serving's default: serve only the highest version. */
export const DEFAULT_VERSION_POLICY: VersionPolicy = { kind: 'latest', numVersions: 1 };

export function modelConfig(name: string, basePath: string, extra: Partial<ModelConfig> = {}): ModelConfig {
  return {
    name,
    basePath,
    platform: 'tensorflow',
    versionPolicy: DEFAULT_VERSION_POLICY,
    versionLabels: {},
    ...extra,
  };
}

/** Rejects a config list the server cannot act on (TF Serving's ValidateModelConfigList and more). */
export function validateModelConfigs(configs: readonly ModelConfig[]): void {
  const names = new Set<string>();
  for (const c of configs) {
    if (!c.name) throw invalidArgument('Every model in the config needs a name.');
    if (/[/:]/.test(c.name)) {
      throw invalidArgument(`Model name "${c.name}" cannot be served over REST: it contains "/" or ":".`);
    }
    if (names.has(c.name)) throw invalidArgument(`Illegal to list model ${c.name} multiple times in config list`);
    names.add(c.name);
    if (!c.basePath) throw invalidArgument(`Model ${c.name} has no base_path.`);
    if (c.platform !== 'tensorflow') {
      throw invalidArgument(`Model ${c.name} requests unsupported platform ${c.platform}`);
    }
    for (const [label, version] of Object.entries(c.versionLabels)) {
      if (!Number.isSafeInteger(version) || version < 0) {
        throw invalidArgument(`Label ${label} of model ${c.name} points at an invalid version: ${version}`);
      }
    }
  }
}
