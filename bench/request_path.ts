/**
 * The request-path ratio of issue 17: f_mnist, one image per request, 64
 * connections, modelhost's `/v1` predict rate over a bare `node:http`
 * server's (bench/bare_server.ts), both measured in the same run.
 *
 * The machine is noisy, so the script alternates: every round measures the
 * bare server, then each modelhost configuration, and every ratio divides
 * by the bare rate of its own round. It prints each round and the median
 * ratio per configuration.
 *
 *   npm run build && npx tsc -p bench/tsconfig.json
 *   node dist/bench/request_path.js                          default flags only
 *   node dist/bench/request_path.js --rounds 3 --seconds 5 \
 *     --config 'default=' --config 'batching=--enable_batching' --config 'inline=--inference_threads=0'
 *   node dist/bench/request_path.js --connections 64 --json   (one BENCH_RESULT line for scripts)
 *
 * A configuration is `name=flags` (flags split on spaces, added to
 * `modelhost serve`). Every answer is checked (200 and one prediction)
 * before a configuration is timed; failures (non-2xx, socket errors) are
 * counted and must be 0.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchImages, emitResult, fmt, median } from './common.js';
import { runLoad, type LoadResult } from './http_load.js';
import { prepareModels, startBare, startModelhost, type RunningServer } from './servers.js';

interface Options {
  rounds: number;
  seconds: number;
  warmup: number;
  connections: number;
  configs: { name: string; args: string[] }[];
  json: boolean;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { rounds: 3, seconds: 5, warmup: 1.5, connections: 64, configs: [], json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--rounds') o.rounds = Number(value());
    else if (a === '--seconds') o.seconds = Number(value());
    else if (a === '--warmup') o.warmup = Number(value());
    else if (a === '--connections') o.connections = Number(value());
    else if (a === '--json') o.json = true;
    else if (a === '--config') {
      const v = value();
      const eq = v.indexOf('=');
      if (eq <= 0) throw new Error(`--config wants name=flags, got ${v}`);
      o.configs.push({ name: v.slice(0, eq), args: v.slice(eq + 1).split(/\s+/).filter((x) => x !== '') });
    } else throw new Error(`unknown argument ${a} (see bench/request_path.ts)`);
  }
  if (o.configs.length === 0) o.configs.push({ name: 'default', args: [] });
  return o;
}

const log = (s: string) => process.stderr.write(`${s}\n`);

export interface RequestPathRow {
  config: string;
  args: string[];
  round: number;
  bareReqPerSec: number;
  reqPerSec: number;
  ratio: number;
  p50Ms: number;
  p99Ms: number;
  failures: number;
}

async function check(server: RunningServer, body: string): Promise<void> {
  const res = await fetch(`${server.url}/v1/models/f_mnist:predict`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`f_mnist predict answered ${res.status}: ${text.slice(0, 300)}`);
  const answer = JSON.parse(text) as { predictions?: unknown[] };
  if (answer.predictions?.length !== 1 || typeof answer.predictions[0] !== 'string') throw new Error(`unexpected f_mnist answer ${text.slice(0, 300)}`);
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-reqpath-'));
  const rows: RequestPathRow[] = [];
  try {
    const bodies = benchImages(16).map((b64) => JSON.stringify({ instances: [b64] }));
    const modelsDir = prepareModels(workDir);
    const load = (server: RunningServer, urlPath: string): Promise<LoadResult> =>
      runLoad({ url: server.url + urlPath, bodies, imagesPerRequest: 1, connections: o.connections, warmupSeconds: o.warmup, seconds: o.seconds });
    for (let round = 1; round <= o.rounds; round++) {
      const bareServer = await startBare();
      let bare: LoadResult;
      try {
        bare = await load(bareServer, '/');
      } finally {
        await bareServer.stop();
      }
      log(`round ${round}: bare node:http ${fmt(bare.reqPerSec)} req/s`);
      for (const c of o.configs) {
        const server = await startModelhost({ workDir, modelsDir, args: ['--file_system_poll_wait_seconds=0', ...c.args], models: ['f_mnist'], label: `${c.name}-${round}` });
        let r: LoadResult;
        try {
          await check(server, bodies[0]);
          r = await load(server, '/v1/models/f_mnist:predict');
        } finally {
          await server.stop();
        }
        const row: RequestPathRow = {
          config: c.name,
          args: c.args,
          round,
          bareReqPerSec: bare.reqPerSec,
          reqPerSec: r.reqPerSec,
          ratio: r.reqPerSec / bare.reqPerSec,
          p50Ms: r.p50Ms,
          p99Ms: r.p99Ms,
          failures: r.failures + bare.failures,
        };
        rows.push(row);
        log(`  ${c.name.padEnd(16)} ${fmt(r.reqPerSec).padStart(8)} req/s  ratio ${fmt(row.ratio, 3)}  p50 ${fmt(r.p50Ms, 2)} ms  p99 ${fmt(r.p99Ms, 2)} ms  failures ${row.failures}`);
      }
    }
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
  log(`\nf_mnist 1 image/request, ${o.connections} connections, ${o.rounds} round(s) of ${o.seconds} s; ratio = modelhost / bare node:http of the same round`);
  log('config           median ratio   ratios per round            median req/s  failures  flags');
  for (const c of o.configs) {
    const mine = rows.filter((r) => r.config === c.name);
    const ratios = mine.map((r) => r.ratio);
    log(
      `${c.name.padEnd(16)} ${fmt(median(ratios), 3).padStart(12)}   ${ratios.map((x) => fmt(x, 3)).join(' ').padEnd(26)} ${fmt(median(mine.map((r) => r.reqPerSec))).padStart(12)}  ${String(mine.reduce((s, r) => s + r.failures, 0)).padStart(8)}  ${c.args.join(' ') || '(defaults)'}`,
    );
  }
  if (o.json) emitResult({ connections: o.connections, seconds: o.seconds, rows });
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
