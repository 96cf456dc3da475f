// gRPC clients as a TF Serving or KServe user builds them: only from the
// vendored .proto files in proto/ (and gRPC's own grpc/health/v1/health.proto,
// as the grpc-health-check package ships it), with @grpc/grpc-js and
// @grpc/proto-loader, never from the server's code.
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';

export const PROTO_DIR = path.resolve(import.meta.dirname, '../../proto');
/** Holds health/v1/health.proto (package grpc.health.v1). */
const HEALTH_PROTO_DIR = path.resolve(path.dirname(healthProtoPath), '../..');

type Ctor<C> = new (address: string, credentials: grpc.ChannelCredentials, options: grpc.ChannelOptions) => C;

/**
 * A client of `service` ("tensorflow.serving.PredictionService",
 * "inference.GRPCInferenceService"...) from `file` (relative to proto/, or "health/v1/health.proto"), at
 * `address` ("127.0.0.1:8500", "unix:/path"), plaintext unless `credentials`
 * say otherwise (grpc.credentials.createSsl(...)). Fields keep their proto names;
 * int64 values come back as strings.
 */
export function protoClient<C extends grpc.Client>(file: string, service: string, address: string, credentials = grpc.credentials.createInsecure(), options: grpc.ChannelOptions = {}): C {
  const def = protoLoader.loadSync([file], { includeDirs: [PROTO_DIR, HEALTH_PROTO_DIR], keepCase: true, longs: String, enums: String, defaults: true });
  let node: unknown = grpc.loadPackageDefinition(def);
  for (const part of service.split('.')) node = (node as Record<string, unknown>)[part];
  return new (node as Ctor<C>)(address, credentials, options);
}
