/**
 * TF Serving's BatchingParameters (--batching_parameters_file, a text-format
 * tensorflow.serving.BatchingParameters): the decoded message → validated
 * options, with TF Serving's defaults (BasicBatchScheduler::Options) for
 * fields left out and its error texts for bad combinations.
 */
import { invalidArgument } from '../errors.js';
import { int64ToNumber, type Int64Like } from '../proto/long.js';
import { defaultThreads } from './worker_pool.js';

export interface BatchingParameters {
  /** Largest batch formed (in elements along dimension 0). */
  maxBatchSize: number;
  /** Longest a partial batch waits for more tasks, in microseconds (0: run as soon as a batch thread is free). */
  batchTimeoutMicros: number;
  /** Batches a queue holds at most, beyond which a request is refused with UNAVAILABLE. */
  maxEnqueuedBatches: number;
  /** Batches run at the same time. */
  numBatchThreads: number;
  threadPoolName: string;
  /** Sizes a batch is padded up to (copies of the first row); empty: no padding. */
  allowedBatchSizes: number[];
  padVariableLengthInputs: boolean;
}

export interface BatchingParametersMsg {
  maxBatchSize?: { value?: Int64Like } | null;
  batchTimeoutMicros?: { value?: Int64Like } | null;
  maxEnqueuedBatches?: { value?: Int64Like } | null;
  numBatchThreads?: { value?: Int64Like } | null;
  threadPoolName?: { value?: string } | null;
  allowedBatchSizes?: Int64Like[];
  padVariableLengthInputs?: boolean;
}

/** What --enable_batching without a parameters file uses. */
export function defaultBatchingParameters(): BatchingParameters {
  return {
    maxBatchSize: 1000,
    batchTimeoutMicros: 0,
    maxEnqueuedBatches: 10,
    numBatchThreads: defaultThreads(),
    threadPoolName: 'batch_threads',
    allowedBatchSizes: [],
    padVariableLengthInputs: false,
  };
}

/**
 * What modelhost batches with when --enable_batching is not given
 * (--auto_batching, on by default; batching_servable.ts says which runs it
 * merges). A lone request never waits (timeout 0); while every batch slot is
 * busy, requests pile up into the next batch. One slot per inference
 * thread (measured: a second slot per worker splits the waiting requests
 * into smaller batches and served f_mnist at 64 connections several times
 * slower; the next batch starts while the last one's answers are written,
 * batch_scheduler.ts). The queue is never full (no UNAVAILABLE TF Serving
 * without batching would not give). max_batch_size 32 (BENCHMARKS.md,
 * "Request path").
 */
export function autoBatchingParameters(inferenceThreads: number): BatchingParameters {
  return {
    maxBatchSize: 32,
    batchTimeoutMicros: 0,
    maxEnqueuedBatches: Number.MAX_SAFE_INTEGER,
    numBatchThreads: Math.max(1, inferenceThreads),
    threadPoolName: 'auto_batch_threads',
    allowedBatchSizes: [],
    padVariableLengthInputs: false,
  };
}

/** Validated parameters from a decoded BatchingParameters message; `source` names the file in errors. */
export function batchingParametersFrom(msg: BatchingParametersMsg, source: string): BatchingParameters {
  const p = defaultBatchingParameters();
  const num = (v: { value?: Int64Like } | null | undefined, field: string, fallback: number) =>
    v ? int64ToNumber(v.value ?? 0, `${field} in ${source}`) : fallback;
  p.maxBatchSize = num(msg.maxBatchSize, 'max_batch_size', p.maxBatchSize);
  p.batchTimeoutMicros = num(msg.batchTimeoutMicros, 'batch_timeout_micros', p.batchTimeoutMicros);
  p.maxEnqueuedBatches = num(msg.maxEnqueuedBatches, 'max_enqueued_batches', p.maxEnqueuedBatches);
  p.numBatchThreads = num(msg.numBatchThreads, 'num_batch_threads', p.numBatchThreads);
  if (msg.threadPoolName?.value) p.threadPoolName = msg.threadPoolName.value;
  p.allowedBatchSizes = (msg.allowedBatchSizes ?? []).map((v) => int64ToNumber(v, `allowed_batch_sizes in ${source}`));
  p.padVariableLengthInputs = msg.padVariableLengthInputs ?? false;
  validateBatchingParameters(p, source);
  return p;
}

export function validateBatchingParameters(p: BatchingParameters, source: string): void {
  const positive: [keyof BatchingParameters, string][] = [
    ['maxBatchSize', 'max_batch_size'],
    ['maxEnqueuedBatches', 'max_enqueued_batches'],
    ['numBatchThreads', 'num_batch_threads'],
  ];
  for (const [key, field] of positive) {
    if (!((p[key] as number) > 0)) throw invalidArgument(`${source}: ${field} must be positive; was ${p[key] as number}`);
  }
  if (p.batchTimeoutMicros < 0) throw invalidArgument(`${source}: batch_timeout_micros must be non-negative; was ${p.batchTimeoutMicros}`);
  const sizes = p.allowedBatchSizes;
  for (let i = 0; i < sizes.length; i++) {
    if (sizes[i] <= 0 || (i > 0 && sizes[i] <= sizes[i - 1])) {
      throw invalidArgument(`${source}: allowed_batch_sizes entries must be positive and monotonically increasing`);
    }
  }
  if (sizes.length > 0 && sizes[sizes.length - 1] !== p.maxBatchSize) {
    throw invalidArgument(
      `${source}: Last entry in allowed_batch_sizes must match max_batch_size; last entry was ${sizes[sizes.length - 1]}; expected ${p.maxBatchSize}`,
    );
  }
}
