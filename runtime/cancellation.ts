/**
 * Cooperative cancellation of a model run. Whoever runs a plan may install a
 * check for the run (`withCancellation`); the plan runner calls
 * `checkCancelled()` before every kernel and the loop kernels before every
 * iteration, so a run past its deadline stops between kernels (a single long
 * kernel still runs to its end). In the worker pool the check reads a flag in
 * memory shared with the main thread, which sets it when the request's
 * deadline passes or its client goes away (execution/worker_main.ts).
 */
import { StatusError } from './errors.js';

/** Returns the error to stop the run with, or undefined to go on. */
export type CancelCheck = () => StatusError | undefined;

let current: CancelCheck | undefined;

/** Runs `fn` (synchronously) with `check` consulted between its kernels. */
export function withCancellation<T>(check: CancelCheck | undefined, fn: () => T): T {
  const previous = current;
  current = check;
  try {
    return fn();
  } finally {
    current = previous;
  }
}

/** Throws the installed check's error when the running work has been cancelled. */
export function checkCancelled(): void {
  if (current === undefined) return;
  const e = current();
  if (e) throw e;
}

/** The error a run stopped by its caller ends with. */
export function runCancelled(why: string): StatusError {
  return new StatusError('CANCELLED', why);
}
