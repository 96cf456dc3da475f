/**
 * Request logging end to end: a model_config_file with logging_config, real
 * REST and gRPC clients (the gRPC one built only from proto/), and the
 * records read back three ways: decoded with a PredictionLog schema built
 * here from the vendored TF Serving protos (not the server's own), by
 * `modelhost logs` (the built CLI), and, for damaged files, its errors.
 * Also: rate 0 logs nothing, failed requests are not logged, a full queue
 * drops and counts in /monitoring, a hostile prefix refuses to start or
 * to reload.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../serving/log.js';
import { startServer, type RunningServer } from '../../server/serve.js';
import { protoClient, PROTO_DIR } from './grpc_client.js';
import { FIXTURES } from './helpers.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const exec = promisify(execFile);
const quiet: Logger = { info: () => {}, warn: () => {}, error: () => {} };

type Msg = Record<string, unknown>;
type Unary = (req: Msg, cb: (err: grpc.ServiceError | null, res: Msg) => void) => void;

/**
 * tensorflow_serving/apis/prediction_log.proto's messages (less SessionRunLog,
 * whose protos are not vendored), on the vendored request/response protos.
 */
function predictionLogType(): protobuf.Type {
  const root = new protobuf.Root();
  root.resolvePath = (_o, target) => (path.isAbsolute(target) ? target : path.join(PROTO_DIR, target));
  root.loadSync(
    ['classification', 'regression', 'predict', 'inference', 'logging'].map((f) => path.join(PROTO_DIR, `tensorflow_serving/apis/${f}.proto`)),
    { keepCase: true },
  );
  protobuf.parse(
    `syntax = "proto3";
     package tensorflow.serving;
     message ClassifyLog { ClassificationRequest request = 1; ClassificationResponse response = 2; }
     message RegressLog { RegressionRequest request = 1; RegressionResponse response = 2; }
     message PredictLog { PredictRequest request = 1; PredictResponse response = 2; }
     message MultiInferenceLog { MultiInferenceRequest request = 1; MultiInferenceResponse response = 2; }
     message PredictionLog {
       LogMetadata log_metadata = 1;
       oneof log_type { ClassifyLog classify_log = 2; RegressLog regress_log = 3; PredictLog predict_log = 6; MultiInferenceLog multi_inference_log = 4; }
     }`,
    root,
    { keepCase: true },
  );
  root.resolveAll();
  return root.lookupType('tensorflow.serving.PredictionLog');
}

/** Every record under `dir` whose file name starts with `stem`, decoded with the independent schema, in file order. */
function decodeAll(dir: string, stem: string): Msg[] {
  const type = predictionLogType();
  const out: Msg[] = [];
  if (!fs.existsSync(dir)) return out;
  for (const name of fs.readdirSync(dir).filter((n) => n.startsWith(stem)).sort()) {
    const bytes = fs.readFileSync(path.join(dir, name));
    let pos = 0;
    while (pos < bytes.length) {
      const length = Number(bytes.readBigUInt64LE(pos));
      const data = bytes.subarray(pos + 12, pos + 12 + length);
      out.push(type.toObject(type.decode(data), { longs: String, enums: String, bytes: String }) as Msg);
      pos += 12 + length + 4;
    }
  }
  return out;
}

let tmp: string;
let logDir: string;
let server: RunningServer;
let prediction: grpc.Client & Record<string, Unary>;

function configText(hp2Prefix = 'hp2/requests'): string {
  return `model_config_list {
    config { name: "half_plus_two" base_path: "${path.join(FIXTURES, 'saved_model_half_plus_two_cpu')}" model_platform: "tensorflow"
      logging_config { log_collector_config { type: "file" filename_prefix: "${hp2Prefix}" } sampling_config { sampling_rate: 1.0 } } }
    config { name: "half_plus_three" base_path: "${path.join(FIXTURES, 'saved_model_half_plus_three')}" model_platform: "tensorflow"
      logging_config { log_collector_config { filename_prefix: "hp3/requests" } sampling_config { sampling_rate: 0 } } }
  }`;
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-request-logging-'));
  logDir = path.join(tmp, 'logs');
  const config = path.join(tmp, 'models.config');
  fs.writeFileSync(config, configText());
  server = await startServer({
    models: { kind: 'config_file', file: config, pollSeconds: 0 },
    restApiPort: 0,
    grpcPort: 0,
    restApiHost: '127.0.0.1',
    monitoringConfigFile: path.join(FIXTURES, 'monitoring_config.txt'),
    requestLog: { dir: logDir },
    log: quiet,
  });
  prediction = protoClient('tensorflow_serving/apis/prediction_service.proto', 'tensorflow.serving.PredictionService', `127.0.0.1:${server.grpcPort}`);
}, 60_000);

