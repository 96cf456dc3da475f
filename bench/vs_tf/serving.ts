/**
 * (c) serving: `modelhost serve` (default flags + $MODELHOST_BENCH_SERVE_ARGS)
 * vs the TensorFlow-backed peer bench/peers/tf_serving_app.py under
 * uvicorn[standard] (uvloop + httptools, checked through /peer/info), both
 * serving every model of the perf set through TF Serving's REST predict API
 * with `serving_default`. Same bodies (one instance per request, a few
 * different rows in turn), at 1, 16 and 64 connections; the two servers take
 * turns case by case. Before any load, each model's first body must get the
 * same predictions from both. Also the bare node:http ceiling with f_mnist's
 * bodies at 64 connections, for the f_mnist goal.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { F_MNIST_DIR, ROOT, sleep } from '../common.js';
import { freePort, startBare, startModelhost, type RunningServer } from '../servers.js';
import { compareSamples } from './compute.js';
import { instanceJson, readJobInputs, type Job } from './jobs.js';
import { percentile } from './timing.js';
import { runWindow, type WindowResult } from './window_load.js';

export const CONNECTIONS = [1, 16, 64] as const;

export interface ServingRow {
  model: string;
  connections: number;
  modelhost: WindowResult;
  tf: WindowResult;
  /** modelhost req/s / TF req/s. */
  ratio: number;
}

export interface PeerInfo {
  pid: number;
  loop: string;
  httptools_protocol: boolean;
  h11_protocol: boolean;
  tf_version: string;
  intra_op: number;
  inter_op: number;
}

export interface ServingResult {
  rows: ServingRow[];
  bare?: WindowResult;
  /** f_mnist through modelhost at 64 connections in the same stretch as `bare`. */
  fmnist64?: WindowResult;
  peer: { workers: number; threads: number; info: PeerInfo; command: string };
  modelhostCommand: string;
  failures: { model: string; error: string }[];
}

export interface ServingOptions {
  seconds: number;
  warmupSeconds: number;
  tfWorkers: number;
  tfThreads: number;
  /** Extra `modelhost serve` flags. */
  serveArgs: string[];
  /** Runs `modelhost serve` under these node flags (--cpu-prof...). */
  nodeArgs?: string[];
}

/** What each server is sent for a model: `serving_default`, one instance per request, rows 0-3 (f_mnist: 16 images). */
export function servingBodies(job: Job): string[] {
  const all = readJobInputs(job);
  const rows = job.dtype === 'string' ? 16 : 4;
  return Array.from({ length: rows }, (_, i) => JSON.stringify({ instances: [instanceJson(job, all, i)] }));
}

/** A models folder for `modelhost serve`: <name>/1 copied from each job (f_mnist: its version 2). */
export function serveModelsDir(workDir: string, jobs: readonly Job[]): string {
  const dir = path.join(workDir, 'serve-models');
  for (const job of jobs) {
    const to = path.join(dir, job.name, job.name === 'f_mnist' ? '2' : '1');
    if (!fs.existsSync(to)) fs.cpSync(job.name === 'f_mnist' ? path.join(F_MNIST_DIR, '2') : job.dir, to, { recursive: true });
  }
  return dir;
}

