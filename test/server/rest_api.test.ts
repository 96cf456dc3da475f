// The REST API against real TensorFlow SavedModels, ported from TensorFlow
// Serving's http_rest_api_handler_test.cc and the REST tests of
// tensorflow_model_server_test.py (tensorflow/serving, Apache 2.0).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../serving/log.js';
import { protoType } from '../../runtime/proto/schema.js';
import { startServer, type RunningServer } from '../../server/serve.js';
import { FIXTURES, waitFor } from './helpers.js';
const TEST_MODEL = 'saved_model_half_plus_two_2_versions';

let server: RunningServer;
let tmp: string;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-rest-'));
  const config = path.join(tmp, 'models.conf');
  fs.writeFileSync(
    config,
    `model_config_list {
      config {
        name: "${TEST_MODEL}"
        base_path: "${path.join(FIXTURES, 'saved_model_half_plus_two_2_versions')}"
        model_platform: "tensorflow"
        model_version_policy { specific { versions: 123 } }
        version_labels { key: "Version_Label" value: 123 }
      }
      config { name: "default" base_path: "${path.join(FIXTURES, 'saved_model_half_plus_two_cpu')}" model_platform: "tensorflow" }
      config { name: "tf2" base_path: "${path.join(FIXTURES, 'saved_model_half_plus_two_tf2_cpu')}" model_platform: "tensorflow" }
      config { name: "bad" base_path: "${path.join(FIXTURES, 'bad_half_plus_two')}" model_platform: "tensorflow" }
    }`,
  );
  const monitoring = path.join(FIXTURES, 'monitoring_config.txt');
  server = await startServer({
    models: { kind: 'config_file', file: config, pollSeconds: 0 },
    restApiPort: 0,
    restApiHost: '127.0.0.1',
    monitoringConfigFile: monitoring,
    fileSystemPollWaitSeconds: 0.2,
    enableSignatureMethodNameCheck: true, // the check's text is tested below; off: test/server/tf_serving_flags.test.ts
    log: silentLogger,
  });
});

