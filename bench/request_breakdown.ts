/**
 * Where the time of one f_mnist `/v1` predict request goes (issue 17, item 3).
 *
 * Part 1, in this process, one stage at a time (median µs per request over
 * alternating blocks, after a warm-up long enough for V8 to optimise):
 *   json decode     body bytes → PredictRequestDocument → input tensors
 *   run inline      the signature on this thread (base64 + PNG decode + the
 *                   dense layers + the class-name lookup, all in the graph)
 *   worker hop      the same run through a 1-thread WorkerPool, minus the
 *                   inline run: feeds to wire form, postMessage both ways,
 *                   outputs back
 *   json encode     output tensors → TF Serving's response text
 *
 * Part 2, the servers under load (each in its own process, autocannon here):
 * CPU time per request of the whole server process (all threads, from
 * /proc/<pid>/stat), for bare node:http and modelhost with the given flags.
 * On a shared machine CPU per request is steadier than requests per second.
 *
 * With `--cpu-prof <dir>` every modelhost server runs under `node
 * --cpu-prof` and the script prints, per thread (the
 * event loop and each inference worker), the functions that took the most
 * time during the measured window only (startup and shutdown left out).
 *
 *   node dist/bench/request_breakdown.js [--seconds 5] [--connections 64] [--skip-servers]
 *       [--config 'name=flags'] ... [--cpu-prof /tmp/prof] [--top 15]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { formatPredictResponse, readPredictRequest } from '../runtime/codec/index.js';
import type { LoadedModel, Servable } from '../runtime/engine.js';
import { tsEngine } from '../runtime/loader.js';
import type { Tensor } from '../runtime/tensor.js';
import { WorkerPool } from '../runtime/execution/worker_pool.js';
import { benchImages, F_MNIST_DIR, fmt, median } from './common.js';
import { runLoad } from './http_load.js';
import { prepareModels, startBare, startModelhost, type RunningServer } from './servers.js';

const log = (s: string) => process.stderr.write(`${s}\n`);

interface Options {
  seconds: number;
  connections: number;
  servers: boolean;
  configs: { name: string; args: string[] }[];
  cpuProf?: string;
  top: number;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { seconds: 5, connections: 64, servers: true, configs: [], top: 15 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--seconds') o.seconds = Number(value());
    else if (a === '--connections') o.connections = Number(value());
    else if (a === '--skip-servers') o.servers = false;
    else if (a === '--cpu-prof') o.cpuProf = path.resolve(value());
    else if (a === '--top') o.top = Number(value());
    else if (a === '--config') {
      const v = value();
      const eq = v.indexOf('=');
      if (eq <= 0) throw new Error(`--config wants name=flags, got ${v}`);
      o.configs.push({ name: v.slice(0, eq), args: v.slice(eq + 1).split(/\s+/).filter((x) => x !== '') });
    } else throw new Error(`unknown argument ${a} (see bench/request_breakdown.ts)`);
  }
  if (o.configs.length === 0) o.configs.push({ name: 'default', args: [] });
  return o;
}

function disposeAll(ts: Record<string, Tensor>): void {
  for (const t of Object.values(ts)) t.dispose();
}

/** Median µs per call of `fn` over `reps` blocks of `perBlock` calls. */
async function timeIt(fn: () => unknown | Promise<unknown>, reps: number, perBlock: number): Promise<number> {
  const samples: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    for (let i = 0; i < perBlock; i++) await fn();
    samples.push(((performance.now() - t0) * 1000) / perBlock);
  }
  return median(samples);
}

async function inProcess(bodies: Buffer[]): Promise<void> {
  const dir = path.join(F_MNIST_DIR, '2');
  const model: LoadedModel = await tsEngine.load(dir);
  const pool = new WorkerPool({ threads: 1 });
  let pooled: Servable | undefined;
  try {
    pooled = await pool.load(dir, ['serve']);
    const sig = model.signatures.serving_default;
    let k = 0;
    const next = () => bodies[k++ % bodies.length];
    const decode = () => readPredictRequest(next()).decodeInputs(sig.inputs);
    const sample = decode();
    const outputs = model.run('serving_default', sample.inputs);
    const stages = {
      decode: () => disposeAll(decode().inputs),
      runInline: () => {
        const { inputs } = decode();
        const out = model.run('serving_default', inputs);
        disposeAll(inputs);
        disposeAll(out);
      },
      runWorker: async () => {
        const { inputs } = decode();
        const out = await pooled!.run('serving_default', inputs);
        disposeAll(out);
      },
      encode: () => formatPredictResponse(outputs, 'row'),
    };
    // Warm-up: V8 optimises the runtime's many small functions only after thousands of calls.
    const until = performance.now() + 3000;
    while (performance.now() < until) {
      stages.decode();
      stages.runInline();
      await stages.runWorker();
      stages.encode();
    }
    const results: Record<keyof typeof stages, number[]> = { decode: [], runInline: [], runWorker: [], encode: [] };
    for (let rep = 0; rep < 9; rep++) {
      for (const name of Object.keys(stages) as (keyof typeof stages)[]) results[name].push(await timeIt(stages[name], 3, 200));
    }
    const us = (name: keyof typeof stages) => median(results[name]);
    const decodeUs = us('decode');
    const inlineUs = us('runInline') - decodeUs;
    const hopUs = us('runWorker') - decodeUs - inlineUs;
    const encodeUs = us('encode');
    log('\nPart 1: one f_mnist request, stage by stage, in this process (median µs; 1 image, ~0.9 KB body)');
    log(`  json decode (body → string tensor)         ${fmt(decodeUs, 1).padStart(8)}`);
    log(`  run inline (base64, PNG, dense, lookup)    ${fmt(inlineUs, 1).padStart(8)}`);
    log(`  worker hop (transfer + 2 postMessage)      ${fmt(hopUs, 1).padStart(8)}   (1 request in flight; the worker's wake-up included)`);
    log(`  json encode (outputs → response text)      ${fmt(encodeUs, 1).padStart(8)}`);
    log(`  sum                                        ${fmt(decodeUs + inlineUs + hopUs + encodeUs, 1).padStart(8)}`);
    disposeAll(sample.inputs);
    disposeAll(outputs);
  } finally {
    await pooled?.dispose();
    await pool.close();
    model.dispose();
  }
}

