"""Builds the conformance corpus: small SavedModels exported by real TensorFlow,
with TensorFlow's own answers stored beside each one.

    python tools/conformance/make_models.py [--only SUBSTRING] [--out DIR]

Needs TensorFlow 2.21 and Keras 3 (a virtualenv; see tools/conformance/README.md).
Never run by `npm test`: the tests read what this script wrote.

Each case is a function in a family module (tools/conformance/cases_*.py)
decorated with @case: it saves a SavedModel into the folder it is given and
returns the requests to run, {signature_name: [feeds, ...]}. The runner then
reloads the SavedModel with tf.saved_model.load, exactly as a server would,
calls each signature with each feed dict and writes

    <out>/<family>/<case>/model/            the SavedModel
    <out>/<family>/<case>/expected.json     {"runs": [{"signature", "inputs", "outputs"}, ...]}

A case may instead return an ordered list [(signature, feeds), ...] when
runs depend on each other (stateful tables); runs are replayed in order on
one loaded model.

Tensors in expected.json: {"dtype": "float32", "shape": [2, 3], "values": [...]}
with values flattened row-major; float NaN/Infinity as the strings "NaN",
"Infinity", "-Infinity"; strings as {"b64": ...} when they are not UTF-8,
plain JSON strings otherwise; complex as [re, im] pairs.
"""
import argparse
import base64
import json
import math
import os
import shutil
import sys
import traceback

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import importlib  # noqa: E402
from registry import CASES  # noqa: E402

for _file in sorted(os.listdir(os.path.dirname(os.path.abspath(__file__)))):
    if _file.startswith("cases_") and _file.endswith(".py"):
        importlib.import_module(_file[:-3])

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.normpath(os.path.join(HERE, "..", "..", "test", "conformance", "corpus"))


def _float(v):
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return float(v)


def encode_tensor(t):
    raw = t.numpy() if hasattr(t, "numpy") else t
    # A scalar string comes back as bytes; np.asarray would make it a fixed-width "S" array,
    # whose elements lose trailing NUL bytes (a WAV ending in silence). Keep it as an object.
    a = np.array(raw, dtype=object) if isinstance(raw, bytes) else np.asarray(raw)
    dtype = tf.as_dtype(a.dtype).name if a.dtype != object else "string"
    flat = a.reshape(-1)
    if a.dtype == object or a.dtype.kind == "S":
        values = []
        for b in flat:
            b = bytes(b)
            try:
                values.append(b.decode("utf-8"))
            except UnicodeDecodeError:
                values.append({"b64": base64.b64encode(b).decode("ascii")})
    elif a.dtype.kind == "c":
        values = [[_float(x.real), _float(x.imag)] for x in flat]
    elif a.dtype.kind == "f" or a.dtype == np.float16 or dtype == "bfloat16":  # ml_dtypes bfloat16 is kind "V"
        values = [_float(x) for x in flat.astype(np.float64)]
    elif a.dtype.kind == "b":
        values = [bool(x) for x in flat]
    else:
        values = [int(x) for x in flat]
    return {"dtype": dtype, "shape": list(a.shape), "values": values}


def run_case(family, name, build, out_root):
    case_dir = os.path.join(out_root, family, name)
    model_dir = os.path.join(case_dir, "model")
    shutil.rmtree(case_dir, ignore_errors=True)
    os.makedirs(case_dir)
    requests = build(model_dir)
    if isinstance(requests, dict):
        requests = [(sig, feeds) for sig, feeds_list in requests.items() for feeds in feeds_list]
    loaded = tf.saved_model.load(model_dir)
    result = {"runs": []}
    for sig_name, feeds in requests:
        fn = loaded.signatures[sig_name]
        if list(feeds) == ["*"]:  # the signature's only input, whatever Keras named it
            (only,) = fn.structured_input_signature[1].keys()
            feeds = {only: feeds["*"]}
        tensors = {k: v if isinstance(v, tf.Tensor) else tf.constant(v) for k, v in feeds.items()}
        outputs = fn(**tensors)
        result["runs"].append({
            "signature": sig_name,
            "inputs": {k: encode_tensor(v) for k, v in tensors.items()},
            "outputs": {k: encode_tensor(v) for k, v in outputs.items()},
        })
    with open(os.path.join(case_dir, "expected.json"), "w") as f:
        # One run per line: small diffs when a case changes.
        lines = [json.dumps(run, sort_keys=True, allow_nan=False) for run in result["runs"]]
        # A case marked @spectral (its outputs went through a float32 FFT) is compared with an
        # absolute floor scaled to each tensor's largest value (test/conformance/corpus.ts).
        head = '{"tolerance": "spectral", "runs": [\n' if getattr(build, "spectral", False) else '{"runs": [\n'
        f.write(head + ",\n".join(lines) + "\n]}\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default="", help="build only cases whose family/name contains this")
    parser.add_argument("--out", default=DEFAULT_OUT)
    args = parser.parse_args()
    failed = []
    built = 0
    for family, name, build in CASES:
        if args.only and args.only not in f"{family}/{name}":
            continue
        try:
            run_case(family, name, build, args.out)
            built += 1
            print(f"ok    {family}/{name}")
        except Exception:  # a broken case must not stop the others
            failed.append(f"{family}/{name}")
            print(f"FAIL  {family}/{name}")
            traceback.print_exc()
    print(f"{built} cases written to {args.out}; {len(failed)} failed {failed if failed else ''}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
