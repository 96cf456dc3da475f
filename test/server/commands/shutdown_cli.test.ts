// Shutdown that always ends (the hardening issue): `modelhost serve` (the
// built binary) with a request looping in a model, an idle keep-alive
// connection and a version whose warm-up loops without a bound exits within
// --shutdown_timeout_seconds of SIGTERM, with code 0.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { countingWarmup, writeCountingModel } from '../../helpers/runaway_models.js';
import { waitFor } from '../helpers.js';
import { WARMUP_FILE } from '../../../server/warmup.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const BIN = path.join(ROOT, 'bin/modelhost.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-shutdown-'));
let proc: ChildProcess | undefined;

afterAll(() => {
  if (proc && proc.exitCode === null) proc.kill('SIGKILL');
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** POSTs over `agent` and resolves with the status, or the error if the connection is cut. */
function post(port: number, agent: http.Agent, urlPath: string, body: object): Promise<number | Error> {
  return new Promise((resolve) => {
    const req = http.request({ port, host: '127.0.0.1', path: urlPath, method: 'POST', agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', resolve);
    });
    req.on('error', resolve);
    req.end(JSON.stringify(body));
  });
}

it('exits within --shutdown_timeout_seconds of SIGTERM despite a looping request, a looping warm-up and keep-alive connections', async () => {
  await writeCountingModel(path.join(tmp, 'count/1'));
  proc = spawn(
    process.execPath,
    [
      BIN,
      'serve',
      '--rest_api_host=127.0.0.1',
      '--rest_api_port=0', '--port=0',
      '--registry_path=:memory:',
      `--models_dir=${tmp}`,
      '--file_system_poll_wait_seconds=0.2',
      '--inference_threads=1',
      '--rest_api_timeout_in_ms=0',
      '--model_warmup_timeout_in_ms=0',
      '--shutdown_timeout_seconds=1',
    ],
    { cwd: ROOT },
  );
  let output = '';
  proc.stdout!.on('data', (d) => (output += d));
  proc.stderr!.on('data', (d) => (output += d));
  const exit = new Promise<number | null>((resolve) => proc!.on('exit', (code) => resolve(code)));
  const port = await waitFor('the server to listen', () => Number(/Exporting HTTP\/REST API at [^\s]*:(\d+)/.exec(output)?.[1] ?? 0), 60_000);

  const agent = new http.Agent({ keepAlive: true });
  expect(await post(port, agent, '/v1/models/count:predict', { inputs: { n: 3 } })).toBe(200); // leaves an idle keep-alive connection
  // A version whose warm-up loops forever (no bound): its load never finishes.
  await writeCountingModel(path.join(tmp, 'count/2'));
  fs.mkdirSync(path.join(tmp, 'count/2/assets.extra'));
  fs.writeFileSync(path.join(tmp, 'count/2', WARMUP_FILE), countingWarmup(2 ** 31 - 1));
  await waitFor('version 2 to start loading', () => output.includes('Loading version 2 of model count'), 20_000);
  const looping = post(port, new http.Agent({ keepAlive: true }), '/v1/models/count/versions/1:predict', { inputs: { n: 2 ** 31 - 1 } });
  await new Promise((r) => setTimeout(r, 300));

  const t0 = performance.now();
  proc.kill('SIGTERM');
  const code = await exit;
  const took = performance.now() - t0;
  expect(code).toBe(0);
  expect(took).toBeLessThan(1000 + 4000);
  expect(output).toMatch(/SIGTERM received/);
  expect(output).toMatch(/Server stopped; work still running after 1000 ms was abandoned/);
  expect(await looping).toBeInstanceOf(Error);
  agent.destroy();
}, 90_000);
