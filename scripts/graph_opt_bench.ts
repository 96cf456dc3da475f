/**
 * Graph optimisations, off vs on, in one process: each model is loaded twice
 * (`--graph_optimizations=none` and `all`), both run the same input in
 * alternation, and the table shows the median time per run of each and the
 * ratio (off / on: above 1 means the passes help), the same for the fastest
 * run (steadier on a busy machine), plus the largest relative difference
 * between the two outputs.
 *
 *   npm run build && node dist/scripts/graph_opt_bench.js [--runs N] [--batch B] [--passes P] [--base P] [DIR...]
 *
 * `--passes` is the "on" side (default all), `--base` the "off" side
 * (default none): `--base constant_folding,identity_pruning,invariant_caching,fusion,batchnorm_folding`
 * measures the elementwise_fusion pass alone.
 *
 * Without DIRs: the Keras models of the conformance corpus, and those of
 * bench/perf_models/make_perf_models.py in $MODELHOST_PERF_MODELS (default
 * ~/.cache/modelhost-bench/perf_models, where `npm run bench -- --vs-tf` makes them).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LoadedModel } from '../runtime/engine.js';
import { GRAPH_PASSES, parseGraphOptimizations } from '../runtime/graph/optimize/options.js';
import { formatProfile, Profiler } from '../runtime/graph/profile.js';
import { tsEngine } from '../runtime/loader.js';
import { Tensor } from '../runtime/tensor.js';
import { packageRoot } from '../runtime/package_root.js';

interface Args {
  runs: number;
  batch: number;
  dirs: string[];
  profile: boolean;
  passes: string;
  base: string;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { runs: 30, batch: 1, dirs: [], profile: false, passes: 'all', base: 'none' };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--runs') a.runs = Number(argv[++i]);
    else if (argv[i] === '--batch') a.batch = Number(argv[++i]);
    else if (argv[i] === '--profile') a.profile = true;
    else if (argv[i] === '--passes') a.passes = argv[++i];
    else if (argv[i] === '--base') a.base = argv[++i];
    else a.dirs.push(argv[i]);
  }
  return a;
}

function defaultModels(): string[] {
  const corpus = path.join(packageRoot(), 'test', 'conformance', 'corpus');
  const dirs = [
    'keras_saved/functional_cnn_batchnorm_tf_saved_model_save',
    'keras_saved/efficientnet_b0_tf_saved_model_save',
    'preprocessing/text_classifier_string_lookup_embedding_lstm',
  ].map((d) => path.join(corpus, d, 'model'));
  const perf = process.env.MODELHOST_PERF_MODELS ?? path.join(os.homedir(), '.cache', 'modelhost-bench', 'perf_models');
  if (fs.existsSync(perf)) for (const name of fs.readdirSync(perf).sort()) dirs.push(path.join(perf, name, '1'));
  return dirs.filter((d) => fs.existsSync(path.join(d, 'saved_model.pb')));
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

function time(model: LoadedModel, feeds: Record<string, Tensor>): number {
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
  const on = parseGraphOptimizations(args.passes);
  const base = parseGraphOptimizations(args.base);
  console.log(`graph optimisations off (${[...base].join(', ') || 'none'}) vs on (${[...on].join(', ') || 'none'} of ${GRAPH_PASSES.join(', ')}); batch ${args.batch}, ${args.runs} runs each, median ms`);
  console.log(`| model | off ms (median) | on ms (median) | off/on (median) | off/on (fastest run) | max rel diff |`);
  console.log(`| --- | ---: | ---: | ---: | ---: | ---: |`);
  for (const dir of dirs) {
    const name = path.basename(dir) === '1' || path.basename(dir) === 'model' ? path.basename(path.dirname(dir)) : path.basename(dir);
    const off = await tsEngine.load(dir, { graphOptimizations: base });
    const opt = await tsEngine.load(dir, { graphOptimizations: on });
    const feeds = inputsFor(off, args.batch);
    const a = off.run('serving_default', feeds);
    const b = opt.run('serving_default', feeds);
    const diff = maxDiff(a, b);
    const tOff: number[] = [];
    const tOn: number[] = [];
    for (let i = 0; i < 3; i++) {
      time(off, feeds);
      time(opt, feeds);
    }
    for (let i = 0; i < args.runs; i++) {
      tOff.push(time(off, feeds));
      tOn.push(time(opt, feeds));
    }
    const mOff = median(tOff);
    const mOn = median(tOn);
    const best = Math.min(...tOff) / Math.min(...tOn);
    console.log(`| ${name} | ${mOff.toFixed(2)} | ${mOn.toFixed(2)} | ${(mOff / mOn).toFixed(2)} | ${best.toFixed(2)} | ${diff.toExponential(1)} |`);
    if (args.profile) {
      for (const [label, m] of [['off', off], ['on', opt]] as const) {
        const p = new Profiler();
        for (let i = 0; i < 5; i++) p.measure(() => time(m, feeds));
        console.log(`\n${name} (${label}):\n${formatProfile(p, 5, 12)}\n`);
      }
    }
    off.dispose();
    opt.dispose();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
