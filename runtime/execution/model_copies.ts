/**
 * How many inference workers a model is loaded into when
 * --inference_model_copies is 0 (the default): every worker, unless the
 * copies would take more than a quarter of the machine's memory. A loaded
 * copy costs about its SavedModel's size on disk (weights in the WASM heap,
 * the graph in the JS heap; BENCHMARKS.md measures ~2 MB for f_mnist's
 * 0.4 MB), so a model of S bytes gets floor(totalmem / 4 / S) copies, at
 * least one, at most one per worker. Small models (the usual case) are in
 * every worker; a 3 GB model on a 16 GB machine with 8 workers gets one.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** Share of the machine's memory the copies of one model may take. */
export const MODEL_COPIES_MEMORY_SHARE = 0.25;

/** Copies of a model of `modelBytes` on a pool of `threads` workers (see the module comment). */
export function defaultModelCopies(modelBytes: number, threads: number, totalMemBytes = os.totalmem()): number {
  if (!(modelBytes > 0)) return threads;
  const fit = Math.floor((totalMemBytes * MODEL_COPIES_MEMORY_SHARE) / modelBytes);
  return Math.max(1, Math.min(threads, fit));
}

/** Bytes of the regular files under `dir` (links are not followed); 0 when it cannot be read. */
export async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  let entries;
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += await folderBytes(p);
    else if (e.isFile()) total += (await fs.stat(p).catch(() => ({ size: 0 }))).size;
  }
  return total;
}
