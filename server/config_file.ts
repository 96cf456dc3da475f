/**
 * TF Serving's config files, in protobuf text format:
 *  - `--model_config_file`: a ModelServerConfig with a `model_config_list`
 *    (name, base_path, model_platform, model_version_policy, version_labels,
 *    logging_config: request logging, see server/request_log/logging_config.ts);
 *  - `--monitoring_config_file`: a MonitoringConfig (`prometheus_config`);
 *  - `--batching_parameters_file`: a BatchingParameters;
 *  - `--ssl_config_file`: an SSLConfig (PEM texts for the gRPC server's TLS).
 * A file that does not parse is an INVALID_ARGUMENT naming the file, with TF
 * Serving's wording ("Invalid protobuf file: '...'", "Error parsing
 * text-format tensorflow.serving.ModelServerConfig: <line:col>: ...").
 *
 * Relative base paths are resolved against the config file's folder; a
 * `file://` URI is its path; `s3://bucket/prefix` is object storage
 * (serving/object_store/); other schemes are refused.
 * The platform is read as TF Serving's server_core.cc GetPlatform does: from
 * model_platform or the deprecated model_type, exactly one of them.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { modelConfig, validateModelConfigs, type ModelConfig, type VersionPolicy } from '../serving/model_config.js';
import { invalidArgument, StatusError } from '../runtime/errors.js';
import { isObjectStoreUrl, normalizeS3Url } from '../serving/object_store/s3_url.js';
import { batchingParametersFrom, type BatchingParameters, type BatchingParametersMsg } from '../runtime/execution/batching_parameters.js';
import { int64ToNumber, type Int64Like } from '../runtime/proto/long.js';
import { protoType } from '../runtime/proto/schema.js';
import { parseTextProto } from '../runtime/proto/textformat.js';
import { loggingConfigFrom, type LoggingConfigMsg } from './request_log/logging_config.js';

/** TF Serving's PrometheusExporter::kPrometheusPath. */
export const DEFAULT_PROMETHEUS_PATH = '/monitoring/prometheus/metrics';

interface VersionPolicyMsg {
  latest?: { numVersions?: number } | null;
  latestOnce?: object | null;
  all?: object | null;
  specific?: { versions?: Int64Like[] } | null;
}

interface ModelConfigMsg {
  name?: string;
  basePath?: string;
  modelPlatform?: string;
  /** Deprecated ModelType enum: its name, or its number when unnamed. */
  modelType?: string | number;
  modelVersionPolicy?: VersionPolicyMsg | null;
  versionLabels?: Record<string, Int64Like>;
  loggingConfig?: LoggingConfigMsg | null;
}

export interface ModelServerConfigMsg {
  modelConfigList?: { config?: ModelConfigMsg[] } | null;
  customModelConfig?: object | null;
}

/** TF Serving's SSLConfig (ssl_config.proto): PEM texts and whether clients need a certificate. */
export interface SslConfig {
  serverKey: string;
  serverCert: string;
  /** "" when not given. */
  customCa: string;
  clientVerify: boolean;
}

interface MonitoringConfigMsg {
  prometheusConfig?: { enable?: boolean; path?: string } | null;
}

/** Parses text-format `text` as `typeName`, failing with TF Serving's texts. */
function parseConfigText(text: string, typeName: string, file: string): unknown {
  try {
    return parseTextProto(text, protoType(typeName), file);
  } catch (e) {
    const detail = e instanceof StatusError ? e.message : String(e);
    throw invalidArgument(`Invalid protobuf file: '${file}'. Error parsing text-format ${typeName}: ${detail}`);
  }
}

async function readConfigFile(file: string): Promise<string> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (e) {
    throw invalidArgument(`Could not read config file '${file}': ${(e as Error).message}`);
  }
}

