// --enable_signature_method_name_check (TF Serving's default: false). Off, the
// TF2 export, whose signatures all carry the predict method_name, serves
// :regress and :classify through signatures whose inputs and outputs fit, as
// TF Serving's classifier.cc / regressor.cc do (PreProcessClassification /
// PreProcessRegression); on, it is refused with TF Serving's text.
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../serving/log.js';
import { startServer, type RunningServer } from '../../server/serve.js';
import { FIXTURES } from './helpers.js';

let server: RunningServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

async function start(enableSignatureMethodNameCheck?: boolean): Promise<string> {
  server = await startServer({
    models: { kind: 'single', name: 'tf2', basePath: path.join(FIXTURES, 'saved_model_half_plus_two_tf2_cpu') },
    restApiPort: 0,
    restApiHost: '127.0.0.1',
    execution: { threads: 0 },
    ...(enableSignatureMethodNameCheck === undefined ? {} : { enableSignatureMethodNameCheck }),
    log: silentLogger,
  });
  return server.url;
}

// Bodies as text: JSON.stringify writes 80.0 as 80, an int64 feature where the model parses a float.
const post = async (url: string, body: string | object) => {
  const res = await fetch(url, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
};

describe('signature method_name check', () => {
  it('is off by default: predict-method signatures serve :regress and :classify', async () => {
    const url = await start();
    expect(await post(`${url}/v1/models/tf2:regress`, '{"signature_name": "regress_x_to_y", "examples": [{"x": 80.0}]}')).toEqual({ status: 200, body: { results: [42] } });
    expect(await post(`${url}/v1/models/tf2:classify`, '{"signature_name": "classify_x_to_y", "examples": [{"x": 20.0}]}')).toEqual({
      status: 200,
      body: { results: [[['', 12]]] },
    });
    // Off, the signature's shape is still checked: serving_default takes "x", not serialized tf.Examples in "inputs".
    const wrong = await post(`${url}/v1/models/tf2:regress`, '{"examples": [{"x": 1.0}]}');
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toContain('No regression inputs found in SignatureDef');
  });

  it('on, refuses them with TF Serving\'s text', async () => {
    const url = await start(true);
    const regress = await post(`${url}/v1/models/tf2:regress`, '{"signature_name": "regress_x_to_y", "examples": [{"x": 80.0}]}');
    expect(regress).toEqual({
      status: 400,
      body: { error: 'Expected regression signature method_name to be tensorflow/serving/regress. Was: tensorflow/serving/predict' },
    });
    const classify = await post(`${url}/v1/models/tf2:classify`, '{"signature_name": "classify_x_to_y", "examples": [{"x": 20.0}]}');
    expect(classify).toEqual({
      status: 400,
      body: { error: 'Expected classification signature method_name to be tensorflow/serving/classify. Was: tensorflow/serving/predict' },
    });
  });
});
