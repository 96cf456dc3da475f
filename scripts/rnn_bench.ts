/**
 * Recurrent nets, before vs after the loop and dispatch work of issue 17, in
 * one process: each model is loaded once and run with the runtime's switches
 * off ("before": tfjs op wrappers with the engine's per-kernel buffer check,
 * every float32 op on the backend, no per-iteration scopes in While loops)
 * and on ("after": the defaults: runtime/kernels/dispatch.ts, loop_scope.ts),
 * alternating run by run so both see the same machine load. Prints the median
 * and fastest run of each, their ratios (before / after: above 1 means the
 * new paths are faster), the largest relative difference between the two
 * outputs, and the live tfjs tensors and WASM heap after the runs.
 *
 *   npm run build && node dist/scripts/rnn_bench.js [--runs N] [--batch 1,32] [--profile] [DIR...]
 *
 * Without DIRs: the LSTM, BiLSTM and GRU of tools/perf_models/make_perf_models.py
 * under $MODELHOST_PERF_MODELS (default /tmp/modelhost-perf-models), and the
 * LSTM text classifier of the conformance corpus.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { wasmMemoryBytes } from '../runtime/backend.js';
import type { LoadedModel } from '../runtime/engine.js';
import { setDirectDispatch, setSmallHostMath } from '../runtime/kernels/dispatch.js';
import { setLoopScopes } from '../runtime/kernels/loop_scope.js';
import { formatProfile, Profiler } from '../runtime/graph/profile.js';
import { tsEngine } from '../runtime/loader.js';
import { packageRoot } from '../runtime/package_root.js';
import { Tensor } from '../runtime/tensor.js';

interface Args {
  runs: number;
  batches: number[];
  dirs: string[];
  profile: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { runs: 30, batches: [1, 32], dirs: [], profile: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--runs') a.runs = Number(argv[++i]);
    else if (argv[i] === '--batch') a.batches = argv[++i].split(',').map(Number);
    else if (argv[i] === '--profile') a.profile = true;
    else a.dirs.push(argv[i]);
  }
  return a;
}

function defaultModels(): string[] {
  const perf = process.env.MODELHOST_PERF_MODELS ?? '/tmp/modelhost-perf-models';
  const dirs = ['lstm', 'bilstm', 'gru'].map((m) => path.join(perf, m, '1'));
  dirs.push(path.join(packageRoot(), 'test', 'conformance', 'corpus', 'preprocessing', 'text_classifier_string_lookup_embedding_lstm', 'model'));
  return dirs.filter((d) => fs.existsSync(path.join(d, 'saved_model.pb')));
}

/** The switches this benchmark compares; `true` is the runtime's default. */
function configure(after: boolean): void {
  setDirectDispatch(after);
  setSmallHostMath(after);
  setLoopScopes(after);
  // The runtime sets PROD (backend.ts); before, it set IS_TEST, which adds a buffer count around every kernel.
  tf.env().set('IS_TEST', !after);
}

/** Seeded inputs of the signature's shapes (unknown dims: the batch, then 1). */
function inputsFor(model: LoadedModel, batch: number): Record<string, Tensor> {
  const sig = model.signatures.serving_default;
  let seed = 1;
  const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
  return Object.fromEntries(
    Object.entries(sig.inputs).map(([k, spec]) => {
      const shape = (spec.shape?.dims ?? [-1]).map((d: number, i: number) => (d >= 0 ? d : i === 0 ? batch : 1));
      const n = shape.reduce((x: number, y: number) => x * y, 1);
      if (spec.dtype === 'string') return [k, Tensor.from('string', shape, Array.from({ length: n }, (_, i) => `word${i % 7} the movie`))];
      return [k, Tensor.from(spec.dtype, shape, Array.from({ length: n }, () => (spec.dtype.startsWith('float') ? rand() : 1)))];
    }),
  );
}

function runOnce(model: LoadedModel, feeds: Record<string, Tensor>, after: boolean): number {
  configure(after);
  const t0 = performance.now();
  const out = model.run('serving_default', feeds);
  const ms = performance.now() - t0;
  for (const t of Object.values(out)) t.dispose();
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function maxDiff(a: Record<string, Tensor>, b: Record<string, Tensor>): number {
  let d = 0;
  for (const k of Object.keys(a)) {
    const x = a[k].values() as Float32Array;
    const y = b[k].values() as Float32Array;
    for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(Number(x[i]) - Number(y[i])) / Math.max(1, Math.abs(Number(y[i]))));
  }
  return d;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const dirs = args.dirs.length ? args.dirs : defaultModels();
  console.log(`recurrent nets, before vs after (${args.runs} runs each, alternating), ms per run`);
  console.log('| model | batch | before median | after median | before/after (median) | before/after (fastest) | max rel diff | live tensors after | WASM heap MB |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const dir of dirs) {
    const name = path.basename(dir) === '1' || path.basename(dir) === 'model' ? path.basename(path.dirname(dir)) : path.basename(dir);
    const model = await tsEngine.load(dir);
    for (const batch of args.batches) {
      const feeds = inputsFor(model, batch);
      configure(false);
      const a = model.run('serving_default', feeds);
      configure(true);
      const b = model.run('serving_default', feeds);
      const diff = maxDiff(a, b);
      for (const t of [...Object.values(a), ...Object.values(b)]) t.dispose();
      for (let i = 0; i < 3; i++) {
        runOnce(model, feeds, false);
        runOnce(model, feeds, true);
      }
      const before: number[] = [];
      const after: number[] = [];
      for (let i = 0; i < args.runs; i++) {
        before.push(runOnce(model, feeds, false));
        after.push(runOnce(model, feeds, true));
      }
      const mb = median(before);
      const ma = median(after);
      const best = Math.min(...before) / Math.min(...after);
      const live = tf.memory().numTensors;
      console.log(
        `| ${name} | ${batch} | ${mb.toFixed(2)} | ${ma.toFixed(2)} | ${(mb / ma).toFixed(2)} | ${best.toFixed(2)} | ${diff.toExponential(1)} | ${live} | ${(wasmMemoryBytes() / 2 ** 20).toFixed(0)} |`,
      );
      if (args.profile) {
        for (const [label, on] of [['before', false], ['after', true]] as const) {
          const p = new Profiler();
          for (let i = 0; i < 5; i++) p.measure(() => runOnce(model, feeds, on));
          console.log(`\n${name} batch ${batch} (${label}):\n${formatProfile(p, 5, 12)}\n`);
        }
      }
      for (const t of Object.values(feeds)) t.dispose();
    }
    configure(true);
    model.dispose();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
