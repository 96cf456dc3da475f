"""One-off check: request logs written by modelhost, read back with TensorFlow.

Starts `modelhost serve` (from dist/; run `npm run build` first) on a model
config whose half_plus_two entry has a logging_config, sends it REST and gRPC
predict / classify / regress calls, stops it (SIGTERM: the log files are
fsync'ed and closed), then reads every file with TensorFlow's own TFRecord
reader (tf.data.TFRecordDataset, which checks both CRCs of every record) and
parses each record as tensorflow.serving.PredictionLog with Python classes
that grpcio-tools compiles here from TF Serving's own .proto files
(tensorflow-serving-api is not on the local package index). TensorProtos are
turned into arrays with tf.make_ndarray and compared with what the clients
were answered.

    /work/tfvenv/bin/python tools/request_log/tf_check.py --serving-protos DIR

DIR holds tensorflow_serving/{apis,config}/*.proto from github.com/tensorflow/serving
(the commit proto/README.md names). The TensorFlow protos they import are
taken from the installed TensorFlow itself (descriptors of its *_pb2 modules).
Needs only this machine: the model is shared/fixtures' half_plus_two.
"""
import argparse
import glob
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

import tensorflow as tf
from google.protobuf import descriptor_pb2
import grpc_tools

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FIXTURE = os.path.join(ROOT, '..', '..', 'shared', 'fixtures', 'tf-serving', 'saved_model_half_plus_two_cpu')
if not os.path.isdir(FIXTURE):
    FIXTURE = '/work/shared/fixtures/tf-serving/saved_model_half_plus_two_cpu'


def tf_descriptor_set(path):
    """A FileDescriptorSet of the TensorFlow protos TF Serving's apis import, from the installed TF."""
    from tensorflow.core.example import example_pb2
    from tensorflow.core.framework import tensor_pb2
    from tensorflow.core.protobuf import config_pb2, meta_graph_pb2, named_tensor_pb2
    seen, files = set(), []

    def add(fd):
        if fd.name in seen:
            return
        seen.add(fd.name)
        for dep in fd.dependencies:
            add(dep)
        proto = descriptor_pb2.FileDescriptorProto()
        fd.CopyToProto(proto)
        files.append(proto)

    for module in (example_pb2, tensor_pb2, config_pb2, meta_graph_pb2, named_tensor_pb2):
        add(module.DESCRIPTOR)
    with open(path, 'wb') as f:
        f.write(descriptor_pb2.FileDescriptorSet(file=files).SerializeToString())


def compile_serving_protos(serving_protos, out_dir):
    descriptors = os.path.join(out_dir, 'tf_core.pb')
    tf_descriptor_set(descriptors)
    sources = [os.path.relpath(p, serving_protos) for p in glob.glob(os.path.join(serving_protos, 'tensorflow_serving', '*', '*.proto'))]
    wanted = [s for s in sources if os.path.basename(s) in (
        'prediction_log.proto', 'classification.proto', 'regression.proto', 'predict.proto', 'inference.proto', 'input.proto',
        'model.proto', 'logging.proto', 'session_service.proto', 'logging_config.proto', 'log_collector_config.proto',
        'prediction_service.proto', 'get_model_metadata.proto')]
    well_known = os.path.join(os.path.dirname(grpc_tools.__file__), '_proto')
    args = [f'--descriptor_set_in={descriptors}', f'-I{serving_protos}', f'-I{well_known}', f'--python_out={out_dir}', f'--grpc_python_out={out_dir}'] + wanted
    # In a process of its own: protoc next to a loaded TensorFlow crashes.
    subprocess.run([sys.executable, '-m', 'grpc_tools.protoc', *args], check=True)
    sys.path.insert(0, out_dir)


