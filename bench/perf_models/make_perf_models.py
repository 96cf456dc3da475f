"""The perf set of `npm run bench -- --vs-tf`: Keras models exported by
TensorFlow 2.21 as SavedModels (random weights, nothing downloaded), with the
inputs both sides are fed and TensorFlow's own outputs for them.

    /work/tfvenv/bin/python bench/perf_models/make_perf_models.py OUT_DIR [--only mlp,gru] [--force]

For every model NAME it writes
    OUT_DIR/NAME/1/               the SavedModel (version folder 1, servable as is)
    OUT_DIR/NAME/inputs.bin       32 inputs, C order, little-endian, of the signature's one input
    OUT_DIR/NAME/entry.json       what the bench needs to feed it (written last: marks it complete)
and OUT_DIR/manifest.json lists every model: signature, input key, dtype,
shape, output key, weights bytes, TF version. A model whose folder is
complete is kept unless --force. Models are big (ResNet-50 ~100 MB), so
OUT_DIR is a cache outside git; the bench regenerates what is missing.
"""
import argparse
import json
import os
import shutil
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

BATCH = 32
SEQ = 64
VOCAB = 10000


def image_input(size, channels=3):
    return np.random.default_rng(1).uniform(0.0, 1.0, size=(BATCH, size, size, channels)).astype(np.float32)


def token_input():
    return np.random.default_rng(2).integers(1, VOCAB, size=(BATCH, SEQ)).astype(np.int32)


def randomise_batchnorm(model):
    """Moving statistics as after training, so folding them is not a no-op."""
    rng = np.random.default_rng(3)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            n = layer.moving_mean.shape[0]
            layer.moving_mean.assign(rng.normal(0, 0.1, size=n).astype(np.float32))
            layer.moving_variance.assign(rng.uniform(0.5, 1.5, size=n).astype(np.float32))


def mlp():
    x = keras.Input((784,), name="x")
    y = keras.layers.Dense(256, activation="relu")(x)
    y = keras.layers.Dense(256, activation="relu")(y)
    y = keras.layers.Dense(10, activation="softmax", name="probabilities")(y)
    data = np.random.default_rng(4).uniform(0, 1, size=(BATCH, 784)).astype(np.float32)
    return keras.Model(x, y), data, "MLP 784-256-256-10"


def cnn_bn():
    x = keras.Input((32, 32, 3), name="image")
    y = x
    for filters in (32, 64):
        y = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False)(y)
        y = keras.layers.BatchNormalization()(y)
        y = keras.layers.ReLU()(y)
        y = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False)(y)
        y = keras.layers.BatchNormalization()(y)
        y = keras.layers.ReLU()(y)
        y = keras.layers.MaxPooling2D()(y)
    y = keras.layers.GlobalAveragePooling2D()(y)
    y = keras.layers.Dense(10, activation="softmax", name="probabilities")(y)
    model = keras.Model(x, y)
    randomise_batchnorm(model)
    return model, image_input(32), "4 × (Conv 3×3 + BatchNorm + ReLU), 2 max-pools, 32×32×3"


def mobilenet_v2():
    model = keras.applications.MobileNetV2(weights=None, input_shape=(224, 224, 3), classes=1000)
    randomise_batchnorm(model)
    return model, image_input(224), "keras.applications.MobileNetV2, 224×224×3, random weights"


def resnet50():
    # ResNet-50's layers at 112×112 (a quarter of the 224×224 work) keep batch 32 within the bench's time budget.
    model = keras.applications.ResNet50(weights=None, input_shape=(112, 112, 3), classes=1000)
    randomise_batchnorm(model)
    return model, image_input(112), "keras.applications.ResNet50 layers, 112×112×3, random weights"


def text_model(core, description):
    x = keras.Input((SEQ,), dtype="int32", name="tokens")
    y = keras.layers.Embedding(VOCAB, 64)(x)
    y = core(y)
    y = keras.layers.Dense(1, activation="sigmoid", name="score")(y)
    return keras.Model(x, y), token_input(), description


def lstm():
    return text_model(keras.layers.LSTM(128), f"Embedding({VOCAB}, 64) → LSTM(128) → Dense(1), {SEQ} tokens")


def bilstm():
    return text_model(keras.layers.Bidirectional(keras.layers.LSTM(64)), f"Embedding({VOCAB}, 64) → Bidirectional(LSTM(64)) → Dense(1), {SEQ} tokens")


