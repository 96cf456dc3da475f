// An upload whose default serving signature cannot run here is refused (400
// naming the ops) unless sent with force=true; its other signatures serve, and
// the API and console show which signatures cannot run.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../serving/log.js';
import { protoType } from '../../runtime/proto/schema.js';
import { startServer, type RunningServer } from '../../server/serve.js';
import { CORPUS_DIR } from '../conformance/corpus.js';

let tmp: string;
let modelsDir: string;
let server: RunningServer;
let trainAsDefault: string;

/** The on-device-training corpus model, with its `train` signature (gradient ops) as serving_default. */
function makeTrainAsDefault(dest: string): void {
  fs.cpSync(path.join(CORPUS_DIR, 'keras_saved/on_device_training_signatures/model'), dest, { recursive: true });
  const file = path.join(dest, 'saved_model.pb');
  const SavedModel = protoType('tensorflow.SavedModel');
  const msg = SavedModel.decode(fs.readFileSync(file)) as unknown as { metaGraphs: { signatureDef: Record<string, unknown> }[] };
  const sigs = msg.metaGraphs[0].signatureDef;
  sigs.serving_default = sigs.train;
  delete sigs.train;
  fs.writeFileSync(file, SavedModel.encode(msg as never).finish());
}

function attachFiles(req: request.Test, dir: string, rel = ''): request.Test {
  for (const name of fs.readdirSync(path.join(dir, rel)).sort()) {
    const child = rel ? `${rel}/${name}` : name;
    if (fs.statSync(path.join(dir, child)).isDirectory()) attachFiles(req, dir, child);
    else req.attach('files', fs.readFileSync(path.join(dir, child)), { filepath: child, contentType: 'application/octet-stream' });
  }
  return req;
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-upload-sigs-'));
  modelsDir = path.join(tmp, 'models');
  fs.mkdirSync(modelsDir);
  trainAsDefault = path.join(tmp, 'train_as_default');
  makeTrainAsDefault(trainAsDefault);
  server = await startServer({
    models: { kind: 'models_dir', dir: modelsDir, pollSeconds: 0.2 },
    restApiPort: 0,
    restApiHost: '127.0.0.1',
    fileSystemPollWaitSeconds: 0.2,
    registry: { path: path.join(tmp, 'registry.db'), modelsDir },
    log: silentLogger,
  });
}, 60_000);

afterAll(async () => {
  await server?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const api = () => request(server.url);

describe('uploads whose default signature cannot run here', () => {
  it('are refused with 400 naming the missing ops, leaving nothing behind', async () => {
    const res = await attachFiles(api().post('/api/v1/models/trainer/versions'), trainAsDefault);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/default serving signature cannot run on this server/);
    expect(res.body.error).toMatch(/ReluGrad \(used by/);
    expect(res.body.error).toMatch(/force=true/);
    expect(fs.readdirSync(modelsDir)).toEqual([]);
    expect((await api().get('/api/v1/models')).body.models).toEqual([]);
  });

  it('are accepted with force=true: other signatures serve, the API names what cannot run', async () => {
    const res = await attachFiles(api().post('/api/v1/models/trainer/versions').field('force', 'true'), trainAsDefault);
    expect(res.status, res.text).toBe(201);
    expect(res.body.signatures.serving_default.unavailable).toMatch(/BiasAddGrad/);
    expect(res.body.signatures.infer.unavailable).toBeNull();
    const infer = await api().post('/v1/models/trainer:predict').send({ signature_name: 'infer', instances: [[1, 2, 3]] });
    expect(infer.status, infer.text).toBe(200);
    expect(infer.body.predictions[0]).toHaveLength(2);
    const byDefault = await api().post('/v1/models/trainer:predict').send({ instances: [{ x: [1, 2, 3], y: [0, 1] }] });
    expect(byDefault.status).toBe(400);
    expect(byDefault.body.error).toMatch(/Signature 'serving_default' uses ops the modelhost runtime does not support/);
  });
});
