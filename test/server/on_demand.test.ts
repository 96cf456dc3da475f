// On-demand loading with more versions in demand than --max_loaded_versions
// (finding 6 of issue 13): 4 keep-alive clients each hammer a different
// /versions/N of one model on a real `modelhost serve` process with
// --max_loaded_versions=2. Every request must get an answer (200 with the
// version's own prediction, or a clean 503 naming the model, version and
// limit), and status requests must keep answering throughout. The server runs
// in a child process: a livelocked server must fail this test, not hang it.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServeProcess, type ServeProcess } from '../../scripts/serve_process.js';
import { copyVersion } from './helpers.js';

const PLUS_TWO = 'saved_model_half_plus_two_cpu/00000123'; // x = 1 → 2.5
const PLUS_THREE = 'saved_model_half_plus_three/00000123'; // x = 1 → 3.5
const expected = (v: number) => (v % 2 ? 2.5 : 3.5);

let tmp: string;
let server: ServeProcess;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-ondemand-'));
  for (let v = 1; v <= 4; v++) copyVersion(v % 2 ? PLUS_TWO : PLUS_THREE, path.join(tmp, 'models/hp', String(v)));
  server = await startServeProcess(
    [`--models_dir=${path.join(tmp, 'models')}`, `--registry_path=${path.join(tmp, 'registry.db')}`, '--max_loaded_versions=2', '--inference_threads=1'],
    { cwd: tmp },
  );
});

afterAll(async () => {
  await server?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** One request on a keep-alive agent; rejects after `timeoutMs` without an answer. */
function request(agent: http.Agent, url: string, body: string | undefined, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: body === undefined ? 'GET' : 'POST', agent, timeout: timeoutMs }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

describe('on-demand loading with more versions in demand than slots', () => {
  it('answers every request (200 from the right version or a clean 503) and keeps answering status', async () => {
    const until = Date.now() + 4000;
    const problems: string[] = [];
    const ok = new Map<number, number>();
    let unavailable = 0;
    const client = async (version: number) => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        while (Date.now() < until && problems.length < 20) {
          try {
            const r = await request(agent, `${server.url}/v1/models/hp/versions/${version}:predict`, '{"instances": [1.0]}', 15_000);
            if (r.status === 200 && (JSON.parse(r.body) as { predictions: number[] }).predictions[0] === expected(version)) {
              ok.set(version, (ok.get(version) ?? 0) + 1);
            } else if (r.status === 503 && new RegExp(`version ${version} of model hp`, 'i').test(r.body)) {
              unavailable++;
            } else {
              problems.push(`version ${version}: ${r.status} ${r.body}`);
            }
          } catch (e) {
            problems.push(`version ${version}: ${(e as Error).message}`);
          }
        }
      } finally {
        agent.destroy();
      }
    };
    let statusAnswers = 0;
    const status = async () => {
      const agent = new http.Agent({ keepAlive: true });
      try {
        while (Date.now() < until) {
          try {
            const r = await request(agent, `${server.url}/v1/models/hp`, undefined, 2000);
            if (r.status === 200) statusAnswers++;
            else problems.push(`status: ${r.status} ${r.body}`);
          } catch (e) {
            problems.push(`status: ${(e as Error).message}`);
          }
          await new Promise((r) => setTimeout(r, 100));
        }
      } finally {
        agent.destroy();
      }
    };
    await Promise.all([1, 2, 3, 4].map(client).concat(status()));
    expect(problems).toEqual([]);
    expect(statusAnswers).toBeGreaterThan(10);
    // Every version got its turn.
    for (const v of [1, 2, 3, 4]) expect(ok.get(v) ?? 0, `answers from version ${v} (503s: ${unavailable})`).toBeGreaterThan(0);
  }, 45_000);

  it('loads a version on demand for a v2 (Open Inference Protocol) infer and metadata request too', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (const v of [1, 2, 3, 4, 1]) {
        const body = JSON.stringify({ inputs: [{ name: 'x', shape: [1, 1], datatype: 'FP32', data: [1] }] });
        const r = await request(agent, `${server.url}/v2/models/hp/versions/${v}/infer`, body, 15_000);
        expect(r.status, r.body).toBe(200);
        expect(JSON.parse(r.body)).toMatchObject({ model_name: 'hp', model_version: String(v), outputs: [{ name: 'y', data: [expected(v)] }] });
      }
      const meta = await request(agent, `${server.url}/v2/models/hp/versions/4`, undefined, 15_000);
      expect(meta.status, meta.body).toBe(200);
      expect(JSON.parse(meta.body)).toMatchObject({ name: 'hp', versions: ['4'] });
    } finally {
      agent.destroy();
    }
  }, 30_000);
});
