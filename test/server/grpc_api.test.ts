/**
 * TF Serving's gRPC API as a TF Serving client sees it: the client is built
 * only from the vendored .proto files (proto/) with @grpc/grpc-js and
 * @grpc/proto-loader, never from the server's code. Predict answers the same
 * tensors as REST (half_plus_two, f_mnist's base64 PNG strings), metadata
 * and status as TF Serving, TF Serving's codes and texts for bad requests,
 * and hostile messages (too big, shape against content) are refused while
 * the server keeps answering.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { heldOutImages, imageB64 } from '../../examples/f_mnist/data.js';
import type { Logger } from '../../serving/log.js';
import { startServer, type RunningServer } from '../../server/serve.js';
import { FIXTURES } from './helpers.js';

const PROTO_DIR = path.resolve(import.meta.dirname, '../../proto');
const MODELS = path.resolve(import.meta.dirname, '../../models');
const MAX_BYTES = 1 << 20;
const quiet: Logger = { info: () => {}, warn: () => {}, error: () => {} };

type Msg = Record<string, unknown>;
type Unary = (req: Msg, cb: (err: grpc.ServiceError | null, res: Msg) => void) => void;

let server: RunningServer;
let tmp: string | undefined;
let prediction: grpc.Client & Record<string, Unary>;
let models: grpc.Client & Record<string, Unary>;

beforeAll(async () => {
  const def = protoLoader.loadSync(['tensorflow_serving/apis/prediction_service.proto', 'tensorflow_serving/apis/model_service.proto'], {
    includeDirs: [PROTO_DIR],
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
  });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    tensorflow: { serving: Record<string, new (addr: string, creds: grpc.ChannelCredentials) => grpc.Client & Record<string, Unary>> };
  };
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-grpc-'));
  const config = path.join(tmp, 'models.config');
  fs.writeFileSync(
    config,
    `model_config_list {
      config { name: "half_plus_two" base_path: "${path.join(FIXTURES, 'saved_model_half_plus_two_cpu')}" model_platform: "tensorflow" }
      config { name: "f_mnist" base_path: "${path.join(MODELS, 'f_mnist')}" model_platform: "tensorflow" }
    }`,
  );
  server = await startServer({
    models: { kind: 'config_file', file: config, pollSeconds: 0 },
    restApiPort: 0,
    grpcPort: 0,
    restApiHost: '127.0.0.1',
    restLimits: { maxRequestBytes: MAX_BYTES },
    monitoringConfigFile: path.join(FIXTURES, 'monitoring_config.txt'),
    enableSignatureMethodNameCheck: true, // its texts are tested below; off (TF Serving's default): test/server/signature_method_check.test.ts
    log: quiet,
  });
  const address = `127.0.0.1:${server.grpcPort}`;
  prediction = new pkg.tensorflow.serving.PredictionService(address, grpc.credentials.createInsecure());
  models = new pkg.tensorflow.serving.ModelService(address, grpc.credentials.createInsecure());
}, 60_000);

afterAll(async () => {
  prediction?.close();
  models?.close();
  await server?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

function call(client: Record<string, Unary>, method: string, req: Msg): Promise<Msg> {
  return new Promise((resolve, reject) => client[method](req, (err, res) => (err ? reject(err) : resolve(res))));
}

async function callError(client: Record<string, Unary>, method: string, req: Msg): Promise<grpc.ServiceError> {
  try {
    await call(client, method, req);
  } catch (e) {
    return e as grpc.ServiceError;
  }
  throw new Error(`${method} succeeded`);
}

async function rest(p: string, body: unknown): Promise<Msg> {
  const res = await fetch(`${server.url}${p}`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });
  return (await res.json()) as Msg;
}

const floats = (values: number[], shape = [values.length]) => ({
  dtype: 'DT_FLOAT',
  tensor_shape: { dim: shape.map((size) => ({ size })) },
  float_val: values,
});

describe('PredictionService.Predict', () => {
  it('answers half_plus_two as REST does, typed float_val, with the answering model spec', async () => {
    const res = await call(prediction, 'Predict', { model_spec: { name: 'half_plus_two' }, inputs: { x: floats([1, 2, 5]) } });
    const y = (res.outputs as Record<string, Msg>).y;
    expect(y.dtype).toBe('DT_FLOAT');
    expect(y.tensor_shape).toMatchObject({ dim: [{ size: '3' }] });
    expect(y.float_val).toEqual([2.5, 3, 4.5]);
    expect(res.model_spec).toMatchObject({ name: 'half_plus_two', version: { value: '123' }, signature_name: 'serving_default' });
    const viaRest = await rest('/v1/models/half_plus_two:predict', { instances: [1, 2, 5] });
    expect(viaRest.predictions).toEqual(y.float_val);
  });

  it('reads tensor_content (raw little-endian) as well as typed fields', async () => {
    const content = Buffer.from(new Float32Array([1, 2, 5]).buffer);
    const res = await call(prediction, 'Predict', {
      model_spec: { name: 'half_plus_two', signature_name: 'serving_default' },
      inputs: { x: { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: 3 }] }, tensor_content: content } },
      output_filter: ['y'],
    });
    expect((res.outputs as Record<string, Msg>).y.float_val).toEqual([2.5, 3, 4.5]);
  });

  it('answers f_mnist for base64 PNG strings with the same scores as REST', async () => {
    const data = heldOutImages();
    const images = [imageB64(data, 0), imageB64(data, 1), imageB64(data, 2)];
    const res = await call(prediction, 'Predict', {
      model_spec: { name: 'f_mnist', version: { value: 2 }, signature_name: 'probabilities' },
      inputs: {
        [await fMnistInput()]: { dtype: 'DT_STRING', tensor_shape: { dim: [{ size: 3 }] }, string_val: images.map((s) => Buffer.from(s)) },
      },
    });
    const [out] = Object.values(res.outputs as Record<string, Msg>);
    expect(out.tensor_shape).toMatchObject({ dim: [{ size: '3' }, { size: '10' }] });
    const viaRest = await rest('/v1/models/f_mnist/versions/2:predict', { signature_name: 'probabilities', instances: images });
    // REST prints each float32 in its shortest form; gRPC carries the float32 itself.
    expect(out.float_val).toEqual((viaRest.predictions as number[][]).flat().map(Math.fround));
  });

  it('answers f_mnist class names as string_val bytes, the same as REST', async () => {
    const data = heldOutImages();
    const images = [imageB64(data, 3), imageB64(data, 4)];
    const res = await call(prediction, 'Predict', {
      model_spec: { name: 'f_mnist' },
      inputs: { [await fMnistInput()]: { dtype: 'DT_STRING', tensor_shape: { dim: [{ size: 2 }] }, string_val: images.map((s) => Buffer.from(s)) } },
    });
    const [out] = Object.values(res.outputs as Record<string, Msg>);
    expect(out.dtype).toBe('DT_STRING');
    const viaRest = await rest('/v1/models/f_mnist:predict', { instances: images });
    expect((out.string_val as Buffer[]).map((b) => b.toString())).toEqual(viaRest.predictions);
  });

  it('unknown model: NOT_FOUND with TF Serving\'s text', async () => {
    const err = await callError(prediction, 'Predict', { model_spec: { name: 'nope' }, inputs: { x: floats([1]) } });
    expect(err.code).toBe(grpc.status.NOT_FOUND);
    expect(err.details).toBe('Servable not found for request: Latest(nope)');
  });

  it('unknown version: NOT_FOUND, unknown label: INVALID_ARGUMENT, with TF Serving\'s texts', async () => {
    const version = await callError(prediction, 'Predict', { model_spec: { name: 'half_plus_two', version: { value: 99 } }, inputs: { x: floats([1]) } });
    expect(version.code).toBe(grpc.status.NOT_FOUND);
    expect(version.details).toBe('Servable not found for request: Specific(half_plus_two, 99)');
    const label = await callError(prediction, 'Predict', { model_spec: { name: 'half_plus_two', version_label: 'nope' }, inputs: { x: floats([1]) } });
    expect(label.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(label.details).toBe('Unrecognized servable version label: nope');
  });

  it('unknown signature: FAILED_PRECONDITION as RunPredict says', async () => {
    const err = await callError(prediction, 'Predict', { model_spec: { name: 'half_plus_two', signature_name: 'nope' }, inputs: { x: floats([1]) } });
    expect(err.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(err.details).toBe('Serving signature key "nope" not found.');
  });

  it('wrong dtype, missing input, missing model spec, unknown output: INVALID_ARGUMENT', async () => {
    const wrongType = await callError(prediction, 'Predict', {
      model_spec: { name: 'half_plus_two' },
      inputs: { x: { dtype: 'DT_INT32', tensor_shape: { dim: [{ size: 1 }] }, int_val: [1] } },
    });
    expect(wrongType.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(wrongType.details).toBe('Expects arg[0] to be float but int32 is provided');
    const missing = await callError(prediction, 'Predict', { model_spec: { name: 'half_plus_two' }, inputs: {} });
    expect(missing.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(missing.details).toBe('input size does not match signature: 0!=1 len({}) != len({x}). Sent extra: {}. Missing but required: {x}.');
    const noSpec = await callError(prediction, 'Predict', { inputs: { x: floats([1]) } });
    expect(noSpec.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(noSpec.details).toBe('Missing ModelSpec');
    const badFilter = await callError(prediction, 'Predict', { model_spec: { name: 'half_plus_two' }, inputs: { x: floats([1]) }, output_filter: ['z'] });
    expect(badFilter.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(badFilter.details).toMatch(/^output tensor alias not found in signature: z/);
  });

  it('hostile: a message over the size limit is RESOURCE_EXHAUSTED, a shape against its content INVALID_ARGUMENT; the server keeps answering', async () => {
    const big = Buffer.alloc(MAX_BYTES + 16);
    const tooBig = await callError(prediction, 'Predict', {
      model_spec: { name: 'half_plus_two' },
      inputs: { x: { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: big.length / 4 }] }, tensor_content: big } },
    });
    expect(tooBig.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(tooBig.details).toMatch(/^Received message larger than max \(\d+ vs 1048576\)/);
    const mismatch = await callError(prediction, 'Predict', {
      model_spec: { name: 'half_plus_two' },
      inputs: { x: { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: 3 }] }, tensor_content: Buffer.alloc(8) } },
    });
    expect(mismatch.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(mismatch.details).toMatch(/tensor_content has 8 bytes/);
    const huge = await callError(prediction, 'Predict', {
      model_spec: { name: 'half_plus_two' },
      inputs: { x: { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: 1e6 }, { size: 1e6 }] }, float_val: [1] } },
    });
    expect(huge.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(huge.details).toMatch(/^OOM when allocating tensor with shape\[1000000000000\]/);
    const res = await call(prediction, 'Predict', { model_spec: { name: 'half_plus_two' }, inputs: { x: floats([3]) } });
    expect((res.outputs as Record<string, Msg>).y.float_val).toEqual([3.5]);
  });
});

const example = (x: number) => ({ features: { feature: { x: { float_list: { value: [x] } } } } });

describe('PredictionService.Classify and Regress', () => {
  it('classify and regress tf.Examples as REST does', async () => {
    const classified = await call(prediction, 'Classify', {
      model_spec: { name: 'half_plus_two', signature_name: 'classify_x_to_y' },
      input: { example_list: { examples: [example(2), example(10)] } },
    });
    expect(classified.model_spec).toMatchObject({ name: 'half_plus_two', version: { value: '123' }, signature_name: 'classify_x_to_y' });
    expect(classified.result).toEqual({ classifications: [{ classes: [{ label: '', score: 3 }] }, { classes: [{ label: '', score: 7 }] }] });
    // Written as Python's json.dumps writes floats: 2 would be an int64 feature.
    const viaRest = await rest('/v1/models/half_plus_two:classify', '{"signature_name": "classify_x_to_y", "examples": [{"x": 2.0}, {"x": 10.0}]}');
    expect(viaRest.results).toEqual([[['', 3]], [['', 7]]]);
    const regressed = await call(prediction, 'Regress', {
      model_spec: { name: 'half_plus_two', signature_name: 'regress_x_to_y' },
      input: { example_list: { examples: [example(2), example(80)] } },
    });
    expect(regressed.result).toEqual({ regressions: [{ value: 3 }, { value: 42 }] });
  });

  it('merges the context into each example (example_list_with_context)', async () => {
    const res = await call(prediction, 'Regress', {
      model_spec: { name: 'half_plus_two', signature_name: 'regress_x_to_y' },
      input: { example_list_with_context: { context: example(4), examples: [{}, example(6)] } },
    });
    expect(res.result).toEqual({ regressions: [{ value: 4 }, { value: 5 }] });
  });

  it('refuses a predict signature and an empty input with TF Serving\'s texts', async () => {
    const wrong = await callError(prediction, 'Classify', { model_spec: { name: 'half_plus_two' }, input: { example_list: { examples: [example(1)] } } });
    expect(wrong.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(wrong.details).toBe('Expected classification signature method_name to be tensorflow/serving/classify. Was: tensorflow/serving/predict');
    const empty = await callError(prediction, 'Regress', { model_spec: { name: 'half_plus_two', signature_name: 'regress_x_to_y' }, input: {} });
    expect(empty.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(empty.details).toBe('Input is empty.');
  });
});

describe('PredictionService.MultiInference', () => {
  it('runs a classify and a regress task on the same examples', async () => {
    const res = await call(prediction, 'MultiInference', {
      tasks: [
        { model_spec: { name: 'half_plus_two', signature_name: 'classify_x_to_y' }, method_name: 'tensorflow/serving/classify' },
        { model_spec: { name: 'half_plus_two', signature_name: 'regress_x_to_y' }, method_name: 'tensorflow/serving/regress' },
      ],
      input: { example_list: { examples: [example(2), example(10)] } },
    });
    const results = res.results as Msg[];
    expect(results[0].model_spec).toMatchObject({ name: 'half_plus_two', version: { value: '123' }, signature_name: 'classify_x_to_y' });
    expect(results[0].classification_result).toEqual({ classifications: [{ classes: [{ label: '', score: 3 }] }, { classes: [{ label: '', score: 7 }] }] });
    expect(results[1].regression_result).toEqual({ regressions: [{ value: 3 }, { value: 7 }] });
  });

  it('refuses tasks on two models, a repeated signature, an unknown method with TF Serving\'s texts', async () => {
    const input = { example_list: { examples: [example(1)] } };
    const classify = { model_spec: { name: 'half_plus_two', signature_name: 'classify_x_to_y' }, method_name: 'tensorflow/serving/classify' };
    const twoModels = await callError(prediction, 'MultiInference', { tasks: [classify, { ...classify, model_spec: { name: 'f_mnist' } }], input });
    expect(twoModels.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(twoModels.details).toBe('All ModelSpecs in a MultiInferenceRequest must access the same model name.');
    const twice = await callError(prediction, 'MultiInference', { tasks: [classify, classify], input });
    expect(twice.details).toBe('Duplicate evaluation of signature: classify_x_to_y');
    const predict = await callError(prediction, 'MultiInference', { tasks: [{ ...classify, method_name: 'tensorflow/serving/predict' }], input });
    expect(predict.code).toBe(grpc.status.UNIMPLEMENTED);
    expect(predict.details).toBe('Unsupported signature method_name: tensorflow/serving/predict');
  });
});

describe('malformed messages', () => {
  /** Sends `bytes` as the request body of `method`, bypassing any encoder. */
  function raw(method: string, bytes: Buffer): Promise<grpc.ServiceError> {
    const client = new grpc.Client(`127.0.0.1:${server.grpcPort}`, grpc.credentials.createInsecure());
    return new Promise((resolve, reject) => {
      client.makeUnaryRequest(
        `/tensorflow.serving.PredictionService/${method}`,
        (b: Buffer) => b,
        (b: Buffer) => b,
        bytes,
        (err) => {
          client.close();
          if (err) resolve(err);
          else reject(new Error('accepted'));
        },
      );
    });
  }

  it('bytes that are not a PredictRequest, and deeply nested groups, are refused; the server keeps answering', async () => {
    const garbage = await raw('Predict', Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]));
    expect(garbage.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(garbage.details).toMatch(/^The request is not a valid tensorflow.serving.PredictRequest: /);
    // Field 15 as start-group, nested 200,000 deep: a recursive skip would overflow the stack.
    const depth = 200_000;
    const nested = Buffer.concat([Buffer.alloc(depth, 0x7b), Buffer.alloc(depth, 0x7c)]);
    const deep = await raw('Predict', nested);
    expect(deep.code).toBe(grpc.status.INVALID_ARGUMENT);
    const res = await call(prediction, 'Predict', { model_spec: { name: 'half_plus_two' }, inputs: { x: floats([3]) } });
    expect((res.outputs as Record<string, Msg>).y.float_val).toEqual([3.5]);
  });
});

