"""TF1 graphs saved with tf.compat.v1.saved_model.Builder: v1 control flow
(Enter/Merge/Switch/NextIteration/Exit/LoopCond), TensorArrayV3, variables."""
import numpy as np
import tensorflow as tf

from registry import case

v1 = tf.compat.v1


def save_v1(model_dir, build):
    """`build()` runs inside a fresh graph with v1 control flow and returns ({inputs}, {outputs})."""
    graph = tf.Graph()
    with graph.as_default():
        v1.disable_control_flow_v2()
        try:
            inputs, outputs = build()
            with v1.Session(graph=graph) as sess:
                sess.run(v1.global_variables_initializer())
                builder = v1.saved_model.Builder(model_dir)
                sig = v1.saved_model.predict_signature_def(inputs, outputs)
                builder.add_meta_graph_and_variables(sess, ["serve"], signature_def_map={"serving_default": sig})
                builder.save()
        finally:
            v1.enable_control_flow_v2()


@case
def while_loop_sum(model_dir):
    def build():
        n = v1.placeholder(tf.int32, [], name="n")
        x = v1.placeholder(tf.float32, [None], name="x")
        i0 = tf.constant(0)
        acc0 = tf.zeros_like(x)
        _, acc = v1.while_loop(lambda i, a: i < n, lambda i, a: (i + 1, a + x * tf.cast(i, tf.float32)), [i0, acc0])
        return {"n": n, "x": x}, {"y": acc}
    save_v1(model_dir, build)
    return {"serving_default": [{"n": np.array(4, np.int32), "x": np.array([1, 2], np.float32)}, {"n": np.array(0, np.int32), "x": np.array([3], np.float32)}]}


@case
def while_loop_nested_with_variable(model_dir):
    def build():
        n = v1.placeholder(tf.int32, [], name="n")
        w = v1.get_variable("w", initializer=tf.constant([0.5, -1.0, 2.0]))

        def outer_body(i, total):
            _, inner = v1.while_loop(lambda j, s: j < i, lambda j, s: (j + 1, s + w * tf.cast(j, tf.float32)), [tf.constant(0), tf.zeros([3])])
            return i + 1, total + inner

        _, total = v1.while_loop(lambda i, t: i < n, outer_body, [tf.constant(0), tf.zeros([3])])
        return {"n": n}, {"total": total}
    save_v1(model_dir, build)
    return {"serving_default": [{"n": np.array(5, np.int32)}]}


@case
def tensor_array_loop(model_dir):
    def build():
        x = v1.placeholder(tf.float32, [None, 3], name="x")
        steps = tf.shape(x)[0]
        ta_in = tf.TensorArray(tf.float32, size=steps).unstack(x)
        ta_out = tf.TensorArray(tf.float32, size=steps)

        def body(t, state, out):
            state = tf.tanh(state * 0.5 + ta_in.read(t))
            return t + 1, state, out.write(t, state)

        _, last, out = v1.while_loop(lambda t, s, o: t < steps, body, [tf.constant(0), tf.zeros([3]), ta_out])
        return {"x": x}, {"states": out.stack(), "last": last, "count": out.size()}
    save_v1(model_dir, build)
    return {"serving_default": [{"x": np.array([[0.1, 0.2, 0.3], [1, -1, 0], [0.5, 0.5, -2]], np.float32)}]}


@case
def cond_v1(model_dir):
    def build():
        x = v1.placeholder(tf.float32, [None], name="x")
        flag = v1.placeholder(tf.bool, [], name="flag")
        y = v1.cond(flag, lambda: x * 2.0, lambda: x - 1.0)
        return {"x": x, "flag": flag}, {"y": y}
    save_v1(model_dir, build)
    return {"serving_default": [{"x": np.array([1, 2], np.float32), "flag": np.array(True)}, {"x": np.array([1, 2], np.float32), "flag": np.array(False)}]}


def example(features):
    ex = tf.train.Example()
    for k, v in features.items():
        f = ex.features.feature[k]
        if isinstance(v[0], bytes):
            f.bytes_list.value.extend(v)
        elif isinstance(v[0], float):
            f.float_list.value.extend(v)
        else:
            f.int64_list.value.extend(v)
    return ex.SerializeToString()


@case
def estimator_style_feature_columns_classifier(model_dir):
    """What an Estimator's export_saved_model wrote: tf.Example in, classify and predict signatures,
    feature columns (vocabulary, hashed, bucketized, crossed, embedding, indicator, numeric)."""
    fc = v1.feature_column

    def build_graph():
        serialized = v1.placeholder(tf.string, [None], name="input_example_tensor")
        color = fc.categorical_column_with_vocabulary_list("color", ["red", "green", "blue"], num_oov_buckets=1)
        city = fc.categorical_column_with_hash_bucket("city", 10)
        age = fc.numeric_column("age")
        age_buckets = fc.bucketized_column(age, [18.0, 30.0, 50.0])
        crossed = fc.crossed_column([color, age_buckets], 7)
        columns = [
            age,
            fc.indicator_column(color),
            fc.embedding_column(city, 3, combiner="mean", initializer=tf.constant_initializer(0.1 * np.arange(30).reshape(10, 3))),
            fc.indicator_column(age_buckets),
            fc.embedding_column(crossed, 2, combiner="sqrtn", initializer=tf.constant_initializer(np.linspace(-1, 1, 14).reshape(7, 2))),
        ]
        features = tf.io.parse_example(serialized, fc.make_parse_example_spec(columns))
        net = fc.input_layer(features, columns)
        w = v1.get_variable("w", initializer=tf.constant(np.linspace(-0.5, 0.5, net.shape[1] * 3).reshape(-1, 3).astype(np.float32)))
        logits = tf.matmul(net, w)
        probs = tf.nn.softmax(logits)
        classes = tf.tile(tf.constant([["a", "b", "c"]]), [tf.shape(probs)[0], 1])
        return serialized, probs, classes

    graph = tf.Graph()
    with graph.as_default():
        serialized, probs, classes = build_graph()
        with v1.Session(graph=graph) as sess:
            sess.run([v1.global_variables_initializer(), v1.tables_initializer()])
            builder = v1.saved_model.Builder(model_dir)
            classify = v1.saved_model.classification_signature_def(serialized, classes, probs)
            predict = v1.saved_model.predict_signature_def({"examples": serialized}, {"probabilities": probs, "classes": classes})
            builder.add_meta_graph_and_variables(
                sess, ["serve"], signature_def_map={"serving_default": classify, "classification": classify, "predict": predict},
                main_op=v1.tables_initializer())
            builder.save()
    examples = np.array([
        example({"color": [b"red"], "city": [b"Paris"], "age": [25.0]}),
        example({"color": [b"purple"], "city": [b"Oslo", b"Lima"], "age": [61.0]}),
        example({"color": [b"blue", b"green"], "age": [5.0]}),
    ])
    return {"serving_default": [{"inputs": examples}], "predict": [{"examples": examples}]}
