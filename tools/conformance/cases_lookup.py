"""tf.lookup tables: HashTableV2, MutableHashTableV2, LookupTableFind/Import/Size/Export,
InitializeTableV2 and InitializeTableFromTextFileV2 (vocabulary assets)."""
import tempfile

import numpy as np
import tensorflow as tf

from common import save_module, spec, write_asset
from registry import case

WORDS = np.array([b"cat", b"dog", b"bird", b"unknown", b"", b"Cat"])


@case
def static_hash_table_string_to_int64(model_dir):
    m = tf.Module()
    m.table = tf.lookup.StaticHashTable(
        tf.lookup.KeyValueTensorInitializer(tf.constant(["cat", "dog", "bird"]), tf.constant([7, 8, 9], tf.int64)), -1)

    @tf.function(input_signature=[spec([None], tf.string, "words")])
    def find(words):
        return {"ids": m.table.lookup(words), "size": m.table.size()}

    save_module(model_dir, m, serving_default=find)
    return {"serving_default": [{"words": WORDS}, {"words": np.array([], dtype=object).astype(bytes)}]}


@case
def static_hash_table_int64_to_string_2d(model_dir):
    m = tf.Module()
    m.table = tf.lookup.StaticHashTable(
        tf.lookup.KeyValueTensorInitializer(tf.constant([3, 1, 4, 15], tf.int64), tf.constant(["three", "one", "four", "fifteen"])),
        "none")

    @tf.function(input_signature=[spec([None, None], tf.int64, "ids")])
    def find(ids):
        return {"names": m.table.lookup(ids)}

    save_module(model_dir, m, serving_default=find)
    return {"serving_default": [{"ids": np.array([[3, 1, 4], [1, 5, 9]], np.int64)}]}


@case
def static_hash_table_int32_to_float(model_dir):
    m = tf.Module()
    m.table = tf.lookup.StaticHashTable(
        tf.lookup.KeyValueTensorInitializer(tf.constant([10, 20, 30], tf.int32), tf.constant([0.5, 1.5, -2.25], tf.float32)), 0.0)

    @tf.function(input_signature=[spec([None], tf.int32, "x")])
    def find(x):
        return {"y": m.table.lookup(x) * 2.0}

    save_module(model_dir, m, serving_default=find)
    return {"serving_default": [{"x": np.array([10, 11, 30, 20], np.int32)}]}


@case
def static_hash_table_export(model_dir):
    m = tf.Module()
    m.table = tf.lookup.StaticHashTable(
        tf.lookup.KeyValueTensorInitializer(tf.constant(["b", "a"]), tf.constant([2, 1], tf.int64)), -1)

    @tf.function(input_signature=[spec([], tf.string, "key")])
    def one(key):
        return {"value": m.table.lookup(key), "size": m.table.size()}

    save_module(model_dir, m, serving_default=one)
    return {"serving_default": [{"key": np.array(b"a")}, {"key": np.array(b"zz")}]}


@case
def static_vocabulary_table_oov_buckets(model_dir):
    m = tf.Module()
    m.table = tf.lookup.StaticVocabularyTable(
        tf.lookup.KeyValueTensorInitializer(tf.constant(["emerson", "lake", "palmer"]), tf.constant([0, 1, 2], tf.int64)),
        num_oov_buckets=5)

    @tf.function(input_signature=[spec([None], tf.string, "words")])
    def find(words):
        return {"ids": m.table.lookup(words)}

    save_module(model_dir, m, serving_default=find)
    return {"serving_default": [{"words": np.array([b"emerson", b"lake", b"tarkus", b"brain", b"salad", b"", b"surgery"])}]}


