/**
 * Parses a `/v1/...` request line into what TF Serving's REST handler acts on
 * (tensorflow_serving/model_servers/http_rest_api_util.cc): the same two
 * case-insensitive path patterns, the same percent-decoding of model names
 * and labels, and the same errors ("Malformed request: POST /v1/foo",
 * "Missing model name in request.", "Failed to convert version: ...").
 */
import type { ModelSpec } from '../../serving/serving_core.js';
import { invalidArgument } from '../../runtime/errors.js';

const PREDICTION_PATH = /^\/v1\/models\/([^/:]+)(?:(?:\/versions\/(\d+))|(?:\/labels\/([^/:]+)))?:(classify|regress|predict)$/i;
const STATUS_PATH = /^\/v1\/models(?:\/([^/:]+))?(?:(?:\/versions\/(\d+))|(?:\/labels\/([^/:]+)))?(?:\/(metadata))?$/i;

const INT64_MAX = 9223372036854775807n;

export type RestRoute =
  | { kind: 'predict' | 'classify' | 'regress'; spec: ModelSpec }
  | { kind: 'status' | 'metadata'; spec: ModelSpec };

/** True for paths the REST API owns (TF Serving's "(?i)/v1/.*"). */
export function isRestPath(path: string): boolean {
  return path.length >= 4 && path[0] === '/' && path.slice(1, 4).toLowerCase() === 'v1/';
}

/** Decodes %XX escapes as curl_easy_unescape does: never fails, leaves stray '%' alone. */
export function unescapePath(s: string): string {
  if (!s.includes('%')) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 && i + 2 < s.length && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(s[i], 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function parseVersion(text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  if (BigInt(text) > INT64_MAX) throw invalidArgument(`Failed to convert version: ${text} to numeric.`);
  return Number(text);
}

/**
 * The route for a request, or a StatusError thrown with TF Serving's text.
 * `path` excludes the query string.
 */
export function parseRestRoute(method: string, path: string): RestRoute {
  const malformed = () => invalidArgument(`Malformed request: ${method} ${path}`);
  let m: RegExpExecArray | null = null;
  let kind: RestRoute['kind'] | undefined;
  if (method === 'POST') {
    m = PREDICTION_PATH.exec(path);
    // The pattern is case-insensitive but the method is compared exactly, as in TF Serving.
    const verb = m?.[4];
    if (verb === 'predict' || verb === 'classify' || verb === 'regress') kind = verb;
  } else if (method === 'GET') {
    m = STATUS_PATH.exec(path);
    if (m) kind = m[4] === undefined ? 'status' : m[4] === 'metadata' ? 'metadata' : 'status';
  }
  if (!m) throw malformed();
  const name = m[1] === undefined ? '' : unescapePath(m[1]);
  const version = parseVersion(m[2]);
  const label = m[3] === undefined ? undefined : unescapePath(m[3]);
  if (!kind) throw malformed();
  if (name === '') throw invalidArgument('Missing model name in request.');
  const spec: ModelSpec = { name };
  if (version !== undefined) spec.version = version;
  if (label !== undefined) spec.label = label;
  return { kind, spec };
}
