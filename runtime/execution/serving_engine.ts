/**
 * How the server runs models: a ServingEngine whose Servables execute in the
 * worker pool (default: one thread per core but one) or inline on the calling thread
 * (threads 0: no hand-off cost, but a long run blocks the event loop), with
 * dynamic batching on top when configured.
 *
 *   const engine = createServingEngine({ threads: 2, batching: parseBatchingParameters(text) });
 *   const servable = await engine.load('/models/f_mnist/2');
 *   const out = await servable.run('serving_default', { input_images: t });
 *   await servable.dispose();
 *   await engine.close();
 */
import type { Engine, LoadedModel, LoadOptions, RunOptions, Servable, ServingEngine } from '../engine.js';
import { tsEngine } from '../loader.js';
import type { Tensor } from '../tensor.js';
import { BatchScheduler } from './batch_scheduler.js';
import type { BatchingParameters } from './batching_parameters.js';
import { BatchingServable, type BatchReport } from './batching_servable.js';
import { defaultThreads, WorkerPool } from './worker_pool.js';

/** A LoadedModel run on the calling thread, as a Servable. */
export function inlineServable(model: LoadedModel): Servable {
  return {
    dir: model.dir,
    tags: model.tags,
    signatures: model.signatures,
    signatureDefs: model.signatureDefs,
    mutatesState: model.mutatesState,
    // On the calling thread nothing can abort a run once started; a signal aborted already stops it before.
    run: (signature: string, feeds: Record<string, Tensor>, outputKeys?: readonly string[], options?: RunOptions) =>
      new Promise<Record<string, Tensor>>((resolve) => {
        if (options?.signal?.aborted) throw options.signal.reason;
        resolve(model.run(signature, feeds, outputKeys));
      }),
    dispose: async () => model.dispose(),
  };
}

/** Runs `engine`'s models on the calling thread. */
export function inlineEngine(engine: Engine = tsEngine): ServingEngine {
  return {
    name: `${engine.name} (inline)`,
    load: async (dir: string, options?: LoadOptions) => inlineServable(await engine.load(dir, options)),
    close: async () => {},
  };
}

export interface ExecutionOptions {
  /** Worker threads running models; 0 runs them on the calling thread. Default: defaultThreads(). */
  threads?: number;
  /** Worker threads each model is loaded into (0 or unset: every one); fewer copies use less memory. */
  modelCopies?: number;
  /** Dynamic batching (TF Serving's --enable_batching); unset: every request runs on its own, unless `autoBatching`. */
  batching?: BatchingParameters;
  /**
   * Without `batching`: merge concurrent runs of the signatures automatic
   * batching may merge (batching_servable.ts), with these parameters
   * (autoBatchingParameters()); unset: none.
   */
  autoBatching?: BatchingParameters;
  /** Told when an inference worker dies and is replaced. */
  onWorkerExit?: (message: string) => void;
  /** Heap cap of each inference worker in MiB (default DEFAULT_WORKER_HEAP_MB). */
  workerHeapMb?: number;
  /** WASM memory cap of each inference worker in MiB (default DEFAULT_WORKER_WASM_MB; 0: none). */
  workerWasmMb?: number;
  /**
   * A version's own batching parameters (TF Serving's
   * --enable_per_model_batching_params: batching_params.pbtxt in the version
   * folder), or undefined to share `batching`'s scheduler. Throwing fails the load.
   */
  batchingFor?: (dir: string) => Promise<BatchingParameters | undefined>;
  /** Told about every batch the batcher runs (metrics). */
  onBatch?: (report: BatchReport) => void;
}


export function createServingEngine(options: ExecutionOptions = {}): ServingEngine {
  const threads = options.threads ?? defaultThreads();
  let base: ServingEngine;
  if (threads === 0) {
    base = inlineEngine();
  } else {
    const pool = new WorkerPool({ threads, copies: options.modelCopies, onWorkerExit: options.onWorkerExit, maxHeapMb: options.workerHeapMb, maxWasmMb: options.workerWasmMb });
    base = {
      name: `modelhost (${threads} worker thread${threads === 1 ? '' : 's'})`,
      load: (dir, loadOptions) => pool.load(dir, loadOptions?.tags ?? ['serve']),
      close: () => pool.close(),
    };
  }
  const batching = options.batching;
  if (!batching && options.autoBatching) {
    const auto = new BatchScheduler(options.autoBatching, true);
    return {
      name: `${base.name}, automatic batching`,
      load: async (dir, loadOptions) => new BatchingServable(await base.load(dir, loadOptions), auto, loadOptions?.name ?? dir, options.onBatch, false, true),
      close: async () => {
        auto.close();
        await base.close();
      },
    };
  }
  if (!batching) return base;
  const scheduler = new BatchScheduler(batching);
  return {
    name: `${base.name}, batching`,
    load: async (dir, loadOptions) => {
      const own = await options.batchingFor?.(dir);
      const servable = await base.load(dir, loadOptions);
      return new BatchingServable(servable, own ? new BatchScheduler(own) : scheduler, loadOptions?.name ?? dir, options.onBatch, own !== undefined);
    },
    close: async () => {
      scheduler.close();
      await base.close();
    },
  };
}
