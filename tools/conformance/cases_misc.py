"""Odd ops: stateless random (Philox V1/V2), seeded TruncatedNormal and
Multinomial, FakeQuant*, LowerBound/UpperBound, ListDiff, Reverse (V1),
TensorList concat/split, and a Keras mixed_float16 model."""
import keras
import numpy as np
import tensorflow as tf

from common import save_module, spec
from registry import case


def one(model_dir, fn, specs, feeds):
    m = tf.Module()
    save_module(model_dir, m, serving_default=tf.function(fn, input_signature=specs))
    return {"serving_default": feeds if isinstance(feeds, list) else [feeds]}


@case
def stateless_random_v2(model_dir):
    def fn(seed):
        return {
            "uniform": tf.random.stateless_uniform([3, 5], seed),
            "uniform_range": tf.random.stateless_uniform([7], seed, minval=-2.0, maxval=3.0),
            "uniform64": tf.random.stateless_uniform([5], seed, dtype=tf.float64),
            "normal": tf.random.stateless_normal([2, 7], seed),
            "normal64": tf.random.stateless_normal([3], seed, dtype=tf.float64),
            "truncated": tf.random.stateless_truncated_normal([9], seed, mean=1.0, stddev=2.0),
            "int32": tf.random.stateless_uniform([11], seed, minval=-5, maxval=17, dtype=tf.int32),
            "int64": tf.random.stateless_uniform([5], seed, minval=-3, maxval=1000000000000, dtype=tf.int64),
            "full_int": tf.random.stateless_uniform([3], seed, minval=None, maxval=None, dtype=tf.int32),
            "stateless_shuffle": tf.random.experimental.stateless_shuffle(tf.range(9), seed),
            "categorical": tf.random.stateless_categorical(tf.constant([[0.0, 1.0, 2.0], [3.0, -1.0, 0.5]]), 7, seed),
            "normal16": tf.random.stateless_normal([6], seed, dtype=tf.float16),
            "uniform16": tf.random.stateless_uniform([5], seed, dtype=tf.float16),
            "truncated16": tf.random.stateless_truncated_normal([5], seed, dtype=tf.bfloat16),
        }
    feeds = [{"seed": np.array(s, np.int64)} for s in ([1, 2], [0, 0], [-7, 123456789012])]
    return one(model_dir, fn, [spec([2], tf.int64, "seed")], feeds)


@case
def stateless_random_v1(model_dir):
    def fn(seed):
        return {
            "uniform": tf.raw_ops.StatelessRandomUniform(shape=[6], seed=seed, dtype=tf.float32),
            "normal": tf.raw_ops.StatelessRandomNormal(shape=[5], seed=seed, dtype=tf.float32),
            "truncated": tf.raw_ops.StatelessTruncatedNormal(shape=[2, 3], seed=seed, dtype=tf.float32),
            "int": tf.raw_ops.StatelessRandomUniformInt(shape=[6], seed=seed, minval=0, maxval=10),
        }
    return one(model_dir, fn, [spec([2], tf.int32, "seed")], [{"seed": np.array([3, 4], np.int32)}, {"seed": np.array([-1, 9], np.int32)}])


@case
def seeded_truncated_normal_and_multinomial(model_dir):
    def fn(logits):
        return {
            "truncated": tf.random.truncated_normal([2, 5], seed=11),
            "samples": tf.random.categorical(logits, 12, seed=5),
            "shuffled": tf.random.shuffle(tf.reshape(tf.range(14), [7, 2]), seed=9),
            "shuffled_vec": tf.random.shuffle(tf.range(10.0), seed=1),
            "rows": tf.random.categorical(tf.constant([[0.0, 1.0, 2.0], [3.0, -1.0, 0.5], [-2.0, -2.0, 5.0]]), 6, seed=8,
                                          dtype=tf.int32),
        }
    tf.random.set_seed(42)
    return one(model_dir, fn, [spec([1, None], tf.float32, "logits")],
               {"logits": np.array([[0.5, -1.0, 2.0, float("-inf")]], np.float32)})


