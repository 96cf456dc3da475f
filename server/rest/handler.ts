/**
 * The TF Serving REST API (`/v1/...`) on plain node:http: read the body,
 * route, run, write JSON. No framework on this path: it is the inference hot
 * path (see ../shared/DESIGN.md). Every failure is a StatusError turned into
 * `{"error": "..."}` with the HTTP status from server/http_status.ts.
 *
 * Every request has a deadline (TF Serving's --rest_api_timeout_in_ms,
 * default 30 s; 0: none): once it passes the client gets 504 with TF's text
 * "Timed out waiting for notification" at once, and the run is cancelled
 * (stopped between kernels in its worker). A client that disconnects cancels
 * its run the same way.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ModelSpec, ServingCore } from '../../serving/serving_core.js';
import { DEFAULT_MAX_JSON_DEPTH, formatErrorResponse } from '../../runtime/codec/index.js';
import { StatusError, toStatusError, type StatusCode } from '../../runtime/errors.js';
import { bodyTooLargeHttpStatus, httpStatusOf } from '../http_status.js';
import type { Protocol, RestApi, ServerMetrics } from '../metrics.js';
import { classifyJson, predictJson, regressJson } from './inference.js';
import { modelMetadataJson } from './metadata_json.js';
import { parseRestRoute, type RestRoute } from './route.js';
import { processV2, v2RequestLabels } from '../v2/handler.js';
import { isV2Path } from '../v2/route.js';
import { modelStatusJson } from './status_json.js';
import type { RequestLog } from '../request_log/request_logger.js';
import { routingKeyOf } from '../../registry/rollout/routing.js';

export interface RestOutcome {
  code: StatusCode;
  /** JSON text, or bytes (a v2 answer with binary tensors). */
  body: string | Uint8Array;
  /** Content-Type when not application/json, and extra headers (v2 binary answers). */
  contentType?: string;
  headers?: Record<string, string>;
  api: RestApi;
  /** Model name, when the request named a model. */
  model: string;
  /** Version that answered, when one did. */
  version?: number;
  /** What the request asked for, once its path parsed. */
  spec?: ModelSpec;
  /** The protocol, for the metrics' label: 'rest' (TF Serving's /v1) unless set ('v2': the Open Inference Protocol). */
  protocol?: Protocol;
}

/** TensorFlow's text for a session run past its RunOptions timeout (DirectSession::WaitForNotification). */
export const DEADLINE_MESSAGE = 'Timed out waiting for notification';
/** TF Serving's default --rest_api_timeout_in_ms. */
export const DEFAULT_REST_API_TIMEOUT_MS = 30_000;


/** What a client controls and the handler bounds (serve flags). */
export interface RestLimits {
  /** Largest request body in bytes (--max_request_bytes); a larger one answers 413 without being read. */
  maxRequestBytes: number;
  /** Deepest nesting of arrays and objects in a JSON body (--max_json_depth); deeper answers 400. */
  maxJsonDepth: number;
  /**
   * Request body bytes held at once across all requests, from the first byte
   * read until the answer is sent (--max_buffered_request_bytes); a request
   * that would go over answers 503 at once.
   */
  maxBufferedRequestBytes: number;
}

/**
 * 64 MiB: room for real batches (32 float32 224x224x3 images written as JSON
 * numbers are ~50 MB; 1,000 base64 JPEGs of 40 KB ~55 MB) while the parse
 * stays within ~4x of it in memory.
 */
export const DEFAULT_MAX_REQUEST_BYTES = 64 * 1024 * 1024;

/** How long the rest of a refused body is read and dropped before the connection is cut. */
const DRAIN_MS = 10_000;

/** 1 GiB: sixteen bodies of the largest size at once (each decoded within ~4x of itself). */
export const DEFAULT_MAX_BUFFERED_REQUEST_BYTES = 1024 * 1024 * 1024;

export const DEFAULT_REST_LIMITS: RestLimits = {
  maxRequestBytes: DEFAULT_MAX_REQUEST_BYTES,
  maxJsonDepth: DEFAULT_MAX_JSON_DEPTH,
  maxBufferedRequestBytes: DEFAULT_MAX_BUFFERED_REQUEST_BYTES,
};

export interface RestHandlerOptions extends Partial<RestLimits> {
  /** Deadline of every request in ms (default DEFAULT_REST_API_TIMEOUT_MS; 0: none). */
  timeoutMs?: number;
  /** TF Serving's --rest_api_enable_cors_support: CORS headers on every /v1 answer (default false). */
  cors?: boolean;
  /** Request logging (models with a logging_config); unset: nothing is logged. */
  requestLog?: RequestLog;
}

/** TF Serving's AddCORSHeaders (http_rest_api_util.cc). */
const CORS_HEADERS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'POST, GET',
  'Access-Control-Allow-Headers': 'Content-Type',
} as const;

