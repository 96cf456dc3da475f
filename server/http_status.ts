/**
 * The one place a TensorFlow status code becomes an HTTP status, as TF
 * Serving maps them (tensorflow_serving/model_servers/http_server.cc,
 * ToHTTPStatusCode).
 */
import type { StatusCode } from '../runtime/errors.js';

const HTTP_STATUS: Record<StatusCode, number> = {
  OK: 200,
  CANCELLED: 499,
  UNKNOWN: 500,
  INVALID_ARGUMENT: 400,
  DEADLINE_EXCEEDED: 504,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  PERMISSION_DENIED: 403,
  RESOURCE_EXHAUSTED: 429,
  FAILED_PRECONDITION: 400,
  ABORTED: 409,
  OUT_OF_RANGE: 400,
  UNIMPLEMENTED: 501,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  DATA_LOSS: 500,
  UNAUTHENTICATED: 401,
};

export function httpStatusOf(code: StatusCode): number {
  return HTTP_STATUS[code];
}