/** utime + stime of a whole process (all threads), in ms. */
function cpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of stat (utime, stime) are 11 and 12 after the command name.
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / 100;
}

async function underLoad(o: Options, bodies: Buffer[]): Promise<void> {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-breakdown-'));
  const texts = bodies.map((b) => b.toString('utf8'));
  const nowUs = () => Number(process.hrtime.bigint() / 1000n);
  const measure = async (server: RunningServer, urlPath: string) => {
    await runLoad({ url: server.url + urlPath, bodies: texts, imagesPerRequest: 1, connections: o.connections, warmupSeconds: 1, seconds: 0.5 });
    const before = cpuMs(server.pid);
    const from = nowUs();
    const r = await runLoad({ url: server.url + urlPath, bodies: texts, imagesPerRequest: 1, connections: o.connections, warmupSeconds: 0, seconds: o.seconds });
    const to = nowUs();
    const cpu = cpuMs(server.pid) - before;
    return { reqPerSec: r.reqPerSec, cpuUsPerReq: (cpu * 1000) / r.requests, failures: r.failures, requests: r.requests, window: [from, to] as const };
  };
  try {
    log(`\nPart 2: server CPU per request under load (${o.connections} connections, ${o.seconds} s; all threads of the server process)`);
    const bare = await startBare();
    let b;
    try {
      b = await measure(bare, '/');
    } finally {
      await bare.stop();
    }
    log(`  bare node:http        ${fmt(b.cpuUsPerReq, 1).padStart(8)} µs CPU/request   ${fmt(b.reqPerSec).padStart(8)} req/s   failures ${b.failures}`);
    const modelsDir = prepareModels(workDir);
    for (const c of o.configs) {
      const profDir = o.cpuProf && path.join(o.cpuProf, c.name);
      if (profDir) fs.rmSync(profDir, { recursive: true, force: true });
      const nodeArgs = profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [];
      const server = await startModelhost({ workDir, modelsDir, args: ['--file_system_poll_wait_seconds=0', ...c.args], models: ['f_mnist'], label: c.name, nodeArgs });
      let m;
      try {
        m = await measure(server, '/v1/models/f_mnist:predict');
        log(`  modelhost ${c.name.padEnd(11)} ${fmt(m.cpuUsPerReq, 1).padStart(8)} µs CPU/request   ${fmt(m.reqPerSec).padStart(8)} req/s   failures ${m.failures}   ${c.args.join(' ') || '(defaults)'}`);
      } finally {
        await server.stop();
      }
      if (profDir) printProfiles(profDir, m.window, m.requests, o.top);
    }
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Per thread profile in `dir`: the functions with the most self time inside `window` (µs, monotonic clock). */
function printProfiles(dir: string, window: readonly [number, number], requests: number, top: number): void {
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort() : [];
  for (const file of files) {
    const p = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as CpuProfile;
    const names = new Map(p.nodes.map((n) => [n.id, `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber + 1}`]));
    const self = new Map<string, number>();
    let t = p.startTime;
    let total = 0;
    for (let i = 0; i < p.samples.length; i++) {
      t += p.timeDeltas[i];
      if (t < window[0] || t > window[1]) continue;
      const d = p.timeDeltas[i + 1] ?? 0;
      const name = names.get(p.samples[i])!;
      self.set(name, (self.get(name) ?? 0) + d);
      total += d;
    }
    if (total === 0) continue;
    const idle = (self.get('(idle) :0') ?? 0) / total;
    // Thread 0 of the process is the event loop; the others are inference workers.
    const thread = /\.(\d+)\.\d+\.cpuprofile$/.exec(file)?.[1] === '0' ? 'event loop' : 'worker';
    log(`    ${thread} (${file}): ${fmt(100 * (1 - idle), 0)}% busy in the window, ${fmt((total * (1 - idle)) / requests, 1)} µs wall per request`);
    for (const [name, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) log(`      ${fmt((100 * us) / total, 1).padStart(5)}%  ${name}`);
  }
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const bodies = benchImages(16).map((b64) => Buffer.from(JSON.stringify({ instances: [b64] })));
  await inProcess(bodies);
  if (o.servers) await underLoad(o, bodies);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
