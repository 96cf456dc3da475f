// Real TensorFlow exports from the conformance corpus (tools/conformance),
// served over TF Serving's REST API: each answers with TensorFlow's numbers.
// Covers a Keras StringLookup + Embedding + LSTM text classifier, a raw-string
// TextVectorization model, EfficientNetB0 saved with tf.saved_model.save, a
// TF1 while_loop graph, an Estimator-style tf.Example classifier (predict and
// classify), and a model whose training signatures cannot run here.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JsonTensor } from '../conformance/corpus.js';
import { flat, jsonInput, runsOf, serveCorpusModels, type CorpusServer } from './corpus_server.js';

const MODELS: Record<string, string> = {
  text_classifier: 'preprocessing/text_classifier_string_lookup_embedding_lstm',
  text_vectorization: 'preprocessing/text_vectorization_model_raw_strings',
  efficientnet: 'keras_saved/efficientnet_b0_tf_saved_model_save',
  tf1_while: 'tf1/while_loop_nested_with_variable',
  estimator: 'tf1/estimator_style_feature_columns_classifier',
  on_device: 'keras_saved/on_device_training_signatures',
};

let served: CorpusServer;
beforeAll(async () => {
  served = await serveCorpusModels(MODELS);
}, 120_000);
afterAll(() => served?.stop());

const post = (p: string, body: object) => served.post(p, body);

function expectClose(actual: unknown, want: JsonTensor, what: string): void {
  const got = flat(actual);
  expect(got.length, what).toBe(want.values.length);
  want.values.forEach((w, i) => {
    if (typeof w === 'number') expect(got[i] as number, `${what}[${i}]`).toBeCloseTo(w, 4);
    else expect(got[i], `${what}[${i}]`).toEqual(w);
  });
}

describe("real TensorFlow exports over REST answer with TensorFlow's numbers", () => {
  for (const name of ['text_classifier', 'text_vectorization', 'efficientnet', 'tf1_while', 'estimator', 'on_device']) {
    it(`${name}: predict`, async () => {
      for (const run of runsOf(MODELS[name])) {
        const inputs = Object.fromEntries(Object.entries(run.inputs).map(([k, t]) => [k, jsonInput(t)]));
        const res = await post(`/v1/models/${name}:predict`, { signature_name: run.signature, inputs });
        expect(res.status, res.text).toBe(200);
        const keys = Object.keys(run.outputs);
        const outputs = keys.length === 1 ? { [keys[0]]: res.body.outputs } : res.body.outputs;
        for (const k of keys) expectClose(outputs[k], run.outputs[k], `${name} ${k}`);
      }
    });
  }

  it('estimator: classify from JSON tf.Examples gives TF\'s classes and scores', async () => {
    const run = runsOf(MODELS.estimator).find((r) => r.signature === 'serving_default')!;
    // "25.0", not 25: TF Serving reads a JSON number with a decimal point as a float feature.
    const examples = `[{"color": ["red"], "city": ["Paris"], "age": [25.0]},
      {"color": ["purple"], "city": ["Oslo", "Lima"], "age": [61.0]},
      {"color": ["blue", "green"], "age": [5.0]}]`;
    const res = await request(served.server.http.server)
      .post('/v1/models/estimator:classify')
      .set('Content-Type', 'application/json')
      .send(`{"signature_name": "classification", "examples": ${examples}}`);
    expect(res.status, res.text).toBe(200);
    const results = res.body.results as [string, number][][];
    expect(results.map((r) => r.map(([label]) => label))).toEqual([['a', 'b', 'c'], ['a', 'b', 'c'], ['a', 'b', 'c']]);
    expectClose(results.map((r) => r.map(([, score]) => score)), run.outputs.scores, 'scores');
  });

  it('a signature that needs ops the runtime lacks answers 400 naming them; the model still serves', async () => {
    const res = await post('/v1/models/on_device:predict', { signature_name: 'train', inputs: { x: [[1, 2, 3]], y: [[0, 1]] } });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/Signature 'train' uses ops the modelhost runtime does not support/);
    expect(res.body.error).toMatch(/ReluGrad \(used by/);
    const status = await request(served.server.http.server).get('/v1/models/on_device');
    expect(status.body.model_version_status[0].state).toBe('AVAILABLE');
    const metadata = await request(served.server.http.server).get('/v1/models/on_device/metadata');
    expect(Object.keys(metadata.body.metadata.signature_def.signature_def).sort()).toEqual(['__saved_model_init_op', 'infer', 'restore', 'save', 'train']);
  });
});
