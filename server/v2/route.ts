/**
 * Parses an Open Inference Protocol (KServe v2) REST path:
 *
 *   GET  /v2/health/live · /v2/health/ready · /v2
 *   GET  /v2/models/{m}[/versions/{v}]            model metadata
 *   GET  /v2/models/{m}[/versions/{v}]/ready      model readiness
 *   POST /v2/models/{m}[/versions/{v}]/infer      inference
 *
 * Model names are percent-decoded as /v1 does; a version is a decimal int64.
 */
import type { ModelSpec } from '../../serving/serving_core.js';
import { invalidArgument, notFound } from '../../runtime/errors.js';
import { unescapePath } from '../rest/route.js';

export type V2Route =
  | { kind: 'live' | 'server_ready' | 'server_metadata' }
  | { kind: 'model_metadata' | 'model_ready' | 'infer'; spec: ModelSpec };

const MODEL_PATH = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(\/ready|\/infer)?$/;
const INT64_MAX = 9223372036854775807n;

/** True for paths the v2 API owns ("/v2" and "/v2/..."). */
export function isV2Path(path: string): boolean {
  return path === '/v2' || path.startsWith('/v2/');
}

/** The route for a request; NOT_FOUND for a path the protocol does not have, INVALID_ARGUMENT for a bad version. */
export function parseV2Route(method: string, path: string): V2Route {
  const noRoute = () => notFound(`No Open Inference Protocol endpoint for ${method} ${path}`);
  if (method === 'GET') {
    if (path === '/v2' || path === '/v2/') return { kind: 'server_metadata' };
    if (path === '/v2/health/live') return { kind: 'live' };
    if (path === '/v2/health/ready') return { kind: 'server_ready' };
  }
  const m = MODEL_PATH.exec(path);
  if (!m) throw noRoute();
  const kind = m[3] === '/infer' ? 'infer' : m[3] === '/ready' ? 'model_ready' : 'model_metadata';
  if ((kind === 'infer') !== (method === 'POST') || (method !== 'POST' && method !== 'GET')) throw noRoute();
  const spec: ModelSpec = { name: unescapePath(m[1]) };
  if (m[2] !== undefined) {
    if (!/^\d{1,19}$/.test(m[2]) || BigInt(m[2]) > INT64_MAX) {
      throw invalidArgument(`Model version must be a non-negative integer, got "${unescapePath(m[2])}"`);
    }
    spec.version = Number(m[2]);
  }
  return { kind, spec };
}
