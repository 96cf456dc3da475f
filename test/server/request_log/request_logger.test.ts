// RequestLog with real files: sampling at rate 1, 0 and p (statistically),
// the LogMetadata written, drops counted in the Prometheus registry, and
// config updates (a model's logging turned off closes its files).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import client from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../serving/log.js';
import { modelConfig, type ModelConfig } from '../../../serving/model_config.js';
import { describeRecord, logFiles, readRecords } from '../../../server/request_log/log_reader.js';
import { RequestLog } from '../../../server/request_log/request_logger.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-request-log-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const model = (name: string, samplingRate: number, filenamePrefix = `${name}/requests`): ModelConfig =>
  modelConfig(name, `/models/${name}`, { logging: { collectorType: '', filenamePrefix, samplingRate, attributes: 0 } });

const request = { modelSpec: { name: 'm' }, inputs: { x: { dtype: 1, tensorShape: { dim: [{ size: 2 }] }, floatVal: [1, 2] } } };
const response = { modelSpec: { name: 'm', version: { value: 3 }, signatureName: 'serving_default' }, outputs: { y: { dtype: 1, tensorShape: { dim: [{ size: 2 }] }, floatVal: [2.5, 3] } } };

/** Offers `n` requests of `name` to the logger; returns how many were sampled. */
function offer(log: RequestLog, name: string, n: number): number {
  let sampled = 0;
  for (let i = 0; i < n; i++) {
    const sink = log.sample(name);
    if (!sink) continue;
    sampled++;
    sink.log('predict', request, response, { name, version: 3, signatureName: '' });
  }
  return sampled;
}

async function records(target: string) {
  const out = [];
  for (const file of await logFiles(target)) for await (const r of readRecords(file)) out.push(describeRecord(r.data, { file, offset: r.offset }, true));
  return out;
}

describe('RequestLog sampling', () => {
  it('logs every request at rate 1, none at rate 0, and a share near p in between', async () => {
    const dir = path.join(tmp, 'sampling');
    const log = new RequestLog({ dir, log: silentLogger, savedModelTags: ['serve', 'gpu'] });
    log.update([model('all', 1), model('none', 0), model('some', 0.3), modelConfig('unlogged', '/models/unlogged')]);
    expect(offer(log, 'all', 500)).toBe(500);
    expect(offer(log, 'none', 500)).toBe(0);
    expect(offer(log, 'unlogged', 100)).toBe(0);
    const n = 5000;
    const sampled = offer(log, 'some', n);
    // Binomial(5000, 0.3): mean 1500, sd 32.4; 5 sd either side.
    expect(sampled).toBeGreaterThan(1500 - 162);
    expect(sampled).toBeLessThan(1500 + 162);
    await log.close();

    const all = await records(path.join(dir, 'all', 'requests'));
    expect(all.length).toBe(500);
    expect(all[0]).toMatchObject({
      model: 'all',
      version: 3,
      signature: 'serving_default',
      method: 'predict',
      sampling_rate: 1,
      inputs: { x: { dtype: 'DT_FLOAT', shape: [2], values: [1, 2] } },
      outputs: { y: { dtype: 'DT_FLOAT', shape: [2], values: [2.5, 3] } },
    });
    expect(Math.abs(Date.parse(all[0].time as string) - Date.now())).toBeLessThan(60_000);
    expect((await records(path.join(dir, 'some', 'requests'))).length).toBe(sampled);
    expect(fs.existsSync(path.join(dir, 'none'))).toBe(false);
  });

  it('writes the LogMetadata TF Serving writes: model spec, sampling config, saved model tags', async () => {
    const dir = path.join(tmp, 'metadata');
    const log = new RequestLog({ dir, log: silentLogger, savedModelTags: ['serve', 'tpu'] });
    log.update([modelConfig('m', '/models/m', { logging: { collectorType: 'file', filenamePrefix: 'm', samplingRate: 1, attributes: 3 } })]);
    offer(log, 'm', 1);
    await log.close();
    const [file] = await logFiles(path.join(dir, 'm'));
    const { protoType } = await import('../../../runtime/proto/schema.js');
    for await (const r of readRecords(file)) {
      const meta = protoType('tensorflow.serving.PredictionLog').toObject(protoType('tensorflow.serving.PredictionLog').decode(r.data), { longs: Number }).logMetadata;
      expect(meta).toMatchObject({
        modelSpec: { name: 'm', version: { value: 3 }, signatureName: 'serving_default' },
        samplingConfig: { samplingRate: 1, attributes: 3 },
        savedModelTags: ['serve', 'tpu'],
      });
    }
  });
});

describe('RequestLog metrics and updates', () => {
  it('counts written and dropped records, by model and reason', async () => {
    const registry = new client.Registry();
    const dir = path.join(tmp, 'metrics');
    // A queue smaller than one record: every record is dropped.
    const log = new RequestLog({ dir, log: silentLogger, metricsRegistry: registry, maxQueueBytes: 64 });
    log.update([model('m', 1)]);
    offer(log, 'm', 7);
    await log.flush();
    const text = await registry.metrics();
    expect(text).toContain('modelhost_request_log_dropped_total{model="m",reason="queue_full"} 7');
    const roomy = new client.Registry();
    const log2 = new RequestLog({ dir: path.join(tmp, 'metrics2'), log: silentLogger, metricsRegistry: roomy });
    log2.update([model('m', 1)]);
    offer(log2, 'm', 5);
    await log2.flush();
    expect(await roomy.metrics()).toContain('modelhost_request_log_records_total{model="m"} 5');
    expect(await roomy.metrics()).toContain('modelhost_request_log_queue_bytes 0');
    await log.close();
    await log2.close();
  });

  it('skips (and counts) a call whose record cannot be built, without throwing into the request', async () => {
    const registry = new client.Registry();
    const errors: string[] = [];
    const log = new RequestLog({ dir: path.join(tmp, 'capture'), log: { ...silentLogger, error: (m) => errors.push(m) }, metricsRegistry: registry });
    log.update([model('m', 1)]);
    const sink = log.sample('m')!;
    expect(sink.capture(() => 7)).toBe(7);
    expect(
      sink.capture(() => {
        throw new Error('a resource tensor cannot be written as a TensorProto');
      }),
    ).toBeUndefined();
    expect(sink.capture(() => 8)).toBeUndefined();
    sink.log('predict', request, response, { name: 'm', version: 3 });
    await log.close();
    expect(await registry.metrics()).toContain('modelhost_request_log_dropped_total{model="m",reason="encode_error"} 1');
    expect(errors.join('\n')).toContain('could not be turned into its log record: a resource tensor cannot be written');
    expect(fs.existsSync(path.join(tmp, 'capture', 'm'))).toBe(false);
  });

  it('turns a model off and closes its files; refuses an update whose files would leave the folder, changing nothing', async () => {
    const dir = path.join(tmp, 'updates');
    const log = new RequestLog({ dir, log: silentLogger });
    log.update([model('a', 1), model('b', 1)]);
    offer(log, 'a', 2);
    offer(log, 'b', 2);
    expect(() => log.update([model('a', 1, '/etc/a')])).toThrow(/outside the request log folder/);
    offer(log, 'a', 1); // still logged with the old config
    log.update([model('b', 1)]);
    expect(log.sample('a')).toBeUndefined();
    offer(log, 'b', 1);
    await log.close();
    expect((await records(path.join(dir, 'a', 'requests'))).length).toBe(3);
    expect((await records(path.join(dir, 'b', 'requests'))).length).toBe(3);
    expect(offer(log, 'b', 1)).toBe(1); // sampled, but dropped: closed
  });
});
