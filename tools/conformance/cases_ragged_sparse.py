"""Ragged and sparse tensors: crosses, segment reductions, sparse ops, ragged ops."""
import numpy as np
import tensorflow as tf

from common import save_module, spec
from registry import case


def one(model_dir, fn, specs, feeds):
    m = tf.Module()
    save_module(model_dir, m, serving_default=tf.function(fn, input_signature=specs))
    return {"serving_default": feeds if isinstance(feeds, list) else [feeds]}


@case
def sparse_cross_strings_and_hashed(model_dir):
    def fn(a, b):
        sa = tf.sparse.from_dense(a)
        crossed = tf.sparse.cross([sa, b])
        hashed = tf.sparse.cross_hashed([sa, b], num_buckets=100)
        return {"crossed": tf.sparse.to_dense(crossed, default_value=""), "hashed": tf.sparse.to_dense(hashed, default_value=-1)}
    return one(model_dir, fn, [spec([None, None], tf.string, "a"), spec([None, None], tf.int64, "b")],
               {"a": np.array([[b"x", b""], [b"y", b"z"]]), "b": np.array([[1, 2], [3, 4]], np.int64)})


@case
def sparse_cross_hashed_v2_salted(model_dir):
    def fn(a, b):
        sa = tf.sparse.from_dense(a)
        outs = {}
        for name, strong in (("weak", False), ("strong", True)):
            out = tf.raw_ops.SparseCrossHashed(indices=[sa.indices], values=[sa.values], shapes=[sa.dense_shape], dense_inputs=[b],
                                               num_buckets=1000, strong_hash=strong, salt=[7, 11])
            outs[name] = tf.sparse.to_dense(tf.SparseTensor(out[0], out[1], out[2]), default_value=-1)
        return outs
    return one(model_dir, fn, [spec([None, 2], tf.int64, "a"), spec([None, 1], tf.string, "b")],
               {"a": np.array([[4, 9], [0, 3]], np.int64), "b": np.array([[b"r"], [b"s"]])})


@case
def segment_reductions(model_dir):
    def fn(data, ids):
        return {
            "sum": tf.math.segment_sum(data, ids), "mean": tf.math.segment_mean(data, ids),
            "max": tf.math.segment_max(data, ids), "min": tf.math.segment_min(data, ids),
            "prod": tf.math.segment_prod(data, ids),
        }
    return one(model_dir, fn, [spec([None, 2], tf.float32, "data"), spec([None], tf.int32, "ids")],
               {"data": np.array([[1, 2], [3, 4], [5, 6], [7, 8], [-1, 0.5]], np.float32), "ids": np.array([0, 0, 1, 3, 3], np.int32)})


@case
def unsorted_segment_reductions(model_dir):
    def fn(data, ids):
        return {
            "sum": tf.math.unsorted_segment_sum(data, ids, 4), "max": tf.math.unsorted_segment_max(data, ids, 4),
            "min": tf.math.unsorted_segment_min(data, ids, 4), "prod": tf.math.unsorted_segment_prod(data, ids, 4),
            "mean": tf.math.unsorted_segment_mean(data, ids, 4), "sqrt_n": tf.math.unsorted_segment_sqrt_n(data, ids, 4),
        }
    return one(model_dir, fn, [spec([None], tf.float32, "data"), spec([None], tf.int64, "ids")],
               {"data": np.array([1, 2, 3, 4, 5, 6], np.float32), "ids": np.array([3, 0, 3, -1, 0, 3], np.int64)})


@case
def unsorted_segment_sum_int(model_dir):
    def fn(data, ids):
        return {"sum": tf.math.unsorted_segment_sum(data, ids, 3)}
    return one(model_dir, fn, [spec([None, 2], tf.int32, "data"), spec([None], tf.int32, "ids")],
               {"data": np.array([[1, 2], [3, 4], [5, 6]], np.int32), "ids": np.array([2, 0, 2], np.int32)})


@case
def sparse_segment_reductions(model_dir):
    def fn(data, indices, ids):
        return {
            "sum": tf.sparse.segment_sum(data, indices, ids), "mean": tf.sparse.segment_mean(data, indices, ids),
            "sqrt_n": tf.sparse.segment_sqrt_n(data, indices, ids),
            "sum_n": tf.sparse.segment_sum(data, indices, ids, num_segments=4),
        }
    return one(model_dir, fn, [spec([None, 3], tf.float32, "data"), spec([None], tf.int32, "indices"), spec([None], tf.int32, "ids")],
               {"data": np.arange(12, dtype=np.float32).reshape(4, 3), "indices": np.array([0, 2, 1, 1], np.int32), "ids": np.array([0, 0, 1, 2], np.int32)})


