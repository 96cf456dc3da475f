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