describe('PredictionService.GetModelMetadata', () => {
  it('answers the signature_def map as an Any holding a SignatureDefMap', async () => {
    const res = await call(prediction, 'GetModelMetadata', { model_spec: { name: 'half_plus_two' }, metadata_field: ['signature_def'] });
    expect(res.model_spec).toMatchObject({ name: 'half_plus_two', version: { value: '123' } });
    const any = (res.metadata as Record<string, { type_url: string; value: Buffer }>).signature_def;
    expect(any.type_url).toBe('type.googleapis.com/tensorflow.serving.SignatureDefMap');
    const map = decodeSignatureDefMap(any.value);
    const sig = map.signature_def.serving_default;
    expect(sig.method_name).toBe('tensorflow/serving/predict');
    expect(sig.inputs.x).toMatchObject({ dtype: 'DT_FLOAT', name: 'x:0' });
    expect(sig.outputs.y).toMatchObject({ dtype: 'DT_FLOAT', name: 'y:0' });
  });

  it('refuses a request without metadata_field, or an unknown one', async () => {
    const none = await callError(prediction, 'GetModelMetadata', { model_spec: { name: 'half_plus_two' } });
    expect(none.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(none.details).toBe('GetModelMetadataRequest must specify at least one metadata_field');
    const other = await callError(prediction, 'GetModelMetadata', { model_spec: { name: 'half_plus_two' }, metadata_field: ['x'] });
    expect(other.details).toBe('Metadata field x is not supported');
  });
});

describe('ModelService.GetModelStatus', () => {
  it('lists the versions and their states', async () => {
    const res = await call(models, 'GetModelStatus', { model_spec: { name: 'f_mnist' } });
    const states = (res.model_version_status as Msg[]).map((s) => [s.version, s.state, (s.status as Msg).error_code]);
    expect(states).toEqual([['2', 'AVAILABLE', 'OK']]);
    const one = await call(models, 'GetModelStatus', { model_spec: { name: 'half_plus_two', version: { value: 123 } } });
    expect(one.model_version_status).toEqual([{ version: '123', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } }]);
  });

  it('unknown version: NOT_FOUND with TF Serving\'s text', async () => {
    const err = await callError(models, 'GetModelStatus', { model_spec: { name: 'half_plus_two', version: { value: 7 } } });
    expect(err.code).toBe(grpc.status.NOT_FOUND);
    expect(err.details).toBe('Could not find version 7 of model half_plus_two');
  });
});