@case
def fake_quant(model_dir):
    def fn(x, mn, mx, cmin, cmax):
        x4 = tf.reshape(x, [1, 2, 3, 2])
        return {
            "args": tf.quantization.fake_quant_with_min_max_args(x, min=-1.3, max=2.7),
            "args4": tf.quantization.fake_quant_with_min_max_args(x, min=-0.5, max=0.9, num_bits=4, narrow_range=True),
            "vars": tf.quantization.fake_quant_with_min_max_vars(x, mn, mx),
            "vars_narrow": tf.quantization.fake_quant_with_min_max_vars(x, mn, mx, num_bits=5, narrow_range=True),
            "per_channel": tf.quantization.fake_quant_with_min_max_vars_per_channel(x4, cmin, cmax),
            "per_channel2": tf.quantization.fake_quant_with_min_max_vars_per_channel(tf.reshape(x, [6, 2]), cmin, cmax, num_bits=3),
        }
    x = np.array([-3.0, -1.3, -0.71, -0.1, 0.0, 0.004, 0.05, 0.333, 1.0, 1.49, 2.7, 9.0], np.float32)
    return one(model_dir, fn, [spec([12], tf.float32, "x"), spec([], tf.float32, "mn"), spec([], tf.float32, "mx"),
                               spec([2], tf.float32, "cmin"), spec([2], tf.float32, "cmax")],
               [{"x": x, "mn": np.float32(-0.9), "mx": np.float32(1.7), "cmin": np.array([-1.0, 0.0], np.float32), "cmax": np.array([0.6, 0.0], np.float32)},
                {"x": x * 0.37, "mn": np.float32(0.0), "mx": np.float32(0.0), "cmin": np.array([-0.2, -2.5], np.float32), "cmax": np.array([3.1, 0.25], np.float32)}])


@case
def searchsorted_listdiff_reverse(model_dir):
    def fn(s, v, a, b, x):
        out, idx = tf.raw_ops.ListDiff(x=a, y=b, out_idx=tf.int64)
        return {
            "left": tf.searchsorted(s, v, side="left"),
            "right": tf.searchsorted(s, v, side="right", out_type=tf.int64),
            "diff": out, "diff_idx": idx,
            "reverse": tf.raw_ops.Reverse(tensor=x, dims=[True, False, True]),
        }
    return one(model_dir, fn, [spec([2, None], tf.float32, "s"), spec([2, None], tf.float32, "v"), spec([None], tf.int32, "a"),
                               spec([None], tf.int32, "b"), spec([2, 2, 3], tf.float32, "x")],
               {"s": np.array([[0, 1, 1, 3, 5], [-2, -2, 0, 7, 7]], np.float32), "v": np.array([[1, -9, 6], [7, -2, 3.5]], np.float32),
                "a": np.array([4, 1, 9, 4, 2, 7], np.int32), "b": np.array([4, 7, 8], np.int32),
                "x": np.arange(12, dtype=np.float32).reshape(2, 2, 3)})


@case
def listdiff_strings(model_dir):
    def fn(a, b):
        out, idx = tf.compat.v1.setdiff1d(a, b)
        return {"out": out, "idx": idx}
    return one(model_dir, fn, [spec([None], tf.string, "a"), spec([None], tf.string, "b")],
               {"a": np.array([b"x", b"y", b"z", b"x"]), "b": np.array([b"y"])})


@case
def tensor_list_concat_split(model_dir):
    def fn(t, lengths):
        l = tf.raw_ops.TensorListSplit(tensor=t, element_shape=tf.constant([-1, 2], tf.int32), lengths=lengths)
        cat, lens = tf.raw_ops.TensorListConcatV2(input_handle=l, element_dtype=tf.float32, element_shape=tf.constant([-1, 2], tf.int32),
                                                  leading_dims=tf.zeros([0], tf.int64))
        item = tf.raw_ops.TensorListGetItem(input_handle=l, index=1, element_shape=[-1, 2], element_dtype=tf.float32)
        return {"concat": cat, "lengths": lens, "item1": item}
    return one(model_dir, fn, [spec([None, 2], tf.float32, "t"), spec([None], tf.int64, "lengths")],
               [{"t": np.arange(12, dtype=np.float32).reshape(6, 2), "lengths": np.array([1, 3, 0, 2], np.int64)}])


@case
def keras_mixed_float16(model_dir):
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        keras.utils.set_random_seed(5)
        x = keras.Input((6,), name="x")
        y = keras.layers.Dense(8, activation="relu")(x)
        y = keras.layers.LayerNormalization()(y)
        y = keras.layers.Dense(4, activation="tanh")(y)
        out = keras.layers.Dense(3, activation="softmax", dtype="float32")(y)
        model = keras.Model(x, out)
        tf.saved_model.save(model, model_dir)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    rng = np.random.default_rng(3)
    return {"serving_default": [{"*": rng.normal(size=(4, 6)).astype(np.float32) * 3}]}


