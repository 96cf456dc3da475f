// Warm-up with TF Serving's assets.extra/tf_serving_warmup_requests (a
// TFRecord of PredictionLog protos): requests replayed before a version takes
// traffic, a broken file failing the load. The counter model makes the replay
// visible: a warm-up incr_counter leaves the counter at 1.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../serving/log.js';
import { modelConfig } from '../../serving/model_config.js';
import { ServingCore } from '../../serving/serving_core.js';
import { inlineEngine } from '../../runtime/execution/serving_engine.js';
import { protoType } from '../../runtime/proto/schema.js';
import { tensorToProto } from '../../runtime/proto/tensor_proto.js';
import { Tensor } from '../../runtime/tensor.js';
import { writeTfRecords } from '../../server/tfrecord.js';
import { WARMUP_FILE, runWarmup } from '../../server/warmup.js';
import { copyVersion } from './helpers.js';

let tmp: string;
let core: ServingCore | undefined;

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-warmup-'));
});
afterEach(async () => {
  await core?.stop();
  core = undefined;
  fs.rmSync(tmp, { recursive: true, force: true });
});

const predictLog = (signatureName: string, inputs: Record<string, Tensor> = {}) =>
  protoType('tensorflow.serving.PredictionLog')
    .encode({
      predictLog: {
        request: {
          modelSpec: { name: 'counter', signatureName },
          inputs: Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, tensorToProto(t)])),
        },
      },
    })
    .finish();

/** A counter model whose version 1 has `warmup` as its warm-up file; returns the started core. */
async function counterWith(warmup: Uint8Array | undefined, enabled = true, iterations?: number): Promise<ServingCore> {
  const base = path.join(tmp, 'counter');
  copyVersion('saved_model_counter/00000123', path.join(base, '1'));
  if (warmup) {
    fs.mkdirSync(path.join(base, '1/assets.extra'));
    fs.writeFileSync(path.join(base, '1', WARMUP_FILE), warmup);
  }
  core = new ServingCore({ engine: inlineEngine(), fileSystemPollWaitSeconds: 0, warmup: enabled ? (m, ctx) => runWarmup(m, ctx, { iterations }) : undefined, log: silentLogger });
  await core.start([modelConfig('counter', base)]);
  return core;
}

async function counterValue(c: ServingCore): Promise<number> {
  const h = c.getHandle({ name: 'counter' });
  try {
    const out = await h.model.run('get_counter', {});
    return Object.values(out)[0].numbers()[0];
  } finally {
    h.release();
  }
}

describe('model warm-up', () => {
  it('replays every warm-up request before the version takes traffic', async () => {
    const c = await counterWith(writeTfRecords([predictLog('incr_counter'), predictLog('incr_counter_by', { delta: Tensor.scalar('float32', 5) })]));
    expect(c.monitor.getState('counter', 1)?.state).toBe('AVAILABLE');
    expect(await counterValue(c)).toBe(6);
  });

  it('replays each record --num_request_iterations_for_warmup times (values < 1: once)', async () => {
    const records = writeTfRecords([predictLog('incr_counter'), predictLog('incr_counter_by', { delta: Tensor.scalar('float32', 5) })]);
    expect(await counterValue(await counterWith(records, true, 3))).toBe(18);
    await core?.stop();
    fs.rmSync(path.join(tmp, 'counter'), { recursive: true, force: true });
    expect(await counterValue(await counterWith(records, true, 0))).toBe(6);
  });

  it('skips warm-up when it is disabled', async () => {
    const c = await counterWith(writeTfRecords([predictLog('incr_counter')]), false);
    expect(await counterValue(c)).toBe(0);
  });

  it('fails the load, with the request error, when a warm-up request fails', async () => {
    const c = await counterWith(writeTfRecords([predictLog('no_such_signature')]));
    const state = c.monitor.getState('counter', 1)!;
    expect(state.state).toBe('END');
    expect(state.status).toEqual({ code: 'FAILED_PRECONDITION', message: 'Serving signature key "no_such_signature" not found.' });
    expect(() => c.getHandle({ name: 'counter' })).toThrow('Servable not found for request: Latest(counter)');
  });

  it('fails the load with DATA_LOSS when the file is not TFRecord', async () => {
    const c = await counterWith(new TextEncoder().encode('this is not a TFRecord file'));
    const state = c.monitor.getState('counter', 1)!;
    expect(state.state).toBe('END');
    expect(state.status.code).toBe('DATA_LOSS');
    expect(state.status.message).toMatch(/Please verify your warmup data is in TFRecord format\.$/);
  });
});
