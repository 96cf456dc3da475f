/**
 * `modelhost run --profile` (per-op and per-node timing of a signature run)
 * and `--graph_optimizations`, on a Keras CNN with BatchNorm from the
 * conformance corpus: the response is TensorFlow's answer either way, the
 * profile names the kernels that ran (fused ones with the passes on, the
 * original ops with them off), and bad values are refused.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { runPredict } from '../../../server/commands/run.js';
import { CORPUS_DIR, type CorpusRun } from '../../conformance/corpus.js';
import type { Profiler } from '../../../runtime/graph/profile.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const CASE = path.join(CORPUS_DIR, 'keras_saved/functional_cnn_batchnorm_tf_saved_model_save');
const MODEL = path.join(CASE, 'model');
const exec = promisify(execFile);

const run = (JSON.parse(fs.readFileSync(path.join(CASE, 'expected.json'), 'utf8')) as { runs: CorpusRun[] }).runs[0];
/** The corpus input as a columnar predict body. */
function body(): string {
  const x = run.inputs.inputs;
  const nest = (values: unknown[], shape: number[]): unknown => {
    if (shape.length === 1) return values;
    const step = values.length / shape[0];
    return Array.from({ length: shape[0] }, (_, i) => nest(values.slice(i * step, (i + 1) * step), shape.slice(1)));
  };
  return JSON.stringify({ inputs: nest(x.values, x.shape) });
}
const expected = run.outputs.output_0.values as number[];

function expectTfAnswer(stdout: string): void {
  const got = (JSON.parse(stdout) as { outputs: number[][] }).outputs.flat();
  expect(got.length).toBe(expected.length);
  got.forEach((v, i) => expect(Math.abs(v - expected[i])).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(expected[i]))));
}

async function modelhost(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [path.join(ROOT, 'bin/modelhost.js'), ...args], { cwd: ROOT });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('modelhost run --profile', () => {
  it('prints the response on stdout and per-op and per-node tables on stderr', async () => {
    const r = await modelhost('run', MODEL, '--request', body(), '--profile', '--profile_runs', '3');
    expect(r.code).toBe(0);
    expectTfAnswer(r.stdout);
    expect(r.stderr).toMatch(/^backend: wasm \(SIMD, 1 thread; products and convolutions: modelhost's SIMD kernels, fused multiply-add\)$/m);
    expect(r.stderr).toMatch(/^profile: 3 run\(s\), [\d.]+ ms per run/m);
    expect(r.stderr).toMatch(/^op +count\/run +total ms +ms\/run +share$/m);
    // The conv, its BatchNorm and ReLU run as one fused kernel, once per run.
    expect(r.stderr).toMatch(/^_FusedConv2D +1\.00 /m);
    expect(r.stderr).toMatch(/^slowest \d+ nodes:$/m);
    expect(r.stderr).toMatch(/functional_2_1\/re_lu_1\/Relu +_FusedConv2D +function __inference_serving_default/);
  });

  it('with --graph_optimizations=none runs the original ops, with the same answer', async () => {
    const r = await modelhost('run', MODEL, '--request', body(), '--graph_optimizations=none', '--profile', '--profile_runs', '2');
    expect(r.code).toBe(0);
    expectTfAnswer(r.stdout);
    expect(r.stderr).toMatch(/^Conv2D +1\.00 /m);
    expect(r.stderr).toMatch(/^FusedBatchNormV3|^Rsqrt +1\.00 /m);
    expect(r.stderr).not.toMatch(/_FusedConv2D/);
  });

  it("with --simd_kernels=off runs tfjs's own convolution, with the same answer", async () => {
    const r = await modelhost('run', MODEL, '--request', body(), '--simd_kernels=off', '--profile', '--profile_runs', '2');
    expect(r.code).toBe(0);
    expectTfAnswer(r.stdout);
    expect(r.stderr).toMatch(/^backend: wasm \(SIMD, 1 thread; products and convolutions: tfjs's kernels\)$/m);
    const bad = await modelhost('run', MODEL, '--request', body(), '--simd_kernels=avx512');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--simd_kernels must be one of auto, fma, plain, off, got 'avx512'/);
  });

  it('refuses a bad --profile_runs or --graph_optimizations, naming it', async () => {
    const runs = await modelhost('run', MODEL, '--request', body(), '--profile', '--profile_runs', '0');
    expect(runs.code).not.toBe(0);
    expect(runs.stderr).toMatch(/--profile_runs must be a whole number from 1 to 10000, got '0'/);
    const passes = await modelhost('run', MODEL, '--request', body(), '--graph_optimizations=fusion,warp_speed');
    expect(passes.code).not.toBe(0);
    expect(passes.stderr).toMatch(/unknown graph optimization 'warp_speed'/);
  });

  it('times every kernel: node self times add up to the shares, nested function calls counted once', async () => {
    let profiler: Profiler | undefined;
    const out = await runPredict(MODEL, body(), { profileRuns: 4, onProfile: (_, p) => (profiler = p) });
    expectTfAnswer(out);
    const ops = profiler!.ops();
    expect(ops.reduce((s, o) => s + o.share, 0)).toBeCloseTo(1, 6);
    expect(ops.find((o) => o.op === '_FusedConv2D')?.count).toBe(4);
    // Two calls per run: the signature wrapper calls the Keras function.
    expect(ops.find((o) => o.op === 'StatefulPartitionedCall')?.count).toBe(8);
    // Self times: the call's time excludes the kernels of the function it runs.
    const kernelMs = ops.reduce((s, o) => s + o.ms, 0);
    expect(kernelMs).toBeLessThanOrEqual(profiler!.totalMs + 1e-6);
    expect(profiler!.nodes().every((n) => n.ms >= 0)).toBe(true);
  });
});
