/**
 * The perf set: the models of bench/perf_models/make_perf_models.py (made by
 * TensorFlow into a cache folder outside git, regenerated when missing) plus
 * models/f_mnist/2 (its `probabilities` signature for compute, with the
 * held-out images as base64 PNGs).
 *
 * Cache: --perf-cache=DIR, else $MODELHOST_BENCH_CACHE, else
 * ~/.cache/modelhost-bench/perf_models.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchImages, F_MNIST_DIR, ROOT } from '../common.js';
import type { Job } from './jobs.js';

export const CACHE_ENV = 'MODELHOST_BENCH_CACHE';
/** Generated models, in the order tables list them (f_mnist comes first). */
export const GENERATED = ['mlp', 'cnn_bn', 'mobilenet_v2', 'resnet50', 'lstm', 'bilstm', 'gru', 'transformer'] as const;
export const PERF_SET = ['f_mnist', ...GENERATED] as const;

export function defaultCacheDir(): string {
  return process.env[CACHE_ENV] ?? path.join(os.homedir(), '.cache', 'modelhost-bench', 'perf_models');
}

interface Entry {
  name: string;
  description: string;
  signature: string;
  input: string;
  dtype: 'float32' | 'int32';
  shape: number[];
  output: string;
  weights_bytes: number;
}

function dirBytes(dir: string): number {
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    n += e.isDirectory() ? dirBytes(p) : fs.statSync(p).size;
  }
  return n;
}

/** Generates the models of `names` that the cache lacks (each complete model has its entry.json). */
export function ensureGenerated(python: string, cacheDir: string, names: readonly string[], log: (s: string) => void): Promise<void> {
  const missing = names.filter((n) => n !== 'f_mnist' && !fs.existsSync(path.join(cacheDir, n, 'entry.json')));
  if (missing.length === 0) return Promise.resolve();
  log(`  generating ${missing.join(', ')} with TensorFlow into ${cacheDir} ...`);
  const script = path.join(ROOT, 'bench', 'perf_models', 'make_perf_models.py');
  return new Promise((resolve, reject) => {
    execFile(python, [script, cacheDir, '--only', missing.join(',')], { maxBuffer: 64 << 20, timeout: 15 * 60_000 }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`make_perf_models.py failed: ${err.message}\n${stderr.slice(-3000)}`));
      else resolve();
    });
  });
}

/** The jobs for `names` (generated models must exist); f_mnist's images are written into `workDir`. */
export function perfJobs(cacheDir: string, workDir: string, names: readonly string[]): Job[] {
  return names.map((name): Job => {
    if (name === 'f_mnist') {
      const inputs = path.join(workDir, 'f_mnist_images.json');
      fs.writeFileSync(inputs, JSON.stringify(benchImages(32)));
      const dir = path.join(F_MNIST_DIR, '2');
      return {
        name,
        description: 'models/f_mnist/2 `probabilities`: base64 PNG → decode in a map_fn → Dense(128) → Dense(10) → softmax',
        dir,
        signature: 'probabilities',
        input: 'input_images',
        dtype: 'string',
        shape: [32],
        inputs,
        output: 'output_0',
        weightsBytes: dirBytes(path.join(dir, 'variables')),
      };
    }
    const root = path.join(cacheDir, name);
    const e = JSON.parse(fs.readFileSync(path.join(root, 'entry.json'), 'utf8')) as Entry;
    return {
      name,
      description: e.description,
      dir: path.join(root, '1'),
      signature: e.signature,
      input: e.input,
      dtype: e.dtype,
      shape: e.shape,
      inputs: path.join(root, 'inputs.bin'),
      output: e.output,
      weightsBytes: e.weights_bytes,
    };
  });
}
