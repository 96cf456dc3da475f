"""Keras models for the graph-optimisation benchmark (scripts/graph_opt_bench.ts):
MobileNetV2 (224x224, random weights), a CNN with BatchNormalization, an LSTM
and a bidirectional LSTM, each saved with tf.saved_model.save into OUT/<name>/1.

    /work/tfvenv/bin/python tools/perf_models/make_perf_models.py OUT
"""
import os
import sys

import keras
import numpy as np
import tensorflow as tf


def mobilenet_v2():
    return keras.applications.MobileNetV2(weights=None, input_shape=(224, 224, 3), classes=1000)


def cnn_bn():
    x = keras.Input((64, 64, 3))
    y = x
    for filters in (32, 64, 128):
        y = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False)(y)
        y = keras.layers.BatchNormalization()(y)
        y = keras.layers.ReLU()(y)
        y = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(y)
        y = keras.layers.MaxPooling2D()(y)
    y = keras.layers.GlobalAveragePooling2D()(y)
    y = keras.layers.Dense(64, activation="relu")(y)
    return keras.Model(x, keras.layers.Dense(10)(y))


def lstm():
    x = keras.Input((50, 32))
    y = keras.layers.LSTM(64)(x)
    return keras.Model(x, keras.layers.Dense(4)(y))


def bilstm():
    x = keras.Input((50, 32))
    y = keras.layers.Bidirectional(keras.layers.LSTM(64))(x)
    return keras.Model(x, keras.layers.Dense(4)(y))


def gru():
    x = keras.Input((50, 32))
    y = keras.layers.GRU(64)(x)
    return keras.Model(x, keras.layers.Dense(4)(y))


MODELS = {"mobilenet_v2": mobilenet_v2, "cnn_bn": cnn_bn, "lstm": lstm, "bilstm": bilstm, "gru": gru}


def main(out):
    rng = np.random.default_rng(1)
    for name, make in MODELS.items():
        keras.utils.set_random_seed(2)
        model = make()
        for layer in model.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                n = layer.moving_mean.shape[0]
                layer.moving_mean.assign(rng.normal(size=n).astype(np.float32) * 0.1)
                layer.moving_variance.assign(rng.uniform(0.5, 2.0, size=n).astype(np.float32))
        tf.saved_model.save(model, os.path.join(out, name, "1"))
        print(name, "saved")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/modelhost-perf-models")
