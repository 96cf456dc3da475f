/**
 * Measures an exported f_mnist SavedModel the way a client would use it:
 * held-out images as web-safe base64 PNGs through the model's own
 * `serving_default` signature, run by modelhost's runtime (tsEngine), and
 * the class names it returns compared with the true labels.
 */
import { tsEngine } from '../../runtime/loader.js';
import { Tensor } from '../../runtime/tensor.js';
import { CLASS_NAMES, type Dataset, imageB64 } from './data.js';

export interface Evaluation {
  correct: number;
  count: number;
  accuracy: number;
  /** Predicted class name of each image. */
  predictions: string[];
}

/** Runs every image of `test` through `<dir>`'s serving_default signature, `batchSize` at a time. */
export async function evaluateSavedModel(dir: string, test: Dataset, batchSize = 500): Promise<Evaluation> {
  const model = await tsEngine.load(dir);
  try {
    const predictions: string[] = [];
    for (let start = 0; start < test.count; start += batchSize) {
      const n = Math.min(batchSize, test.count - start);
      const b64 = Array.from({ length: n }, (_, i) => imageB64(test, start + i));
      const out = model.run('serving_default', { input_images: Tensor.from('string', [n], b64) });
      predictions.push(...out.output_0.strings());
      out.output_0.dispose();
    }
    let correct = 0;
    predictions.forEach((p, i) => {
      if (p === CLASS_NAMES[test.labels[i]]) correct++;
    });
    return { correct, count: test.count, accuracy: correct / test.count, predictions };
  } finally {
    model.dispose();
  }
}