function versionPolicyFrom(msg: VersionPolicyMsg | null | undefined, model: string): VersionPolicy {
  if (!msg) return { kind: 'latest', numVersions: 1 };
  if (msg.all) return { kind: 'all' };
  if (msg.specific) {
    const versions = (msg.specific.versions ?? []).map((v) => int64ToNumber(v, `version of model ${model}`));
    if (versions.length === 0) throw invalidArgument(`Model ${model}: a 'specific' version policy needs at least one version.`);
    return { kind: 'specific', versions };
  }
  if (msg.latest) return { kind: 'latest', numVersions: msg.latest.numVersions ?? 1 };
  return { kind: 'latest', numVersions: 1 };
}

/**
 * A base path from a flag or a config file as a local path: `file:///a/b` is
 * `/a/b`, `file://a/b` the relative `a/b`; `s3://bucket/prefix` is kept (in
 * its canonical spelling: resolveBasePath leaves it alone); any other URI
 * scheme (gs://, hdfs://...) is refused, as there is no such file system here.
 */
export function localBasePath(basePath: string, what: string): string {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(basePath);
  if (!scheme) return basePath;
  if (scheme[1].toLowerCase() === 'file') return basePath.slice(scheme[0].length);
  if (isObjectStoreUrl(basePath)) return normalizeS3Url(basePath, `${what}: base path`);
  throw invalidArgument(`${what}: base path ${basePath} uses the ${scheme[1]}:// file system, which modelhost cannot read: use a local path, file://, or s3:// (S3-compatible object storage; GCS has S3 interoperability).`);
}

/** A base path as the server keeps it: local paths absolute (relative ones against `baseDir`), s3:// URLs as they are. */
export function resolveBasePath(basePath: string, what: string, baseDir = '.'): string {
  const p = localBasePath(basePath, what);
  return isObjectStoreUrl(p) ? p : path.resolve(baseDir, p);
}

/** TF Serving's GetPlatform (server_core.cc): the platform of a config entry, from model_platform or the deprecated model_type. */
function platformOf(c: ModelConfigMsg, name: string): string {
  const type = c.modelType;
  if (type !== undefined && type !== 'MODEL_TYPE_UNSPECIFIED' && type !== 0) {
    if (c.modelPlatform) {
      throw invalidArgument(
        `Illegal setting both ModelServerConfig::model_type (deprecated) and ModelServerConfig::model_platform, model name is ${name}`,
      );
    }
    if (type === 'TENSORFLOW' || type === 1) return 'tensorflow';
    throw invalidArgument(`ModelServerConfig::model_type choice ${type === 'OTHER' ? 2 : type} not supported.`);
  }
  if (!c.modelPlatform) {
    throw invalidArgument(
      `Illegal setting neither ModelServerConfig::model_type (deprecated) nor ModelServerConfig::model_platform, model name is ${name}`,
    );
  }
  return c.modelPlatform;
}

/** The models a ModelServerConfig text lists; `file` names it in errors and anchors relative paths. */
export function parseModelServerConfig(text: string, file: string): ModelConfig[] {
  const msg = parseConfigText(text, 'tensorflow.serving.ModelServerConfig', file) as ModelServerConfigMsg;
  if (msg.customModelConfig) throw invalidArgument(`'${file}': custom_model_config is not supported; use model_config_list.`);
  try {
    return modelConfigsFromMessage(msg, path.dirname(path.resolve(file)), `'${file}'`);
  } catch (e) {
    throw invalidArgument(`'${file}': ${(e as Error).message}`);
  }
}

/**
 * The validated models of a decoded ModelServerConfig's model_config_list
 * (also from gRPC's HandleReloadConfigRequest); relative base paths are
 * resolved against `baseDir`.
 */
