// Hostile request bodies against `modelhost serve` as an operator runs it (the
// built binary in a child process, so its memory can be read from /proc):
// bodies over --max_request_bytes answer 413 without being read into memory
// (declared or chunked), bodies nested past --max_json_depth answer 400, and
// small images whose headers declare huge sizes or frame counts answer 400
// before decoding, all with the server's memory flat and the server still
// answering. (Issue 13, findings 3, 5 and 9.)
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webSafeBase64 } from '../../examples/f_mnist/data.js';
import { craftedGif, craftedJpeg, craftedPng } from '../helpers/crafted_images.js';
import { FIXTURES, waitFor } from './helpers.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const LIMIT = 2 * 1024 * 1024;
const MB = 1024 * 1024;
/** Bodies held at once across requests: one and a half of the largest. */
const BUFFERED = 3 * MB;

let proc: ChildProcess;
let url: string;
let tmp: string;

/** The server process's resident memory now, in MiB. */
function serverRssMiB(): number {
  const status = fs.readFileSync(`/proc/${proc.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-limits-'));
  fs.cpSync(path.join(ROOT, 'models/f_mnist'), path.join(tmp, 'f_mnist'), { recursive: true });
  const config = path.join(tmp, 'models.conf');
  fs.writeFileSync(
    config,
    `model_config_list {
      config { name: "hp2" base_path: "${path.join(FIXTURES, 'saved_model_half_plus_two_cpu')}" model_platform: "tensorflow" }
      config { name: "f_mnist" base_path: "${path.join(tmp, 'f_mnist')}" model_platform: "tensorflow" }
    }`,
  );
  proc = spawn(
    process.execPath,
    [
      path.join(ROOT, 'bin/modelhost.js'),
      'serve',
      '--rest_api_host=127.0.0.1',
      '--rest_api_port=0', '--port=0',
      '--registry_path=:memory:',
      `--model_config_file=${config}`,
      `--max_request_bytes=${LIMIT}`,
      `--max_buffered_request_bytes=${BUFFERED}`,
      // Exactly f_mnist's 28 x 28: the flag must reach the inference worker thread.
      '--max_image_pixels=784',
      '--inference_threads=1',
    ],
    { cwd: tmp },
  );
  let output = '';
  proc.stdout!.on('data', (d) => (output += d));
  proc.stderr!.on('data', (d) => (output += d));
  const port = await waitFor('the server to listen', () => {
    if (proc.exitCode !== null) throw new Error(`server exited: ${output}`);
    return /Exporting HTTP\/REST API at [^\s]*:(\d+)/.exec(output)?.[1];
  }, 60_000);
  url = `http://127.0.0.1:${port}`;
  await waitFor('both models to load', async () => {
    const states = await Promise.all(['hp2', 'f_mnist'].map((m) => fetch(`${url}/v1/models/${m}`).then((r) => r.status)));
    return states.every((s) => s === 200);
  }, 60_000);
}, 90_000);

