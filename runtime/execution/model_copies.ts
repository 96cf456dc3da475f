/**
 * How many inference workers a model is loaded into when
 * --inference_model_copies is 0 (the default): every worker, unless the
 * copies would take more than a quarter of the machine's memory. A loaded
 * copy costs about LOADED_BYTES_PER_FILE_BYTE times its SavedModel's size on
 * disk (measured by `npm run bench -- --vs-tf`, resident memory per extra
 * version: 3x for f_mnist, 3.3x for an LSTM, 4.2x for ResNet-50, 4.7x for
 * MobileNetV2 — the weights once on the host or the WASM heap, XNNPACK's
 * packed copies of conv weights, the graph in the JS heap), so a model of S
 * bytes gets floor(totalmem / 4 / (5 S)) copies, at least one, at most one
 * per worker. Small models (the usual case) are in every worker; a 600 MB
 * model on a 16 GB machine with 8 workers gets one.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** Share of the machine's memory the copies of one model may take. */
export const MODEL_COPIES_MEMORY_SHARE = 0.25;

/** Resident bytes of one loaded copy per byte of its SavedModel folder (rounded up from the measured 3-4.7). */
export const LOADED_BYTES_PER_FILE_BYTE = 5;

/** Copies of a model of `modelBytes` on a pool of `threads` workers (see the module comment). */
export function defaultModelCopies(modelBytes: number, threads: number, totalMemBytes = os.totalmem()): number {
  if (!(modelBytes > 0)) return threads;
  const fit = Math.floor((totalMemBytes * MODEL_COPIES_MEMORY_SHARE) / (modelBytes * LOADED_BYTES_PER_FILE_BYTE));
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