export function modelConfigsFromMessage(msg: ModelServerConfigMsg, baseDir: string, source = `'${baseDir}'`): ModelConfig[] {
  const entries = msg.modelConfigList?.config ?? [];
  // server_core.cc's ValidateModelConfigList (unique names) runs before any entry's platform is read.
  const seen = new Set<string>();
  for (const c of entries) {
    if (seen.has(c.name ?? '')) throw invalidArgument(`Illegal to list model ${c.name ?? ''} multiple times in config list`);
    seen.add(c.name ?? '');
  }
  const models = entries.map((c) => {
    const name = c.name ?? '';
    const labels = Object.fromEntries(
      Object.entries(c.versionLabels ?? {}).map(([label, v]) => [label, int64ToNumber(v, `version label ${label}`)]),
    );
    const basePath = c.basePath ? resolveBasePath(c.basePath, `${source}: model ${name}`, baseDir) : '';
    return modelConfig(name, basePath, {
      platform: platformOf(c, name),
      versionPolicy: versionPolicyFrom(c.modelVersionPolicy, name),
      ...(c.modelVersionPolicy ? { versionPolicyExplicit: true } : {}),
      versionLabels: labels,
      ...(c.loggingConfig ? { logging: loggingConfigFrom(c.loggingConfig, name) } : {}),
    });
  });
  validateModelConfigs(models);
  return models;
}

export async function readModelServerConfig(file: string): Promise<ModelConfig[]> {
  return parseModelServerConfig(await readConfigFile(file), file);
}

/** The Prometheus path a MonitoringConfig enables, or undefined when it enables none. */
export async function readMonitoringConfig(file: string): Promise<string | undefined> {
  const msg = parseConfigText(await readConfigFile(file), 'tensorflow.serving.MonitoringConfig', file) as MonitoringConfigMsg;
  const prometheus = msg.prometheusConfig;
  if (!prometheus?.enable) return undefined;
  return prometheus.path || DEFAULT_PROMETHEUS_PATH;
}

/** TF Serving's per-model batching file, read with --enable_per_model_batching_params. */
export const PER_MODEL_BATCHING_FILE = 'batching_params.pbtxt';

/** The batching parameters in `{versionDir}/batching_params.pbtxt`, or undefined when there is none. */
export async function perModelBatchingParameters(versionDir: string): Promise<BatchingParameters | undefined> {
  const file = path.join(versionDir, PER_MODEL_BATCHING_FILE);
  try {
    await fs.access(file);
  } catch {
    return undefined;
  }
  return readBatchingParameters(file);
}

/** The dynamic batching options a BatchingParameters file sets (TF Serving's defaults for the rest). */
export async function readBatchingParameters(file: string): Promise<BatchingParameters> {
  const msg = parseConfigText(await readConfigFile(file), 'tensorflow.serving.BatchingParameters', file) as BatchingParametersMsg;
  return batchingParametersFrom(msg, `'${file}'`);
}

/**
 * The SSLConfig text file of --ssl_config_file (read as TF Serving's
 * BuildServerCredentials reads it). A file without server_key or
 * server_cert is refused here, naming the file (TF Serving would start a
 * server whose every handshake fails).
 */
export async function readSslConfig(file: string): Promise<SslConfig> {
  const msg = parseConfigText(await readConfigFile(file), 'tensorflow.serving.SSLConfig', file) as Partial<SslConfig>;
  const config: SslConfig = {
    serverKey: msg.serverKey ?? '',
    serverCert: msg.serverCert ?? '',
    customCa: msg.customCa ?? '',
    clientVerify: msg.clientVerify ?? false,
  };
  const missing = (['server_key', 'server_cert'] as const).filter((f) => (f === 'server_key' ? config.serverKey : config.serverCert) === '');
  if (missing.length > 0) throw invalidArgument(`'${file}': the SSLConfig has no ${missing.join(' and no ')}; both are needed (PEM text).`);
  if (config.clientVerify && config.customCa === '') {
    throw invalidArgument(`'${file}': client_verify is set but custom_ca is empty: give the PEM certificate authority that signs the client certificates.`);
  }
  return config;
}
