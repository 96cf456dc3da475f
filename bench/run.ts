/**
 * `npm run bench`: the performance benchmark of issue 7, in one run.
 *
 *   (a) bare node:http server reading the body, fixed JSON answer — the ceiling
 *   (b) POST /v1/models/f_mnist:predict, 1 image per request
 *   (c) the same, 32 images per request
 *   (d) half_plus_two predict
 *   (e) f_mnist 1-image requests with batching off and on, at 1, 64 and 256 connections
 *   (f) the runtime alone vs the same math hand-written in tfjs ops (batch 1 and 64)
 *   item 4: f_mnist load + warm-up time, resident memory per extra loaded version
 *
 * Every server runs in its own child process; autocannon drives it from this
 * one. Prints the tables and writes BENCHMARKS.md (its Notes section is kept
 * between runs).
 *
 *   npm run bench                      full run (~2-3 min)
 *   npm run bench -- --quick           smoke run (short cases)
 *   npm run bench -- --only http,runtime,load   a subset (BENCHMARKS.md is then not written)
 *   npm run bench -- --seconds 8 --warmup 2 --no-write
 *   MODELHOST_BENCH_SERVE_ARGS="--inference_threads=1" npm run bench   extra flags for every modelhost server
 *   npm run bench -- --vs-tf [--python=PATH] [--quick] ...   against TensorFlow 2.21 instead (bench/vs_tf/, ~15 min)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchImages, fmt, IMAGES_ENV, median, ROOT, runChild } from './common.js';
import { runLoad, type LoadResult } from './http_load.js';
import type { LoadTimeResult, MemoryResult } from './load_memory.js';
import { writeReport, type BenchReport, type HttpRow } from './report.js';
import type { OverheadResult } from './runtime_overhead.js';
import { overheadTable } from './runtime_overhead.js';
import { measureServerMemory } from './server_memory.js';
import { prepareModels, serveFlags, startBare, startModelhost, type RunningServer } from './servers.js';
import { runVsTf } from './vs_tf/run_vs_tf.js';

interface Options {
  quick: boolean;
  only: Set<string>;
  seconds: number;
  warmup: number;
  write: boolean;
  out: string;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { quick: false, only: new Set(['http', 'runtime', 'load']), seconds: NaN, warmup: NaN, write: true, out: path.join(ROOT, 'BENCHMARKS.md') };
  let onlyGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--quick') o.quick = true;
    else if (a === '--only') {
      o.only = new Set(value().split(','));
      onlyGiven = true;
    } else if (a === '--seconds') o.seconds = Number(value());
    else if (a === '--warmup') o.warmup = Number(value());
    else if (a === '--no-write') o.write = false;
    else if (a === '--out') o.out = path.resolve(value());
    else throw new Error(`unknown argument ${a} (see bench/run.ts)`);
  }
  if (Number.isNaN(o.seconds)) o.seconds = o.quick ? 2 : 6;
  if (Number.isNaN(o.warmup)) o.warmup = o.quick ? 0.5 : 1.5;
  // A partial run does not overwrite the full report unless asked to.
  if (onlyGiven && !argv.includes('--out')) o.write = false;
  return o;
}

/** TF Serving's batching parameters the bench serves with (text format), and their values for the report. */
function batchingParameters(): { text: string; values: Record<string, number> } {
  const values = {
    max_batch_size: 64,
    // TF Serving's default: a batch starts as soon as a batch slot is free, so a lone request never waits,
    // and under load requests pile up behind the busy slots into large batches (1000 us measured worse at 1, 64 and 256 connections).
    batch_timeout_micros: 0,
    max_enqueued_batches: 1000000,
    num_batch_threads: os.availableParallelism(),
  };
  return { text: Object.entries(values).map(([k, v]) => `${k} { value: ${v} }`).join('\n') + '\n', values };
}

const log = (s: string) => process.stderr.write(`${s}\n`);

/** Extra flags for every modelhost server (MODELHOST_BENCH_SERVE_ARGS). */
const serveArgs = () => (process.env.MODELHOST_BENCH_SERVE_ARGS ?? '').split(/\s+/).filter((a) => a !== '');

