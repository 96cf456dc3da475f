// Signal-processing exports from the conformance corpus served over TF
// Serving's REST API. Float inputs and outputs carry an FFT pipeline end to
// end with TensorFlow's numbers (an RFFT filter; a WAV → DecodeWav →
// AudioSpectrogram → Mfcc speech front end fed base64 bytes). Complex tensors
// cannot cross TF Serving's JSON in either direction (json_tensor.cc has no
// complex case), and the answers say so exactly as TF Serving's do.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JsonTensor } from '../conformance/corpus.js';
import { flat, nest, runsOf, serveCorpusModels, type CorpusServer } from './corpus_server.js';

const MODELS: Record<string, string> = {
  spectral_filter: 'signal/spectral_filter',
  rfft: 'signal/rfft_irfft_1d',
  complex_math: 'signal/complex_arithmetic',
  speech: 'signal/decode_wav_speech_frontend',
};

let served: CorpusServer;
beforeAll(async () => {
  served = await serveCorpusModels(MODELS);
}, 120_000);
afterAll(() => served?.stop());

const post = (p: string, body: object) => served.post(p, body);

function expectClose(actual: unknown, want: JsonTensor, what: string): void {
  const got = flat(actual) as number[];
  expect(got.length, what).toBe(want.values.length);
  const scale = Math.max(1, ...want.values.map((w) => Math.abs(w as number)));
  want.values.forEach((w, i) => expect(Math.abs(got[i] - (w as number)), `${what}[${i}]`).toBeLessThanOrEqual(1e-5 * scale));
}

describe('signal models over REST', () => {
  it('an RFFT → mask → IRFFT filter with float input and outputs answers with TF\'s numbers (row and columnar)', async () => {
    const [run] = runsOf(MODELS.spectral_filter);
    const x = nest(run.inputs.x.values, run.inputs.x.shape) as number[][];
    const columnar = await post('/v1/models/spectral_filter:predict', { inputs: { x } });
    expect(columnar.status, columnar.text).toBe(200);
    for (const k of ['filtered', 'power', 'energy']) expectClose(columnar.body.outputs[k], run.outputs[k], k);
    const row = await post('/v1/models/spectral_filter:predict', { instances: x.map((xi) => ({ x: xi })) });
    expect(row.status, row.text).toBe(200);
    const predictions = row.body.predictions as Record<string, unknown>[];
    expectClose(predictions.map((p) => p.filtered), run.outputs.filtered, 'row filtered');
  });

  it('a speech front end takes WAV bytes as {"b64"} and answers with TF\'s MFCCs', async () => {
    for (const run of runsOf(MODELS.speech)) {
      const v = run.inputs.wav.values[0];
      const b64 = typeof v === 'object' && v !== null && 'b64' in v ? v.b64 : Buffer.from(v as string, 'latin1').toString('base64');
      const res = await post('/v1/models/speech:predict', { inputs: { wav: { b64 } } });
      expect(res.status, res.text).toBe(200);
      for (const k of ['audio', 'mfcc', 'stereo']) expectClose(res.body.outputs[k], run.outputs[k], k);
      expect(res.body.outputs.rate).toBe(run.outputs.rate.values[0]);
    }
  });

  it('a complex output is refused as TF Serving refuses it (400, its wording)', async () => {
    const [run] = runsOf(MODELS.rfft);
    const res = await post('/v1/models/rfft:predict', { inputs: { x: nest(run.inputs.x.values, run.inputs.x.shape) } });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'Failed to write JSON value for tensor type: complex64' });
  });

  it('a complex input cannot be written in JSON: [re, im] pairs are refused with UNIMPLEMENTED (501)', async () => {
    const res = await post('/v1/models/complex_math:predict', { inputs: { a: [[[1, 2], [0, 1], [3, 0], [1, 1]]], b: [[[1, 0], [0, 1], [3, 0], [1, 1]]] } });
    expect(res.status).toBe(501);
    expect(res.body.error).toBe('Conversion of JSON Value: 1 to type: complex64');
    const metadata = await request(served.server.http.server).get('/v1/models/complex_math/metadata');
    const inputs = metadata.body.metadata.signature_def.signature_def.serving_default.inputs;
    expect(inputs.a.dtype).toBe('DT_COMPLEX64');
  });
});
