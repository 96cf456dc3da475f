/**
 * TF Serving's gRPC schema, from the vendored .proto files under proto/ (see
 * proto/README.md), loaded once with protobufjs (camelCase field names, like
 * runtime/proto/schema.ts, so decoded TensorProtos go straight into
 * tensorFromProto), and the grpc-js service definitions built from it.
 *
 *   const root = servingProtoRoot();
 *   server.addService(serviceDefinition(root, 'tensorflow.serving.PredictionService'), handlers);
 */
import path from 'node:path';
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { packageRoot } from '../../runtime/package_root.js';

const SERVICE_FILES = ['tensorflow_serving/apis/prediction_service.proto', 'tensorflow_serving/apis/model_service.proto', 'kserve/grpc_predict_v2.proto'];

let root: protobuf.Root | undefined;

/** The folder holding the vendored TF Serving / TensorFlow protos. */
export function vendoredProtoDir(): string {
  return path.join(packageRoot(), 'proto');
}

export function servingProtoRoot(): protobuf.Root {
  if (root) return root;
  const dir = vendoredProtoDir();
  const r = new protobuf.Root();
  // Imports are relative to proto/ (google/protobuf/* come bundled with protobufjs).
  r.resolvePath = (_origin, target) => (path.isAbsolute(target) ? target : path.join(dir, target));
  r.loadSync(SERVICE_FILES.map((f) => path.join(dir, f)));
  r.resolveAll();
  root = r;
  return r;
}

/** Stands for a request message whose bytes did not decode. */
export class UndecodableRequest {
  constructor(readonly message: string) {}
}

/** A grpc-js service definition whose messages are protobufjs messages of `root`; undecodable requests arrive as UndecodableRequest. */
export function serviceDefinition(r: protobuf.Root, serviceName: string): ServiceDefinition {
  const service = r.lookupService(serviceName);
  const def: Record<string, MethodDefinition<object, object>> = {};
  for (const method of service.methodsArray) {
    method.resolve();
    const req = method.resolvedRequestType!;
    const res = method.resolvedResponseType!;
    def[method.name] = {
      path: `/${serviceName}/${method.name}`,
      requestStream: false,
      responseStream: false,
      requestSerialize: (m: object) => Buffer.from(req.encode(m).finish()),
      requestDeserialize: (b: Buffer) => {
        try {
          return req.decode(b);
        } catch (e) {
          // Answered INVALID_ARGUMENT by the handler (grpc-js would answer a throw with a bare INTERNAL).
          return new UndecodableRequest(`The request is not a valid ${req.fullName.slice(1)}: ${(e as Error).message}`);
        }
      },
      responseSerialize: (m: object) => Buffer.from(res.encode(m).finish()),
      responseDeserialize: (b: Buffer) => res.decode(b),
    };
  }
  return def;
}