afterAll(async () => {
  prediction?.close();
  await server?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function call(method: string, req: Msg): Promise<Msg> {
  return new Promise((resolve, reject) => prediction[method](req, (err, res) => (err ? reject(err) : resolve(res))));
}

async function rest(p: string, body: string): Promise<{ status: number; json: Msg }> {
  const res = await fetch(`${server.url}${p}`, { method: 'POST', body });
  return { status: res.status, json: (await res.json()) as Msg };
}

const floats = (values: number[]) => ({ dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: values.length }] }, float_val: values });
const example = (x: number) => ({ features: { feature: { x: { float_list: { value: [x] } } } } });

describe('request logs of REST and gRPC calls', () => {
  let records: Msg[];

  beforeAll(async () => {
    // In this order; each awaited, so the records are in this order too.
    expect((await rest('/v1/models/half_plus_two:predict', '{"instances": [1.0, 2.0, 5.0]}')).status).toBe(200);
    expect((await rest('/v1/models/half_plus_two/versions/123:classify', '{"signature_name": "classify_x_to_y", "examples": [{"x": 2.0}, {"x": 10.0}]}')).status).toBe(200);
    expect((await rest('/v1/models/half_plus_two:regress', '{"signature_name": "regress_x_to_y", "context": {"c": 7.0}, "examples": [{"x": 2.0}, {"x": 80.0}]}')).status).toBe(200);
    await call('Predict', { model_spec: { name: 'half_plus_two' }, inputs: { x: floats([1, 2, 5]) } });
    await call('Classify', { model_spec: { name: 'half_plus_two', signature_name: 'classify_x_to_y' }, input: { example_list: { examples: [example(2), example(10)] } } });
    await call('Regress', { model_spec: { name: 'half_plus_two', signature_name: 'regress_x_to_y' }, input: { example_list: { examples: [example(2), example(80)] } } });
    await call('MultiInference', {
      tasks: [
        { model_spec: { name: 'half_plus_two', signature_name: 'classify_x_to_y' }, method_name: 'tensorflow/serving/classify' },
        { model_spec: { name: 'half_plus_two', signature_name: 'regress_x_to_y' }, method_name: 'tensorflow/serving/regress' },
      ],
      input: { example_list: { examples: [example(4)] } },
    });
    // Not logged: failures, and a model sampled at rate 0.
    expect((await rest('/v1/models/half_plus_two:predict', '{"signature_name": "nope", "instances": [1.0]}')).status).toBe(400);
    expect((await rest('/v1/models/half_plus_three:predict', '{"instances": [1.0]}')).status).toBe(200);
    await server.requestLog.flush();
    records = decodeAll(path.join(logDir, 'hp2'), 'requests.');
  }, 60_000);

  it('writes one PredictionLog per successful call, with TF Serving LogMetadata', () => {
    expect(records.map((r) => Object.keys(r).find((k) => k.endsWith('_log')))).toEqual(['predict_log', 'classify_log', 'regress_log', 'predict_log', 'classify_log', 'regress_log', 'multi_inference_log']);
    for (const r of records) {
      expect(r.log_metadata).toMatchObject({ model_spec: { name: 'half_plus_two', version: { value: '123' } }, sampling_config: { sampling_rate: 1 }, saved_model_tags: ['serve'] });
    }
    expect((records[0].log_metadata as Msg).model_spec).toMatchObject({ signature_name: 'serving_default' });
    expect((records[1].log_metadata as Msg).model_spec).toMatchObject({ signature_name: 'classify_x_to_y' });
    expect(fs.existsSync(path.join(logDir, 'hp3'))).toBe(false);
  });

  it('logs a REST predict as the PredictRequest/PredictResponse the same gRPC call has', () => {
    const [restLog, grpcLog] = [records[0].predict_log as Msg, records[3].predict_log as Msg];
    const x = { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: '3' }] }, float_val: [1, 2, 5] };
    expect(restLog.request).toEqual({ model_spec: { name: 'half_plus_two' }, inputs: { x } });
    expect(grpcLog.request).toEqual({ model_spec: { name: 'half_plus_two' }, inputs: { x } });
    const response = { model_spec: { name: 'half_plus_two', version: { value: '123' }, signature_name: 'serving_default' }, outputs: { y: { ...x, float_val: [2.5, 3, 4.5] } } };
    expect(restLog.response).toEqual(response);
    expect(grpcLog.response).toEqual(response);
  });

  it('logs classify and regress with their examples (a REST context as example_list_with_context) and results', () => {
    const restClassify = records[1].classify_log as Msg;
    expect(restClassify.request).toEqual({
      model_spec: { name: 'half_plus_two', version: { value: '123' }, signature_name: 'classify_x_to_y' },
      input: { example_list: { examples: [example(2), example(10)] } },
    });
    expect(restClassify.response).toEqual({
      model_spec: { name: 'half_plus_two', version: { value: '123' }, signature_name: 'classify_x_to_y' },
      result: { classifications: [{ classes: [{ score: 3 }] }, { classes: [{ score: 7 }] }] },
    });
    expect((records[4].classify_log as Msg).response).toEqual(restClassify.response);
    const restRegress = records[2].regress_log as Msg;
    expect(restRegress.request).toEqual({
      model_spec: { name: 'half_plus_two', signature_name: 'regress_x_to_y' },
      input: { example_list_with_context: { examples: [example(2), example(80)], context: { features: { feature: { c: { float_list: { value: [7] } } } } } } },
    });
    expect((restRegress.response as Msg).result).toEqual({ regressions: [{ value: 3 }, { value: 42 }] });
    expect((records[5].regress_log as Msg).response).toEqual(restRegress.response);
    const multi = records[6].multi_inference_log as Msg;
    expect((multi.request as Msg).tasks).toHaveLength(2);
    expect(((multi.response as Msg).results as Msg[]).map((r) => Object.keys(r).sort())).toEqual([
      ['classification_result', 'model_spec'],
      ['model_spec', 'regression_result'],
    ]);
  });

  it('`modelhost logs` prints them, summarised or in full', async () => {
    const bin = path.join(ROOT, 'bin/modelhost.js');
    const prefix = path.join(logDir, 'hp2', 'requests');
    const { stdout } = await exec(process.execPath, [bin, 'logs', prefix]);
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as Msg);
    expect(lines.map((l) => l.method)).toEqual(['predict', 'classify', 'regress', 'predict', 'classify', 'regress', 'multi_inference']);
    expect(lines[0]).toMatchObject({
      model: 'half_plus_two',
      version: 123,
      signature: 'serving_default',
      sampling_rate: 1,
      inputs: { x: { dtype: 'DT_FLOAT', shape: [3] } },
      outputs: { y: { dtype: 'DT_FLOAT', shape: [3] } },
    });
    expect(lines[2]).toMatchObject({ inputs: { examples: 2, context: true }, outputs: { regressions: 2 } });
    expect(lines[6].tasks).toEqual([
      { signature: 'classify_x_to_y', method_name: 'tensorflow/serving/classify' },
      { signature: 'regress_x_to_y', method_name: 'tensorflow/serving/regress' },
    ]);
    const full = await exec(process.execPath, [bin, 'logs', path.join(logDir, 'hp2'), '--full', '--limit', '1']);
    expect(JSON.parse(full.stdout)).toMatchObject({ inputs: { x: { values: [1, 2, 5] } }, outputs: { y: { values: [2.5, 3, 4.5] } } });
  });

  it('`modelhost logs` reports a damaged file clearly, after the good records', async () => {
    const bin = path.join(ROOT, 'bin/modelhost.js');
    const [file] = fs.readdirSync(path.join(logDir, 'hp2')).map((n) => path.join(logDir, 'hp2', n));
    const damaged = path.join(tmp, 'damaged.tfrecord');
    const bytes = fs.readFileSync(file);
    const first = 12 + Number(bytes.readBigUInt64LE(0)) + 4;
    bytes[first + 20] ^= 0xff; // inside the second record's data
    fs.writeFileSync(damaged, bytes);
    const failed = await exec(process.execPath, [bin, 'logs', damaged]).then(
      () => undefined,
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stdout.trim().split('\n')).toHaveLength(1);
    expect(failed?.stderr).toContain(`Corrupted record 1 at offset ${first} of ${damaged}: the checksum of its`);
    const missing = await exec(process.execPath, [bin, 'logs', path.join(tmp, 'nothing-here')]).catch((e: { code: number; stderr: string }) => e);
    expect(missing).toMatchObject({ code: 1, stderr: expect.stringContaining('No request log file at') });
  });
});