afterAll(() => {
  if (proc?.exitCode === null) proc.kill('SIGKILL');
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function post(model: string, body: string | Buffer): Promise<{ status: number; error?: string; json: Record<string, unknown> }> {
  const res = await fetch(`${url}/v1/models/${model}:predict`, { method: 'POST', body });
  const json = (await res.json()) as Record<string, unknown>;
  return { status: res.status, error: json.error as string | undefined, json };
}

/** The server still answers a normal request. */
async function expectHealthy(): Promise<void> {
  const { status, json } = await post('hp2', '{"instances": [1.0, 2.0, 5.0]}');
  expect(status).toBe(200);
  expect(json.predictions).toEqual([2.5, 3.0, 4.5]);
}

/** Sends `total` bytes of body in 1 MiB writes (chunked when `declare` is false); resolves with the answer. */
function sendBody(total: number, declare: boolean): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers = declare ? { 'Content-Length': String(total) } : {};
    const req = http.request(`${url}/v1/models/hp2:predict`, { method: 'POST', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    const chunk = Buffer.alloc(MB, 0x20);
    let sent = 0;
    const pump = () => {
      while (sent < total) {
        const n = Math.min(MB, total - sent);
        sent += n;
        if (!req.write(n === MB ? chunk : chunk.subarray(0, n))) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

/** Starts a POST declaring `total` bytes and writes `first` of them; `rest()` writes the remainder and resolves with the answer. */
function startBody(total: number, first: number): { answer: Promise<{ status: number; body: string }>; rest: () => void } {
  let finish = () => {};
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.request(`${url}/v1/models/hp2:predict`, { method: 'POST', headers: { 'Content-Length': String(total) } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.write(Buffer.alloc(first, 0x20));
    finish = () => req.end(Buffer.alloc(total - first, 0x20));
  });
  return { answer, rest: () => finish() };
}

describe('--max_buffered_request_bytes', () => {
  it('answers 503 to a body that would take the bodies held at once past the limit, and gives the bytes back', async () => {
    const held = startBody(LIMIT - 1000, 1.5 * MB);
    await new Promise((r) => setTimeout(r, 300)); // the server has read 1.5 MiB of it
    const refused = startBody(LIMIT - 1000, LIMIT - 1000);
    const r = await refused.answer;
    expect(r.status).toBe(503);
    expect(JSON.parse(r.body).error).toMatch(`holding ${BUFFERED} bytes of request bodies, the limit set by --max_buffered_request_bytes`);
    held.rest();
    expect((await held.answer).status).toBe(400); // whitespace is not JSON: read whole and answered
    // Both gave their bytes back: the same body again is read (several times over the budget in all).
    for (let i = 0; i < 4; i++) {
      const again = startBody(LIMIT - 1000, LIMIT - 1000);
      again.rest();
      expect((await again.answer).status).toBe(400);
    }
    await expectHealthy();
  });
});

describe('--max_request_bytes', () => {
  it('answers 413 to a declared 150 MB body without reading it into memory, and keeps serving', async () => {
    await expectHealthy();
    const before = serverRssMiB();
    const { status, body } = await sendBody(150 * MB, true);
    expect(status).toBe(413);
    expect(JSON.parse(body).error).toMatch(`larger than ${LIMIT} bytes, the limit set by --max_request_bytes`);
    expect(serverRssMiB() - before).toBeLessThan(40);
    await expectHealthy();
  });

  it('answers 413 to a chunked body once it passes the limit', async () => {
    const before = serverRssMiB();
    const { status, body } = await sendBody(20 * MB, false);
    expect(status).toBe(413);
    expect(JSON.parse(body).error).toMatch('--max_request_bytes');
    expect(serverRssMiB() - before).toBeLessThan(40);
    await expectHealthy();
  });

  it('answers 413 to fetch() sending a body over the limit (the client sees the answer, not a reset)', async () => {
    const { status, error } = await post('hp2', Buffer.alloc(LIMIT + 1, 0x20));
    expect(status).toBe(413);
    expect(error).toMatch('--max_request_bytes');
  });

  it('reads a valid body just under the limit', async () => {
    const values = Array.from({ length: 220_000 }, (_, i) => (i % 1000) / 8);
    const body = `{"instances": [${values.join(',')}]}`;
    expect(body.length).toBeLessThanOrEqual(LIMIT);
    expect(body.length).toBeGreaterThan(LIMIT / 2);
    const { status, json } = await post('hp2', body);
    expect(status).toBe(200);
    const predictions = json.predictions as number[];
    expect(predictions).toHaveLength(values.length);
    expect(predictions[999]).toBe(999 / 8 / 2 + 2);
  });
});

describe('--max_json_depth', () => {
  it('answers 400 naming the limit for a body nested 100,000 arrays deep (was a 500 stack overflow)', async () => {
    const deep = `{"instances": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    const { status, error } = await post('hp2', deep);
    expect(status).toBe(400);
    expect(error).toMatch('more than 64 levels deep (the limit set by --max_json_depth)');
    const objects = `{"instances": [${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}]}`;
    expect((await post('hp2', objects)).status).toBe(400);
    await expectHealthy();
  });

  it('still reads a body nested within the limit', async () => {
    // 64 levels: the request object, "instances", and 62 nested lists around one value.
    const body = `{"instances": [${'['.repeat(61)}1.0${']'.repeat(61)}]}`;
    const { status, error } = await post('hp2', body);
    expect(error).toBeUndefined();
    expect(status).toBe(200);
  });
});

describe('--max_image_pixels and --max_gif_frames through f_mnist (DecodePng)', () => {
  const cases: [string, Buffer, string][] = [
    ['a PNG declaring 100000 x 100000', craftedPng(100_000, 100_000), 'PNG image too large: 100000 by 100000'],
    ['a JPEG declaring 30000 x 30000', craftedJpeg(30_000, 30_000), 'JPEG image too large: 30000 by 30000'],
    ['a GIF declaring 65535 x 65535', craftedGif(65_535, 65_535), 'GIF image too large: 65535 by 65535'],
    ['a GIF of 5,000 frames', craftedGif(1, 1, 5000), 'more than 1000 frames, the limit set by --max_gif_frames'],
  ];
  for (const [what, bytes, message] of cases) {
    it(`answers 400 before decoding ${what} (${bytes.length} bytes), memory flat`, async () => {
      const before = serverRssMiB();
      const { status, error } = await post('f_mnist', JSON.stringify({ instances: [webSafeBase64(bytes)] }));
      expect(error).toMatch(message);
      expect(error).toMatch(/--max_image_pixels|--max_gif_frames/);
      expect(status).toBe(400);
      expect(serverRssMiB() - before).toBeLessThan(60);
    });
  }

  it('applies --max_image_pixels inside the inference worker: 29 x 28 is refused, 28 x 28 classified', async () => {
    const png = craftedPng(29, 28, (await import('node:zlib')).deflateSync(Buffer.alloc(28 * 30)));
    const { status, error } = await post('f_mnist', JSON.stringify({ instances: [webSafeBase64(png)] }));
    expect(status).toBe(400);
    expect(error).toMatch('PNG image too large: 29 by 28 is 812 pixels, more than the 784 allowed (--max_image_pixels)');
  });

  it('still classifies a real 28 x 28 PNG afterwards', async () => {
    const png = craftedPng(28, 28, (await import('node:zlib')).deflateSync(Buffer.alloc(28 * 29)));
    const { status, json } = await post('f_mnist', JSON.stringify({ instances: [webSafeBase64(png)] }));
    expect(status).toBe(200);
    expect(json.predictions).toHaveLength(1);
  });
});
