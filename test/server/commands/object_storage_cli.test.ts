// `modelhost serve` with models on S3-compatible storage, configured the way
// TF Serving is (S3_ENDPOINT, S3_USE_HTTPS, AWS_* in the environment): the
// built binary against s3rver, with --model_base_path and a
// model_config_file naming s3:// base paths, and --model_cache_dir.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, waitFor } from '../helpers.js';
import { S3_KEY, TestS3 } from '../../serving/object_store/s3_server.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const BIN = path.join(ROOT, 'bin/modelhost.js');
const PLUS_TWO = path.join(FIXTURES, 'saved_model_half_plus_two_cpu/00000123');
const PLUS_THREE = path.join(FIXTURES, 'saved_model_half_plus_three/00000123');
let tmp: string;
let s3: TestS3;
const running: ChildProcess[] = [];

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-s3cli-'));
  s3 = await TestS3.start();
  await s3.createBucket('serving');
  await s3.putDir('serving', 'models/two/00000123', PLUS_TWO);
  await s3.putDir('serving', 'models/three/1', PLUS_THREE);
});
afterEach(() => {
  for (const p of running.splice(0)) if (p.exitCode === null) p.kill('SIGKILL');
});
afterAll(async () => {
  await s3?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function serve(args: string[], env: NodeJS.ProcessEnv) {
  const proc = spawn(process.execPath, [BIN, 'serve', ...args], { cwd: tmp, env: { PATH: process.env.PATH, HOME: tmp, ...env } });
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

async function predict(port: number, model: string): Promise<number | undefined> {
  const res = await fetch(`http://127.0.0.1:${port}/v1/models/${model}:predict`, { method: 'POST', body: '{"instances": [1.0]}' }).catch(() => undefined);
  if (!res?.ok) return undefined;
  return ((await res.json()) as { predictions: number[] }).predictions[0];
}

const TF_SERVING_ENV = () => ({ S3_ENDPOINT: `127.0.0.1:${s3.port}`, S3_USE_HTTPS: '0', S3_VERIFY_SSL: '0', AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: S3_KEY, AWS_SECRET_ACCESS_KEY: S3_KEY });

describe('modelhost serve with s3:// base paths', () => {
  it("serves --model_base_path=s3://... configured with TF Serving's S3 variables, caching into --model_cache_dir", async () => {
    const port = await freePort();
    const cache = path.join(tmp, 'cache-flags');
    const s = serve(
      ['--port=0', `--rest_api_port=${port}`, '--rest_api_host=127.0.0.1', '--registry_path=:memory:', '--model_name=two', '--model_base_path=s3://serving/models/two', `--model_cache_dir=${cache}`],
      TF_SERVING_ENV(),
    );
    await waitFor('a prediction', () => predict(port, 'two'), 30_000).catch((e) => {
      throw new Error(`${(e as Error).message}\n${s.output()}`);
    });
    expect(await predict(port, 'two')).toBe(2.5);
    expect(fs.readdirSync(cache).filter((d) => !d.startsWith('.'))).toHaveLength(1);
    expect(s.output()).not.toContain('NodeVersionSupportWarning');
    s.proc.kill('SIGTERM');
    expect(await s.exit).toBe(0);
  });

  it('serves s3:// base paths from a model_config_file, with AWS_ENDPOINT_URL', async () => {
    const port = await freePort();
    const config = path.join(tmp, 'models.config');
    fs.writeFileSync(
      config,
      `model_config_list {
  config { name: "two" base_path: "s3://serving/models/two/" model_platform: "tensorflow" }
  config { name: "three" base_path: "s3://serving/models/three" model_platform: "tensorflow" }
}
`,
    );
    const s = serve(
      ['--port=0', `--rest_api_port=${port}`, '--rest_api_host=127.0.0.1', `--registry_path=${path.join(tmp, 'r.db')}`, `--model_config_file=${config}`, `--model_cache_dir=${path.join(tmp, 'cache-config')}`],
      { AWS_ENDPOINT_URL: s3.endpoint, AWS_ACCESS_KEY_ID: S3_KEY, AWS_SECRET_ACCESS_KEY: S3_KEY },
    );
    await waitFor('both models', async () => (await predict(port, 'two')) === 2.5 && (await predict(port, 'three')) === 3.5, 30_000).catch((e) => {
      throw new Error(`${(e as Error).message}\n${s.output()}`);
    });
    const model = (await (await fetch(`http://127.0.0.1:${port}/api/v1/models/two`)).json()) as { base_path: string; versions: { path: string }[] };
    expect(model.base_path).toBe('s3://serving/models/two');
    expect(model.versions.map((v) => v.path)).toEqual(['s3://serving/models/two/00000123']);
    s.proc.kill('SIGTERM');
    expect(await s.exit).toBe(0);
  });

  it('refuses bad object-store flag values and a malformed endpoint with a clear error', async () => {
    const bad = serve(['--port=0', '--rest_api_port=0', '--registry_path=:memory:', '--object_store_max_version_objects=0'], {});
    expect(await bad.exit).not.toBe(0);
    expect(bad.output()).toContain("option '--object_store_max_version_objects <n>' argument '0' is invalid. expected a whole number >= 1.");
    const endpoint = serve(['--port=0', '--rest_api_port=0', '--registry_path=:memory:', '--model_name=two', '--model_base_path=s3://serving/models/two', `--model_cache_dir=${path.join(tmp, 'c3')}`], { AWS_ENDPOINT_URL: 'http://[bad' });
    await waitFor('the endpoint error', () => endpoint.output().includes('The S3 endpoint http://[bad (S3_ENDPOINT / AWS_ENDPOINT_URL) is not a valid URL or host:port.'), 20_000).catch((e) => {
      throw new Error(`${(e as Error).message}\n${endpoint.output()}`);
    });
  });
});