afterAll(async () => {
  await server?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const http = () => request(server.http.server);
const post = (p: string, body: string | object) =>
  http()
    .post(p)
    .set('Content-Type', 'application/json')
    .send(typeof body === 'string' ? body : JSON.stringify(body));
const readJson = (file: string) => JSON.parse(fs.readFileSync(path.join(FIXTURES, file), 'utf8'));

describe('unsupported API calls (UnsupportedApiCalls)', () => {
  it.each([
    ['GET', '/v1/foo', 'Malformed request'],
    ['POST', '/v1/foo', 'Malformed request'],
    ['GET', '/v1/models', 'Missing model name'],
    ['GET', '/v1/models/debug/model_name', 'Malformed request'],
    ['POST', '/v1/models', 'Malformed request'],
    ['GET', '/v1/models/foo:predict', 'Malformed request'],
    ['GET', '/v1/models/foo/version/50:predict', 'Malformed request'],
    ['POST', '/v1/models/foo/version/50:regress', 'Malformed request'],
    ['POST', '/v1/models/foo/versions/HELLO:regress', 'Malformed request'],
    ['POST', '/v1/models/foo/versions/18446744073709551615:regress', 'Failed to convert version'],
    ['POST', '/v1/models/foo/metadata', 'Malformed request'],
    ['POST', '/v1/models/foo/label/some_label:regress', 'Malformed request'],
    ['POST', '/v1/models/foo/versions/50/labels/some_label:regress', 'Malformed request'],
    ['POST', '/v1/models/foo/versions/some_label:regress', 'Malformed request'],
  ])('%s %s → 400 "%s"', async (method, p, text) => {
    const res = method === 'GET' ? await http().get(p) : await post(p, '');
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.body.error).toContain(text);
  });

  it('leaves paths outside /v1/ to other handlers (404 here)', async () => {
    const res = await http().get('/statuspage');
    expect(res.status).toBe(404);
  });
});

describe('predict', () => {
  it('answers 404 for an unknown model or version (PredictModelNameVersionErrors)', async () => {
    for (const p of ['/v1/models/foo:predict', '/v1/models/foo/versions/50:predict', `/v1/models/${TEST_MODEL}/versions/99:predict`]) {
      const res = await post(p, { instances: [1] });
      expect(res.status, p).toBe(404);
    }
    const res = await post('/v1/models/foo:predict', { instances: [1] });
    expect(res.body.error).toBe('Servable not found for request: Latest(foo)');
    const res2 = await post(`/v1/models/${TEST_MODEL}/versions/99:predict`, { instances: [1] });
    expect(res2.body.error).toBe(`Servable not found for request: Specific(${TEST_MODEL}, 99)`);
  });

  it('answers 400 with TF Serving texts for bad bodies (PredictRequestErrors)', async () => {
    const p = `/v1/models/${TEST_MODEL}:predict`;
    let res = await post(p, '');
    expect(res.status).toBe(400);
    expect(res.body.error).toContain('JSON Parse error: The document is empty');
    res = await post(p, 'instances = [1, 2]');
    expect(res.status).toBe(400);
    expect(res.body.error).toContain('JSON Parse error: Invalid value');
    res = await post(p, '{ "instances": ["x", "y"] }');
    expect(res.status).toBe(400);
    expect(res.body.error).toContain('not of expected type: float');
    res = await post(`/v1/models/${TEST_MODEL}/labels/Version_Nonexistent:predict`, '{ "instances": ["x", "y"] }');
    expect(res.status).toBe(400);
    expect(res.body.error).toContain('Unrecognized servable version label');
    res = await post(p, '{ "signature_name": 100 }');
    expect(res.status).toBe(400);
    expect(res.body.error).toContain("'signature_name' key must be a string value.");
    res = await post(p, '{ "signature_name": "nope", "instances": [1.0] }');
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('Serving signature name: "nope" not found in signature def');
  });

  it('predicts with the latest version, a version, a label, a signature name and columnar inputs (Predict)', async () => {
    let res = await post(`/v1/models/${TEST_MODEL}:predict`, '{"instances": [[1.0, 2.0], [3.0, 4.0]]}');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.body).toEqual({ predictions: [[2.5, 3.0], [3.5, 4.0]] });
    res = await post(`/v1/models/${TEST_MODEL}/versions/123:predict`, '{"instances": [1.0, 2.0]}');
    expect(res.body).toEqual({ predictions: [2.5, 3.0] });
    res = await post(`/v1/models/${TEST_MODEL}/labels/Version_Label:predict`, '{"instances": [1.0, 2.0]}');
    expect(res.body).toEqual({ predictions: [2.5, 3.0] });
    res = await post(`/v1/models/${TEST_MODEL}/versions/123:predict`, '{"signature_name": "serving_default", "instances": [3.0, 4.0]}');
    expect(res.body).toEqual({ predictions: [3.5, 4.0] });
    res = await post(`/v1/models/${TEST_MODEL}/versions/123:predict`, '{"signature_name": "serving_default", "inputs": [3.0, 4.0]}');
    expect(res.body).toEqual({ outputs: [3.5, 4.0] });
  });

  it('feeds {"b64": ...} values to a string input (a serialized tf.Example through predict)', async () => {
    const example = protoType('tensorflow.Example').encode({ features: { feature: { x: { floatList: { value: [2.0] } } } } }).finish();
    const b64 = Buffer.from(example).toString('base64');
    const res = await post('/v1/models/default:predict', { signature_name: 'classify_x_to_y', instances: [{ b64 }] });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ predictions: [[3.0]] });
  });

  it('serves the default model as tensorflow_model_server_test.py calls it', async () => {
    let res = await post('/v1/models/default:predict', { instances: [2.0, 3.0, 4.0] });
    expect(res.body).toEqual({ predictions: [3.0, 3.5, 4.0] });
    res = await post('/v1/models/default:predict', { inputs: [2.0, 3.0, 4.0] });
    expect(res.body).toEqual({ outputs: [3.0, 3.5, 4.0] });
  });
});

describe('regress and classify', () => {
  it('regresses through the latest version, a version and a label (Regress)', async () => {
    for (const p of [`/v1/models/${TEST_MODEL}:regress`, `/v1/models/${TEST_MODEL}/versions/123:regress`, `/v1/models/${TEST_MODEL}/labels/Version_Label:regress`]) {
      const res = await post(p, '{"signature_name": "regress_x_to_y", "examples": [ { "x": 80.0 } ] }');
      expect(res.status, p).toBe(200);
      expect(res.body, p).toEqual({ results: [42] });
    }
    // Python's json.dumps writes 2.0 as "2.0"; an integer would be an int64 feature.
    const res = await post('/v1/models/default:regress', '{"signature_name": "regress_x_to_y", "examples": [{"x": 2.0}]}');
    expect(res.body).toEqual({ results: [3.0] });
  });

  it('classifies through the latest version and a label (Classify)', async () => {
    let res = await post(`/v1/models/${TEST_MODEL}:classify`, '{"signature_name": "classify_x_to_y", "examples": [ { "x": 20.0 } ] }');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ results: [[['', 12]]] });
    res = await post(`/v1/models/${TEST_MODEL}/labels/Version_Label:classify`, '{"signature_name": "classify_x_to_y", "examples": [ { "x": 10.0 } ] }');
    expect(res.body).toEqual({ results: [[['', 7]]] });
    res = await post('/v1/models/default:classify', '{"signature_name": "classify_x_to_y", "examples": [{"x": 2.0}]}');
    expect(res.body).toEqual({ results: [[['', 3.0]]] });
  });

  it('refuses a predict signature for classify with TF Serving\'s text', async () => {
    const res = await post(`/v1/models/${TEST_MODEL}:classify`, { examples: [{ x: 1.0 }] });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe(
      'Expected classification signature method_name to be tensorflow/serving/classify. Was: tensorflow/serving/predict',
    );
  });
});

