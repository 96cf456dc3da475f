/**
 * Arguments of `npm run bench -- --vs-tf [...]` (bench/vs_tf/run_vs_tf.ts).
 * Options take `--name=value` or `--name value`.
 *
 *   --python=PATH       Python with TensorFlow 2.21, FastAPI, uvicorn[standard]
 *                       (default $MODELHOST_BENCH_PYTHON, else /work/tfvenv/bin/python)
 *   --perf-cache=DIR    where the generated perf set lives (default
 *                       $MODELHOST_BENCH_CACHE, else ~/.cache/modelhost-bench/perf_models)
 *   --models=a,b        a subset of the perf set (default all)
 *   --parts=compute,kernels,serving,load   a subset of the parts (default all)
 *   --quick             short budgets (a smoke run; marked so in the report)
 *   --budget=S          compute, kernels: seconds of timed calls per cell and side (default 2; quick 0.5)
 *   --seconds=S         serving: measured seconds per case (default 3; quick 1); slow models get more
 *   --warmup=S          serving: warm-up seconds per case (default 1; quick 0.5)
 *   --extra=K           load: extra copies loaded for memory per version (default 2; quick 1)
 *   --tf-workers=N      uvicorn workers of the TF peer (default: the core count)
 *   --no-profile        skip the profiles of the goals not met
 *   --no-write          print the section on stdout instead of writing it; --out=FILE writes another file than BENCHMARKS.md
 */
import path from 'node:path';
import { PERF_SET } from './perf_set.js';

export const PARTS = ['compute', 'kernels', 'serving', 'load'] as const;
export type Part = (typeof PARTS)[number];

export interface VsTfOptions {
  python?: string;
  perfCache?: string;
  models: string[];
  parts: Set<Part>;
  quick: boolean;
  budgetSeconds: number;
  seconds: number;
  warmupSeconds: number;
  extra: number;
  tfWorkers?: number;
  profile: boolean;
  write: boolean;
  out?: string;
}

function positive(name: string, v: string, integer = false): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw new Error(`${name} must be a positive ${integer ? 'integer' : 'number'}, got '${v}'`);
  return n;
}

function list<T extends string>(name: string, v: string, known: readonly T[]): T[] {
  const items = v.split(',').filter((s) => s !== '');
  const unknown = items.filter((s) => !known.includes(s as T));
  if (unknown.length || items.length === 0) throw new Error(`${name}: unknown ${unknown.join(', ') || '(empty)'}; known: ${known.join(', ')}`);
  return items as T[];
}

export function parseVsTfArgs(argv: readonly string[]): VsTfOptions {
  const o: VsTfOptions = { models: [...PERF_SET], parts: new Set(PARTS), quick: false, budgetSeconds: NaN, seconds: NaN, warmupSeconds: NaN, extra: NaN, profile: true, write: true };
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i];
    const eq = raw.indexOf('=');
    const name = eq >= 0 ? raw.slice(0, eq) : raw;
    const value = () => {
      if (eq >= 0) return raw.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${name} needs a value`);
      return v;
    };
    switch (name) {
      case '--vs-tf':
        break;
      case '--python':
        o.python = value();
        break;
      case '--perf-cache':
        o.perfCache = path.resolve(value());
        break;
      case '--models':
        o.models = list(name, value(), PERF_SET);
        break;
      case '--parts':
        o.parts = new Set(list(name, value(), PARTS));
        break;
      case '--quick':
        o.quick = true;
        break;
      case '--budget':
        o.budgetSeconds = positive(name, value());
        break;
      case '--seconds':
        o.seconds = positive(name, value());
        break;
      case '--warmup':
        o.warmupSeconds = positive(name, value());
        break;
      case '--extra':
        o.extra = positive(name, value(), true);
        break;
      case '--tf-workers':
        o.tfWorkers = positive(name, value(), true);
        break;
      case '--no-profile':
        o.profile = false;
        break;
      case '--no-write':
        o.write = false;
        break;
      case '--out':
        o.out = path.resolve(value());
        break;
      default:
        throw new Error(`unknown argument ${raw} for --vs-tf (see bench/vs_tf/args.ts)`);
    }
  }
  if (Number.isNaN(o.budgetSeconds)) o.budgetSeconds = o.quick ? 0.5 : 2;
  if (Number.isNaN(o.seconds)) o.seconds = o.quick ? 1 : 3;
  if (Number.isNaN(o.warmupSeconds)) o.warmupSeconds = o.quick ? 0.5 : 1;
  if (Number.isNaN(o.extra)) o.extra = o.quick ? 1 : 2;
  return o;
}