@case
def keras_mixed_float16_conv_half_output(model_dir):
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        keras.utils.set_random_seed(6)
        x = keras.Input((6, 6, 2), name="image")
        y = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(x)
        y = keras.layers.BatchNormalization()(y)
        y = keras.layers.MaxPooling2D()(y)
        y = keras.layers.Flatten()(y)
        out = keras.layers.Dense(5)(y)  # float16 output, as without a float32 head
        model = keras.Model(x, out)
        tf.saved_model.save(model, model_dir)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    rng = np.random.default_rng(4)
    return {"serving_default": [{"*": rng.normal(size=(2, 6, 6, 2)).astype(np.float32) * 4}]}


@case
def image_projective_transform(model_dir):
    def fn(img, t, img8):
        outs = {}
        for mode in ("REFLECT", "WRAP", "CONSTANT", "NEAREST"):
            for interp in ("NEAREST", "BILINEAR"):
                outs[f"{mode.lower()}_{interp.lower()}"] = tf.raw_ops.ImageProjectiveTransformV3(
                    images=img, transforms=t, output_shape=[5, 6], fill_value=-1.5, interpolation=interp, fill_mode=mode)
        outs["uint8"] = tf.raw_ops.ImageProjectiveTransformV3(images=img8, transforms=t[:1], output_shape=[4, 4], fill_value=7.9,
                                                              interpolation="BILINEAR", fill_mode="CONSTANT")
        outs["v2"] = tf.raw_ops.ImageProjectiveTransformV2(images=img, transforms=t, output_shape=[4, 4], interpolation="BILINEAR", fill_mode="REFLECT")
        return outs
    rng = np.random.default_rng(9)
    c, s = np.cos(0.4), np.sin(0.4)
    t = np.array([[c, -s, 1.3, s, c, -0.7, 0, 0], [1.7, 0.2, -2.5, -0.1, 0.6, 3.2, 0.01, -0.02]], np.float32)
    return one(model_dir, fn, [spec([2, 4, 5, 2], tf.float32, "img"), spec([2, 8], tf.float32, "t"), spec([1, 4, 5, 1], tf.uint8, "img8")],
               {"img": rng.normal(size=(2, 4, 5, 2)).astype(np.float32), "t": t, "img8": rng.integers(0, 255, size=(1, 4, 5, 1)).astype(np.uint8)})


@case
def string_format(model_dir):
    def fn(x, s, b, d, i8):
        return {
            "vector": tf.strings.format("x={} done", [x]),
            "matrix": tf.strings.format("{}|{}", (tf.reshape(tf.range(48.0) / 7.0, [6, 8]), s), summarize=2),
            "cube": tf.strings.format("{}", tf.reshape(tf.range(24), [2, 3, 4])),
            "all": tf.strings.format("{}", tf.range(9), summarize=-1),
            "scalars": tf.strings.format("{} {} {} {}", (b, d, i8, tf.constant("q\"\n\u00e9"))),
            "custom": tf.strings.format("a%sb", [x], placeholder="%s"),
        }
    return one(model_dir, fn, [spec([None], tf.float32, "x"), spec([None], tf.string, "s"), spec([], tf.bool, "b"),
                               spec([], tf.float64, "d"), spec([2], tf.int8, "i8")],
               [{"x": np.array([1.0, -0.5, 1e-5, 1234567.0, 1e8, float("nan"), float("inf"), 0.1], np.float32), "s": np.array([b"a", b"b\tc"]),
                 "b": np.array(True), "d": np.array(0.1 + 0.2), "i8": np.array([-3, 4], np.int8)},
                {"x": np.array([], np.float32), "s": np.array([b"z"]), "b": np.array(False), "d": np.array(1e300), "i8": np.array([0, 0], np.int8)}])


