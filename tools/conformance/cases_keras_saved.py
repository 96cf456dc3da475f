"""Keras 3 models exported the ways users export them: tf.saved_model.save on
the model itself, model.export(), and a tf.Module wrapping a model."""
import keras
import numpy as np
import tensorflow as tf

from registry import case

RNG = np.random.default_rng(7)


def mlp():
    keras.utils.set_random_seed(3)
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(5, activation="relu"), keras.layers.Dense(3, activation="softmax")])


@case
def sequential_tf_saved_model_save(model_dir):
    model = mlp()
    tf.saved_model.save(model, model_dir)
    return {"serving_default": [{"*": RNG.normal(size=(2, 4)).astype(np.float32)}]}


@case
def sequential_model_export(model_dir):
    model = mlp()
    model.export(model_dir, verbose=False)
    return {"serve": [{"*": RNG.normal(size=(3, 4)).astype(np.float32)}]}


@case
def functional_cnn_batchnorm_tf_saved_model_save(model_dir):
    keras.utils.set_random_seed(4)
    x = keras.Input((8, 8, 3), name="image")
    y = keras.layers.Conv2D(4, 3, padding="same")(x)
    y = keras.layers.BatchNormalization()(y)
    y = keras.layers.ReLU()(y)
    y = keras.layers.DepthwiseConv2D(3, padding="same")(y)
    y = keras.layers.GlobalAveragePooling2D()(y)
    out = keras.layers.Dense(2, name="logits")(y)
    model = keras.Model(x, out)
    # Non-trivial moving statistics, as after training.
    bn = [l for l in model.layers if isinstance(l, keras.layers.BatchNormalization)][0]
    bn.moving_mean.assign(RNG.normal(size=4).astype(np.float32))
    bn.moving_variance.assign(RNG.uniform(0.5, 2.0, size=4).astype(np.float32))
    tf.saved_model.save(model, model_dir)
    return {"serving_default": [{"*": RNG.normal(size=(2, 8, 8, 3)).astype(np.float32)}]}


@case
def efficientnet_b0_tf_saved_model_save(model_dir):
    keras.utils.set_random_seed(5)
    model = keras.applications.EfficientNetB0(weights=None, input_shape=(32, 32, 3), classes=3)
    tf.saved_model.save(model, model_dir)
    return {"serving_default": [{"*": RNG.uniform(0, 255, size=(1, 32, 32, 3)).astype(np.float32)}]}


@case
def module_wrapping_model_with_postprocessing(model_dir):
    model = mlp()
    labels = tf.constant(["cat", "dog", "bird"])
    m = tf.Module()
    m.model = model

    @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32, name="x")])
    def serve(x):
        p = m.model(x)
        return {"label": tf.gather(labels, tf.argmax(p, axis=1)), "score": tf.reduce_max(p, axis=1)}

    tf.saved_model.save(m, model_dir, signatures={"serving_default": serve})
    return {"serving_default": [{"x": RNG.normal(size=(4, 4)).astype(np.float32)}]}


@case
def on_device_training_signatures(model_dir):
    """TF Lite's on-device training pattern: infer, train (gradients), save and restore signatures.
    Only `infer` is replayed; the others need ops a serving runtime does not have."""
    keras.utils.set_random_seed(6)

    class Trainable(tf.Module):
        def __init__(self):
            self.model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="relu"), keras.layers.Dense(2)])

        @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32, name="x"), tf.TensorSpec([None, 2], tf.float32, name="y")])
        def train(self, x, y):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(tf.square(self.model(x) - y))
            grads = tape.gradient(loss, self.model.trainable_variables)
            for v, g in zip(self.model.trainable_variables, grads):
                v.assign_sub(0.1 * g)
            return {"loss": loss}

        @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32, name="x")])
        def infer(self, x):
            return {"output": self.model(x)}

        @tf.function(input_signature=[tf.TensorSpec([], tf.string, name="checkpoint_path")])
        def save(self, checkpoint_path):
            names = [f"w{i}" for i in range(len(self.model.weights))]
            tf.raw_ops.Save(filename=checkpoint_path, tensor_names=names, data=[w.value for w in self.model.weights])
            return {"checkpoint_path": checkpoint_path}

        @tf.function(input_signature=[tf.TensorSpec([], tf.string, name="checkpoint_path")])
        def restore(self, checkpoint_path):
            for i, w in enumerate(self.model.weights):
                w.assign(tf.reshape(tf.raw_ops.Restore(file_pattern=checkpoint_path, tensor_name=f"w{i}", dt=tf.float32), w.shape))
            return {"checkpoint_path": checkpoint_path}

    m = Trainable()
    tf.saved_model.save(m, model_dir, signatures={"train": m.train, "infer": m.infer, "save": m.save, "restore": m.restore})
    return {"infer": [{"x": RNG.normal(size=(2, 3)).astype(np.float32)}]}


def recurrent(layer, seed):
    keras.utils.set_random_seed(seed)
    x = keras.Input((7, 6), name="sequence")
    y = layer(x)
    return keras.Model(x, keras.layers.Dense(3, name="logits")(y))


@case
def lstm_sequence_tf_saved_model_save(model_dir):
    # 16 units: the gates' Split pieces are 16 wide, a multiple of 4 (the fused elementwise SIMD path).
    tf.saved_model.save(recurrent(keras.layers.LSTM(16), 11), model_dir)
    return {"serving_default": [{"*": RNG.normal(size=(1, 7, 6)).astype(np.float32)}, {"*": RNG.normal(size=(9, 7, 6)).astype(np.float32)}]}


@case
def gru_sequence_tf_saved_model_save(model_dir):
    tf.saved_model.save(recurrent(keras.layers.GRU(12), 12), model_dir)
    return {"serving_default": [{"*": RNG.normal(size=(1, 7, 6)).astype(np.float32)}, {"*": RNG.normal(size=(9, 7, 6)).astype(np.float32)}]}


@case
def bidirectional_lstm_sequences_tf_saved_model_save(model_dir):
    # 6 units (not a multiple of 4) returning sequences: the fused regions' scalar loop.
    keras.utils.set_random_seed(13)
    x = keras.Input((5, 4), name="sequence")
    y = keras.layers.Bidirectional(keras.layers.LSTM(6, return_sequences=True))(x)
    y = keras.layers.GlobalAveragePooling1D()(y)
    model = keras.Model(x, keras.layers.Dense(2, name="logits")(y))
    tf.saved_model.save(model, model_dir)
    return {"serving_default": [{"*": (3 * RNG.normal(size=(4, 5, 4))).astype(np.float32)}]}
