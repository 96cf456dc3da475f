// `modelhost serve` as a user runs it: the built binary (npm test builds dist/
// first), its config-file handling, the no-flags models directory, and
// graceful shutdown on SIGTERM / SIGINT.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { writeAllocModel } from '../../helpers/alloc_model.js';
import { copyVersion, FIXTURES, waitFor } from '../helpers.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const BIN = path.join(ROOT, 'bin/modelhost.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-cli-'));
const running: ChildProcess[] = [];

interface Served {
  proc: ChildProcess;
  output: () => string;
  exit: Promise<number | null>;
  port: () => Promise<number>;
}

function serve(args: string[], cwd = ROOT): Served {
  // The registry is kept in memory so that no test writes ./data/registry.db into the project.
  const proc = spawn(process.execPath, [BIN, 'serve', '--rest_api_host=127.0.0.1', '--rest_api_port=0', '--port=0', '--registry_path=:memory:', ...args], { cwd });
  running.push(proc);
  let output = '';
  proc.stdout!.on('data', (d) => (output += d));
  proc.stderr!.on('data', (d) => (output += d));
  const exit = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const port = () =>
    waitFor('the server to listen', () => {
      const m = /Exporting HTTP\/REST API at [^\s]*:(\d+)/.exec(output);
      if (!m && proc.exitCode !== null) throw new Error(`server exited: ${output}`);
      return m ? Number(m[1]) : undefined;
    }, 60_000);
  return { proc, output: () => output, exit, port };
}