@case
def quantize_and_dequantize(model_dir):
    def fn(x, lo, hi):
        m = tf.reshape(x, [3, 4])
        return {
            "auto": tf.quantization.quantize_and_dequantize_v2(x, 0.0, 0.0, range_given=False),
            "given": tf.quantization.quantize_and_dequantize_v2(x, lo, hi, range_given=True, num_bits=4),
            "unsigned_up": tf.quantization.quantize_and_dequantize_v2(tf.abs(x), 0.0, 0.0, signed_input=False, round_mode="HALF_UP"),
            "narrow": tf.quantization.quantize_and_dequantize_v2(x, lo, hi, range_given=True, narrow_range=True),
            "axis": tf.quantization.quantize_and_dequantize_v2(m, [0.0] * 4, [0.0] * 4, axis=1, num_bits=3),
            "v3": tf.raw_ops.QuantizeAndDequantizeV3(input=x, input_min=lo, input_max=hi, num_bits=6, range_given=True),
            "v2raw": tf.raw_ops.QuantizeAndDequantizeV2(input=tf.cast(x, tf.float64), input_min=tf.constant(-1.0, tf.float64),
                                                        input_max=tf.constant(2.0, tf.float64), range_given=True, num_bits=5),
        }
    x = np.array([-3.0, -1.3, -0.71, -0.1, 0.0, 0.004, 0.05, 0.333, 1.0, 1.49, 2.7, 9.0], np.float32)
    return one(model_dir, fn, [spec([12], tf.float32, "x"), spec([], tf.float32, "lo"), spec([], tf.float32, "hi")],
               [{"x": x, "lo": np.float32(-0.9), "hi": np.float32(1.7)}, {"x": x * 0.37, "lo": np.float32(-2.0), "hi": np.float32(0.3)}])


@case
def random_generator_state(model_dir):
    m = tf.Module()
    m.g = tf.random.Generator.from_seed(1234)

    @tf.function(input_signature=[spec([], tf.int32, "n")])
    def draw(n):
        return {
            "normal": m.g.normal([3]), "uniform": m.g.uniform([n]), "ints": m.g.uniform([5], 0, 10, dtype=tf.int32),
            "int64": m.g.uniform_full_int([2], dtype=tf.int32), "truncated": m.g.truncated_normal([4]),
            "seeds": tf.bitcast(m.g.make_seeds(2), tf.int32), "bits": tf.bitcast(tf.constant([1.5, -2.0]), tf.uint8),
            "wide": tf.bitcast(tf.constant([[1, 2], [3, 4]], tf.int16), tf.int32),
        }

    @tf.function(input_signature=[])
    def skip():
        m.g.skip(5)
        return {"state": tf.identity(m.g.state)}

    save_module(model_dir, m, serving_default=draw, skip=skip)
    return [("serving_default", {"n": np.array(3, np.int32)}), ("skip", {}), ("serving_default", {"n": np.array(1, np.int32)})]


@case
def partition_stitch_topk_shift(model_dir):
    def fn(data, parts, pred, targets, a, b):
        p = tf.dynamic_partition(data, parts, 3)
        idx = tf.dynamic_partition(tf.range(tf.shape(parts)[0]), parts, 3)
        return {
            "p0": p[0], "p1": p[1], "p2": p[2],
            "stitched": tf.dynamic_stitch(idx, p),
            "stitch_dup": tf.raw_ops.DynamicStitch(indices=[[0, 2], [2, 5]], data=[[1.0, 2.0], [3.0, 4.0]]),
            "in_top2": tf.math.in_top_k(targets, pred, 2),
            "lshift": tf.bitwise.left_shift(a, b), "rshift": tf.bitwise.right_shift(a, b),
            "approx": tf.raw_ops.ApproximateEqual(x=pred, y=pred + 0.05, tolerance=0.1),
        }
    return one(model_dir, fn, [spec([None, 2], tf.float32, "data"), spec([None], tf.int32, "parts"), spec([None, 4], tf.float32, "pred"),
                               spec([None], tf.int32, "targets"), spec([None], tf.int32, "a"), spec([None], tf.int32, "b")],
               {"data": np.arange(10, dtype=np.float32).reshape(5, 2), "parts": np.array([2, 0, 2, 1, 0], np.int32),
                "pred": np.array([[0.1, 0.5, 0.5, 0.2], [0.9, 0.0, 0.3, 0.3], [0.2, 0.2, 0.2, 0.2]], np.float32),
                "targets": np.array([2, 2, 1], np.int32), "a": np.array([1, -8, 255, -1, 7], np.int32), "b": np.array([3, 1, 31, 40, -2], np.int32)})