describe('status and metadata', () => {
  const available = { model_version_status: [{ version: '123', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } }] };

  it('reports every version, one version, and through a label (GetStatus)', async () => {
    for (const p of [`/v1/models/${TEST_MODEL}`, `/v1/models/${TEST_MODEL}/versions/123`, `/v1/models/${TEST_MODEL}/labels/Version_Label`, '/v1/models/default']) {
      const res = await http().get(p);
      expect(res.status, p).toBe(200);
      expect(res.headers['content-type']).toBe('application/json');
      expect(res.body, p).toEqual(available);
    }
  });

  it('answers 404 for an unknown model or version', async () => {
    let res = await http().get('/v1/models/nonexistent_model');
    expect(res.status).toBe(404);
    expect(res.body.error).toBe('Could not find any versions of model nonexistent_model');
    res = await http().get(`/v1/models/${TEST_MODEL}/versions/124`);
    expect(res.status).toBe(404);
    expect(res.body.error).toBe(`Could not find version 124 of model ${TEST_MODEL}`);
  });

  it('prints metadata exactly as TF Serving (GetModelMetadata)', async () => {
    let res = await http().get(`/v1/models/${TEST_MODEL}/metadata`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual(readJson('saved_model_half_plus_two_2_versions_metadata.json'));
    res = await http().get(`/v1/models/${TEST_MODEL}/versions/123/metadata`);
    expect(res.body).toEqual(readJson('saved_model_half_plus_two_2_versions_metadata.json'));
    res = await http().get('/v1/models/default/metadata');
    expect(res.body).toEqual(readJson('half_plus_two_model_metadata.json'));
  });

  it('prints a TF2 model\'s metadata with its __saved_model_init_op signature, as TF Serving does', async () => {
    const res = await http().get('/v1/models/tf2/metadata');
    const expected = readJson('saved_model_half_plus_two_tf2_2_versions_metadata.json');
    expect(res.body.model_spec).toEqual({ ...expected.model_spec, name: 'tf2' });
    expect(res.body.metadata).toEqual(expected.metadata);
    const init = await post('/v1/models/tf2:predict', { signature_name: '__saved_model_init_op', instances: [] });
    expect(init.status).toBe(400);
  });

  it('reports a model that failed to load as END with its error, without disturbing the others', async () => {
    // bad_half_plus_two holds a legacy SessionBundle: after a few unchanged polls it is tried and fails.
    const res = await waitFor('the bad model to be reported', async () => {
      const r = await http().get('/v1/models/bad');
      return r.status === 200 && r;
    });
    const [status] = res.body.model_version_status;
    expect(status.version).toBe('123');
    expect(status.state).toBe('END');
    expect(status.status.error_code).toBe('NOT_FOUND');
    expect(status.status.error_message).toContain('SessionBundle');
    expect((await post('/v1/models/bad:predict', { instances: [1.0] })).status).toBe(404);
    expect((await post('/v1/models/default:predict', { instances: [1.0] })).body).toEqual({ predictions: [2.5] });
  });
});

describe('Prometheus metrics', () => {
  it('serves request, load and version metrics at the monitoring config path', async () => {
    await waitFor('the bad model to end', () => server.core.monitor.getState('bad', 123)?.state === 'END');
    await post('/v1/models/default:predict', { instances: [1.0] });
    const res = await http().get('/monitoring/prometheus/metrics');
    expect(res.status).toBe(200);
    expect(res.text).toContain('# TYPE');
    expect(res.text).toMatch(/modelhost_requests_total\{model="default",version="123",api="predict",status="OK",protocol="rest"\} [1-9]/);
    expect(res.text).toMatch(/modelhost_request_duration_seconds_count\{model="default",version="123",api="predict",status="OK",protocol="rest"\} [1-9]/);
    expect(res.text).toMatch(/modelhost_requests_total\{model="",version="",api="predict",status="NOT_FOUND",protocol="rest"\} [1-9]/);
    expect(res.text).toContain('modelhost_model_load_attempts_total{model="default",version="123",status="OK"} 1');
    expect(res.text).toContain('modelhost_model_load_attempts_total{model="bad",version="123",status="NOT_FOUND"} 1');
    expect(res.text).toContain('modelhost_model_versions{model="default",state="AVAILABLE"} 1');
    expect(res.text).toContain('modelhost_model_versions{model="bad",state="END"} 1');
  });
});