def post(url, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method='POST')
    with urllib.request.urlopen(req) as res:
        return json.loads(res.read())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--serving-protos', required=True)
    ap.add_argument('--rest-port', type=int, default=18601)
    ap.add_argument('--grpc-port', type=int, default=18600)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix='modelhost-tf-check-')
    compile_serving_protos(os.path.abspath(args.serving_protos), work)
    import grpc
    from tensorflow_serving.apis import classification_pb2, predict_pb2, prediction_log_pb2, prediction_service_pb2_grpc, regression_pb2

    config = os.path.join(work, 'models.config')
    with open(config, 'w') as f:
        f.write(f'''model_config_list {{ config {{
          name: "half_plus_two" base_path: "{FIXTURE}" model_platform: "tensorflow"
          logging_config {{ log_collector_config {{ type: "file" filename_prefix: "half_plus_two/requests" }}
                            sampling_config {{ sampling_rate: 1.0 }} }} }} }}''')
    logs = os.path.join(work, 'logs')
    server = subprocess.Popen(
        ['node', os.path.join(ROOT, 'bin', 'modelhost.js'), 'serve', f'--model_config_file={config}', f'--request_log_dir={logs}',
         f'--rest_api_port={args.rest_port}', f'--port={args.grpc_port}', '--rest_api_host=127.0.0.1', f'--registry_path={work}/registry.db',
         f'--models_dir={work}/models'],
        stderr=subprocess.PIPE, text=True)
    try:
        url = f'http://127.0.0.1:{args.rest_port}/v1/models/half_plus_two'
        for _ in range(200):
            try:
                urllib.request.urlopen(url).read()
                break
            except OSError:
                time.sleep(0.1)
        answers = []
        answers.append(('predict', post(f'{url}:predict', {'instances': [1.0, 2.0, 5.0]})['predictions']))
        answers.append(('classify', post(f'{url}:classify', {'signature_name': 'classify_x_to_y', 'examples': [{'x': 2.0}, {'x': 10.0}]})['results']))
        answers.append(('regress', post(f'{url}:regress', {'signature_name': 'regress_x_to_y', 'examples': [{'x': 80.0}]})['results']))
        stub = prediction_service_pb2_grpc.PredictionServiceStub(grpc.insecure_channel(f'127.0.0.1:{args.grpc_port}'))
        req = predict_pb2.PredictRequest()
        req.model_spec.name = 'half_plus_two'
        req.inputs['x'].CopyFrom(tf.make_tensor_proto([[1.0], [3.0]], dtype=tf.float32))
        answers.append(('predict', tf.make_ndarray(stub.Predict(req, timeout=10).outputs['y']).tolist()))
        creq = classification_pb2.ClassificationRequest()
        creq.model_spec.name = 'half_plus_two'
        creq.model_spec.signature_name = 'classify_x_to_y'
        creq.input.example_list.examples.add().features.feature['x'].float_list.value.append(4.0)
        answers.append(('classify', [[c.score for c in cl.classes] for cl in stub.Classify(creq, timeout=10).result.classifications]))
        rreq = regression_pb2.RegressionRequest()
        rreq.model_spec.name = 'half_plus_two'
        rreq.model_spec.signature_name = 'regress_x_to_y'
        rreq.input.example_list.examples.add().features.feature['x'].float_list.value.append(6.0)
        answers.append(('regress', [r.value for r in stub.Regress(rreq, timeout=10).result.regressions]))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)

    files = sorted(glob.glob(os.path.join(logs, 'half_plus_two', 'requests.*.tfrecord')))
    print(f'tensorflow {tf.__version__}; files: {[os.path.relpath(f, logs) for f in files]}')
    n = 0
    for raw in tf.data.TFRecordDataset(files):
        log = prediction_log_pb2.PredictionLog.FromString(raw.numpy())
        kind = log.WhichOneof('log_type')
        meta = log.log_metadata
        if kind == 'predict_log':
            inputs = {k: tf.make_ndarray(v).tolist() for k, v in log.predict_log.request.inputs.items()}
            outputs = {k: tf.make_ndarray(v).tolist() for k, v in log.predict_log.response.outputs.items()}
            got = outputs['y']
        elif kind == 'classify_log':
            inputs = [list(e.features.feature['x'].float_list.value) for e in log.classify_log.request.input.example_list.examples]
            outputs = [[c.score for c in cl.classes] for cl in log.classify_log.response.result.classifications]
            got = outputs
        else:
            inputs = [list(e.features.feature['x'].float_list.value) for e in log.regress_log.request.input.example_list.examples]
            outputs = [r.value for r in log.regress_log.response.result.regressions]
            got = outputs
        want_kind, answered = answers[n]
        if want_kind == 'classify' and answered and isinstance(answered[0][0], list):
            answered = [[score for _label, score in row] for row in answered]
        match = want_kind == kind.replace('_log', '') and got == answered
        print(f'{n}: {kind} model={meta.model_spec.name} version={meta.model_spec.version.value} '
              f'signature={meta.model_spec.signature_name} rate={meta.sampling_config.sampling_rate} tags={list(meta.saved_model_tags)} '
              f'time={meta.timestamp_secs} inputs={inputs} outputs={outputs} matches_client_answer={match}')
        if not match:
            sys.exit(f'record {n} does not match what the client was answered: {answered}')
        n += 1
    if n != len(answers):
        sys.exit(f'{n} records, {len(answers)} calls')
    print(f'OK: {n} records read by tf.data.TFRecordDataset and parsed as tensorflow.serving.PredictionLog')


if __name__ == '__main__':
    main()