describe('request logging limits and config', () => {
  it('drops records that do not fit the queue, counted in the metrics, without failing requests', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-request-logging-queue-'));
    const config = path.join(dir, 'models.config');
    fs.writeFileSync(config, configText());
    const small = await startServer({
      models: { kind: 'config_file', file: config, pollSeconds: 0 },
      restApiPort: 0,
      restApiHost: '127.0.0.1',
      monitoringConfigFile: path.join(FIXTURES, 'monitoring_config.txt'),
      requestLog: { dir: path.join(dir, 'logs'), maxQueueBytes: 32 },
      log: quiet,
    });
    try {
      for (let i = 0; i < 5; i++) expect((await rest2(small.url, '/v1/models/half_plus_two:predict', '{"instances": [1.0]}')).status).toBe(200);
      await small.requestLog.flush();
      const metrics = await (await fetch(`${small.url}/monitoring/prometheus/metrics`)).text();
      expect(metrics).toContain('modelhost_request_log_dropped_total{model="half_plus_two",reason="queue_full"} 5');
      expect(metrics).not.toMatch(/modelhost_request_log_records_total\{model="half_plus_two"\} [1-9]/);
    } finally {
      await small.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses to start with a prefix outside --request_log_dir, and refuses such a gRPC reload', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-request-logging-hostile-'));
    try {
      const config = path.join(dir, 'models.config');
      fs.writeFileSync(config, configText('/etc/cron.d/evil'));
      await expect(
        startServer({ models: { kind: 'config_file', file: config, pollSeconds: 0 }, restApiPort: 0, restApiHost: '127.0.0.1', requestLog: { dir: path.join(dir, 'logs') }, log: quiet }),
      ).rejects.toThrow(/Model half_plus_two: logging_config.log_collector_config.filename_prefix "\/etc\/cron.d\/evil" is outside the request log folder/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const models = protoClient<grpc.Client & Record<string, Unary>>('tensorflow_serving/apis/model_service.proto', 'tensorflow.serving.ModelService', `127.0.0.1:${server.grpcPort}`);
    try {
      const err = await new Promise<grpc.ServiceError>((resolve, reject) =>
        models.HandleReloadConfigRequest(
          {
            config: {
              model_config_list: {
                config: [
                  {
                    name: 'half_plus_two',
                    base_path: path.join(FIXTURES, 'saved_model_half_plus_two_cpu'),
                    model_platform: 'tensorflow',
                    logging_config: { log_collector_config: { filename_prefix: '../../escape' }, sampling_config: { sampling_rate: 1 } },
                  },
                ],
              },
            },
          },
          (e) => (e ? resolve(e) : reject(new Error('reload accepted'))),
        ),
      );
      expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(err.details).toMatch(/filename_prefix "\.\.\/\.\.\/escape" contains "\.\."/);
      // Still serving, still logging.
      expect((await rest('/v1/models/half_plus_three:predict', '{"instances": [1.0]}')).status).toBe(200);
    } finally {
      models.close();
    }
  });
});

async function rest2(url: string, p: string, body: string): Promise<{ status: number }> {
  const res = await fetch(`${url}${p}`, { method: 'POST', body });
  await res.arrayBuffer();
  return { status: res.status };
}
