"""Keras 3 preprocessing layers, alone (saved through a tf.Module signature)
and inside models exported with model.export()."""
import tempfile

import keras
import numpy as np
import tensorflow as tf

from common import save_module, spec, write_asset
from registry import case

FRUITS = ["apple", "banana", "cherry", "date"]
WORDS_IN = np.array([[b"apple", b"kiwi"], [b"date", b"banana"], [b"", b"cherry"]])


def save_layer(model_dir, layer, input_spec):
    m = tf.Module()
    m.layer = layer

    @tf.function(input_signature=[input_spec])
    def serve(x):
        return {"y": layer(x)}

    save_module(model_dir, m, serving_default=serve)


@case
def string_lookup_int(model_dir):
    save_layer(model_dir, keras.layers.StringLookup(vocabulary=FRUITS), spec([None, None], tf.string, "x"))
    return {"serving_default": [{"x": WORDS_IN}]}


@case
def string_lookup_two_oov_mask(model_dir):
    save_layer(model_dir, keras.layers.StringLookup(vocabulary=FRUITS, num_oov_indices=2, mask_token=""), spec([None, None], tf.string, "x"))
    return {"serving_default": [{"x": WORDS_IN}]}


@case
def string_lookup_one_hot(model_dir):
    save_layer(model_dir, keras.layers.StringLookup(vocabulary=FRUITS, output_mode="one_hot"), spec([None], tf.string, "x"))
    return {"serving_default": [{"x": np.array([b"apple", b"kiwi", b"date"])}]}


@case
def string_lookup_multi_hot_count_tfidf(model_dir):
    m = tf.Module()
    m.multi = keras.layers.StringLookup(vocabulary=FRUITS, output_mode="multi_hot")
    m.count = keras.layers.StringLookup(vocabulary=FRUITS, output_mode="count")
    m.tfidf = keras.layers.StringLookup(vocabulary=FRUITS, output_mode="tf_idf", idf_weights=[0.5, 1.0, 1.5, 2.0])

    @tf.function(input_signature=[spec([None, None], tf.string, "x")])
    def serve(x):
        return {"multi_hot": m.multi(x), "count": m.count(x), "tf_idf": m.tfidf(x)}

    save_module(model_dir, m, serving_default=serve)
    return {"serving_default": [{"x": np.array([[b"apple", b"apple", b"kiwi"], [b"date", b"banana", b"date"]])}]}


@case
def string_lookup_invert(model_dir):
    save_layer(model_dir, keras.layers.StringLookup(vocabulary=FRUITS, invert=True), spec([None], tf.int64, "x"))
    return {"serving_default": [{"x": np.array([0, 1, 4, 2], np.int64)}]}


@case
def string_lookup_vocabulary_file(model_dir):
    vocab = write_asset(tempfile.mkdtemp(), "fruits.txt", FRUITS)
    save_layer(model_dir, keras.layers.StringLookup(vocabulary=vocab), spec([None], tf.string, "x"))
    return {"serving_default": [{"x": np.array([b"cherry", b"fig", b"apple"])}]}


@case
def integer_lookup(model_dir):
    save_layer(model_dir, keras.layers.IntegerLookup(vocabulary=np.array([12, 36, 1138, 42], np.int64)), spec([None], tf.int64, "x"))
    return {"serving_default": [{"x": np.array([12, 1138, 42, 7, 36], np.int64)}]}


@case
def integer_lookup_multi_hot(model_dir):
    save_layer(model_dir, keras.layers.IntegerLookup(vocabulary=np.array([3, 5, 7], np.int64), output_mode="multi_hot"), spec([None, None], tf.int64, "x"))
    return {"serving_default": [{"x": np.array([[3, 3, 9], [7, 5, 5]], np.int64)}]}


CORPUS = ["The quick brown fox.", "jumps over the LAZY dog!", "the fox, the dog."]


