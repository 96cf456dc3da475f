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

/**
 * A /v1 request body over --max_request_bytes: 413 Content Too Large, answered
 * before the body is read. Its status code is RESOURCE_EXHAUSTED, which
 * `httpStatusOf` keeps at 429 for /v1 as TF Serving does; the REST handler
 * asks for this status by name for this one case.
 */
export function bodyTooLargeHttpStatus(): number {
  return 413;
}

/**
 * The management API (`/api/v1`) maps two codes differently; TF Serving's
 * `/v1` mapping above is unchanged:
 *  - FAILED_PRECONDITION → 409 Conflict: the registry's state forbids the
 *    change (pin a failed or retired version, roll back with no previous one);
 *  - RESOURCE_EXHAUSTED → 413 Content Too Large: an upload over --max_upload_bytes.
 * UNAUTHENTICATED (401), PERMISSION_DENIED (403) and ALREADY_EXISTS (409) are as above.
 */
export function managementHttpStatusOf(code: StatusCode): number {
  if (code === 'FAILED_PRECONDITION') return 409;
  if (code === 'RESOURCE_EXHAUSTED') return 413;
  return HTTP_STATUS[code];
}
