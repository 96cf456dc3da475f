"""The TensorFlow side of the compute comparison of `npm run bench -- --vs-tf`:
one process, SavedModels loaded with tf.saved_model.load, a signature called
in-process (Python → TF, no HTTP), timed call by call.

    python bench/peers/tf_compute.py --threads N

Reads one JSON command per line on stdin, answers one JSON line on stdout:
  {"cmd": "load", "job": {...}}                       → {"ok": true, "load_ms"}
  {"cmd": "measure", "name", "batch", "budget_s", "min_calls", "max_calls"}
        → {"ok": true, "times_ms": [...], "warmup_calls", "sample": [first values of the output]}
  {"cmd": "kernel", "case", "left_seeds", "budget_s", "min_calls", "max_calls", "sample": [output indices]}
        → {"ok": true, "times_ms": [...], "warmup_calls", "sample": [the last output's values at those indices]}
  {"cmd": "unload", "name"} · {"cmd": "info"} · {"cmd": "quit"}
A call is `signature(**{input: tensor})[output].numpy()`: the feed is a
tf.constant made once per measurement, the output is fetched to the host.
`kernel` times one op on fixed shapes (bench/vs_tf/kernels.ts): tf.matmul or
tf.nn.conv2d in a tf.function, run once per left operand (one per seed,
different operands so that Grappler cannot merge the runs), the left
operands / inputs arguments, a weight (MatMul's right operand, the filter) a
tf.Variable, as in a model; the last output is fetched with .numpy().
"""
import argparse
import json
import sys
import time

from tf_common import job_inputs, set_threads

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

MODELS = {}


def pattern(shape, seed):
    """Operand `seed` of a kernel case, element i = round-to-float32(((i*7919 + seed*104729) mod 2001 - 1000) / 1000),
    the same float32 values as patternValue of bench/vs_tf/kernels.ts."""
    i = np.arange(int(np.prod(shape)), dtype=np.int64)
    return ((((i * 7919 + seed * 104729) % 2001) - 1000) / 1000.0).astype(np.float32).reshape(shape)


def kernel_call(case, left_seeds):
    """A no-argument call running the case's op once per left operand and fetching the last output."""
    if case["kind"] == "conv2d":
        xs = [tf.constant(pattern(case["input"], seed)) for seed in left_seeds]
        w = tf.Variable(pattern(case["filter"], 1))
        fn = tf.function(lambda *xs: [tf.nn.conv2d(x, w, strides=1, padding="SAME", data_format="NHWC") for x in xs])
        return lambda: fn(*xs)[-1].numpy()
    as_ = [tf.constant(pattern(case["a"], seed)) for seed in left_seeds]
    b_value = pattern(case["b"], 1)
    tb = case["transposeB"]
    if case["weight"]:
        b = tf.Variable(b_value)
        fn = tf.function(lambda *as_: [tf.matmul(a, b, transpose_b=tb) for a in as_])
        return lambda: fn(*as_)[-1].numpy()
    b = tf.constant(b_value)
    fn = tf.function(lambda b, *as_: [tf.matmul(a, b, transpose_b=tb) for a in as_])
    return lambda: fn(b, *as_)[-1].numpy()


def measure_calls(call, budget_s, min_calls, max_calls):
    """Warm-up, then timed calls (the shape of bench/vs_tf/timing.ts)."""
    warm_start = time.perf_counter()
    warmup = 0
    while True:
        call()
        warmup += 1
        elapsed = time.perf_counter() - warm_start
        if (warmup >= 2 and elapsed >= 0.3 * budget_s) or elapsed >= 0.5 * budget_s:
            break
    times = []
    start = time.perf_counter()
    while len(times) < max_calls:
        t = time.perf_counter()
        call()
        times.append((time.perf_counter() - t) * 1000)
        elapsed = time.perf_counter() - start
        if len(times) >= min_calls and elapsed >= budget_s:
            break
        if len(times) >= 3 and elapsed >= 3 * budget_s:
            break
    return times, warmup


def handle(cmd):
    kind = cmd["cmd"]
    if kind == "info":
        return {"tf_version": tf.__version__, "intra_op": tf.config.threading.get_intra_op_parallelism_threads(), "inter_op": tf.config.threading.get_inter_op_parallelism_threads()}
    if kind == "load":
        job = cmd["job"]
        t = time.perf_counter()
        loaded = tf.saved_model.load(job["dir"])
        load_ms = (time.perf_counter() - t) * 1000
        MODELS[job["name"]] = (loaded, job, job_inputs(job))
        return {"load_ms": load_ms}
    if kind == "unload":
        MODELS.pop(cmd["name"], None)
        return {}
    if kind == "measure":
        loaded, job, data = MODELS[cmd["name"]]
        fn = loaded.signatures[job["signature"]]
        feed = {job["input"]: tf.constant(data[: cmd["batch"]])}
        out = job["output"]
        last = []

        def call():
            last[:] = [fn(**feed)[out].numpy()]

        times, warmup = measure_calls(call, cmd["budget_s"], cmd["min_calls"], cmd["max_calls"])
        return {"times_ms": times, "warmup_calls": warmup, "sample": last[0].reshape(-1)[: cmd.get("sample", 64)].astype(float).tolist()}
    if kind == "kernel":
        call = kernel_call(cmd["case"], cmd["left_seeds"])
        last = []

        def timed():
            last[:] = [call()]

        times, warmup = measure_calls(timed, cmd["budget_s"], cmd["min_calls"], cmd["max_calls"])
        return {"times_ms": times, "warmup_calls": warmup, "sample": last[0].reshape(-1)[cmd["sample"]].astype(float).tolist()}
    raise ValueError(f"unknown command {kind}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, required=True)
    args = parser.parse_args()
    set_threads(tf, args.threads)
    print(json.dumps({"ok": True, "ready": True}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        cmd = json.loads(line)
        if cmd["cmd"] == "quit":
            break
        try:
            answer = {"ok": True, **handle(cmd)}
        except Exception as e:  # reported to the bench, which fails the case
            answer = {"ok": False, "error": f"{type(e).__name__}: {e}"}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
