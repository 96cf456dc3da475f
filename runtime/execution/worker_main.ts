/**
 * An inference worker thread: holds its own copy of the models the pool
 * loaded into it and runs their signatures on request, one at a time. Run
 * outputs are copied once into fresh buffers and moved back (see
 * tensor_transfer.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { LoadedModel } from '../engine.js';
import { notFound, toStatusError } from '../errors.js';
import { setImageLimits, type ImageLimits } from '../kernels/image_limits.js';
import { tsEngine } from '../loader.js';
import type { Tensor } from '../tensor.js';
import { fromWireTensors, toWireTensors } from './tensor_transfer.js';
import type { WorkerReply, WorkerRequest } from './worker_protocol.js';

const port = parentPort;
if (!port) throw new Error('worker_main.js runs only as a worker thread (see worker_pool.ts)');

setImageLimits((workerData as { imageLimits?: ImageLimits } | null)?.imageLimits);

const models = new Map<number, LoadedModel>();

function model(id: number): LoadedModel {
  const m = models.get(id);
  if (!m) throw notFound(`model ${id} is not loaded in this worker`);
  return m;
}

function disposeAll(tensors: Record<string, Tensor>): void {
  for (const t of Object.values(tensors)) t.dispose();
}

async function handle(msg: WorkerRequest): Promise<void> {
  try {
    switch (msg.kind) {
      case 'load': {
        const m = await tsEngine.load(msg.dir, { tags: msg.tags });
        models.set(msg.model, m);
        const loaded = { signatures: m.signatures, signatureDefs: m.signatureDefs, mutatesState: m.mutatesState };
        port!.postMessage({ kind: 'ok', id: msg.id, loaded } satisfies WorkerReply);
        return;
      }
      case 'run': {
        const feeds = fromWireTensors(msg.feeds);
        let outputs: Record<string, Tensor>;
        try {
          outputs = model(msg.model).run(msg.signature, feeds, msg.outputKeys);
        } finally {
          disposeAll(feeds);
        }
        const transfer: ArrayBuffer[] = [];
        try {
          const wire = toWireTensors(outputs, transfer, false);
          port!.postMessage({ kind: 'ok', id: msg.id, outputs: wire } satisfies WorkerReply, transfer);
        } finally {
          disposeAll(outputs);
        }
        return;
      }
      case 'unload':
        models.get(msg.model)?.dispose();
        models.delete(msg.model);
        port!.postMessage({ kind: 'ok', id: msg.id } satisfies WorkerReply);
        return;
    }
  } catch (e) {
    const err = toStatusError(e);
    port!.postMessage({ kind: 'error', id: msg.id, code: err.code, message: err.message } satisfies WorkerReply);
  }
}

port.on('message', (msg: WorkerRequest) => void handle(msg));