@case
def resource_scatter_and_shape(model_dir):
    m = tf.Module()
    m.v = tf.Variable(tf.reshape(tf.range(12.0), [4, 3]))

    @tf.function(input_signature=[spec([None], tf.int32, "idx"), spec([None, 3], tf.float32, "upd")])
    def update(idx, upd):
        m.v.scatter_update(tf.IndexedSlices(upd, idx))
        m.v.scatter_add(tf.IndexedSlices(upd, idx))
        m.v.scatter_max(tf.IndexedSlices(upd * 3.0, idx))
        return {"value": tf.identity(m.v), "shape": tf.shape(m.v), "nd": tf.gather_nd(m.v, [[1, 2], [3, 0]])}

    save_module(model_dir, m, serving_default=update)
    return [("serving_default", {"idx": np.array([1, 3], np.int32), "upd": np.array([[1, 2, 3], [-4, -5, -6]], np.float32)}),
            ("serving_default", {"idx": np.array([0], np.int32), "upd": np.array([[9, 9, 9]], np.float32)})]


@case
def batch_function(model_dir):
    w = tf.constant([[1.0, -2.0], [0.5, 3.0]])

    @tf.nondifferentiable_batch_function(num_batch_threads=1, max_batch_size=8, batch_timeout_micros=1000)
    def body(x):
        return tf.nn.relu(tf.matmul(x, w)) + 1.0

    def fn(x):
        return {"y": body(x)}
    return one(model_dir, fn, [spec([None, 2], tf.float32, "x")], {"x": np.array([[1, 2], [-3, 0.5], [0, 0]], np.float32)})


@case
def unicode_ops(model_dir):
    def fn(s):
        chars = tf.strings.unicode_decode(s, "UTF-8")
        decoded, offsets = tf.strings.unicode_decode_with_offsets(s, "UTF-8", errors="replace", replacement_char=63)
        return {
            "values": chars.flat_values, "splits": chars.row_splits,
            "values_q": decoded.flat_values, "offsets": offsets.flat_values,
            "ignored": tf.strings.unicode_decode(s, "UTF-8", errors="ignore").flat_values,
            "control": tf.strings.unicode_decode(s, "UTF-8", replace_control_characters=True).flat_values,
            "split": tf.strings.unicode_split(s, "UTF-8").flat_values,
            "encoded": tf.strings.unicode_encode(chars, "UTF-8"),
            "utf16": tf.strings.unicode_transcode(s, "UTF-8", "UTF-16-BE"),
            "utf32": tf.strings.unicode_encode(tf.ragged.constant([[72, 0x1F600, -5, 0xD800]]), "UTF-32-BE"),
            "back": tf.strings.unicode_transcode(tf.strings.unicode_transcode(s, "UTF-8", "UTF-16-BE"), "UTF-16-BE", "UTF-8"),
        }
    return one(model_dir, fn, [spec([None], tf.string, "s")],
               {"s": np.array(["héllo".encode(), b"a\xffb\xe2\x82", "日本\x07😀".encode(), b"", b"\xf0\x9f\x98\x80\xed\xa0\x80x"], dtype=object)})


@case
def xent_histogram_logsumexp(model_dir):
    def fn(logits, labels, onehot, v):
        sparse_loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
        dense = tf.raw_ops.SoftmaxCrossEntropyWithLogits(features=logits, labels=onehot)
        sparse_raw = tf.raw_ops.SparseSoftmaxCrossEntropyWithLogits(features=logits, labels=labels)
        return {
            "sparse_loss": sparse_loss, "sparse_back": sparse_raw[1], "dense_loss": dense[0], "dense_back": dense[1],
            "hist": tf.histogram_fixed_width(v, [-1.0, 2.0], nbins=5),
            "hist64": tf.histogram_fixed_width(v * 10.0, [0.0, 7.5], nbins=3, dtype=tf.int64),
            "lse": tf.math.cumulative_logsumexp(logits, axis=1),
            "lse_rev_excl": tf.math.cumulative_logsumexp(logits, axis=0, exclusive=True, reverse=True),
        }
    return one(model_dir, fn, [spec([None, 4], tf.float32, "logits"), spec([None], tf.int32, "labels"), spec([None, 4], tf.float32, "onehot"),
                               spec([None], tf.float32, "v")],
               {"logits": np.array([[1.0, -2.0, 0.5, 3.0], [10.0, 10.0, -5.0, 0.0], [-1.0, -1.0, -1.0, -1.0]], np.float32),
                "labels": np.array([3, 0, 2], np.int32), "onehot": np.array([[0, 0, 0.3, 0.7], [1, 0, 0, 0], [0.25, 0.25, 0.25, 0.25]], np.float32),
                "v": np.array([-5.0, -1.0, -0.4, 0.0, 0.2, 0.6, 1.1, 1.99, 2.0, 7.0], np.float32)})