@case
def sparse_reshape_fill_empty_rows(model_dir):
    def fn(dense):
        st = tf.sparse.from_dense(dense)
        reshaped = tf.sparse.reshape(st, [-1, 2])
        filled, empty = tf.sparse.fill_empty_rows(st, 9.0)
        return {"reshaped": tf.sparse.to_dense(reshaped), "filled": tf.sparse.to_dense(filled), "empty": empty}
    return one(model_dir, fn, [spec([None, 4], tf.float32, "dense")],
               {"dense": np.array([[0, 1, 0, 2], [0, 0, 0, 0], [3, 0, 0, 0]], np.float32)})


@case
def sparse_dense_matmul(model_dir):
    def fn(dense, b):
        st = tf.sparse.from_dense(dense)
        return {"y": tf.sparse.sparse_dense_matmul(st, b), "yt": tf.sparse.sparse_dense_matmul(st, b, adjoint_a=False, adjoint_b=False)}
    return one(model_dir, fn, [spec([None, 3], tf.float32, "dense"), spec([3, 2], tf.float32, "b")],
               {"dense": np.array([[0, 1, 0], [2, 0, 3]], np.float32), "b": np.array([[1, 2], [3, 4], [5, 6]], np.float32)})


@case
def ragged_ops(model_dir):
    def fn(values, splits, idx):
        rt = tf.RaggedTensor.from_row_splits(values, splits)
        gathered = tf.gather(rt, idx)
        rng = tf.ragged.range(tf.constant([0, 2, 5], tf.int64), tf.constant([3, 2, 9], tf.int64), tf.constant([1, 1, 2], tf.int64))
        return {
            "gathered": gathered.to_tensor(default_value=-1.0), "gathered_lengths": gathered.row_lengths(),
            "range": rng.to_tensor(), "row_sums": tf.reduce_sum(rt, axis=1),
        }
    return one(model_dir, fn, [spec([None], tf.float32, "values"), spec([None], tf.int64, "splits"), spec([None], tf.int32, "idx")],
               {"values": np.array([1, 2, 3, 4, 5, 6], np.float32), "splits": np.array([0, 2, 2, 6], np.int64), "idx": np.array([2, 0, 1, 2], np.int32)})


@case
def ragged_map_and_variant(model_dir):
    def fn(text):
        words = tf.strings.split(text)
        lengths = tf.map_fn(lambda w: tf.strings.length(w), words, fn_output_signature=tf.RaggedTensorSpec([None], tf.int32))
        return {"lengths": lengths.to_tensor(), "count": words.row_lengths()}
    return one(model_dir, fn, [spec([None], tf.string, "text")], {"text": np.array([b"a bb ccc", b"", b"dddd e"])})


@case
def bincount_weights_and_bucketize(model_dir):
    def fn(x, w, v):
        return {
            "counts": tf.math.bincount(x, minlength=6),
            "weighted": tf.math.bincount(x, weights=w, minlength=4, maxlength=5),
            "binary": tf.math.bincount(x, binary_output=True, minlength=6),
            "buckets": tf.raw_ops.Bucketize(input=v, boundaries=[-1.0, 0.0, 10.0]),
        }
    return one(model_dir, fn, [spec([None], tf.int32, "x"), spec([None], tf.float32, "w"), spec([None], tf.int64, "v")],
               {"x": np.array([1, 1, 3, 5, 0, 1], np.int32), "w": np.array([0.5, 0.25, 2, 1, 1, 0.125], np.float32),
                "v": np.array([-5, -1, 0, 3, 10, 11], np.int64)})


@case
def string_ngrams_padding(model_dir):
    def fn(text):
        words = tf.strings.split(text)
        padded = tf.strings.ngrams(words, ngram_width=[2, 3], separator="|", pad_values=("<s>", "</s>"), padding_width=1)
        short = tf.strings.ngrams(words, ngram_width=4, preserve_short_sequences=True)
        return {"padded": padded.to_tensor(default_value="?"), "short": short.to_tensor(default_value="?")}
    return one(model_dir, fn, [spec([None], tf.string, "text")], {"text": np.array([b"a b c d", b"x", b"p q"])})
