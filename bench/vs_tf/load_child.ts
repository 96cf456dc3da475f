/**
 * Load time and resident memory of one model on modelhost's runtime, in a
 * fresh process (the modelhost side of (d) of `npm run bench -- --vs-tf`;
 * bench/peers/tf_load_memory.py is the TF side).
 *
 *   node --expose-gc dist/bench/vs_tf/load_child.js JOB_JSON_FILE [--extra K] [--profile]
 *
 * initMs: the tfjs backend (once per process); loadMs: the first
 * engine.load; warmupMs: its first call on one input. Then K more copies are
 * loaded and each called once; rssPerVersionMb is the RSS growth (after GC)
 * divided by K. --profile: the first load + warm-up run under the CPU
 * profiler, and its summary is part of the answer (one BENCH_RESULT line).
 */
import fs from 'node:fs';
import { wasmMemoryBytes } from '../../runtime/backend.js';
import type { LoadedModel } from '../../runtime/engine.js';
import { emitResult } from '../common.js';
import { loadJob, measureJob, backendInfo } from './compute_child.js';
import type { Job } from './jobs.js';
import { profileThis, summarise, type ProfileSummary } from './profile.js';

export interface ModelhostLoadResult {
  initMs: number;
  loadMs: number;
  warmupMs: number;
  secondLoadMs?: number;
  secondWarmupMs?: number;
  rssPerVersionMb: number;
  heapPerVersionMb: number;
  externalPerVersionMb: number;
  wasmGrowthPerVersionMb: number;
  baselineRssMb: number;
  extra: number;
  profile?: ProfileSummary;
}

const ONE_CALL = { budgetSeconds: 0, minCalls: 0, maxCalls: 0 };

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const job = JSON.parse(fs.readFileSync(argv[0], 'utf8')) as Job;
  const extraAt = argv.indexOf('--extra');
  const extra = extraAt >= 0 ? Number(argv[extraAt + 1]) : 2;
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  let t = performance.now();
  await backendInfo();
  const initMs = performance.now() - t;
  // measureJob with a zero budget makes exactly one (warm-up) call: the first run.
  const loadAndWarm = async () => {
    const { loaded, loadMs } = await loadJob(job);
    t = performance.now();
    measureJob(loaded, 1, ONE_CALL, 1);
    return { model: loaded.model, loadMs, warmupMs: performance.now() - t };
  };
  let first: { model: LoadedModel; loadMs: number; warmupMs: number };
  let profile: ProfileSummary | undefined;
  if (argv.includes('--profile')) {
    const p = await profileThis(loadAndWarm, 500);
    first = p.result;
    profile = summarise(p.profile);
  } else {
    first = await loadAndWarm();
  }
  const settle = async () => {
    for (let i = 0; i < 4; i++) {
      gc();
      await new Promise((r) => setImmediate(r));
    }
  };
  await settle();
  const before = process.memoryUsage();
  const wasmBefore = wasmMemoryBytes();
  const more: { model: LoadedModel; loadMs: number; warmupMs: number }[] = [];
  for (let i = 0; i < extra; i++) more.push(await loadAndWarm());
  await settle();
  const after = process.memoryUsage();
  const mb = (bytes: number) => bytes / 2 ** 20 / Math.max(1, extra);
  const result: ModelhostLoadResult = {
    initMs,
    loadMs: first.loadMs,
    warmupMs: first.warmupMs,
    secondLoadMs: more[0]?.loadMs,
    secondWarmupMs: more[0]?.warmupMs,
    rssPerVersionMb: mb(after.rss - before.rss),
    heapPerVersionMb: mb(after.heapUsed - before.heapUsed),
    externalPerVersionMb: mb(after.external - before.external),
    wasmGrowthPerVersionMb: mb(wasmMemoryBytes() - wasmBefore),
    baselineRssMb: before.rss / 2 ** 20,
    extra,
    profile,
  };
  for (const m of [first, ...more]) m.model.dispose();
  emitResult(result);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e instanceof Error ? e.stack : e);
    process.exit(1);
  },
);
