// TF Serving's command line starts `modelhost serve` unchanged (issue 15): the
// built binary with TF Serving's documented flags plus every other flag of
// tensorflow_serving/model_servers/main.cc at typical Kubernetes values,
// `--version`, hostile flag values, `file://` base paths, the deprecated
// model_type refused next to model_platform and an entry with neither, as
// server_core.cc refuses them, and a bad --ssl_config_file.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { protoClient } from '../grpc_client.js';
import { FIXTURES, waitFor } from '../helpers.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const BIN = path.join(ROOT, 'bin/modelhost.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-tfflags-'));
const running: ChildProcess[] = [];

interface Run {
  proc: ChildProcess;
  output: () => string;
  exit: Promise<number | null>;
}

/** `modelhost serve <args>` exactly as given, in `cwd` (a temp folder: the default registry file lands there). */
function serve(args: string[], cwd = tmp): Run {
  const proc = spawn(process.execPath, [BIN, 'serve', ...args], { cwd });
  running.push(proc);
  let output = '';
  proc.stdout!.on('data', (d) => (output += d));
  proc.stderr!.on('data', (d) => (output += d));
  const exit = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return { proc, output: () => output, exit };
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

afterEach(() => {
  for (const p of running.splice(0)) if (p.exitCode === null) p.kill('SIGKILL');
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const post = async (url: string, body: object) => {
  const res = await fetch(url, { method: 'POST', body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
};

/** Every main.cc flag not otherwise given below, at the values a Kubernetes manifest typically sets. */
const KUBERNETES_FLAGS = [
  '--grpc_max_threads=16',
  '--rest_api_num_threads=16',
  '--rest_api_timeout_in_ms=30000',
  '--rest_api_enable_cors_support=false',
  '--enable_batching=false',
  '--allow_version_labels_for_unavailable_models=false',
  '--enable_per_model_batching_parameters=false',
  '--num_load_threads=0',
  '--num_unload_threads=0',
  '--max_num_load_retries=5',
  '--load_retry_interval_micros=60000000',
  '--file_system_poll_wait_seconds=1',
  '--flush_filesystem_caches=true',
  '--tensorflow_session_parallelism=0',
  '--tensorflow_intra_op_parallelism=0',
  '--tensorflow_inter_op_parallelism=0',
  '--use_alts_credentials=false',
  '--per_process_gpu_memory_fraction=0.5',
  '--saved_model_tags=serve',
  '--grpc_channel_arguments=grpc.max_connection_age_ms=2000,grpc.max_receive_message_length=104857600',
  '--enable_model_warmup=true',
  '--num_request_iterations_for_warmup=0',
  `--monitoring_config_file=${path.join(FIXTURES, 'monitoring_config.txt')}`,
  '--remove_unused_fields_from_bundle_metagraph=true',
  '--prefer_tflite_model=false',
  '--num_tflite_pools=2',
  '--num_tflite_interpreters_per_pool=1',
  '--enable_signature_method_name_check=false',
  '--xla_cpu_compilation_enabled=false',
  '--xla_gpu_compilation_enabled=false',
  '--enable_profiler=true',
  '--mixed_precision=bfloat16',
  '--skip_initialize_tpu=false',
  '--enable_grpc_healthcheck_service=true',
  '--enable_serialization_as_tensor_content=false',
  '--model_config_file_poll_wait_seconds=0',
  '--platform_config_file=',
  '--tensorflow_session_config_file=',
  '--thread_pool_factory_config_file=',
  `--grpc_socket_path=${path.join(tmp, 'k8s.sock')}`,
];

describe('a TF Serving command line', () => {
  it('starts unchanged with a file:// base path and every main.cc flag, logs the no-effect ones once, and serves', async () => {
    const [grpcPort, restPort] = [await freePort(), await freePort()];
    const base = `file://${path.join(FIXTURES, 'saved_model_half_plus_two_cpu')}`;
    const s = serve([`--port=${grpcPort}`, `--rest_api_port=${restPort}`, '--model_name=half', `--model_base_path=${base}`, ...KUBERNETES_FLAGS]);
    await waitFor('the server to listen', () => {
      if (s.proc.exitCode !== null) throw new Error(`server exited: ${s.output()}`);
      return s.output().includes(`:${restPort}`);
    }, 60_000);
    const url = `http://127.0.0.1:${restPort}`;
    expect(await post(`${url}/v1/models/half:predict`, { instances: [1.0, 2.0, 5.0] })).toEqual({ status: 200, body: { predictions: [2.5, 3.0, 4.5] } });
    const metrics = await fetch(`${url}/monitoring/prometheus/metrics`);
    expect(metrics.status).toBe(200);
    // A Kubernetes gRPC probe (--enable_grpc_healthcheck_service=true), on the port and on the socket.
    for (const address of [`127.0.0.1:${grpcPort}`, `unix:${path.join(tmp, 'k8s.sock')}`]) {
      const health = protoClient<grpc.Client & { Check: (req: object, cb: (err: Error | null, res: object) => void) => void }>(
        'health/v1/health.proto',
        'grpc.health.v1.Health',
        address,
      );
      const res = await new Promise((resolve, reject) => health.Check({ service: '' }, (err, r) => (err ? reject(err) : resolve(r))));
      health.close();
      expect(res).toEqual({ status: 'SERVING' });
    }

    const lines = s.output().split('\n').filter((l) => l.includes('flags accepted with no effect here'));
    expect(lines).toHaveLength(1);
    for (const flag of ['--grpc_max_threads', '--per_process_gpu_memory_fraction', '--xla_cpu_compilation_enabled', '--num_tflite_pools', '--tensorflow_intra_op_parallelism']) {
      expect(lines[0]).toContain(flag);
    }
    // Flags with a meaning here are not in that line.
    for (const flag of ['--enable_batching', '--rest_api_timeout_in_ms', '--enable_signature_method_name_check', '--saved_model_tags']) {
      expect(lines[0]).not.toContain(`${flag} `);
    }
    s.proc.kill('SIGTERM');
    expect(await s.exit).toBe(0);
  });

  it('--version prints the version and exits 0 without serving', async () => {
    const version = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version as string;
    const s = serve(['--version', '--rest_api_port=1']);
    expect(await s.exit).toBe(0);
    expect(s.output()).toContain(`modelhost ${version}`);
    expect(s.output()).not.toContain('Exporting');
  });

  it.each([
    ['--grpc_max_threads=lots', 'expected a whole number'],
    ['--per_process_gpu_memory_fraction=half', 'expected a number'],
    ['--xla_cpu_compilation_enabled=maybe', 'expected true or false'],
    ['--enable_signature_method_name_check=yes', 'expected true or false'],
    ['--max_num_load_retries=1.5', 'expected a whole number'],
    ['--grpc_channel_arguments=grpc.max_connection_age_ms', 'expected key=value pairs separated by commas'],
    ['--grpc_channel_arguments==5', 'expected key=value pairs separated by commas'],
  ])('refuses %s with a clear error', async (flag, message) => {
    const s = serve([flag, '--port=0', '--rest_api_port=0', '--registry_path=:memory:']);
    expect(await s.exit).not.toBe(0);
    expect(s.output()).toContain(message);
  });

  it('refuses a base path on a file system modelhost does not have', async () => {
    const s = serve(['--port=0', '--rest_api_port=0', '--registry_path=:memory:', '--model_name=m', '--model_base_path=gs://bucket/models/m']);
    expect(await s.exit).not.toBe(0);
    expect(s.output()).toContain('uses the gs:// file system, which modelhost cannot read');
  });
});

describe('model config files', () => {
  function config(name: string, entry: string): string {
    const file = path.join(tmp, name);
    fs.writeFileSync(file, `model_config_list { config { name: "half" ${entry} } }`);
    return file;
  }

  it('refuses model_type next to model_platform with TF Serving\'s text', async () => {
    const base = path.join(FIXTURES, 'saved_model_half_plus_two_cpu');
    const file = config('both.conf', `base_path: "${base}" model_type: TENSORFLOW model_platform: "tensorflow"`);
    const s = serve(['--port=0', '--rest_api_port=0', '--registry_path=:memory:', `--model_config_file=${file}`]);
    expect(await s.exit).not.toBe(0);
    expect(s.output()).toContain(
      'Illegal setting both ModelServerConfig::model_type (deprecated) and ModelServerConfig::model_platform, model name is half',
    );
  });

  it('refuses an entry with neither model_type nor model_platform with TF Serving\'s text', async () => {
    const file = config('neither.conf', `base_path: "${path.join(FIXTURES, 'saved_model_half_plus_two_cpu')}"`);
    const s = serve(['--port=0', '--rest_api_port=0', '--registry_path=:memory:', `--model_config_file=${file}`]);
    expect(await s.exit).not.toBe(0);
    expect(s.output()).toContain(
      'Illegal setting neither ModelServerConfig::model_type (deprecated) nor ModelServerConfig::model_platform, model name is half',
    );
  });

  it('serves a file:// base path and the deprecated model_type: TENSORFLOW alone', async () => {
    const base = `file://${path.join(FIXTURES, 'saved_model_half_plus_two_cpu')}`;
    const file = config('type.conf', `base_path: "${base}" model_type: TENSORFLOW`);
    const restPort = await freePort();
    const s = serve(['--port=0', `--rest_api_port=${restPort}`, '--rest_api_host=127.0.0.1', '--registry_path=:memory:', `--model_config_file=${file}`]);
    await waitFor('the server to listen', () => {
      if (s.proc.exitCode !== null) throw new Error(`server exited: ${s.output()}`);
      return s.output().includes(`:${restPort}`);
    }, 60_000);
    expect(await post(`http://127.0.0.1:${restPort}/v1/models/half:predict`, { instances: [2.0] })).toEqual({ status: 200, body: { predictions: [3.0] } });
    s.proc.kill('SIGTERM');
    expect(await s.exit).toBe(0);
  });
});

describe('--ssl_config_file', () => {
  const args = ['--port=0', '--rest_api_port=0', '--registry_path=:memory:', `--model_name=half`, `--model_base_path=${path.join(FIXTURES, 'saved_model_half_plus_two_cpu')}`];

  it('stops at startup on a missing file, naming it', async () => {
    const file = path.join(tmp, 'no-such-ssl.conf');
    const s = serve([...args, `--ssl_config_file=${file}`]);
    expect(await s.exit).not.toBe(0);
    expect(s.output()).toContain(`Could not read config file '${file}'`);
    expect(s.output()).not.toContain('Exporting');
  });

  it('stops at startup on a file that is not an SSLConfig, or whose PEM is unusable, naming it', async () => {
    const garbled = path.join(tmp, 'garbled-ssl.conf');
    fs.writeFileSync(garbled, 'server_key: "k"\nserver_certificate: "c"\n');
    const s1 = serve([...args, `--ssl_config_file=${garbled}`]);
    expect(await s1.exit).not.toBe(0);
    expect(s1.output()).toContain(`Invalid protobuf file: '${garbled}'. Error parsing text-format tensorflow.serving.SSLConfig`);

    const notPem = path.join(tmp, 'not-pem-ssl.conf');
    fs.writeFileSync(notPem, 'server_key: "not a key" server_cert: "not a certificate"');
    const s2 = serve([...args, `--ssl_config_file=${notPem}`]);
    expect(await s2.exit).not.toBe(0);
    expect(s2.output()).toContain(`'${notPem}': the SSLConfig's server_key, server_cert or custom_ca is not usable PEM`);
  });

  it('refuses it together with --use_alts_credentials, as TF Serving does', async () => {
    const s = serve([...args, '--use_alts_credentials=true', `--ssl_config_file=${path.join(tmp, 'any.conf')}`]);
    expect(await s.exit).not.toBe(0);
    expect(s.output()).toContain('Either use_alts_credentials must be false or ssl_config_file must be empty.');
  });
});

describe('--grpc_channel_arguments', () => {
  it('splits key=value pairs as TF Serving does, int32 values as numbers', async () => {
    const { parseGrpcChannelArguments } = await import('../../../server/commands/tf_serving_flags.js');
    expect(parseGrpcChannelArguments('grpc.max_connection_age_ms=2000,grpc.lb_policy_name=round_robin,grpc.x=99999999999')).toEqual([
      { key: 'grpc.max_connection_age_ms', value: 2000 },
      { key: 'grpc.lb_policy_name', value: 'round_robin' },
      { key: 'grpc.x', value: '99999999999' },
    ]);
    expect(parseGrpcChannelArguments('')).toEqual([]);
  });
});

describe('config entries (parsed as the server reads them)', () => {
  it('reads model_type as server_core.cc GetPlatform does, and file:// base paths', async () => {
    const { parseModelServerConfig } = await import('../../../server/config_file.js');
    const file = path.join(tmp, 'dir', 'models.conf');
    const one = (entry: string) => parseModelServerConfig(`model_config_list { config { name: "m" ${entry} } }`, file)[0];
    expect(one('base_path: "file:///srv/m" model_type: TENSORFLOW')).toMatchObject({ basePath: '/srv/m', platform: 'tensorflow' });
    expect(one('base_path: "file://rel/m" model_platform: "tensorflow"').basePath).toBe(path.join(tmp, 'dir', 'rel/m'));
    expect(() => one('base_path: "/srv/m" model_type: OTHER')).toThrow('ModelServerConfig::model_type choice 2 not supported.');
    expect(() => one('base_path: "/srv/m" model_type: TENSORFLOW model_platform: "tensorflow"')).toThrow(
      'Illegal setting both ModelServerConfig::model_type (deprecated) and ModelServerConfig::model_platform, model name is m',
    );
    expect(() => one('base_path: "/srv/m"')).toThrow(
      'Illegal setting neither ModelServerConfig::model_type (deprecated) nor ModelServerConfig::model_platform, model name is m',
    );
    expect(() => one('base_path: "/srv/m" model_type: MODEL_TYPE_UNSPECIFIED')).toThrow('Illegal setting neither');
    expect(() => one('base_path: "gs://bucket/m" model_platform: "tensorflow"')).toThrow('uses the gs:// file system');
    expect(one('base_path: "s3://bucket/m" model_platform: "tensorflow"')).toMatchObject({ basePath: 's3://bucket/m' });
    // Enum values by number too (text format allows both).
    expect(() => one('base_path: "/srv/m" model_type: 1 model_platform: "tensorflow"')).toThrow('Illegal setting both');
    expect(() => one('base_path: "/srv/m" model_type: 2')).toThrow('ModelServerConfig::model_type choice 2 not supported.');
  });
});
