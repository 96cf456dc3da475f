"""A TensorFlow-backed server speaking TF Serving's REST predict API, the
peer modelhost is measured against in `npm run bench -- --vs-tf`: a FastAPI
app calling the SavedModel's signature in-process, deployed as FastAPI's
docs deploy it, under uvicorn[standard] (uvloop + httptools), N workers:

    MODELHOST_PEER_CONFIG=config.json python -m uvicorn tf_serving_app:app \\
        --app-dir bench/peers --workers 2 --loop uvloop --http httptools \\
        --host 127.0.0.1 --port 8501 --no-access-log --log-level warning

config.json: {"models": [{"name", "dir", "signature"}], "threads": 1,
"ready_dir": DIR}. Each worker loads every model at start-up (intra- and
inter-op pools of `threads` threads), then writes DIR/<pid> so the bench
knows every worker is ready.

  GET  /v1/models/{name}                       version status (AVAILABLE)
  POST /v1/models/{name}[/versions/{v}]:predict {"instances": [...]} (row
       format) or {"inputs": ...} (columnar) → {"predictions": ...} /
       {"outputs": ...}, as TF Serving answers them; 400 {"error"} otherwise
  GET  /peer/info                              event loop, HTTP parser, TF
"""
import asyncio
import json
import os
import sys
from contextlib import asynccontextmanager

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from fastapi import FastAPI, Request  # noqa: E402
from fastapi.responses import JSONResponse, Response  # noqa: E402

from tf_common import set_threads  # noqa: E402

CONFIG = json.loads(open(os.environ["MODELHOST_PEER_CONFIG"]).read())
MODELS = {}


class BadRequest(Exception):
    pass


def load_all():
    set_threads(tf, CONFIG["threads"])
    for m in CONFIG["models"]:
        loaded = tf.saved_model.load(m["dir"])
        fn = loaded.signatures[m["signature"]]
        inputs = fn.structured_input_signature[1]
        MODELS[m["name"]] = (loaded, fn, inputs)
    ready = CONFIG.get("ready_dir")
    if ready:
        with open(os.path.join(ready, str(os.getpid())), "w") as f:
            f.write("ready\n")


@asynccontextmanager
async def lifespan(_app):
    load_all()
    yield


app = FastAPI(lifespan=lifespan)


def to_tensor(value, spec):
    if spec.dtype == tf.string:
        return tf.constant(value, dtype=tf.string)
    try:
        return tf.constant(np.asarray(value, dtype=spec.dtype.as_numpy_dtype))
    except (ValueError, TypeError) as e:
        raise BadRequest(f"input '{spec.name}': {e}") from e


def jsonable(t):
    v = t.numpy()
    if v.dtype == object:
        return np.vectorize(lambda b: b.decode("utf-8", "replace"), otypes=[object])(v).tolist()
    return v.tolist()


def predict(name, body):
    if name not in MODELS:
        return JSONResponse({"error": f"Servable not found for request: Latest({name})"}, status_code=404)
    _, fn, specs = MODELS[name]
    try:
        req = json.loads(body)
    except ValueError as e:
        raise BadRequest(f"JSON parse error: {e}") from e
    if not isinstance(req, dict):
        raise BadRequest("request body must be a JSON object")
    keys = list(specs)
    if "instances" in req:
        rows = req["instances"]
        if not isinstance(rows, list) or not rows:
            raise BadRequest("'instances' must be a non-empty list")
        if isinstance(rows[0], dict):
            feeds = {k: to_tensor([r[k] for r in rows], specs[k]) for k in keys}
        elif len(keys) == 1:
            feeds = {keys[0]: to_tensor(rows, specs[keys[0]])}
        else:
            raise BadRequest("this signature takes several inputs: send objects")
        outputs = fn(**feeds)
        if len(outputs) == 1:
            return {"predictions": jsonable(next(iter(outputs.values())))}
        cols = {k: jsonable(v) for k, v in outputs.items()}
        n = len(next(iter(cols.values())))
        return {"predictions": [{k: cols[k][i] for k in cols} for i in range(n)]}
    if "inputs" in req:
        given = req["inputs"]
        feeds = {k: to_tensor(given[k], specs[k]) for k in keys} if isinstance(given, dict) else {keys[0]: to_tensor(given, specs[keys[0]])}
        outputs = fn(**feeds)
        if len(outputs) == 1:
            return {"outputs": jsonable(next(iter(outputs.values())))}
        return {"outputs": {k: jsonable(v) for k, v in outputs.items()}}
    raise BadRequest("missing 'instances' or 'inputs'")


async def answer(name, request):
    body = await request.body()
    try:
        result = predict(name, body)
    except BadRequest as e:
        return JSONResponse({"error": str(e)}, status_code=400)
    except tf.errors.InvalidArgumentError as e:
        return JSONResponse({"error": e.message}, status_code=400)
    if isinstance(result, Response):
        return result
    return Response(json.dumps(result), media_type="application/json")


# The signature runs on the event loop's thread, as in a plain `async def`
# endpoint: one request computes at a time per worker, on `threads` TF threads.
@app.post("/v1/models/{name}:predict")
async def predict_latest(name: str, request: Request):
    return await answer(name, request)


@app.post("/v1/models/{name}/versions/{version}:predict")
async def predict_version(name: str, version: str, request: Request):
    return await answer(name, request)


@app.get("/v1/models/{name}")
async def status(name: str):
    if name not in MODELS:
        return JSONResponse({"error": f"Could not find any versions of model {name}"}, status_code=404)
    return {"model_version_status": [{"version": "1", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}]}


@app.get("/peer/info")
async def info():
    loop = asyncio.get_running_loop()
    return {
        "pid": os.getpid(),
        "loop": f"{type(loop).__module__}.{type(loop).__name__}",
        "httptools_protocol": "uvicorn.protocols.http.httptools_impl" in sys.modules,
        "h11_protocol": "uvicorn.protocols.http.h11_impl" in sys.modules,
        "tf_version": tf.__version__,
        "intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
        "inter_op": tf.config.threading.get_inter_op_parallelism_threads(),
    }