/** The SignatureDefMap inside GetModelMetadata's Any, decoded with the vendored protos (protobufjs, as proto-loader uses). */
function decodeSignatureDefMap(bytes: Buffer): { signature_def: Record<string, { method_name: string; inputs: Record<string, Msg>; outputs: Record<string, Msg> }> } {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => (path.isAbsolute(target) ? target : path.join(PROTO_DIR, target));
  root.loadSync(path.join(PROTO_DIR, 'tensorflow_serving/apis/get_model_metadata.proto'), { keepCase: true });
  const type = root.lookupType('tensorflow.serving.SignatureDefMap');
  return type.toObject(type.decode(bytes), { enums: String, longs: String }) as ReturnType<typeof decodeSignatureDefMap>;
}

/** f_mnist's input alias, from REST metadata. */
async function fMnistInput(): Promise<string> {
  const res = await fetch(`${server.url}/v1/models/f_mnist/versions/2/metadata`);
  const body = (await res.json()) as { metadata: { signature_def: { signature_def: Record<string, { inputs: Record<string, unknown> }> } } };
  return Object.keys(body.metadata.signature_def.signature_def.probabilities.inputs)[0];
}

describe('metrics', () => {
  it('counts gRPC requests under protocol="grpc", next to REST ones', async () => {
    await call(prediction, 'Predict', { model_spec: { name: 'half_plus_two' }, inputs: { x: floats([1]) } });
    const text = await (await fetch(`${server.url}/monitoring/prometheus/metrics`)).text();
    expect(text).toMatch(/modelhost_requests_total\{model="half_plus_two",version="123",api="predict",status="OK",protocol="grpc"\} [1-9]/);
    expect(text).toMatch(/modelhost_requests_total\{model="half_plus_two",version="123",api="predict",status="OK",protocol="rest"\} [1-9]/);
    expect(text).toMatch(/modelhost_requests_total\{model="",version="",api="predict",status="NOT_FOUND",protocol="grpc"\} [1-9]/);
    expect(text).toMatch(/modelhost_request_duration_seconds_count\{model="half_plus_two",version="123",api="predict",status="OK",protocol="grpc"\} [1-9]/);
  });
});

