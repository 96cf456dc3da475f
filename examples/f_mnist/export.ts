/**
 * Exports the trained f_mnist network as a SavedModel whose signatures take
 * images and return class names, like the article's TF2 serving function:
 *
 *   def serving(input_images):                    # tf.string [None], web-safe base64 PNGs
 *       def _base64_to_array(img):
 *           img = tf.io.decode_base64(img)
 *           img = tf.io.decode_image(img)
 *           img = tf.image.convert_image_dtype(img, tf.float32)
 *           return tf.reshape(img, (28, 28))
 *       imgs = tf.map_fn(_base64_to_array, input_images, dtype=tf.float32)
 *       predictions = model(imgs)                  # Flatten → Dense(128, relu) → Dense(10, softmax)
 *       def _convert_to_label(candidates):
 *           max_prob = tf.math.reduce_max(candidates)
 *           idx = tf.where(tf.equal(candidates, max_prob))
 *           return tf.squeeze(tf.gather(class_names, idx))
 *       return tf.map_fn(_convert_to_label, predictions, fn_output_signature=tf.TensorSpec([], tf.string))
 *
 * Signatures: `serving_default` (input_images → output_0, string [-1]) and
 * `probabilities` (input_images → output_0, float [-1, 10]). The label
 * map_fn declares a scalar output spec so that a batch of 0 images stacks
 * to an empty [0] result instead of failing on an unknown element shape.
 */
import { ModelBuilder, type Output, type Tf, type VariableRef } from '../../runtime/graph/builder.js';
import { writeSavedModel } from '../../runtime/savedmodel/writer.js';
import type { Tensor } from '../../runtime/tensor.js';
import { CLASS_NAMES, IMAGE_SIZE, PIXELS } from './data.js';

/** Weights of the two Dense layers: kernel [in, out], bias [out]. */
export interface DenseWeights {
  kernel: Tensor;
  bias: Tensor;
}

const INPUT = { name: 'input_images', dtype: 'string', shape: [-1] } as const;

/** Web-safe base64 PNGs → [batch, 28, 28] floats in [0, 1]. */
function decodeImages(tf: Tf, images: Output): Output {
  return tf.mapFn(
    images,
    (tf, img) => {
      let x = tf.decodeBase64(img);
      x = tf.decodeImage(x);
      x = tf.convertImageDtype(x, 'float32');
      return tf.reshape(x, [IMAGE_SIZE, IMAGE_SIZE]);
    },
    { dtype: 'float32' },
  );
}

/** The Keras model's call: Flatten → Dense(128, relu) → Dense(10, softmax), named as Keras names it. */
function sequential(tf: Tf, imgs: Output, layers: { kernel: VariableRef; bias: VariableRef }[]): Output {
  return tf.nameScope('sequential', () => {
    let x = tf.nameScope('flatten', () => tf.reshape(imgs, [-1, PIXELS]));
    layers.forEach((layer, i) => {
      x = tf.nameScope(i === 0 ? 'dense' : `dense_${i}`, () => {
        const z = tf.biasAdd(tf.matmul(x, tf.readVariable(layer.kernel, 'MatMul/ReadVariableOp')), tf.readVariable(layer.bias, 'BiasAdd/ReadVariableOp'));
        return i === layers.length - 1 ? tf.softmax(z) : tf.relu(z);
      });
    });
    return x;
  });
}

/** Probabilities → the name of the most likely class, per row. */
function toLabels(tf: Tf, predictions: Output): Output {
  return tf.mapFn(
    predictions,
    (tf, candidates) => {
      const maxProb = tf.reduceMax(candidates);
      const idx = tf.where(tf.equal(candidates, maxProb));
      return tf.squeeze(tf.gather(tf.constant([...CLASS_NAMES]), idx));
    },
    { dtype: 'string', shape: [] },
  );
}

/** The f_mnist SavedModel (MetaGraph + checkpoint contents) for these weights. */
export function buildFmnistModel(dense: readonly DenseWeights[]) {
  const m = new ModelBuilder();
  const layers = dense.map((w, i) => {
    const scope = i === 0 ? 'dense' : `dense_${i}`;
    return { kernel: m.variable(`${scope}/kernel`, w.kernel), bias: m.variable(`${scope}/bias`, w.bias) };
  });
  const serving = m.function('serving', [INPUT], (tf, images) => toLabels(tf, sequential(tf, decodeImages(tf, images), layers)));
  const probabilities = m.function('probabilities', [INPUT], (tf, images) => sequential(tf, decodeImages(tf, images), layers));
  m.signature('serving_default', serving);
  m.signature('probabilities', probabilities);
  return m.build();
}

/** Writes the SavedModel for these weights into `dir` (replacing what is there). */
export async function exportFmnist(dir: string, dense: readonly DenseWeights[]): Promise<void> {
  await writeSavedModel(dir, buildFmnistModel(dense), { overwrite: true });
}
