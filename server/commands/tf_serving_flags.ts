/**
 * TensorFlow Serving's model server flags (tensorflow_serving/model_servers/
 * main.cc) that `modelhost serve` accepts so a TF Serving command line or
 * Kubernetes manifest starts it unchanged, but that have no effect here: they
 * tune TensorFlow internals (thread pools, GPU, XLA, TFLite, TPU) or ask for
 * ALTS, which grpc-js lacks. Each is parsed and validated as TF Serving types it; the ones
 * given are logged once at startup (`noEffectLogLine`). The flags with a
 * meaning here live in serve.ts. docs/PROTOCOLS.md has the full table.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { packageRoot } from '../../runtime/package_root.js';

type FlagType = 'bool' | 'int' | 'float' | 'string';

interface NoEffectFlag {
  name: string;
  type: FlagType;
  /** TF Serving's default, as its help prints it. */
  tfDefault: string;
  /** TF Serving's meaning, shortened. */
  help: string;
  /** Why it changes nothing in modelhost. */
  why: string;
  /** Parser beyond the type's own. */
  parse?: (value: string) => unknown;
}

/** One gRPC channel argument: an int32 value when it parses as one, else the string (as TF Serving's server.cc). */
export interface GrpcChannelArgument {
  key: string;
  value: number | string;
}

const INT32_RE = /^[+-]?\d+$/;

/**
 * --grpc_channel_arguments: "key=value,key=value" (e.g.
 * grpc.max_connection_age_ms=2000), split as TF Serving's
 * parseGrpcChannelArgs; an item without "=" or with an empty key is refused
 * (TF Serving would crash on it).
 */
export function parseGrpcChannelArguments(text: string): GrpcChannelArgument[] {
  if (text.trim() === '') return [];
  return text.split(',').map((item) => {
    const eq = item.indexOf('=');
    const key = eq < 0 ? '' : item.slice(0, eq).trim();
    if (key === '') throw new InvalidArgumentError(`expected key=value pairs separated by commas (e.g. grpc.max_connection_age_ms=2000); got "${item}".`);
    const raw = item.slice(eq + 1).trim();
    const n = Number(raw);
    const isInt32 = INT32_RE.test(raw) && n >= -(2 ** 31) && n < 2 ** 31;
    return { key, value: isInt32 ? n : raw };
  });
}

const TF_INTERNALS = 'TensorFlow runtime internal';
const NO_ALTS = 'ALTS (Google Cloud only) is not available in @grpc/grpc-js; use --ssl_config_file for TLS';