def gru():
    return text_model(keras.layers.GRU(128), f"Embedding({VOCAB}, 64) → GRU(128) → Dense(1), {SEQ} tokens")


def transformer():
    dim, heads, ff, layers = 128, 4, 256, 2
    x = keras.Input((SEQ,), dtype="int32", name="tokens")
    y = keras.layers.Embedding(VOCAB, dim)(x)
    positions = keras.layers.Embedding(SEQ, dim)(keras.ops.arange(SEQ))
    y = y + positions
    for _ in range(layers):
        a = keras.layers.MultiHeadAttention(num_heads=heads, key_dim=dim // heads)(y, y)
        y = keras.layers.LayerNormalization(epsilon=1e-6)(y + a)
        f = keras.layers.Dense(ff, activation="relu")(y)
        f = keras.layers.Dense(dim)(f)
        y = keras.layers.LayerNormalization(epsilon=1e-6)(y + f)
    y = keras.layers.GlobalAveragePooling1D()(y)
    y = keras.layers.Dense(2, activation="softmax", name="probabilities")(y)
    return keras.Model(x, y), token_input(), f"Transformer encoder: {layers} blocks, d={dim}, {heads} heads, FFN {ff}, {SEQ} tokens"


MODELS = {
    "mlp": mlp,
    "cnn_bn": cnn_bn,
    "mobilenet_v2": mobilenet_v2,
    "resnet50": resnet50,
    "lstm": lstm,
    "bilstm": bilstm,
    "gru": gru,
    "transformer": transformer,
}


def dir_bytes(path):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path) for f in files)


def describe(name, model_dir, data, description):
    """The manifest entry, read back from the SavedModel as it was saved."""
    loaded = tf.saved_model.load(model_dir)
    fn = loaded.signatures["serving_default"]
    inputs = fn.structured_input_signature[1]
    outputs = fn.structured_outputs
    if len(inputs) != 1 or len(outputs) != 1:
        raise SystemExit(f"{name}: expected one input and one output, got {list(inputs)} → {list(outputs)}")
    input_key = next(iter(inputs))
    output_key = next(iter(outputs))
    result = fn(**{input_key: tf.constant(data)})[output_key].numpy()
    return {
        "name": name,
        "description": description,
        "signature": "serving_default",
        "input": input_key,
        "dtype": inputs[input_key].dtype.name,
        "shape": [BATCH, *data.shape[1:]],
        "output": output_key,
        "output_shape": list(result.shape),
        "weights_bytes": dir_bytes(os.path.join(model_dir, "variables")),
        "tf_version": tf.__version__,
    }


def make(out_dir, name, force):
    root = os.path.join(out_dir, name)
    entry_file = os.path.join(root, "entry.json")
    if not force and os.path.exists(entry_file):
        with open(entry_file) as f:
            return json.load(f)
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    keras.utils.set_random_seed(11)
    started = time.time()
    model, data, description = MODELS[name]()
    model_dir = os.path.join(root, "1")
    tf.saved_model.save(model, model_dir)
    entry = describe(name, model_dir, data, description)
    data.astype(data.dtype.newbyteorder("<")).tofile(os.path.join(root, "inputs.bin"))
    # entry.json last: its presence marks the model complete.
    with open(entry_file, "w") as f:
        json.dump(entry, f, indent=1)
    print(f"{name}: {entry['weights_bytes'] / 2**20:.1f} MB of weights, {time.time() - started:.1f} s", file=sys.stderr)
    return entry


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir")
    parser.add_argument("--only", default="", help="comma-separated model names (default: all)")
    parser.add_argument("--force", action="store_true", help="regenerate models that exist")
    args = parser.parse_args()
    names = [n for n in args.only.split(",") if n] or list(MODELS)
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        raise SystemExit(f"unknown model(s) {unknown}; known: {list(MODELS)}")
    os.makedirs(args.out_dir, exist_ok=True)
    entries = [make(args.out_dir, n, args.force) for n in names]
    manifest_file = os.path.join(args.out_dir, "manifest.json")
    manifest = {}
    if os.path.exists(manifest_file):
        with open(manifest_file) as f:
            manifest = {e["name"]: e for e in json.load(f)["models"]}
    manifest.update({e["name"]: e for e in entries})
    with open(manifest_file, "w") as f:
        json.dump({"tf_version": tf.__version__, "models": [manifest[n] for n in MODELS if n in manifest]}, f, indent=1)


if __name__ == "__main__":
    main()