@case
def text_vectorization_int(model_dir):
    layer = keras.layers.TextVectorization(max_tokens=20, output_sequence_length=6)
    layer.adapt(CORPUS)
    save_layer(model_dir, layer, spec([None], tf.string, "text"))
    return {"serving_default": [{"text": np.array([b"The fox jumps!", b"an unknown word, the end", b""])}]}


@case
def text_vectorization_ragged_length(model_dir):
    layer = keras.layers.TextVectorization(max_tokens=20)
    layer.adapt(CORPUS)
    save_layer(model_dir, layer, spec([None], tf.string, "text"))
    return {"serving_default": [{"text": np.array([b"The fox jumps!", b"the the lazy dog over there"])}]}


@case
def text_vectorization_bigrams_multi_hot(model_dir):
    layer = keras.layers.TextVectorization(max_tokens=30, ngrams=2, output_mode="multi_hot")
    layer.adapt(CORPUS)
    save_layer(model_dir, layer, spec([None], tf.string, "text"))
    return {"serving_default": [{"text": np.array([b"the quick fox", b"lazy dog jumps"])}]}


@case
def text_vectorization_tf_idf(model_dir):
    layer = keras.layers.TextVectorization(max_tokens=30, output_mode="tf_idf")
    layer.adapt(CORPUS)
    save_layer(model_dir, layer, spec([None], tf.string, "text"))
    return {"serving_default": [{"text": np.array([b"the quick fox the", b"lazy dog"])}]}


@case
def text_vectorization_custom_split_no_standardize(model_dir):
    layer = keras.layers.TextVectorization(standardize=None, split="whitespace", output_sequence_length=4,
                                           vocabulary=["Alpha", "beta", "Gamma"])
    save_layer(model_dir, layer, spec([None], tf.string, "text"))
    return {"serving_default": [{"text": np.array([b"Alpha beta", b"alpha Gamma  beta Alpha beta"])}]}


@case
def hashing_strings_and_salt(model_dir):
    m = tf.Module()
    m.plain = keras.layers.Hashing(num_bins=7)
    m.salted = keras.layers.Hashing(num_bins=7, salt=[133, 137])
    m.masked = keras.layers.Hashing(num_bins=7, mask_value="")

    @tf.function(input_signature=[spec([None], tf.string, "x")])
    def serve(x):
        return {"plain": m.plain(x), "salted": m.salted(x), "masked": m.masked(x)}

    save_module(model_dir, m, serving_default=serve)
    return {"serving_default": [{"x": np.array([b"A", b"B", b"", b"Ankle boot", b"\xff\xfe"])}]}


@case
def hashing_ints_one_hot(model_dir):
    save_layer(model_dir, keras.layers.Hashing(num_bins=5, output_mode="one_hot"), spec([None], tf.int64, "x"))
    return {"serving_default": [{"x": np.array([1, 2, 3, -4, 1 << 40], np.int64)}]}


@case
def category_encoding(model_dir):
    m = tf.Module()
    m.one_hot = keras.layers.CategoryEncoding(num_tokens=5, output_mode="one_hot")
    m.multi = keras.layers.CategoryEncoding(num_tokens=5, output_mode="multi_hot")
    m.count = keras.layers.CategoryEncoding(num_tokens=5, output_mode="count")

    @tf.function(input_signature=[spec([None], tf.int32, "ids"), spec([None, None], tf.int32, "bags")])
    def serve(ids, bags):
        return {"one_hot": m.one_hot(ids), "multi_hot": m.multi(bags), "count": m.count(bags)}

    save_module(model_dir, m, serving_default=serve)
    return {"serving_default": [{"ids": np.array([0, 4, 2], np.int32), "bags": np.array([[0, 1, 1], [4, 4, 3]], np.int32)}]}


