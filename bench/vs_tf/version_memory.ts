/**
 * Resident memory per extra loaded version and load + warm-up time of the
 * perf set on modelhost's runtime alone (no TensorFlow needed): the modelhost
 * side of part (d) of `--vs-tf` (load_child.ts), each model in a fresh
 * process, repeated `--runs` times (medians). For working on issue 17's
 * memory and load goals; the generated models must be in the perf cache.
 *
 *   node dist/bench/vs_tf/version_memory.js [--models=a,b] [--extra=K] [--runs=R] [--perf-cache=DIR]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fmt, median } from '../common.js';
import { runModelhostLoad } from './load.js';
import type { ModelhostLoadResult } from './load_child.js';
import { defaultCacheDir, PERF_SET, perfJobs } from './perf_set.js';

function option(name: string): string | undefined {
  const prefix = `--${name}=`;
  return process.argv.slice(2).find((a) => a.startsWith(prefix))?.slice(prefix.length);
}

async function main(): Promise<void> {
  const models = option('models')?.split(',') ?? [...PERF_SET];
  const extra = Number(option('extra') ?? 2);
  const runs = Number(option('runs') ?? 1);
  const cache = option('perf-cache') ?? defaultCacheDir();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-vmem-'));
  const jobs = perfJobs(cache, work, models);
  console.log(`| model | weights MB | load ms | warm-up ms | load + warm-up CPU ms | RSS / version MB | limit MB | heap MB | external MB | of it ArrayBuffers MB | WASM MB |`);
  console.log(`| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |`);
  for (const job of jobs) {
    const file = path.join(work, `job-${job.name}.json`);
    fs.writeFileSync(file, JSON.stringify(job));
    const rs: ModelhostLoadResult[] = [];
    for (let i = 0; i < runs; i++) rs.push(await runModelhostLoad(file, extra));
    const m = (f: (r: ModelhostLoadResult) => number) => median(rs.map(f));
    const w = job.weightsBytes / 2 ** 20;
    console.log(
      `| ${job.name} | ${fmt(w, 1)} | ${fmt(m((r) => r.loadMs))} | ${fmt(m((r) => r.warmupMs))} | ${fmt(m((r) => (r.loadCpuMs ?? NaN) + (r.warmupCpuMs ?? NaN)))} | ${fmt(m((r) => r.rssPerVersionMb), 1)} | ${fmt(1.5 * w + 10, 1)} | ${fmt(m((r) => r.heapPerVersionMb), 1)} | ${fmt(m((r) => r.externalPerVersionMb), 1)} | ${fmt(m((r) => r.arrayBuffersPerVersionMb ?? NaN), 1)} | ${fmt(m((r) => r.wasmGrowthPerVersionMb), 1)} |`,
    );
  }
  fs.rmSync(work, { recursive: true, force: true });
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
