/**
 * (b) compute: every model of the perf set run by modelhost's runtime
 * (compute_child.ts) and by TensorFlow (bench/peers/tf_compute.py), both
 * long-lived children of the bench, same thread count (the runtime's; TF's
 * intra- and inter-op pools set to it), batch 1 and 32. The two sides take
 * turns model by model and batch by batch (the order flips each time), so
 * drifts in machine load hit both alike. Before it counts, each pair of
 * outputs must agree (|a - b| <= 1e-3 · max(1, |b|) on the first values).
 */
import path from 'node:path';
import { ROOT } from '../common.js';
import type { Job } from './jobs.js';
import { LineChild } from './line_child.js';
import type { ProfileSummary } from './profile.js';
import { timeStats, type TimeStats, type TimingBudget } from './timing.js';

export const BATCHES = [1, 32] as const;

export interface ComputeRow {
  model: string;
  batch: number;
  modelhost: TimeStats;
  tf: TimeStats;
  /** modelhost median / TF median. */
  ratio: number;
  /** Largest |modelhost - TF| over the compared output values. */
  maxAbsDiff: number;
  agree: boolean;
}

export interface ComputeResult {
  backend: string;
  threads: number;
  tfThreads: { intra_op: number; inter_op: number };
  rows: ComputeRow[];
  /** Models that failed on one side, with why. */
  failures: { model: string; error: string }[];
}

interface Measured {
  times_ms: number[];
  sample: number[];
}

export function startModelhostCompute(nodeArgs: string[] = []): Promise<LineChild> {
  return LineChild.start(process.execPath, [...nodeArgs, path.join(ROOT, 'dist', 'bench', 'vs_tf', 'compute_child.js')], 'modelhost compute child', {}, ROOT);
}

export function compareSamples(a: readonly number[], b: readonly number[]): { maxAbsDiff: number; agree: boolean } {
  let maxAbsDiff = 0;
  let agree = a.length === b.length && a.length > 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= maxAbsDiff)) maxAbsDiff = d;
    if (!(d <= 1e-3 * Math.max(1, Math.abs(b[i])))) agree = false;
  }
  return { maxAbsDiff, agree };
}

export async function runCompute(python: string, jobs: readonly Job[], budget: TimingBudget, log: (s: string) => void): Promise<ComputeResult> {
  const mh = await startModelhostCompute();
  let tf: LineChild | undefined;
  try {
    const info = await mh.ask<{ backend: string; threads: number }>({ cmd: 'info' });
    tf = await LineChild.start(python, [path.join(ROOT, 'bench', 'peers', 'tf_compute.py'), '--threads', String(info.threads)], 'TF compute peer');
    const tfInfo = await tf.ask<{ intra_op: number; inter_op: number }>({ cmd: 'info' });
    const rows: ComputeRow[] = [];
    const failures: ComputeResult['failures'] = [];
    let turn = 0;
    for (const job of jobs) {
      try {
        await mh.ask({ cmd: 'load', job });
        await tf.ask({ cmd: 'load', job });
        for (const batch of BATCHES) {
          const cmd = { cmd: 'measure', name: job.name, batch, budget_s: budget.budgetSeconds, min_calls: budget.minCalls, max_calls: budget.maxCalls, sample: 64 };
          const sides = turn++ % 2 === 0 ? [mh, tf] : [tf, mh];
          const answers = new Map<LineChild, Measured>();
          for (const side of sides) answers.set(side, await side.ask<Measured>(cmd));
          const a = answers.get(mh)!;
          const b = answers.get(tf)!;
          const row: ComputeRow = { model: job.name, batch, modelhost: timeStats(a.times_ms), tf: timeStats(b.times_ms), ratio: NaN, ...compareSamples(a.sample, b.sample) };
          row.ratio = row.modelhost.medianMs / row.tf.medianMs;
          rows.push(row);
          log(`  ${job.name.padEnd(13)} batch ${String(batch).padStart(2)}: modelhost ${row.modelhost.medianMs.toFixed(2)} ms, TF ${row.tf.medianMs.toFixed(2)} ms → ${row.ratio.toFixed(2)}x${row.agree ? '' : `  OUTPUTS DIFFER (max |diff| ${row.maxAbsDiff.toExponential(2)})`}`);
        }
      } catch (e) {
        const error = e instanceof Error ? e.message.split('\n')[0] : String(e);
        failures.push({ model: job.name, error });
        log(`  ${job.name}: FAILED ${error}`);
      } finally {
        await mh.ask({ cmd: 'unload', name: job.name }).catch(() => undefined);
        await tf.ask({ cmd: 'unload', name: job.name }).catch(() => undefined);
      }
    }
    return { backend: info.backend, threads: info.threads, tfThreads: { intra_op: tfInfo.intra_op, inter_op: tfInfo.inter_op }, rows, failures };
  } finally {
    await mh.stop();
    await tf?.stop();
  }
}

/** CPU profile summaries of the modelhost side for the given (model, batch) cells, one fresh child for all. */
export async function profileCompute(jobs: readonly Job[], cells: readonly { model: string; batch: number }[], budget: TimingBudget): Promise<{ model: string; batch: number; calls: number; summary: ProfileSummary }[]> {
  const mh = await startModelhostCompute();
  const out: { model: string; batch: number; calls: number; summary: ProfileSummary }[] = [];
  try {
    for (const cell of cells) {
      const job = jobs.find((j) => j.name === cell.model);
      if (!job) continue;
      await mh.ask({ cmd: 'load', job });
      const r = await mh.ask<{ calls: number; summary: ProfileSummary }>({ cmd: 'profile', name: job.name, batch: cell.batch, budget_s: budget.budgetSeconds, min_calls: budget.minCalls, max_calls: budget.maxCalls });
      out.push({ ...cell, calls: r.calls, summary: r.summary });
      await mh.ask({ cmd: 'unload', name: job.name });
    }
  } finally {
    await mh.stop();
  }
  return out;
}
