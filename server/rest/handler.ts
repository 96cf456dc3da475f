/**
 * The TF Serving REST API (`/v1/...`) on plain node:http: read the body,
 * route, run, write JSON. No framework on this path: it is the inference hot
 * path (see ../shared/DESIGN.md). Every failure is a StatusError turned into
 * `{"error": "..."}` with the HTTP status from server/http_status.ts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ModelSpec, ServingCore } from '../../registry/serving_core.js';
import { DEFAULT_MAX_JSON_DEPTH, formatErrorResponse } from '../../runtime/codec/index.js';
import { toStatusError, type StatusCode } from '../../runtime/errors.js';
import { bodyTooLargeHttpStatus, httpStatusOf } from '../http_status.js';
import type { RestApi, ServerMetrics } from '../metrics.js';
import { classifyJson, predictJson, regressJson } from './inference.js';
import { modelMetadataJson } from './metadata_json.js';
import { parseRestRoute, type RestRoute } from './route.js';
import { modelStatusJson } from './status_json.js';

export interface RestOutcome {
  code: StatusCode;
  body: string;
  api: RestApi;
  /** Model name, when the request named a model. */
  model: string;
  /** Version that answered, when one did. */
  version?: number;
  /** What the request asked for, once its path parsed. */
  spec?: ModelSpec;
}

/** What a client controls and the handler bounds (serve flags). */
export interface RestLimits {
  /** Largest request body in bytes (--max_request_bytes); a larger one answers 413 without being read. */
  maxRequestBytes: number;
  /** Deepest nesting of arrays and objects in a JSON body (--max_json_depth); deeper answers 400. */
  maxJsonDepth: number;
}

/**
 * 64 MiB: room for real batches (32 float32 224x224x3 images written as JSON
 * numbers are ~50 MB; 1,000 base64 JPEGs of 40 KB ~55 MB) while the parse
 * stays within ~4x of it in memory.
 */
export const DEFAULT_MAX_REQUEST_BYTES = 64 * 1024 * 1024;

/** How long the rest of a refused body is read and dropped before the connection is cut. */
const DRAIN_MS = 10_000;

export const DEFAULT_REST_LIMITS: RestLimits = { maxRequestBytes: DEFAULT_MAX_REQUEST_BYTES, maxJsonDepth: DEFAULT_MAX_JSON_DEPTH };

export class RestHandler {
  private readonly limits: RestLimits;

  constructor(
    private readonly core: ServingCore,
    private readonly metrics?: ServerMetrics,
    limits?: Partial<RestLimits>,
  ) {
    this.limits = { ...DEFAULT_REST_LIMITS, ...limits };
  }

  /** Handles one request whose path (without query) is `path`. */
  handle(req: IncomingMessage, res: ServerResponse, path: string): void {
    const started = performance.now();
    const limit = this.limits.maxRequestBytes;
    // A client that goes away mid-body: nothing to answer, and nothing to crash on.
    req.on('error', () => {});
    // A declared length over the limit is refused before a byte of the body is read.
    if (Number(req.headers['content-length'] ?? 0) > limit) return this.refuseBody(req, res, started);
    const chunks: Buffer[] = [];
    let received = 0;
    req.on('data', (chunk: Buffer) => {
      const before = received;
      received += chunk.length;
      if (received <= limit) chunks.push(chunk);
      else if (before <= limit) {
        // A body without Content-Length (chunked) that grows past the limit: drop what was read, answer now.
        chunks.length = 0;
        this.refuseBody(req, res, started);
      }
    });
    req.on('end', () => {
      if (received > limit) return;
      // Raw bytes: the JSON codec decodes them once (and its exact parser reads the bytes themselves).
      const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      chunks.length = 0;
      void this.answer(req.method ?? '', path, body).then((outcome) => this.respond(res, outcome, started));
    });
  }

  /**
   * 413 for a body over --max_request_bytes, answered at once. The rest of
   * the body is read and dropped (memory stays flat) so that a client still
   * sending it sees the answer instead of a reset; a body still coming after
   * DRAIN_MS has its connection cut.
   */
  private refuseBody(req: IncomingMessage, res: ServerResponse, started: number): void {
    const message =
      `The request body is larger than ${this.limits.maxRequestBytes} bytes, the limit set by --max_request_bytes. ` +
      'Send fewer instances per request, or raise the limit.';
    const outcome: RestOutcome = { code: 'RESOURCE_EXHAUSTED', body: formatErrorResponse(message), api: 'unknown', model: '' };
    req.removeAllListeners('data');
    req.resume();
    const cut = setTimeout(() => req.socket.destroy(), DRAIN_MS);
    req.once('end', () => clearTimeout(cut));
    req.once('close', () => clearTimeout(cut));
    if (!res.headersSent && !res.destroyed) {
      res.writeHead(bodyTooLargeHttpStatus(), {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(outcome.body),
      });
      res.end(outcome.body);
    }
    this.respond(res, outcome, started, false);
  }

  /** Processes the request; a version (or label) that is valid but not loaded now is loaded on demand (with a registry), then retried. */
  private async answer(method: string, path: string, body: Uint8Array): Promise<RestOutcome> {
    const outcome = await this.process(method, path, body);
    const spec = outcome.spec;
    if (outcome.code === 'NOT_FOUND' && spec && (spec.version !== undefined || spec.label !== undefined) && outcome.api !== 'status') {
      const loaded = await this.core.loadOnDemand(spec).catch(() => false);
      if (loaded) return this.process(method, path, body);
    }
    return outcome;
  }

  private respond(res: ServerResponse, outcome: RestOutcome, started: number, write = true): void {
    // A client that went away gets no answer, but the request still counts.
    if (write && !res.destroyed) this.write(res, outcome);
    if (this.metrics) {
      // Unknown model names are counted under "" so they cannot grow the label set.
      const model = this.core.hasModel(outcome.model) ? outcome.model : '';
      const version = outcome.version === undefined ? '' : String(outcome.version);
      this.metrics.observeRequest(model, version, outcome.api, outcome.code, (performance.now() - started) / 1000);
    }
  }

  private write(res: ServerResponse, outcome: RestOutcome): void {
    res.writeHead(httpStatusOf(outcome.code), {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(outcome.body),
    });
    res.end(outcome.body);
  }

  /** Routes and answers one request; never rejects. */
  async process(method: string, path: string, body: string | Uint8Array): Promise<RestOutcome> {
    let route: RestRoute | undefined;
    const outcome: RestOutcome = { code: 'OK', body: '', api: 'unknown', model: '' };
    try {
      route = parseRestRoute(method, path);
      outcome.api = route.kind;
      outcome.model = route.spec.name;
      outcome.spec = route.spec;
      switch (route.kind) {
        case 'status':
          outcome.body = modelStatusJson(this.core.monitor, route.spec.name, route.spec.version);
          break;
        case 'metadata': {
          const handle = this.core.getHandle(route.spec);
          try {
            outcome.version = handle.version;
            outcome.body = modelMetadataJson(handle.name, handle.version, handle.model.signatureDefs);
          } finally {
            handle.release();
          }
          break;
        }
        case 'predict':
        case 'classify':
        case 'regress': {
          const run = route.kind === 'predict' ? predictJson : route.kind === 'classify' ? classifyJson : regressJson;
          outcome.body = await run(this.core, route.spec, body, outcome, { maxJsonDepth: this.limits.maxJsonDepth });
          break;
        }
      }
    } catch (e) {
      const err = toStatusError(e);
      outcome.code = err.code;
      outcome.body = formatErrorResponse(err.message);
    }
    return outcome;
  }
}
