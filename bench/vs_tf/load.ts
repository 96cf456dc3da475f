/**
 * (d) load + warm-up time and resident memory per loaded version, each model
 * in a fresh process on each side: load_child.ts (modelhost's runtime) and
 * bench/peers/tf_load_memory.py (tf.saved_model.load), same thread count.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, runChild } from '../common.js';
import type { Job } from './jobs.js';
import type { ModelhostLoadResult } from './load_child.js';
import type { ProfileSummary } from './profile.js';

export interface TfLoadResult {
  import_ms: number;
  load_ms: number;
  warmup_ms: number;
  second_load_ms: number | null;
  second_warmup_ms: number | null;
  rss_per_version_mb: number;
  baseline_rss_mb: number;
}

export interface LoadRow {
  model: string;
  weightsMb: number;
  modelhost: ModelhostLoadResult;
  tf: TfLoadResult;
}

function jobFile(workDir: string, job: Job): string {
  const file = path.join(workDir, `job-${job.name}.json`);
  fs.writeFileSync(file, JSON.stringify(job));
  return file;
}

export function runTfLoad(python: string, file: string, threads: number, extra: number): Promise<TfLoadResult> {
  return new Promise((resolve, reject) => {
    execFile(python, [path.join(ROOT, 'bench', 'peers', 'tf_load_memory.py'), file, '--threads', String(threads), '--extra', String(extra)], { maxBuffer: 16 << 20, timeout: 600_000 }, (err, stdout, stderr) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      if (err || !line.startsWith('{')) reject(new Error(`tf_load_memory.py failed: ${err?.message ?? 'no result'}\n${stderr.slice(-2000)}`));
      else resolve(JSON.parse(line) as TfLoadResult);
    });
  });
}

export function runModelhostLoad(file: string, extra: number, profile = false): Promise<ModelhostLoadResult> {
  return runChild<ModelhostLoadResult>('vs_tf/load_child', [file, '--extra', String(extra), ...(profile ? ['--profile'] : [])], ['--expose-gc']);
}

export async function runLoadMemory(python: string, jobs: readonly Job[], workDir: string, threads: number, extra: number, log: (s: string) => void): Promise<{ rows: LoadRow[]; failures: { model: string; error: string }[] }> {
  const rows: LoadRow[] = [];
  const failures: { model: string; error: string }[] = [];
  for (const job of jobs) {
    const file = jobFile(workDir, job);
    try {
      const modelhost = await runModelhostLoad(file, extra);
      const tf = await runTfLoad(python, file, threads, extra);
      rows.push({ model: job.name, weightsMb: job.weightsBytes / 2 ** 20, modelhost, tf });
      log(
        `  ${job.name.padEnd(13)} load + warm-up: modelhost ${(modelhost.loadMs + modelhost.warmupMs).toFixed(0)} ms, TF ${(tf.load_ms + tf.warmup_ms).toFixed(0)} ms; RSS per extra version: modelhost ${modelhost.rssPerVersionMb.toFixed(1)} MB, TF ${tf.rss_per_version_mb.toFixed(1)} MB (weights ${(job.weightsBytes / 2 ** 20).toFixed(1)} MB)`,
      );
    } catch (e) {
      const error = e instanceof Error ? e.message.split('\n')[0] : String(e);
      failures.push({ model: job.name, error });
      log(`  ${job.name}: FAILED ${error}`);
    }
  }
  return { rows, failures };
}

/** The CPU profile of modelhost's first load + warm-up of `job`. */
export async function profileLoad(job: Job, workDir: string): Promise<ProfileSummary | undefined> {
  return (await runModelhostLoad(jobFile(workDir, job), 0, true)).profile;
}
