"""Load time and resident memory of one model under TensorFlow, in a fresh
process (the TF side of item (d) of `npm run bench -- --vs-tf`).

    python bench/peers/tf_load_memory.py JOB_JSON_FILE --threads N --extra K

import_ms: `import tensorflow`; load_ms: the first tf.saved_model.load;
warmup_ms: its first call on one input (graph instantiation, kernel set-up).
Then K more copies are loaded and each called once; rss_per_version_mb is
the RSS growth (after gc) divided by K. Prints one JSON line.
"""
import argparse
import gc
import json
import time

t0 = time.perf_counter()
from tf_common import job_inputs, rss_bytes, set_threads  # noqa: E402

import tensorflow as tf  # noqa: E402

IMPORT_MS = (time.perf_counter() - t0) * 1000


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("job")
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--extra", type=int, default=2)
    args = parser.parse_args()
    with open(args.job) as f:
        job = json.load(f)
    set_threads(tf, args.threads)
    data = job_inputs(job)
    feed = {job["input"]: tf.constant(data[:1])}

    def load_and_warm():
        t = time.perf_counter()
        model = tf.saved_model.load(job["dir"])
        load_ms = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        model.signatures[job["signature"]](**feed)[job["output"]].numpy()
        return model, load_ms, (time.perf_counter() - t) * 1000

    first, load_ms, warmup_ms = load_and_warm()
    gc.collect()
    before = rss_bytes()
    more = []
    for _ in range(args.extra):
        more.append(load_and_warm())
    gc.collect()
    after = rss_bytes()
    print(json.dumps({
        "import_ms": IMPORT_MS,
        "load_ms": load_ms,
        "warmup_ms": warmup_ms,
        "second_load_ms": more[0][1] if more else None,
        "second_warmup_ms": more[0][2] if more else None,
        "rss_per_version_mb": (after - before) / max(1, args.extra) / 2**20,
        "baseline_rss_mb": before / 2**20,
    }))


if __name__ == "__main__":
    main()
