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
 * iteration too; a loop variable that a later iteration replaces is freed
 * then (`LoopMemory`). A host tensor whose backend copy was made inside an
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

/** The engine's scope bookkeeping that `endIteration` reads (tfjs-core's Engine.state). */
interface EngineScopes {
  state: { activeScope: { id: number } | null };
}
type TrackedTensor = tf.Tensor & { scopeId?: number; kept?: boolean };

/**
 * The memory of one While loop's iterations. Kept tensors move to the
 * enclosing scope, so a loop variable computed in iteration k would live
 * there until the run ends; the loop frees it itself once iteration k + 1 no
 * longer returns it ("carried" values), unless a container holds it.
 */
export class LoopMemory {
  /** Backend tensors of loop variables made by this loop's iterations. */
  private carried = new Set<tf.Tensor>();
  /** Backend tensors stored into containers by this loop's iterations: never freed here. */
  private readonly retainedEver = new Set<tf.Tensor>();
  private scopeId = -1;

  /** Opens an iteration scope. */
  beginIteration(): void {
    const engine = tf.engine();
    engine.startScope();
    this.scopeId = (engine as unknown as EngineScopes).state.activeScope!.id;
    frames.push([]);
  }

  /**
   * Closes the iteration scope, freeing what it created except `results`
   * (the next loop variables) and the retained tensors, and frees the
   * previous iteration's variables that are no longer used. `undefined` when
   * the iteration failed or the loop ends (the condition was false).
   */
  endIteration(results: readonly Tensor[] | undefined): void {
    const retained = frames.pop() ?? [];
    const outer = frames[frames.length - 1];
    if (outer) for (const t of retained) outer.push(t);
    const keep: TrackedTensor[] = [];
    for (const t of retained) {
      const x = backendTensor(t);
      if (x) {
        keep.push(x);
        this.retainedEver.add(x);
      }
    }
    const next = new Set<tf.Tensor>();
    if (results) {
      for (const t of results) {
        const x = backendTensor(t);
        if (!x) continue;
        keep.push(x);
        if ((x.scopeId === this.scopeId || this.carried.has(x)) && !this.retainedEver.has(x)) next.add(x);
      }
    }
    tf.engine().endScope(keep);
    if (!results) return;
    for (const x of this.carried) {
      if (!next.has(x) && !this.retainedEver.has(x) && !(x as TrackedTensor).kept) x.dispose();
    }
    this.carried = next;
  }
}

function backendTensor(t: Tensor): TrackedTensor | undefined {
  return t.isOnBackend && !t.isDisposed ? t.toTf() : undefined;
}