@case
def text_file_table_whole_line(model_dir):
    vocab = write_asset(tempfile.mkdtemp(), "vocab.txt", ["the", "quick", "brown", "fox", "jumps"])
    m = tf.Module()
    m.table = tf.lookup.StaticHashTable(
        tf.lookup.TextFileInitializer(vocab, tf.string, tf.lookup.TextFileIndex.WHOLE_LINE, tf.int64, tf.lookup.TextFileIndex.LINE_NUMBER),
        -1)

    @tf.function(input_signature=[spec([None], tf.string, "words")])
    def find(words):
        return {"ids": m.table.lookup(words)}

    save_module(model_dir, m, serving_default=find)
    return {"serving_default": [{"words": np.array([b"fox", b"the", b"lazy", b"jumps", b"dog"])}]}


@case
def text_file_table_columns(model_dir):
    vocab = write_asset(tempfile.mkdtemp(), "labels.tsv", ["0\tzero\t0.5", "1\tone\t1.5", "2\ttwo\t2.5", "10\tten\t10.5"])
    m = tf.Module()
    m.names = tf.lookup.StaticHashTable(tf.lookup.TextFileInitializer(vocab, tf.int64, 0, tf.string, 1, delimiter="\t"), "?")
    m.scores = tf.lookup.StaticHashTable(tf.lookup.TextFileInitializer(vocab, tf.string, 1, tf.float32, 2, delimiter="\t"), -1.0)

    @tf.function(input_signature=[spec([None], tf.int64, "ids")])
    def find(ids):
        names = m.names.lookup(ids)
        return {"names": names, "scores": m.scores.lookup(names)}

    save_module(model_dir, m, serving_default=find)
    return {"serving_default": [{"ids": np.array([2, 0, 7, 10], np.int64)}]}


@case
def text_file_table_vocab_size_limit(model_dir):
    vocab = write_asset(tempfile.mkdtemp(), "vocab.txt", ["a", "b", "c", "d", "e", "f"])
    m = tf.Module()
    m.table = tf.lookup.StaticHashTable(
        tf.lookup.TextFileInitializer(vocab, tf.string, tf.lookup.TextFileIndex.WHOLE_LINE, tf.int64, tf.lookup.TextFileIndex.LINE_NUMBER, vocab_size=4),
        -1)

    @tf.function(input_signature=[spec([None], tf.string, "words")])
    def find(words):
        return {"ids": m.table.lookup(words), "size": m.table.size()}

    save_module(model_dir, m, serving_default=find)
    return {"serving_default": [{"words": np.array([b"a", b"d", b"e", b"f"])}]}


@case
def mutable_hash_table_insert_find_export(model_dir):
    m = tf.Module()
    m.table = tf.lookup.experimental.MutableHashTable(tf.string, tf.int64, default_value=-1)

    @tf.function(input_signature=[spec([None], tf.string, "keys"), spec([None], tf.int64, "values")])
    def insert(keys, values):
        m.table.insert(keys, values)
        return {"size": m.table.size()}

    @tf.function(input_signature=[spec([None], tf.string, "keys")])
    def find(keys):
        return {"values": m.table.lookup(keys)}

    @tf.function(input_signature=[spec([None], tf.string, "keys")])
    def remove(keys):
        m.table.remove(keys)
        return {"size": m.table.size()}

    @tf.function(input_signature=[])
    def export():
        keys, values = m.table.export()
        order = tf.argsort(values)
        return {"keys": tf.gather(keys, order), "values": tf.gather(values, order)}

    save_module(model_dir, m, insert=insert, find=find, remove=remove, export=export)
    return [
        ("find", {"keys": np.array([b"a", b"b"])}),
        ("insert", {"keys": np.array([b"a", b"b", b"c"]), "values": np.array([1, 2, 3], np.int64)}),
        ("find", {"keys": np.array([b"a", b"b", b"z", b"c"])}),
        ("insert", {"keys": np.array([b"b"]), "values": np.array([20], np.int64)}),
        ("remove", {"keys": np.array([b"a", b"q"])}),
        ("find", {"keys": np.array([b"a", b"b", b"c"])}),
        ("export", {}),
    ]
