/**
 * The engine contract: load a SavedModel directory, run its signatures.
 * The built-in engine is the pure TypeScript runtime (runtime/loader.ts); an
 * optional native engine could implement the same interface later.
 *
 *   const model = await engine.load(dir, ['serve']);
 *   const out = model.run('serving_default', { x: Tensor.from('float32', [3, 1], [1, 2, 5]) });
 *   // out.y is a Tensor; the caller disposes outputs it no longer needs
 *   model.dispose();
 */
import type { GraphPass } from './graph/optimize/options.js';
import type { DType } from './dtypes.js';
import type { SignatureDef, TensorShape } from './graph/types.js';
import type { Tensor } from './tensor.js';

export interface TensorSpec {
  /** Graph tensor name ("x:0"). */
  name: string;
  dtype: DType;
  shape: TensorShape;
}

export interface SignatureInfo {
  name: string;
  methodName: string;
  inputs: Record<string, TensorSpec>;
  outputs: Record<string, TensorSpec>;
  /**
   * Set when the signature cannot run here (it reaches ops the runtime
   * lacks): why, naming the ops. The model still loads when another
   * signature can run; requests to this one fail with this message.
   */
  unavailable?: string;
}

export interface LoadedModel {
  /** Directory the model was loaded from. */
  readonly dir: string;
  readonly tags: readonly string[];
  /** Signatures that can be run, by name (the init-op signature `__saved_model_init_op` is not one). */
  readonly signatures: Readonly<Record<string, SignatureInfo>>;
  /** Every SignatureDef as saved (`__saved_model_init_op` included), for metadata as TF Serving prints it. */
  readonly signatureDefs: Readonly<Record<string, SignatureDef>>;
  /**
   * Runs a signature. `feeds` maps signature input keys to tensors; every
   * input must be fed. Returns every output of the signature (or only
   * `outputKeys` when given). Throws StatusError (INVALID_ARGUMENT for bad
   * input, NOT_FOUND for an unknown signature).
   */
  run(signature: string, feeds: Record<string, Tensor>, outputKeys?: readonly string[]): Record<string, Tensor>;
  /**
   * True when running some signature can change the model's state (assigns
   * variables); such a model must run in one place, in request order.
   */
  readonly mutatesState: boolean;
  /** Frees every tensor the model holds. The model must not be used afterwards. */
  dispose(): void;
}

export interface LoadOptions {
  /** Tag set of the MetaGraph to load (default ['serve']). */
  tags?: readonly string[];
  /** The model's name, for metrics and logs (the directory otherwise). */
  name?: string;
  /** Load-time graph passes (graph/optimize/options.ts); default: this thread's setting. */
  graphOptimizations?: ReadonlySet<GraphPass>;
}

export interface Engine {
  readonly name: string;
  load(dir: string, options?: LoadOptions): Promise<LoadedModel>;
}

/** What a loaded model tells about itself, without the means to run it. */
export interface ModelDescription {
  readonly dir: string;
  readonly tags: readonly string[];
  readonly signatures: Readonly<Record<string, SignatureInfo>>;
  readonly signatureDefs: Readonly<Record<string, SignatureDef>>;
  /** LoadedModel.mutatesState, when known (automatic batching leaves such models alone). */
  readonly mutatesState?: boolean;
}

/** How one asynchronous run may be stopped. */
export interface RunOptions {
  /**
   * Aborting it (deadline passed, client gone) answers the run at once with
   * the signal's reason and stops its computation between kernels (in a
   * worker thread; a run on the calling thread cannot be interrupted).
   */
  signal?: AbortSignal;
}

/**
 * A loaded model as the serving layers hold it: runs are asynchronous,
 * because they may happen in a worker thread or wait to be batched with other
 * requests (runtime/execution/). Feeds are handed over: the servable may move
 * their buffers to another thread, so the caller must not read them after
 * `run`. Outputs belong to the caller.
 */
export interface Servable extends ModelDescription {
  run(signature: string, feeds: Record<string, Tensor>, outputKeys?: readonly string[], options?: RunOptions): Promise<Record<string, Tensor>>;
  dispose(): Promise<void>;
}

/** Loads Servables (see runtime/execution/serving_engine.ts). */
export interface ServingEngine {
  readonly name: string;
  load(dir: string, options?: LoadOptions): Promise<Servable>;
  /** Frees what the engine holds (worker threads); loaded servables must be disposed first. */
  close(): Promise<void>;
}
