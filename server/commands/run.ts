/**
 * `modelhost run DIR --request JSON [--signature_def NAME] [--tag_set serve]`:
 * runs one TF Serving predict body through the runtime and prints exactly the
 * body the REST API returns ({"predictions": ...} or {"outputs": ...}) on
 * stdout. Errors go to stderr with a non-zero exit status.
 *
 * `--profile`: after one warm-up run, runs the request `--profile_runs` more
 * times with per-op timing (graph/profile.ts) and prints the tables on stderr
 * (stdout still holds only the response body).
 */
import fs from 'node:fs';
import { setSimdKernels, simdKernelMode, type SimdKernelMode } from '../../runtime/simd/simd_kernels.js';
import type { Command } from 'commander';
import { formatPredictResponse, parsePredictRequest } from '../../runtime/codec/index.js';
import { backendDescription } from '../../runtime/backend.js';
import { invalidArgument } from '../../runtime/errors.js';
import type { GraphOptimizations } from '../../runtime/graph/optimize/options.js';
import { parseGraphOptimizations } from '../../runtime/graph/optimize/options.js';
import { formatProfile, Profiler } from '../../runtime/graph/profile.js';
import { DEFAULT_MAX_TENSOR_ELEMENTS, setRuntimeLimits } from '../../runtime/limits.js';
import { tsEngine } from '../../runtime/loader.js';
import { DEFAULT_SIGNATURE } from '../inference/predict.js';

/** Most profiled runs `--profile_runs` accepts. */
export const MAX_PROFILE_RUNS = 10_000;

export interface RunOptions {
  signature?: string;
  tags?: string[];
  graphOptimizations?: GraphOptimizations;
  /** Profile this many runs after a warm-up run; the tables go to `onProfile`. */
  profileRuns?: number;
  onProfile?: (text: string, profiler: Profiler) => void;
}

export async function runPredict(dir: string, body: string, options: RunOptions = {}): Promise<string> {
  const model = await tsEngine.load(dir, { tags: options.tags, graphOptimizations: options.graphOptimizations });
  try {
    let signature = options.signature ?? DEFAULT_SIGNATURE;
    const request = parsePredictRequest(body, (name) => {
      if (options.signature === undefined && name) signature = name;
      const sig = model.signatures[signature];
      if (!sig) throw invalidArgument(`Serving signature name: "${signature}" not found in signature def`);
      return sig.inputs;
    });
    const outputs = model.run(signature, request.inputs);
    const response = formatPredictResponse(outputs, request.format);
    if (options.profileRuns !== undefined) {
      const profiler = new Profiler();
      for (let i = 0; i < options.profileRuns; i++) {
        const outs = profiler.measure(() => model.run(signature, request.inputs));
        for (const t of Object.values(outs)) t.dispose();
      }
      options.onProfile?.(`backend: ${await backendDescription()}\n${formatProfile(profiler, options.profileRuns)}`, profiler);
    }
    return response;
  } finally {
    model.dispose();
  }
}

/** A whole number in [1, MAX_PROFILE_RUNS], else INVALID_ARGUMENT. */
export function parseProfileRuns(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > MAX_PROFILE_RUNS) {
    throw invalidArgument(`--profile_runs must be a whole number from 1 to ${MAX_PROFILE_RUNS}, got '${v}'`);
  }
  return n;
}

export function addRunCommand(program: Command): void {
  program
    .command('run')
    .description('run a TF Serving predict request body through a SavedModel and print the response body')
    .argument('<dir>', 'SavedModel directory (holding saved_model.pb)')
    .requiredOption('--request <json>', 'predict body, e.g. \'{"instances": [[1.0], [2.0]]}\'; @FILE reads it from a file')
    .option('--signature_def <name>', 'signature to run (default: the request\'s signature_name, else serving_default)')
    .option('--tag_set <tags>', 'comma-separated tag set of the MetaGraph', 'serve')
    .option('--max_tensor_elements <n>', 'most elements one tensor may have (as for serve)', String(DEFAULT_MAX_TENSOR_ELEMENTS))
    .option('--graph_optimizations <passes>', "load-time graph passes: 'all', 'none' or a comma-separated list (as for serve)", 'all')
    .option('--simd_kernels <mode>', 'which kernels run float32 products and convolutions: auto, fma, plain or off (as for serve)', simdKernelMode())
    .option('--profile', 'after the run, time --profile_runs more runs per op type and per node; tables on stderr')
    .option('--profile_runs <n>', `runs to profile with --profile (1-${MAX_PROFILE_RUNS})`, '10')
    .action(
      async (
        dir: string,
        opts: { request: string; signature_def?: string; tag_set: string; max_tensor_elements: string; graph_optimizations: string; simd_kernels: SimdKernelMode; profile?: boolean; profile_runs: string },
      ) => {
        setRuntimeLimits({ maxTensorElements: Number(opts.max_tensor_elements) }); // INVALID_ARGUMENT unless a whole number >= 1
        const graphOptimizations = parseGraphOptimizations(opts.graph_optimizations);
        setSimdKernels(opts.simd_kernels); // INVALID_ARGUMENT unless a mode
        const profileRuns = opts.profile ? parseProfileRuns(opts.profile_runs) : undefined;
        const body = opts.request.startsWith('@') ? fs.readFileSync(opts.request.slice(1), 'utf8') : opts.request;
        const out = await runPredict(dir, body, {
          signature: opts.signature_def,
          tags: opts.tag_set.split(',').filter(Boolean),
          graphOptimizations,
          profileRuns,
          onProfile: (text) => process.stderr.write(`${text}\n`),
        });
        process.stdout.write(`${out}\n`);
      },
    );
}