describe('ModelService.HandleReloadConfigRequest', () => {
  const entry = (name: string, basePath: string) => ({ name, base_path: basePath, model_platform: 'tensorflow' });
  const original = [entry('half_plus_two', path.join(FIXTURES, 'saved_model_half_plus_two_cpu')), entry('f_mnist', path.join(MODELS, 'f_mnist'))];

  it('serves the new model list once it answers, and drops models left out', async () => {
    const tf2 = entry('tf2', path.join(FIXTURES, 'saved_model_half_plus_two_tf2_cpu'));
    const res = await call(models, 'HandleReloadConfigRequest', { config: { model_config_list: { config: [original[0], tf2] } } });
    expect(res.status).toMatchObject({ error_code: 'OK' });
    const predicted = await call(prediction, 'Predict', { model_spec: { name: 'tf2' }, inputs: { x: floats([4]) } });
    expect((predicted.outputs as Record<string, Msg>).y.float_val).toEqual([4]);
    const gone = await callError(prediction, 'Predict', { model_spec: { name: 'f_mnist' }, inputs: {} });
    expect(gone.code).toBe(grpc.status.NOT_FOUND);
    await call(models, 'HandleReloadConfigRequest', { config: { model_config_list: { config: original } } });
    const back = await call(models, 'GetModelStatus', { model_spec: { name: 'f_mnist' } });
    expect((back.model_version_status as Msg[]).map((s) => s.state)).toEqual(['AVAILABLE']);
  });

  it('refuses a custom_model_config with TF Serving\'s text', async () => {
    const err = await callError(models, 'HandleReloadConfigRequest', { config: { custom_model_config: { type_url: 'x', value: Buffer.alloc(0) } } });
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.details).toBe('ServerModelConfig type not supported by HandleReloadConfigRequest. Only ModelConfigList is currently supported');
  });

  it('refuses an entry with neither model_platform nor model_type, keeping the served models', async () => {
    const neither = { name: 'half_plus_two', base_path: path.join(FIXTURES, 'saved_model_half_plus_two_cpu') };
    const err = await callError(models, 'HandleReloadConfigRequest', { config: { model_config_list: { config: [neither, original[1]] } } });
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.details).toBe(
      'Illegal setting neither ModelServerConfig::model_type (deprecated) nor ModelServerConfig::model_platform, model name is half_plus_two',
    );
    const still = await call(models, 'GetModelStatus', { model_spec: { name: 'f_mnist' } });
    expect((still.model_version_status as Msg[]).map((s) => s.state)).toEqual(['AVAILABLE']);
  });
});

