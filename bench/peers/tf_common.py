"""What the TensorFlow side of `npm run bench -- --vs-tf` shares: thread
settings, and a job's inputs (the same bytes modelhost is fed).

A job (JSON, written by bench/vs_tf/perf_set.ts):
  {"name", "dir" (SavedModel), "signature", "input" (key), "dtype"
   ("float32" | "int32" | "string"), "shape" ([32, ...]), "inputs" (file:
   raw little-endian C-order values, or a JSON list of strings), "output" (key)}
"""
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402


def set_threads(tf, threads):
    """Intra-op and inter-op pools of `threads` threads (before any op runs)."""
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)


def job_inputs(job):
    """The job's 32 inputs as a numpy array (bytes objects for strings)."""
    if job["dtype"] == "string":
        with open(job["inputs"]) as f:
            return np.array([s.encode() for s in json.load(f)], dtype=object)
    dtype = {"float32": "<f4", "int32": "<i4"}[job["dtype"]]
    return np.fromfile(job["inputs"], dtype=dtype).reshape(job["shape"])


def rss_bytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0