async function httpCases(o: Options, workDir: string, images: string[], rows: HttpRow[], notes: string[]): Promise<{ commands: string[]; batching?: Record<string, number> }> {
  const oneImage = images.slice(0, 16).map((b64) => JSON.stringify({ instances: [b64] }));
  const thirtyTwo = [0, 1, 2, 3].map((k) => JSON.stringify({ instances: images.slice(k * 32, k * 32 + 32) }));
  const halfPlusTwo = [JSON.stringify({ instances: [1.0, 2.0, 5.0] })];
  const commands: string[] = [];
  const run = async (server: RunningServer, id: string, label: string, urlPath: string, bodies: string[], perRequest: number, connections: number) => {
    log(`  ${id}: ${label}, ${connections} connections ...`);
    let r: LoadResult;
    try {
      r = await runLoad({ url: server.url + urlPath, bodies, imagesPerRequest: perRequest, connections, warmupSeconds: o.warmup, seconds: o.seconds });
    } catch (e) {
      notes.push(`${id} failed: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    rows.push({ id, label, ...r });
    log(`      ${fmt(r.reqPerSec)} req/s, ${fmt(r.imagesPerSec)} images/s, p50 ${fmt(r.p50Ms, 2)} ms, p99 ${fmt(r.p99Ms, 2)} ms, ${r.failures} failures`);
  };

  // (a) the ceiling
  const bare = await startBare();
  commands.push(bare.command);
  try {
    await run(bare, 'a', 'bare node:http, 1-image body', '/', oneImage, 1, 64);
    await run(bare, 'a256', 'bare node:http, 1-image body', '/', oneImage, 1, 256);
  } finally {
    await bare.stop();
  }

  const modelsDir = prepareModels(workDir);
  const extra = serveArgs();
  const predict = '/v1/models/f_mnist:predict';
  await checkAnswers(modelsDir, workDir, extra, oneImage[0], thirtyTwo[0], halfPlusTwo[0]);

  // (b)-(e), batching off (automatic batching too: --auto_batching=false)
  const off = await startModelhost({ workDir, modelsDir, args: ['--file_system_poll_wait_seconds=0', '--auto_batching=false', ...extra], models: ['f_mnist', 'half_plus_two'], label: 'off' });
  commands.push(off.command);
  try {
    await run(off, 'b', 'f_mnist predict, 1 image/request', predict, oneImage, 1, 64);
    await run(off, 'c', 'f_mnist predict, 32 images/request', predict, thirtyTwo, 32, 64);
    await run(off, 'd', 'half_plus_two predict, 3 instances/request', '/v1/models/half_plus_two:predict', halfPlusTwo, 3, 64);
    await run(off, 'e-off-1', 'f_mnist 1 image, batching off', predict, oneImage, 1, 1);
    rows.push({ ...rows.find((r) => r.id === 'b')!, id: 'e-off-64', label: 'f_mnist 1 image, batching off (= b)' });
    await run(off, 'e-off-256', 'f_mnist 1 image, batching off', predict, oneImage, 1, 256);
  } finally {
    await off.stop();
  }

  // (e), batching on
  const flags = await serveFlags();
  if (!flags.has('enable_batching') || !flags.has('batching_parameters_file')) {
    notes.push('Batching cases skipped: this `modelhost serve` has no --enable_batching / --batching_parameters_file flag yet.');
    return { commands };
  }
  const params = batchingParameters();
  const paramsFile = path.join(workDir, 'batching_parameters.txt');
  fs.writeFileSync(paramsFile, params.text);
  const on = await startModelhost({
    workDir,
    modelsDir,
    args: ['--file_system_poll_wait_seconds=0', '--enable_batching', `--batching_parameters_file=${paramsFile}`, ...extra],
    models: ['f_mnist'],
    label: 'on',
  });
  commands.push(on.command);
  try {
    await run(on, 'e-on-1', 'f_mnist 1 image, batching on', predict, oneImage, 1, 1);
    await run(on, 'e-on-64', 'f_mnist 1 image, batching on', predict, oneImage, 1, 64);
    await run(on, 'e-on-256', 'f_mnist 1 image, batching on', predict, oneImage, 1, 256);
  } finally {
    await on.stop();
  }
  return { commands, batching: params.values };
}

/** One request of each kind must answer 200 with the expected shape before any load is timed. */
async function checkAnswers(modelsDir: string, workDir: string, extra: string[], one: string, many: string, hpt: string): Promise<void> {
  const server = await startModelhost({ workDir, modelsDir, args: ['--file_system_poll_wait_seconds=0', ...extra], models: ['f_mnist', 'half_plus_two'], label: 'check' });
  try {
    const post = async (p: string, body: string) => {
      const res = await fetch(server.url + p, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`POST ${p} → ${res.status}: ${text.slice(0, 300)}`);
      return JSON.parse(text) as { predictions: unknown[] };
    };
    const a = await post('/v1/models/f_mnist:predict', one);
    if (a.predictions.length !== 1 || typeof a.predictions[0] !== 'string') throw new Error(`unexpected f_mnist answer ${JSON.stringify(a)}`);
    const b = await post('/v1/models/f_mnist:predict', many);
    if (b.predictions.length !== 32) throw new Error(`f_mnist answered ${b.predictions.length} predictions for 32 images`);
    const c = await post('/v1/models/half_plus_two:predict', hpt);
    if (JSON.stringify(c.predictions) !== '[2.5,3,4.5]') throw new Error(`unexpected half_plus_two answer ${JSON.stringify(c)}`);
  } finally {
    await server.stop();
  }
}

function printHttp(rows: HttpRow[]): void {
  log('\ncase       connections      req/s   images/s   p50 ms   p99 ms  failures  what');
  for (const r of rows) {
    log(
      `${r.id.padEnd(10)} ${String(r.connections).padStart(11)} ${fmt(r.reqPerSec).padStart(10)} ${fmt(r.imagesPerSec).padStart(10)} ${fmt(r.p50Ms, 2).padStart(8)} ${fmt(r.p99Ms, 2).padStart(8)} ${String(r.failures).padStart(9)}  ${r.label}`,
    );
  }
}

async function main(): Promise<void> {
  if (process.argv.includes('--vs-tf')) {
    // The comparison with TensorFlow is its own run (bench/vs_tf/run_vs_tf.ts).
    process.exitCode = await runVsTf(process.argv.slice(2));
    return;
  }
  const o = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-bench-'));
  const notes: string[] = [];
  const report: BenchReport = { date: new Date(), quick: o.quick, seconds: o.seconds, warmup: o.warmup, http: [], notes, commands: [] };
  try {
    log('preparing images ...');
    const images = benchImages(256);
    const imagesFile = path.join(workDir, 'images.json');
    fs.writeFileSync(imagesFile, JSON.stringify(images));
    const env = { [IMAGES_ENV]: imagesFile };

    if (o.only.has('runtime')) {
      log('(f) runtime vs hand-written tfjs ...');
      report.overhead = await runChild<OverheadResult>('runtime_overhead', o.quick ? ['--quick'] : [], [], env);
      log(overheadTable(report.overhead));
    }
    if (o.only.has('load')) {
      log('item 4: load + warm-up (fresh processes) ...');
      const times: LoadTimeResult[] = [];
      for (let i = 0; i < (o.quick ? 1 : 3); i++) times.push(await runChild<LoadTimeResult>('load_memory', ['time'], [], env));
      const pick = (k: keyof LoadTimeResult) => median(times.map((t) => t[k]));
      report.loadTime = {
        importMs: pick('importMs'),
        backendInitMs: pick('backendInitMs'),
        loadMs: pick('loadMs'),
        warmupMs: pick('warmupMs'),
        secondLoadMs: pick('secondLoadMs'),
        secondWarmupMs: pick('secondWarmupMs'),
      };
      report.loadRuns = times.length;
      log(`  backend init ${fmt(report.loadTime.backendInitMs, 1)} ms, load ${fmt(report.loadTime.loadMs, 1)} ms, warm-up ${fmt(report.loadTime.warmupMs, 1)} ms; another version: load ${fmt(report.loadTime.secondLoadMs, 1)} ms, warm-up ${fmt(report.loadTime.secondWarmupMs, 1)} ms`);
      log('item 4: memory per extra loaded version ...');
      report.memory = await runChild<MemoryResult>('load_memory', ['memory', o.quick ? '4' : '8'], ['--expose-gc'], env);
      log(`  ${fmt(report.memory.rssPerVersionMb, 2)} MB RSS per extra version (${report.memory.versions} versions; heap ${fmt(report.memory.heapPerVersionMb, 2)} MB, external ${fmt(report.memory.externalPerVersionMb, 2)} MB, WASM heap growth ${fmt(report.memory.wasmHeapGrowthMb, 1)} MB in all)`);
      log('item 4: through the server (every version loaded in every inference thread) ...');
      const body = JSON.stringify({ instances: images.slice(0, 1) });
      try {
        report.serverMemory = await measureServerMemory(workDir, o.quick ? 3 : 5, body, serveArgs());
        if (report.serverMemory) {
          log(`  ${fmt(report.serverMemory.rssPerVersionMb, 2)} MB RSS per extra version (server RSS ${fmt(report.serverMemory.rssOneMb, 1)} MB with 1, ${fmt(report.serverMemory.rssAllMb, 1)} MB with ${report.serverMemory.versions}); load + warm-up ${fmt(report.serverMemory.loadMs, 1)} ms per version (server metrics)`);
        }
      } catch (e) {
        notes.push(`server memory measurement failed: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
      }
    }
    if (o.only.has('http')) {
      log(`HTTP load (autocannon, ${o.warmup} s warm-up + ${o.seconds} s per case) ...`);
      const { commands, batching } = await httpCases(o, workDir, images, report.http, notes);
      report.commands = commands;
      report.batching = batching;
      printHttp(report.http);
    }
    report.elapsedSeconds = (Date.now() - started) / 1000;
    const text = writeReport(report, o.write ? o.out : undefined);
    log(`\n${text.goalsText}`);
    for (const n of notes) log(`note: ${n}`);
    log(o.write ? `\nwrote ${path.relative(process.cwd(), o.out) || o.out} (${fmt(report.elapsedSeconds, 0)} s)` : `\n(${fmt(report.elapsedSeconds, 0)} s; BENCHMARKS.md not written)`);
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