afterEach(() => {
  for (const p of running.splice(0)) if (p.exitCode === null) p.kill('SIGKILL');
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const json = async (url: string, body?: object) => {
  const res = await fetch(url, body ? { method: 'POST', body: JSON.stringify(body) } : {});
  return { status: res.status, body: await res.json() };
};

describe('modelhost serve', () => {
  it('exits non-zero with a parse error naming the file for bad_model_config.txt', async () => {
    const file = path.join(FIXTURES, 'bad_model_config.txt');
    const s = serve([`--model_config_file=${file}`]);
    expect(await s.exit).not.toBe(0);
    expect(s.output()).toContain(`Invalid protobuf file: '${file}'`);
    expect(s.output()).toContain('Error parsing text-format tensorflow.serving.ModelServerConfig');
  });

  it('--max_tensor_elements bounds the tensors a model may make (429 with TF\'s OOM wording)', async () => {
    const base = path.join(tmp, 'alloc');
    await writeAllocModel(path.join(base, '1'));
    const s = serve(['--model_name=alloc', `--model_base_path=${base}`, '--max_tensor_elements=100', '--inference_threads=1']);
    const url = `http://127.0.0.1:${await s.port()}`;
    const refused = await json(`${url}/v1/models/alloc:predict`, { inputs: { dims: [20, 20] } });
    expect(refused.status).toBe(429);
    expect(refused.body.error).toContain('OOM when allocating tensor with shape[20,20] and type float');
    expect(await json(`${url}/v1/models/alloc:predict`, { inputs: { dims: [1, 2] } })).toEqual({ status: 200, body: { outputs: [[1.5, 1.5]] } });
    s.proc.kill('SIGTERM');
    expect(await s.exit).toBe(0);
  });

  it('--port serves TF Serving\'s gRPC API (client from proto/ only)', async () => {
    const s = serve(['--model_name=half_plus_two', `--model_base_path=${path.join(FIXTURES, 'saved_model_half_plus_two_cpu')}`, '--inference_threads=1']);
    await s.port();
    const grpcPort = Number(/Running gRPC ModelServer at 127\.0\.0\.1:(\d+)/.exec(s.output())?.[1]);
    expect(grpcPort).toBeGreaterThan(0);
    const def = protoLoader.loadSync('tensorflow_serving/apis/model_service.proto', { includeDirs: [path.join(ROOT, 'proto')], keepCase: true, longs: String, enums: String });
    const pkg = grpc.loadPackageDefinition(def) as unknown as { tensorflow: { serving: { ModelService: new (a: string, c: grpc.ChannelCredentials) => grpc.Client & { GetModelStatus: (req: object, cb: (err: Error | null, r: never) => void) => void } } } };
    const client = new pkg.tensorflow.serving.ModelService(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure());
    const res = await new Promise<{ model_version_status: { version: string; state: string }[] }>((resolve, reject) =>
      client.GetModelStatus({ model_spec: { name: 'half_plus_two' } }, (err: Error | null, r: never) => (err ? reject(err) : resolve(r))),
    );
    client.close();
    expect(res.model_version_status.map((v) => [v.version, v.state])).toEqual([['123', 'AVAILABLE']]);
    s.proc.kill('SIGTERM');
    expect(await s.exit).toBe(0);
  });

  it('serves both models of good_model_config.txt (paths substituted)', async () => {
    const config = path.join(tmp, 'good_model_config.conf');
    fs.writeFileSync(
      config,
      fs
        .readFileSync(path.join(FIXTURES, 'good_model_config.txt'), 'utf8')
        .replace('${TEST_HALF_PLUS_TWO_DIR}', path.join(FIXTURES, 'saved_model_half_plus_two_cpu'))
        .replace('${TEST_HALF_PLUS_THREE_DIR}', path.join(FIXTURES, 'saved_model_half_plus_three')),
    );
    const s = serve([`--model_config_file=${config}`]);
    const url = `http://127.0.0.1:${await s.port()}`;
    expect(await json(`${url}/v1/models/half_plus_two:predict`, { instances: [2.0] })).toEqual({ status: 200, body: { predictions: [3.0] } });
    expect(await json(`${url}/v1/models/half_plus_three:predict`, { instances: [2.0] })).toEqual({ status: 200, body: { predictions: [4.0] } });
    s.proc.kill('SIGTERM');
    expect(await s.exit).toBe(0);
  });

  it('with no model flags serves every sub-folder of ./models, named after the folder', async () => {
    const cwd = path.join(tmp, 'project');
    copyVersion('matrix_half_plus_two/1', path.join(cwd, 'models/matrix/1'));
    copyVersion('saved_model_counter/00000123', path.join(cwd, 'models/counter/7'));
    const s = serve([], cwd);
    const url = `http://127.0.0.1:${await s.port()}`;
    expect(await json(`${url}/v1/models/matrix:predict`, { instances: [[1.0, 2.0]] })).toEqual({ status: 200, body: { predictions: [[2.5, 3.0]] } });
    expect((await json(`${url}/v1/models/counter/versions/7`)).body.model_version_status[0].state).toBe('AVAILABLE');
    s.proc.kill('SIGINT');
    expect(await s.exit).toBe(0);
  });

  it('on SIGTERM finishes the request in flight, then exits 0', async () => {
    const cwd = path.join(tmp, 'shutdown');
    copyVersion('matrix_half_plus_two/1', path.join(cwd, 'models/matrix/1'));
    const s = serve([], cwd);
    const port = await s.port();
    // A request whose body is still arriving when the signal comes.
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    const body = '{"instances": [[1.0, 2.0]]}';
    socket.write(`POST /v1/models/matrix:predict HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 5)}`);
    let response = '';
    socket.on('data', (d) => (response += d));
    await new Promise((r) => setTimeout(r, 100));
    s.proc.kill('SIGTERM');
    await waitFor('the shutdown to begin', () => s.output().includes('SIGTERM received'));
    socket.write(body.slice(5));
    await waitFor('the response', () => response.includes('predictions'));
    expect(response).toMatch(/^HTTP\/1.1 200/);
    expect(await s.exit).toBe(0);
    // New connections are refused once the server has stopped.
    await expect(fetch(`http://127.0.0.1:${port}/v1/models/matrix`)).rejects.toThrow();
  });
});