@case
def category_encoding_count_weights(model_dir):
    m = tf.Module()
    m.count = keras.layers.CategoryEncoding(num_tokens=4, output_mode="count")

    @tf.function(input_signature=[spec([None, None], tf.int64, "ids"), spec([None, None], tf.float32, "w")])
    def serve(ids, w):
        return {"y": m.count(ids, count_weights=w)}

    save_module(model_dir, m, serving_default=serve)
    return {"serving_default": [{"ids": np.array([[0, 1, 1], [3, 3, 2]], np.int64), "w": np.array([[0.5, 1.0, 2.0], [1.0, 0.25, 3.0]], np.float32)}]}


@case
def discretization(model_dir):
    m = tf.Module()
    m.bins = keras.layers.Discretization(bin_boundaries=[0.0, 1.0, 2.5])
    m.one_hot = keras.layers.Discretization(bin_boundaries=[0.0, 1.0, 2.5], output_mode="one_hot")

    @tf.function(input_signature=[spec([None], tf.float32, "x")])
    def serve(x):
        return {"bins": m.bins(x), "one_hot": m.one_hot(x)}

    save_module(model_dir, m, serving_default=serve)
    return {"serving_default": [{"x": np.array([-1.0, 0.0, 0.5, 1.0, 2.4999, 2.5, 100.0], np.float32)}]}


@case
def hashed_crossing(model_dir):
    m = tf.Module()
    m.cross = keras.layers.HashedCrossing(num_bins=11)
    m.cross_one_hot = keras.layers.HashedCrossing(num_bins=5, output_mode="one_hot")

    @tf.function(input_signature=[spec([None], tf.string, "a"), spec([None], tf.int64, "b")])
    def serve(a, b):
        return {"cross": m.cross((a, b)), "one_hot": m.cross_one_hot((a, b))}

    save_module(model_dir, m, serving_default=serve)
    return {"serving_default": [{"a": np.array([b"A", b"B", b"A"]), "b": np.array([1, 2, 3], np.int64)}]}


@case
def normalization_and_rescaling(model_dir):
    norm = keras.layers.Normalization(mean=[1.0, 2.0], variance=[4.0, 0.25])
    rescale = keras.layers.Rescaling(scale=1 / 255.0, offset=-0.5)
    m = tf.Module()
    m.norm, m.rescale = norm, rescale

    @tf.function(input_signature=[spec([None, 2], tf.float32, "x")])
    def serve(x):
        return {"norm": m.norm(x), "rescaled": m.rescale(x)}

    save_module(model_dir, m, serving_default=serve)
    return {"serving_default": [{"x": np.array([[1.0, 2.0], [3.0, 0.0], [255.0, -1.0]], np.float32)}]}


@case
def text_classifier_string_lookup_embedding_lstm(model_dir):
    keras.utils.set_random_seed(1)
    words = keras.Input(shape=(None,), dtype="string", name="words")
    ids = keras.layers.StringLookup(vocabulary=["good", "bad", "movie", "plot", "great", "awful"], mask_token="")(words)
    x = keras.layers.Embedding(8, 4, mask_zero=True)(ids)
    x = keras.layers.LSTM(5)(x)
    out = keras.layers.Dense(2, activation="softmax")(x)
    model = keras.Model(words, out)
    model.export(model_dir, verbose=False)
    return {"serve": [{"words": np.array([[b"great", b"movie", b""], [b"awful", b"plot", b"bad"]])}]}


@case
def text_vectorization_model_raw_strings(model_dir):
    keras.utils.set_random_seed(2)
    vec = keras.layers.TextVectorization(max_tokens=20, output_sequence_length=5)
    vec.adapt(CORPUS)
    text = keras.Input(shape=(), dtype="string", name="text")
    x = vec(text)
    x = keras.layers.Embedding(20, 3)(x)
    x = keras.layers.GlobalAveragePooling1D()(x)
    out = keras.layers.Dense(1, activation="sigmoid")(x)
    model = keras.Model(text, out)
    model.export(model_dir, verbose=False)
    return {"serve": [{"text": np.array([b"The quick dog", b"Lazy fox jumps over"])}]}
