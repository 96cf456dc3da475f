/**
 * The modelhost side of the compute comparison of `npm run bench -- --vs-tf`:
 * one process, SavedModels loaded by the runtime's Engine (runtime/loader.ts,
 * in-process, no HTTP, no worker), a signature run call by call. Speaks the
 * same line protocol as bench/peers/tf_compute.py (see there); `info` also
 * tells the backend and its thread count, which the TF side then uses.
 *
 *   node [--cpu-prof ...] dist/bench/vs_tf/compute_child.js
 *
 * A call is `model.run(signature, {input: tensor})[output].values()`: the
 * feed is made once per measurement, the output is read to the host.
 */
import { initBackend } from '../../runtime/backend.js';
import type { LoadedModel } from '../../runtime/engine.js';
import { tsEngine } from '../../runtime/loader.js';
import type { Tensor } from '../../runtime/tensor.js';
import { batchTensor, readJobInputs, type Job } from './jobs.js';
import { answerLines, runChild } from './line_server.js';
import { profileThis, summarise } from './profile.js';
import { measureCalls } from './timing.js';

interface Loaded {
  model: LoadedModel;
  job: Job;
  inputs: ReturnType<typeof readJobInputs>;
}

const models = new Map<string, Loaded>();

export async function backendInfo(): Promise<{ backend: string; threads: number }> {
  const backend = await initBackend();
  let threads = 1;
  if (backend === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    threads = wasm.getThreadsCount();
  }
  return { backend, threads };
}

export async function loadJob(job: Job): Promise<{ loaded: Loaded; loadMs: number }> {
  await initBackend();
  const t = performance.now();
  const model = await tsEngine.load(job.dir);
  const loadMs = performance.now() - t;
  return { loaded: { model, job, inputs: readJobInputs(job) }, loadMs };
}

/** One timed measurement of `batch` inputs; `sample` = the output's first values. */
export function measureJob(l: Loaded, batch: number, budget: { budgetSeconds: number; minCalls: number; maxCalls: number }, sampleSize = 64) {
  const feed = batchTensor(l.job, l.inputs, batch);
  let last: number[] = [];
  const call = () => {
    const out = l.model.run(l.job.signature, { [l.job.input]: feed }, [l.job.output]);
    const t: Tensor = out[l.job.output];
    const values = t.values() as Float32Array;
    last = Array.from(values.subarray(0, sampleSize));
    t.dispose();
  };
  try {
    const r = measureCalls(call, budget);
    return { ...r, sample: last };
  } finally {
    feed.dispose();
  }
}

async function handle(cmd: Record<string, unknown>): Promise<Record<string, unknown>> {
  switch (cmd.cmd) {
    case 'info':
      return { ...(await backendInfo()), node: process.version };
    case 'load': {
      const job = cmd.job as Job;
      const { loaded, loadMs } = await loadJob(job);
      models.get(job.name)?.model.dispose();
      models.set(job.name, loaded);
      return { load_ms: loadMs };
    }
    case 'unload':
      models.get(cmd.name as string)?.model.dispose();
      models.delete(cmd.name as string);
      return {};
    case 'measure': {
      const l = models.get(cmd.name as string);
      if (!l) throw new Error(`model ${String(cmd.name)} is not loaded`);
      const r = measureJob(l, cmd.batch as number, { budgetSeconds: cmd.budget_s as number, minCalls: cmd.min_calls as number, maxCalls: cmd.max_calls as number }, (cmd.sample as number | undefined) ?? 64);
      return { times_ms: r.timesMs, warmup_calls: r.warmupCalls, sample: r.sample };
    }
    case 'profile': {
      // The same measurement under the CPU profiler; answers the summary (profile.ts).
      const l = models.get(cmd.name as string);
      if (!l) throw new Error(`model ${String(cmd.name)} is not loaded`);
      const { result, profile } = await profileThis(() => measureJob(l, cmd.batch as number, { budgetSeconds: cmd.budget_s as number, minCalls: cmd.min_calls as number, maxCalls: cmd.max_calls as number }, 1));
      return { calls: result.timesMs.length, summary: summarise(profile) };
    }
    default:
      throw new Error(`unknown command ${String(cmd.cmd)}`);
  }
}

async function main(): Promise<void> {
  await answerLines(handle);
  for (const l of models.values()) l.model.dispose();
}

if (import.meta.url === `file://${process.argv[1]}`) runChild(main);