/** Every accepted TF Serving flag without an effect here, in main.cc's order. */
export const NO_EFFECT_FLAGS: readonly NoEffectFlag[] = [
  { name: 'rest_api_num_threads', type: 'int', tfDefault: '4 x CPUs', help: 'threads for HTTP/REST processing', why: 'the REST API runs on the Node.js event loop; --inference_threads sizes the model workers' },
  { name: 'num_load_threads', type: 'int', tfDefault: '0', help: 'threads loading servables', why: TF_INTERNALS },
  { name: 'num_unload_threads', type: 'int', tfDefault: '0', help: 'threads unloading servables', why: TF_INTERNALS },
  { name: 'flush_filesystem_caches', type: 'bool', tfDefault: 'true', help: 'flush file system caches after loads', why: TF_INTERNALS },
  { name: 'tensorflow_session_parallelism', type: 'int', tfDefault: '0', help: 'threads of a TensorFlow session', why: TF_INTERNALS },
  { name: 'tensorflow_session_config_file', type: 'string', tfDefault: '""', help: 'TensorFlow Session ConfigProto file', why: TF_INTERNALS },
  { name: 'tensorflow_intra_op_parallelism', type: 'int', tfDefault: '0', help: 'threads inside one op', why: TF_INTERNALS },
  { name: 'tensorflow_inter_op_parallelism', type: 'int', tfDefault: '0', help: 'ops run at once', why: TF_INTERNALS },
  { name: 'use_alts_credentials', type: 'bool', tfDefault: 'false', help: 'Google ALTS credentials for gRPC', why: NO_ALTS },
  { name: 'platform_config_file', type: 'string', tfDefault: '""', help: 'PlatformConfigMap replacing the TensorFlow platform', why: TF_INTERNALS },
  { name: 'per_process_gpu_memory_fraction', type: 'float', tfDefault: '0', help: 'share of GPU memory', why: 'no GPU (WASM backend)' },
  { name: 'grpc_max_threads', type: 'int', tfDefault: '4 x CPUs', help: 'gRPC server threads', why: TF_INTERNALS },
  { name: 'remove_unused_fields_from_bundle_metagraph', type: 'bool', tfDefault: 'true', help: 'drop unused MetaGraphDef fields', why: TF_INTERNALS },
  { name: 'prefer_tflite_model', type: 'bool', tfDefault: 'false', help: 'serve model.tflite instead of saved_model.pb', why: 'no TFLite runtime' },
  { name: 'num_tflite_pools', type: 'int', tfDefault: 'CPUs', help: 'TFLite interpreter pools', why: 'no TFLite runtime' },
  { name: 'num_tflite_interpreters_per_pool', type: 'int', tfDefault: '1', help: 'TFLite interpreters per pool', why: 'no TFLite runtime' },
  { name: 'xla_cpu_compilation_enabled', type: 'bool', tfDefault: 'false', help: 'XLA:CPU JIT', why: 'no XLA' },
  { name: 'xla_gpu_compilation_enabled', type: 'bool', tfDefault: 'false', help: 'XLA:CPU and XLA:GPU JIT', why: 'no XLA' },
  { name: 'enable_profiler', type: 'bool', tfDefault: 'true', help: 'profiler service', why: TF_INTERNALS },
  { name: 'thread_pool_factory_config_file', type: 'string', tfDefault: '""', help: 'ThreadPoolConfig file', why: TF_INTERNALS },
  { name: 'mixed_precision', type: 'string', tfDefault: '""', help: 'mixed precision mode', why: TF_INTERNALS },
  { name: 'skip_initialize_tpu', type: 'bool', tfDefault: 'false', help: 'skip TPU initialisation', why: 'no TPU' },
];

const INT_RE = /^[+-]?\d+$/;

/** TF's bool flag: --f, --f=true/false (also 1/0). */
export function tfBool(value: string | undefined): boolean {
  if (value === undefined || value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new InvalidArgumentError('expected true or false.');
}

export function tfInt(value: string): number {
  const n = Number(value);
  if (!INT_RE.test(value.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('expected a whole number.');
  return n;
}

function tfFloat(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('expected a number.');
  return n;
}

function parserFor(type: FlagType): ((value: string) => unknown) | undefined {
  if (type === 'bool') return tfBool;
  if (type === 'int') return tfInt;
  if (type === 'float') return tfFloat;
  return undefined;
}

/** Adds every NO_EFFECT_FLAGS entry to `command`, without a default (so "given" is "not undefined"). */
export function addNoEffectFlags(command: Command): void {
  for (const f of NO_EFFECT_FLAGS) {
    const arg = f.type === 'bool' ? '[bool]' : f.type === 'string' ? '<value>' : '<n>';
    const option = new Option(`--${f.name} ${arg}`, `TF Serving: ${f.help} (default ${f.tfDefault}); accepted, no effect here: ${f.why}`);
    const parse = f.parse ?? parserFor(f.type);
    if (parse) option.argParser(parse);
    command.addOption(option);
  }
}

/** The one startup log line naming the no-effect flags given, or undefined when none was. */
export function noEffectLogLine(flags: Readonly<Record<string, unknown>>): string | undefined {
  const given = NO_EFFECT_FLAGS.filter((f) => flags[f.name] !== undefined).map((f) => `--${f.name}`);
  if (given.length === 0) return undefined;
  return `TensorFlow Serving flags accepted with no effect here (see docs/PROTOCOLS.md): ${given.join(' ')}`;
}

/** What `--version` prints (TF Serving prints "TensorFlow ModelServer: <version>"). */
export function versionText(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string };
  return `modelhost ${pkg.version} (TensorFlow Serving-compatible model server)`;
}
