"""A TensorFlow Serving gRPC client over TLS with a client certificate, the standard health service,
and Predict answers in tensor_content read back with TensorFlow's own tf.make_ndarray.

Stubs: TF Serving's from modelhost's proto/ folder and gRPC's health.proto (TensorFlow supplies
tensorflow.core.framework itself, so the generated tensorflow/ folder is removed):

    python -m grpc_tools.protoc -I proto -I node_modules/grpc-health-check/proto --python_out=/tmp/stubs \
        --grpc_python_out=/tmp/stubs $(cd proto && find . -name '*.proto' | sed 's|^./||') health/v1/health.proto
    rm -r /tmp/stubs/tensorflow
    PYTHONPATH=/tmp/stubs python examples/grpc/tls_health_client.py 127.0.0.1:8500

run in the folder holding ca.crt, client.key, client.crt, against
`modelhost serve --model_name=half_plus_two --model_base_path=<half_plus_two> --ssl_config_file=ssl.conf
--enable_grpc_healthcheck_service --enable_serialization_as_tensor_content` where ssl.conf holds the
server's key and certificate, custom_ca (ca.crt) and client_verify: true. The certificates name
"localhost".
"""
import sys
import grpc
import numpy as np
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc
from health.v1 import health_pb2, health_pb2_grpc

addr = sys.argv[1]
read = lambda f: open(f, 'rb').read()
opts = [('grpc.ssl_target_name_override', 'localhost')]
creds = grpc.ssl_channel_credentials(root_certificates=read('ca.crt'), private_key=read('client.key'), certificate_chain=read('client.crt'))
ch = grpc.secure_channel(addr, creds, options=opts)
health = health_pb2_grpc.HealthStub(ch)
for s in ['', 'ModelService', 'PredictionService']:
    print('Health.Check %r:' % s, health_pb2.HealthCheckResponse.ServingStatus.Name(health.Check(health_pb2.HealthCheckRequest(service=s), timeout=10).status))
req = predict_pb2.PredictRequest()
req.model_spec.name = 'half_plus_two'
req.inputs['x'].CopyFrom(tf.make_tensor_proto(np.array([[1.0], [2.0], [5.0]], dtype=np.float32)))
y = prediction_service_pb2_grpc.PredictionServiceStub(ch).Predict(req, timeout=10).outputs['y']
print('Predict y: tensor_content %d bytes, float_val %s -> tf.make_ndarray %s' % (len(y.tensor_content), list(y.float_val), tf.make_ndarray(y).ravel().tolist()))
for name, c in [('no client certificate', grpc.ssl_channel_credentials(root_certificates=read('ca.crt'))), ('plaintext', None)]:
    chan = grpc.secure_channel(addr, c, options=opts) if c else grpc.insecure_channel(addr)
    try:
        prediction_service_pb2_grpc.PredictionServiceStub(chan).Predict(req, timeout=5)
        print(name, 'ANSWERED')
    except grpc.RpcError as e:
        print('%s: %s' % (name, e.code()))