/** An OPTIONS request (CORS preflight) as TF Serving's http_server.cc answers it: OK when it has an http(s) Origin. */
function preflightOutcome(origin: string | undefined): RestOutcome {
  if (origin !== undefined && /https?:\/\//.test(origin)) return { code: 'OK', body: '', api: 'unknown', model: '' };
  return { code: 'FAILED_PRECONDITION', body: formatErrorResponse('Origin header is missing in CORS preflight'), api: 'unknown', model: '' };
}

export class RestHandler {
  private readonly timeoutMs: number;
  private readonly cors: boolean;
  private readonly limits: RestLimits;
  /** Request body bytes all requests hold now (bounded by limits.maxBufferedRequestBytes). */
  private bufferedBytes = 0;
  private readonly requestLog?: RequestLog;

  constructor(
    private readonly core: ServingCore,
    private readonly metrics?: ServerMetrics,
    options: RestHandlerOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_REST_API_TIMEOUT_MS;
    this.cors = options.cors ?? false;
    this.requestLog = options.requestLog;
    this.limits = {
      maxRequestBytes: options.maxRequestBytes ?? DEFAULT_REST_LIMITS.maxRequestBytes,
      maxJsonDepth: options.maxJsonDepth ?? DEFAULT_REST_LIMITS.maxJsonDepth,
      maxBufferedRequestBytes: options.maxBufferedRequestBytes ?? DEFAULT_REST_LIMITS.maxBufferedRequestBytes,
    };
  }

  /** Handles one request whose path (without query) is `path`. */
  handle(req: IncomingMessage, res: ServerResponse, path: string): void {
    const started = performance.now();
    const method = req.method ?? '';
    const limit = this.limits.maxRequestBytes;
    // A client that goes away mid-body: nothing to answer, and nothing to crash on.
    req.on('error', () => {});
    // A declared length over the limit is refused before a byte of the body is read.
    if (Number(req.headers['content-length'] ?? 0) > limit) return this.refuseBody(req, res, started);
    // Aborted when the deadline passes (answered 504 at once) or the client goes away; the run stops either way.
    const lifetime = new AbortController();
    let answered = false;
    // Body bytes this request holds of the process-wide budget, given back once it is answered or gone.
    let held = 0;
    let busy = false;
    const release = () => {
      this.bufferedBytes -= held;
      held = 0;
    };
    const finish = (outcome: RestOutcome) => {
      release();
      if (answered) return;
      answered = true;
      clearTimeout(deadline);
      this.respond(res, outcome, started);
    };
    const deadline =
      this.timeoutMs > 0
        ? setTimeout(() => {
            const err = new StatusError('DEADLINE_EXCEEDED', DEADLINE_MESSAGE);
            lifetime.abort(err);
            finish(failedOutcome(method, path, err));
          }, this.timeoutMs)
        : undefined;
    res.on('close', () => {
      release();
      clearTimeout(deadline);
      if (!answered) lifetime.abort(new StatusError('CANCELLED', 'The client closed the connection before the answer was ready'));
    });
    const chunks: Buffer[] = [];
    let received = 0;
    req.on('data', (chunk: Buffer) => {
      // Answered already (the deadline passed): the rest of the body is not needed.
      if (answered) return;
      const before = received;
      received += chunk.length;
      if (received <= limit) {
        if (this.bufferedBytes + chunk.length > this.limits.maxBufferedRequestBytes) {
          // Other requests' bodies fill the budget: drop this one and answer 503 now.
          chunks.length = 0;
          release();
          busy = true;
          answered = true;
          clearTimeout(deadline);
          this.refuseBusy(req, res, started);
          return;
        }
        this.bufferedBytes += chunk.length;
        held += chunk.length;
        chunks.push(chunk);
      } else if (before <= limit && !answered) {
        // A body without Content-Length (chunked) that grows past the limit: drop what was read, answer 413 now.
        chunks.length = 0;
        answered = true;
        clearTimeout(deadline);
        this.refuseBody(req, res, started);
      }
    });
    req.on('end', () => {
      if (busy || received > limit || lifetime.signal.aborted) {
        release();
        return;
      }
      // Raw bytes: the JSON codec decodes them once (and its exact parser reads the bytes themselves).
      const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      chunks.length = 0;
      if (method === 'OPTIONS') return finish(preflightOutcome(req.headers.origin));
      const headerLength = req.headers['inference-header-content-length'];
      const routingKey = routingKeyOf((h) => req.headers[h]);
      void this.answer(method, path, body, lifetime.signal, typeof headerLength === 'string' ? headerLength : undefined, routingKey).then(finish);
    });
  }

  /** 503 for a body that would take the bodies held at once past --max_buffered_request_bytes. */
  private refuseBusy(req: IncomingMessage, res: ServerResponse, started: number): void {
    const message =
      `The server is holding ${this.limits.maxBufferedRequestBytes} bytes of request bodies, the limit set by --max_buffered_request_bytes. ` +
      'Retry the request.';
    this.refuse(req, res, started, { code: 'UNAVAILABLE', body: formatErrorResponse(message), api: 'unknown', model: '' }, 503);
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
    this.refuse(req, res, started, { code: 'RESOURCE_EXHAUSTED', body: formatErrorResponse(message), api: 'unknown', model: '' }, bodyTooLargeHttpStatus());
  }

  /** Answers `outcome` at once and reads the rest of the body into nothing (cut after DRAIN_MS). */
  private refuse(req: IncomingMessage, res: ServerResponse, started: number, outcome: RestOutcome, status: number): void {
    req.removeAllListeners('data');
    req.resume();
    const cut = setTimeout(() => req.socket.destroy(), DRAIN_MS);
    req.once('end', () => clearTimeout(cut));
    req.once('close', () => clearTimeout(cut));
    if (!res.headersSent && !res.destroyed) {
      res.writeHead(status, {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(outcome.body),
      });
      res.end(outcome.body);
    }
    this.respond(res, outcome, started, false);
  }

  /**
   * Processes the request; a version (or label) that is valid but not loaded
   * now is loaded on demand (with a registry), then retried while the
   * registry keeps it loaded for this request (503 when its wait bounds trip).
   */
  private async answer(method: string, path: string, body: Uint8Array, signal?: AbortSignal, headerLength?: string, routingKey?: string): Promise<RestOutcome> {
    const outcome = await this.process(method, path, body, signal, headerLength, routingKey);
    const spec = outcome.spec;
    if (outcome.code === 'NOT_FOUND' && spec && (spec.version !== undefined || spec.label !== undefined) && outcome.api !== 'status') {
      let release: (() => void) | undefined;
      try {
        release = await this.core.loadOnDemand(spec, signal);
      } catch (e) {
        // Waited too long or too many waiting: say so (503); a version that cannot serve stays NOT_FOUND.
        const err = toStatusError(e);
        if (err.code === 'UNAVAILABLE') return { ...outcome, code: err.code, body: formatErrorResponse(err.message) };
      }
      if (release) {
        try {
          if (!signal?.aborted) return await this.process(method, path, body, signal, headerLength, routingKey);
        } finally {
          release();
        }
      }
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
      this.metrics.observeRequest(model, version, outcome.api, outcome.code, (performance.now() - started) / 1000, outcome.protocol);
    }
  }

  private write(res: ServerResponse, outcome: RestOutcome): void {
    res.writeHead(httpStatusOf(outcome.code), {
      ...outcome.headers,
      'Content-Type': outcome.contentType ?? 'application/json',
      'Content-Length': Buffer.byteLength(outcome.body),
      ...(this.cors ? CORS_HEADERS : {}),
    });
    res.end(outcome.body);
  }

  /**
   * Routes and answers one request (/v1, or /v2: the Open Inference Protocol, server/v2/); never rejects.
   * `signal` aborts its run (deadline, client gone); `headerLength` is v2's Inference-Header-Content-Length;
   * `routingKey` keeps a client on one side of a rollout (registry/rollout/routing.ts).
   */
  async process(method: string, path: string, body: string | Uint8Array, signal?: AbortSignal, headerLength?: string, routingKey?: string): Promise<RestOutcome> {
    let route: RestRoute | undefined;
    const outcome: RestOutcome = { code: 'OK', body: '', api: 'unknown', model: '' };
    try {
      if (isV2Path(path)) {
        outcome.protocol = 'v2';
        const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
        await processV2(this.core, method, path, bytes, outcome, { signal, maxJsonDepth: this.limits.maxJsonDepth, headerLength, routingKey });
        return outcome;
      }
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
          const spec = { ...route.spec, routing: { key: routingKey } };
          outcome.body = await run(this.core, spec, body, outcome, { signal, maxJsonDepth: this.limits.maxJsonDepth, requestLog: this.requestLog });
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

/** The outcome of a request answered with `err` before it finished (its deadline passed). */
function failedOutcome(method: string, path: string, err: StatusError): RestOutcome {
  const outcome: RestOutcome = { code: err.code, body: formatErrorResponse(err.message), api: 'unknown', model: '' };
  if (isV2Path(path)) return { ...outcome, ...v2RequestLabels(method, path), protocol: 'v2' };
  try {
    const route = parseRestRoute(method, path);
    outcome.api = route.kind;
    outcome.model = route.spec.name;
    outcome.spec = route.spec;
  } catch {
    // An unroutable path keeps api "unknown".
  }
  return outcome;
}
