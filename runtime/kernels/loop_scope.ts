/**
 * Per-iteration memory scopes for While loops (control.ts).
 *
 * A run's backend tensors are freed when the run ends (loader.ts
 * `runScoped`). A loop of n iterations would otherwise hold n iterations'
 * intermediates until then: memory growing with the sequence length, and a
 * WASM heap that never reuses a block inside the loop. With loop scopes on,
 * each iteration (condition and body) runs in its own tfjs scope; at its end
 * every backend tensor it created is freed except
 *  - the next loop variables,
 *  - tensors stored into containers during the iteration: TensorList items,
 *    TensorArray elements, Optional components (their kernels call
 *    `retainBeyondIteration`),
 *  - persistent tensors (variable values, cached results: tf.keep'd).
 * Tensors kept this way move to the enclosing scope (the enclosing iteration,
 * or the run), and what an inner loop retains is retained by the outer
 * iteration too. A host tensor whose backend copy was made inside an
 * iteration keeps its host copy and uploads again if needed.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '../tensor.js';

let enabled = true;

/** Turns per-iteration scopes on (the default) or off for this thread (benchmarks compare both). */
export function setLoopScopes(on: boolean): void {
  enabled = on;
}

export function loopScopesEnabled(): boolean {
  return enabled;
}

/** Tensors retained by each open iteration, innermost last. */
const frames: Tensor[][] = [];

/** Called by container kernels for each tensor they store: it must outlive the current iteration. */
export function retainBeyondIteration(t: Tensor): void {
  const n = frames.length;
  if (n > 0) frames[n - 1].push(t);
}

/** Opens an iteration scope. */
export function beginIteration(): void {
  tf.engine().startScope();
  frames.push([]);
}

/**
 * Closes the innermost iteration scope, freeing what it created except
 * `results` and the retained tensors (see the module comment). On an error
 * pass no results: everything the iteration made is freed.
 */
export function endIteration(results: readonly Tensor[]): void {
  const retained = frames.pop() ?? [];
  const keep: tf.Tensor[] = [];
  for (const t of results) collect(t, keep);
  for (const t of retained) collect(t, keep);
  const outer = frames[frames.length - 1];
  if (outer) for (const t of retained) outer.push(t);
  tf.engine().endScope(keep);
}

function collect(t: Tensor, into: tf.Tensor[]): void {
  if (t.isOnBackend && !t.isDisposed) into.push(t.toTf());
}