export async function startTfPeer(python: string, jobs: readonly Job[], workDir: string, workers: number, threads: number): Promise<RunningServer & { info: PeerInfo }> {
  const readyDir = fs.mkdtempSync(path.join(workDir, 'peer-ready-'));
  const config = path.join(workDir, 'peer-config.json');
  fs.writeFileSync(config, JSON.stringify({ models: jobs.map((j) => ({ name: j.name, dir: j.name === 'f_mnist' ? path.join(F_MNIST_DIR, '2') : j.dir, signature: 'serving_default' })), threads, ready_dir: readyDir }));
  const port = await freePort();
  const args = ['-m', 'uvicorn', 'tf_serving_app:app', '--app-dir', path.join(ROOT, 'bench', 'peers'), '--host', '127.0.0.1', '--port', String(port), '--workers', String(workers), '--loop', 'uvloop', '--http', 'httptools', '--no-access-log', '--log-level', 'warning'];
  const child = spawn(python, args, { env: { ...process.env, MODELHOST_PEER_CONFIG: config, TF_CPP_MIN_LOG_LEVEL: '2' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  const keep = (b: Buffer) => {
    output = (output + b.toString()).slice(-20_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    // uvicorn's supervisor forwards SIGTERM to its workers; the group kill below catches stragglers.
    child.kill('SIGTERM');
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, 15_000);
    await exited;
    clearTimeout(timer);
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 300_000;
  while (fs.readdirSync(readyDir).length < workers) {
    if (child.exitCode !== null) throw new Error(`TF peer exited (${child.exitCode}):\n${output.slice(-3000)}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`TF peer not ready after 300 s:\n${output.slice(-3000)}`);
    }
    await sleep(200);
  }
  const info = (await (await fetch(`${url}/peer/info`)).json()) as PeerInfo;
  if (!info.loop.startsWith('uvloop') || !info.httptools_protocol || info.h11_protocol) {
    await stop();
    throw new Error(`TF peer is not on uvloop + httptools: ${JSON.stringify(info)}`);
  }
  return { url, pid: child.pid!, command: `uvicorn tf_serving_app:app ${args.slice(4).join(' ').replace(ROOT + '/', '')}`, output: () => output, stop, info };
}

async function post(url: string, body: string): Promise<{ ms: number; predictions: unknown }> {
  const t = performance.now();
  const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  const text = await res.text();
  const ms = performance.now() - t;
  if (res.status !== 200) throw new Error(`POST ${url} → ${res.status}: ${text.slice(0, 300)}`);
  return { ms, predictions: (JSON.parse(text) as { predictions: unknown }).predictions };
}

const flat = (x: unknown): unknown[] => (Array.isArray(x) ? x.flatMap(flat) : [x]);

/** Both servers must give the same predictions for the first body; returns the slower one's median latency of 3 requests, ms. */
async function checkAndTime(model: string, mh: RunningServer, tf: RunningServer, body: string): Promise<number> {
  const urlPath = `/v1/models/${model}:predict`;
  const a = await post(mh.url + urlPath, body);
  const b = await post(tf.url + urlPath, body);
  const fa = flat(a.predictions);
  const fb = flat(b.predictions);
  const same = typeof fa[0] === 'number' ? compareSamples(fa as number[], fb as number[]).agree : JSON.stringify(fa) === JSON.stringify(fb);
  if (!same) throw new Error(`${model}: modelhost and the TF peer answer differently: ${JSON.stringify(a.predictions).slice(0, 200)} vs ${JSON.stringify(b.predictions).slice(0, 200)}`);
  const times = async (s: RunningServer) => {
    const t: number[] = [];
    for (let i = 0; i < 3; i++) t.push((await post(s.url + urlPath, body)).ms);
    return percentile(t, 0.5);
  };
  return Math.max(await times(mh), await times(tf));
}

/** Waits until requests abandoned at the end of a case are done: `n` concurrent requests must all be answered. */
async function drain(server: RunningServer, urlPath: string, body: string, n: number): Promise<void> {
  await Promise.all(Array.from({ length: n }, () => post(server.url + urlPath, body).catch(() => undefined)));
}

export async function runServing(python: string, jobs: readonly Job[], workDir: string, o: ServingOptions, log: (s: string) => void): Promise<ServingResult> {
  const failures: ServingResult['failures'] = [];
  const rows: ServingRow[] = [];
  const bodies = new Map(jobs.map((j) => [j.name, servingBodies(j)]));
  const tf = await startTfPeer(python, jobs, workDir, o.tfWorkers, o.tfThreads);
  let mh: RunningServer | undefined;
  let bare: WindowResult | undefined;
  let fmnist64: WindowResult | undefined;
  try {
    log(`  TF peer: ${tf.info.loop}, httptools ${tf.info.httptools_protocol}, ${o.tfWorkers} workers × ${tf.info.intra_op} TF threads`);
    mh = await startModelhost({ workDir, modelsDir: serveModelsDir(workDir, jobs), args: ['--file_system_poll_wait_seconds=0', ...o.serveArgs], models: jobs.map((j) => j.name), label: 'vs-tf' });
    let turn = 0;
    for (const job of jobs) {
      const b = bodies.get(job.name)!;
      const urlPath = `/v1/models/${job.name}:predict`;
      let latencyMs: number;
      try {
        latencyMs = await checkAndTime(job.name, mh, tf, b[0]);
      } catch (e) {
        const error = e instanceof Error ? e.message.split('\n')[0] : String(e);
        failures.push({ model: job.name, error });
        log(`  ${job.name}: FAILED ${error}`);
        continue;
      }
      for (const connections of CONNECTIONS) {
        // Slow models get longer windows (about 20 requests' worth) and a warm-up that lets the queue fill.
        // Batched answers come in bursts, one batch (up to 32 requests, each about one request's latency)
        // at a time: the window holds at least four of them, or a slow model's window may catch none.
        const burstSeconds = (latencyMs * Math.min(connections, 32)) / 1000;
        const seconds = Math.max(o.seconds, Math.min(15, Math.max((20 * latencyMs) / 1000, 4 * burstSeconds)));
        const warmupSeconds = Math.max(o.warmupSeconds, Math.min(8, (2 * latencyMs * connections) / 1000 / Math.max(1, o.tfWorkers)));
        const one = async (s: RunningServer) => {
          const r = await runWindow({ url: s.url + urlPath, bodies: b, connections, warmupSeconds, seconds, timeoutSeconds: 120 });
          await drain(s, urlPath, b[0], Math.max(2, o.tfWorkers + 1));
          return r;
        };
        const results = new Map<RunningServer, WindowResult>();
        for (const s of turn++ % 2 === 0 ? [mh, tf] : [tf, mh]) results.set(s, await one(s));
        const row: ServingRow = { model: job.name, connections, modelhost: results.get(mh)!, tf: results.get(tf)!, ratio: NaN };
        row.ratio = row.modelhost.reqPerSec / row.tf.reqPerSec;
        rows.push(row);
        const f = (r: WindowResult) => `${r.reqPerSec.toFixed(1)} req/s p50 ${r.p50Ms.toFixed(1)} p99 ${r.p99Ms.toFixed(1)} ms${r.failures ? ` ${r.failures} FAILED` : ''}`;
        log(`  ${job.name.padEnd(13)} ${String(connections).padStart(2)} conn: modelhost ${f(row.modelhost)} | TF ${f(row.tf)} → ${row.ratio.toFixed(2)}x`);
      }
    }
    const fm = jobs.find((j) => j.name === 'f_mnist');
    if (fm) {
      // The f_mnist goal: modelhost vs the bare node:http ceiling, back to back, same bodies.
      const b = bodies.get('f_mnist')!;
      const window = { bodies: b, connections: 64, warmupSeconds: o.warmupSeconds, seconds: o.seconds, timeoutSeconds: 60 };
      fmnist64 = await runWindow({ ...window, url: `${mh.url}/v1/models/f_mnist:predict` });
      const server = await startBare();
      try {
        bare = await runWindow({ ...window, url: server.url + '/' });
      } finally {
        await server.stop();
      }
      log(`  f_mnist 64 conn: modelhost ${fmnist64.reqPerSec.toFixed(0)} req/s, bare node:http ${bare.reqPerSec.toFixed(0)} req/s → ${(fmnist64.reqPerSec / bare.reqPerSec).toFixed(3)}`);
    }
    return {
      rows,
      bare,
      fmnist64,
      peer: { workers: o.tfWorkers, threads: tf.info.intra_op, info: tf.info, command: tf.command },
      modelhostCommand: mh.command.replace(workDir, '$TMP'),
      failures,
    };
  } finally {
    await mh?.stop();
    await tf.stop();
  }
}

/** Default TF peer workers: one per core, as the issue's first comparison ran it (2 on these machines). */
export const defaultTfWorkers = () => os.availableParallelism();
