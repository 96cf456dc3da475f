/**
 * The standard gRPC health service (grpc.health.v1.Health, its definition
 * from the grpc-health-check package) behind --enable_grpc_healthcheck_service,
 * as TF Serving has it: gRPC C++'s default health service, where the server
 * as a whole ("") and TF Serving's "ModelService" and "PredictionService"
 * (those exact names) are SERVING while the server runs. Check on any other
 * name is NOT_FOUND "service name unknown"; Watch sends the current status,
 * then each change (SERVICE_UNKNOWN for an unknown name). List is not
 * served (UNIMPLEMENTED), as in gRPC C++.
 *
 * Open Watch streams are bounded (`maxWatches`, --grpc_health_max_watches):
 * one more is refused with RESOURCE_EXHAUSTED.
 *
 * `shutdown()` is gRPC C++'s health shutdown: every status becomes
 * NOT_SERVING (load balancers stop sending) and open Watch streams get that
 * status and are ended, so a graceful stop does not wait on them.
 */
import type * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';

type ServingStatus = 'SERVING' | 'NOT_SERVING';

interface HealthCheckRequest {
  service: string;
}

interface HealthCheckResponse {
  status: ServingStatus | 'SERVICE_UNKNOWN';
}

/** Default bound of open Watch streams. */
export const DEFAULT_HEALTH_MAX_WATCHES = 100;

/** The services TF Serving's server.cc marks SERVING. */
export const TF_SERVING_HEALTH_SERVICES = ['', 'ModelService', 'PredictionService'] as const;

export class GrpcHealthService {
  private readonly statuses = new Map<string, ServingStatus>(TF_SERVING_HEALTH_SERVICES.map((s) => [s, 'SERVING']));
  private readonly watches = new Set<grpc.ServerWritableStream<HealthCheckRequest, HealthCheckResponse>>();

  constructor(private readonly maxWatches = DEFAULT_HEALTH_MAX_WATCHES) {}

  addTo(server: grpc.Server): void {
    server.addService(healthService as unknown as grpc.ServiceDefinition, {
      Check: (call: grpc.ServerUnaryCall<HealthCheckRequest, HealthCheckResponse>, callback: grpc.sendUnaryData<HealthCheckResponse>) => {
        const status = this.statuses.get(call.request.service);
        if (status) callback(null, { status });
        else callback({ code: 5 /* NOT_FOUND */, details: 'service name unknown' });
      },
      Watch: (call: grpc.ServerWritableStream<HealthCheckRequest, HealthCheckResponse>) => {
        if (this.watches.size >= this.maxWatches) {
          // grpc-js ends a server stream with the status of an 'error' it emits.
          call.emit('error', { code: 8 /* RESOURCE_EXHAUSTED */, details: `Too many health Watch streams open (at most ${this.maxWatches}; --grpc_health_max_watches)` });
          return;
        }
        this.watches.add(call);
        call.on('cancelled', () => this.watches.delete(call));
        call.write({ status: this.statuses.get(call.request.service) ?? 'SERVICE_UNKNOWN' });
      },
    });
  }

  /** Every service NOT_SERVING; open watches get that and are ended. */
  shutdown(): void {
    for (const name of this.statuses.keys()) this.statuses.set(name, 'NOT_SERVING');
    for (const call of this.watches) {
      if (this.statuses.has(call.request.service)) call.write({ status: 'NOT_SERVING' });
      call.end();
    }
    this.watches.clear();
  }
}