describe('--grpc_channel_arguments', () => {
  it('grpc.max_receive_message_length bounds request messages', async () => {
    const small = await startServer({
      models: { kind: 'single', name: 'half_plus_two', basePath: path.join(FIXTURES, 'saved_model_half_plus_two_cpu') },
      restApiPort: 0,
      grpcPort: 0,
      restApiHost: '127.0.0.1',
      grpcChannelArguments: { 'grpc.max_receive_message_length': 2048 },
      log: quiet,
    });
    const def = protoLoader.loadSync('tensorflow_serving/apis/prediction_service.proto', { includeDirs: [PROTO_DIR], keepCase: true, longs: String, enums: String });
    const pkg = grpc.loadPackageDefinition(def) as unknown as {
      tensorflow: { serving: { PredictionService: new (a: string, c: grpc.ChannelCredentials) => grpc.Client & Record<string, Unary> } };
    };
    const client = new pkg.tensorflow.serving.PredictionService(`127.0.0.1:${small.grpcPort}`, grpc.credentials.createInsecure());
    try {
      const err = await callError(client, 'Predict', { model_spec: { name: 'half_plus_two' }, inputs: { x: floats(new Array(1000).fill(1)) } });
      expect(err.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
      expect(err.details).toMatch(/^Received message larger than max \(\d+ vs 2048\)/);
      const ok = await call(client, 'Predict', { model_spec: { name: 'half_plus_two' }, inputs: { x: floats([1]) } });
      expect((ok.outputs as Record<string, Msg>).y.float_val).toEqual([2.5]);
    } finally {
      client.close();
      await small.stop();
    }
  });
});
