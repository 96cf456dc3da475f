/**
 * The committed f_mnist SavedModels (models/f_mnist/1 and /2), exported by
 * examples/f_mnist with the TypeScript writer, as a client and TF Serving
 * would use them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { encode } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BundleReader } from '../../runtime/checkpoint/bundle_reader.js';
import { encodeBundle } from '../../runtime/checkpoint/bundle_writer.js';
import type { LoadedModel } from '../../runtime/engine.js';
import { StatusError } from '../../runtime/errors.js';
import { tsEngine } from '../../runtime/loader.js';
import { readSavedModel, selectMetaGraph } from '../../runtime/savedmodel/reader.js';
import { encodeSavedModel } from '../../runtime/savedmodel/writer.js';
import { Tensor } from '../../runtime/tensor.js';
import { CLASS_NAMES, type Dataset, heldOutImages, imageB64, webSafeBase64 } from '../../examples/f_mnist/data.js';
import { buildFmnistModel } from '../../examples/f_mnist/export.js';

const MODELS = path.resolve(import.meta.dirname, '../../models/f_mnist');
const SAMPLE = 300;

let test: Dataset;
const models: Record<string, LoadedModel> = {};
beforeAll(async () => {
  test = heldOutImages();
  for (const v of ['1', '2']) models[v] = await tsEngine.load(path.join(MODELS, v));
});
afterAll(() => Object.values(models).forEach((m) => m.dispose()));

const images = (values: string[]) => ({ input_images: Tensor.from('string', [values.length], values) });
const b64s = (from: number, n: number) => Array.from({ length: n }, (_, i) => imageB64(test, from + i));
const png = (width: number, height: number, channels: number) =>
  encode({ width, height, data: new Uint8Array(width * height * channels).fill(128), channels, depth: 8 });

function runError(m: LoadedModel, signature: string, input: string): StatusError {
  try {
    m.run(signature, images([input]));
  } catch (e) {
    expect(e).toBeInstanceOf(StatusError);
    return e as StatusError;
  }
  throw new Error('expected the run to fail');
}

describe.each(['1', '2'])('models/f_mnist/%s', (version) => {
  it('has the two signatures of the article, taking web-safe base64 PNGs', () => {
    const sigs = models[version].signatures;
    expect(Object.keys(sigs).sort()).toEqual(['probabilities', 'serving_default']);
    for (const s of Object.values(sigs)) {
      expect(s.methodName).toBe('tensorflow/serving/predict');
      expect(s.inputs.input_images).toMatchObject({ dtype: 'string', shape: { unknownRank: false, dims: [-1] } });
    }
    expect(sigs.serving_default.outputs.output_0).toMatchObject({ dtype: 'string', shape: { dims: [-1] } });
    expect(sigs.probabilities.outputs.output_0).toMatchObject({ dtype: 'float32', shape: { dims: [-1, 10] } });
  });

  it('names the most probable class of held-out images, mostly correctly', () => {
    const m = models[version];
    const input = b64s(0, SAMPLE);
    const labels = m.run('serving_default', images(input)).output_0.strings();
    const probs = m.run('probabilities', images(input)).output_0;
    expect(probs.shape).toEqual([SAMPLE, 10]);
    const p = probs.values() as Float32Array;
    let correct = 0;
    for (let i = 0; i < SAMPLE; i++) {
      const row = Array.from(p.subarray(i * 10, i * 10 + 10));
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      expect(row.every((x) => x >= 0 && x <= 1)).toBe(true);
      expect(labels[i]).toBe(CLASS_NAMES[row.indexOf(Math.max(...row))]);
      if (labels[i] === CLASS_NAMES[test.labels[i]]) correct++;
    }
    expect(correct / SAMPLE).toBeGreaterThan(0.8);
  });

  it('answers a batch of 1 and a batch of 0 images', () => {
    const m = models[version];
    const one = m.run('serving_default', images(b64s(7, 1))).output_0;
    expect(one.shape).toEqual([1]);
    expect(CLASS_NAMES).toContain(one.strings()[0]);
    expect(m.run('probabilities', images(b64s(7, 1))).output_0.shape).toEqual([1, 10]);
    expect(m.run('serving_default', images([])).output_0.shape).toEqual([0]);
    expect(m.run('probabilities', images([])).output_0.shape).toEqual([0, 10]);
  });

  it('rejects bad images with INVALID_ARGUMENT errors worded like TensorFlow kernels', () => {
    const m = models[version];
    for (const signature of ['serving_default', 'probabilities']) {
      const notBase64 = runError(m, signature, 'not base64!');
      expect(notBase64.code).toBe('INVALID_ARGUMENT');
      expect(notBase64.message).toMatch(/^Invalid character found in base64\./);
      // A real image in the standard alphabet: its '+' or '/' is invalid in TF's web-safe base64.
      const standard = b64s(0, 50)
        .map((s) => s.replace(/-/g, '+').replace(/_/g, '/'))
        .find((s) => /[+/]/.test(s))!;
      expect(runError(m, signature, standard).message).toMatch(/^Invalid character found in base64\./);
      const notImage = runError(m, signature, webSafeBase64(new TextEncoder().encode('hello, not an image')));
      expect(notImage.code).toBe('INVALID_ARGUMENT');
      expect(notImage.message).toMatch(/^Unknown image file format\. One of JPEG, PNG, GIF, BMP required\./);
      const wrongSize = runError(m, signature, webSafeBase64(png(40, 40, 1)));
      expect(wrongSize.code).toBe('INVALID_ARGUMENT');
      expect(wrongSize.message).toMatch(/^Input to reshape is a tensor with 1600 values, but the requested shape has 784/);
      expect(runError(m, signature, webSafeBase64(png(28, 28, 3))).message).toMatch(/tensor with 2352 values, but the requested shape has 784/);
    }
  });

  it('is exactly what the exporter writes for its weights (write → read → write is byte-identical)', async () => {
    const dir = path.join(MODELS, version);
    const reader = await BundleReader.open(path.join(dir, 'variables', 'variables'));
    const weights = ['dense', 'dense_1'].map((l) => ({ kernel: reader.read(`${l}/kernel`), bias: reader.read(`${l}/bias`) }));
    const pb = fs.readFileSync(path.join(dir, 'saved_model.pb'));
    const rebuilt = buildFmnistModel(weights);
    expect(Buffer.from(encodeSavedModel([rebuilt.metaGraph])).equals(pb)).toBe(true);
    const meta = selectMetaGraph(await readSavedModel(dir), ['serve']);
    expect(Buffer.from(encodeSavedModel([meta])).equals(pb)).toBe(true);
    const bundle = encodeBundle([...rebuilt.variables]);
    expect(Buffer.from(bundle.index).equals(fs.readFileSync(path.join(dir, 'variables', 'variables.index')))).toBe(true);
    expect(Buffer.from(bundle.data).equals(fs.readFileSync(path.join(dir, 'variables', 'variables.data-00000-of-00001')))).toBe(true);
  });
});