@case
def set_operations(model_dir):
    def fn(a, b, s):
        sb = tf.sparse.from_dense(b)
        ss = tf.sparse.from_dense(s)
        outs = {}
        for op_name, fn_ in (("diff", tf.sets.difference), ("inter", tf.sets.intersection), ("union", tf.sets.union)):
            outs[op_name] = tf.sparse.to_dense(fn_(a, b), default_value=-1)
            outs[op_name + "_sparse"] = tf.sparse.to_dense(fn_(a, sb), default_value=-1)
            outs[op_name + "_ss"] = tf.sparse.to_dense(fn_(tf.sparse.from_dense(a), sb), default_value=-1)
        outs["b_minus_a"] = tf.sparse.to_dense(tf.sets.difference(a, b, aminusb=False), default_value=-1)
        outs["size"] = tf.sets.size(sb)
        outs["strings"] = tf.sparse.to_dense(tf.sets.union(ss, ss), default_value="")
        return outs
    return one(model_dir, fn, [spec([None, 4], tf.int64, "a"), spec([None, 3], tf.int64, "b"), spec([None, 2], tf.string, "s")],
               {"a": np.array([[1, 2, 2, 9], [4, 4, 4, 4], [7, 0, 3, 5]], np.int64), "b": np.array([[2, 3, 0], [9, 9, 4], [5, 3, 7]], np.int64),
                "s": np.array([[b"b", b"a"], [b"", b"c"], [b"z", b"z"]])})


@case
def optional_format_bcast_edit(model_dir):
    def fn(x, s0, s1, h, t):
        opt = tf.experimental.Optional.from_value((x, s0))
        none = tf.experimental.Optional.empty(tf.TensorSpec([], tf.int32))
        r0, r1 = tf.raw_ops.BroadcastGradientArgs(s0=s0, s1=s1)
        hs = tf.sparse.from_dense(h)
        ts = tf.sparse.from_dense(t)
        return {
            "has": opt.has_value(), "none": none.has_value(), "got": opt.get_value()[0] * 2.0,
            "dim_map": tf.raw_ops.DataFormatDimMap(x=[0, 1, 2, 3, -1], src_format="NHWC", dst_format="NCHW"),
            "vec": tf.raw_ops.DataFormatVecPermute(x=[10, 20, 30, 40], src_format="NHWC", dst_format="NCHW"),
            "vec2": tf.raw_ops.DataFormatVecPermute(x=[[1, 2], [3, 4], [5, 6], [7, 8]], src_format="NCHW", dst_format="NHWC"),
            "r0": r0, "r1": r1,
            "edit": tf.edit_distance(hs, ts), "edit_raw": tf.edit_distance(hs, ts, normalize=False),
        }
    return one(model_dir, fn, [spec([None], tf.float32, "x"), spec([None], tf.int32, "s0"), spec([None], tf.int32, "s1"),
                               spec([None, None], tf.string, "h"), spec([None, None], tf.string, "t")],
               {"x": np.array([1.0, 2.0], np.float32), "s0": np.array([2, 1, 3, 1], np.int32), "s1": np.array([1, 3, 1], np.int32),
                "h": np.array([[b"a", b"b", b"c"], [b"x", b"", b""], [b"", b"", b""]]), "t": np.array([[b"a", b"c", b""], [b"", b"", b""], [b"q", b"", b""]])})


@case
def special_functions(model_dir):
    def fn(x, p, d):
        return {
            "lgamma": tf.math.lgamma(x), "digamma": tf.math.digamma(x),
            "erfinv": tf.math.erfinv(p * 2.0 - 1.0), "ndtri": tf.math.ndtri(p),
            "lgamma64": tf.math.lgamma(d), "digamma64": tf.math.digamma(d), "ndtri64": tf.math.ndtri(d / 100.0),
        }
    return one(model_dir, fn, [spec([None], tf.float32, "x"), spec([None], tf.float32, "p"), spec([None], tf.float64, "d")],
               {"x": np.array([0.001, 0.3, 0.75, 1.5, 3.7, 12.0, 170.5, 1e6, -0.5, -2.25, 0.0, -3.0], np.float32),
                "p": np.array([1e-30, 1e-7, 0.01, 0.2, 0.4999, 0.5, 0.77, 0.99, 0.9999999, 1.0, 0.0, 0.3], np.float32),
                "d": np.array([0.01, 0.5, 2.5, 7.25, 33.3, 99.0], np.float64)})
