/**
 * The HTTP server `modelhost serve` listens with: `/v1/...` goes to the lean
 * TF Serving REST handler (which also answers `/v2/...`, the Open Inference
 * Protocol), the Prometheus path (when configured) to the metrics,
 * `/healthz` and `/readyz` to the probes (health.ts), anything else to
 * `fallback` (the management API and console plug in there) or a JSON 404.
 *
 * `close()` is the graceful stop: stop accepting connections, let requests in
 * flight finish (idle keep-alive connections are closed at once), and after
 * `timeoutMs` cut whatever is left.
 */
import http from 'node:http';
import net from 'node:net';
import type { ServingCore } from '../serving/serving_core.js';
import { handleHealth, isHealthPath, ReadinessTracker } from './health.js';
import type { ServerMetrics } from './metrics.js';
import type { RequestLog } from './request_log/request_logger.js';
import { RestHandler, type RestLimits } from './rest/handler.js';
import { isRestPath } from './rest/route.js';
import { isV2Path } from './v2/route.js';

export type FallbackHandler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

export interface HttpServerOptions {
  core: ServingCore;
  metrics?: ServerMetrics;
  /** Path serving the Prometheus metrics (e.g. /monitoring/prometheus/metrics); unset: not served. */
  metricsPath?: string;
  fallback?: FallbackHandler;
  /** Deadline of every /v1 request in ms (--rest_api_timeout_in_ms; default 30000, 0: none). */
  restApiTimeoutMs?: number;
  /** CORS headers on /v1 answers (TF Serving's --rest_api_enable_cors_support). */
  restApiCors?: boolean;
  /** Request body size and JSON depth limits of /v1 (defaults: DEFAULT_REST_LIMITS). */
  restLimits?: Partial<RestLimits>;
  /** Request logging of /v1 predict, classify and regress (models with a logging_config). */
  requestLog?: RequestLog;
  /** The configured model names /readyz waits for (default: every model the core serves); see health.ts. */
  configuredModels?: () => readonly string[];
}

export interface ModelhostHttpServer {
  readonly server: http.Server;
  readonly rest: RestHandler;
  /** Stops accepting, waits for in-flight requests (at most `timeoutMs`), then closes. */
  close(timeoutMs?: number): Promise<void>;
}

function notFoundHandler(req: http.IncomingMessage, res: http.ServerResponse): void {
  const body = JSON.stringify({ error: `No handler for ${req.method} ${req.url}. The TensorFlow Serving REST API is under /v1/.` });
  res.writeHead(404, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

export function createHttpServer(options: HttpServerOptions): ModelhostHttpServer {
  const rest = new RestHandler(options.core, options.metrics, { ...options.restLimits, timeoutMs: options.restApiTimeoutMs, cors: options.restApiCors, requestLog: options.requestLog });
  const fallback = options.fallback ?? notFoundHandler;
  const { metrics, metricsPath } = options;
  const readiness = new ReadinessTracker(options.core);
  const configuredModels = options.configuredModels ?? (() => options.core.modelConfigs().map((m) => m.name));

  const dispatch = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (metrics && metricsPath !== undefined && path === metricsPath) {
      metrics.render().then(
        (text) => {
          res.writeHead(200, { 'Content-Type': metrics.contentType });
          res.end(text);
        },
        (e: Error) => {
          res.writeHead(500, { 'Content-Type': 'text/plain' });
          res.end(`Could not collect metrics: ${e.message}`);
        },
      );
    } else if (isHealthPath(path)) {
      handleHealth(req, res, path, { readiness, configuredModels, draining: () => closing !== undefined });
    } else if (isRestPath(path) || isV2Path(path)) {
      rest.handle(req, res, path);
    } else {
      fallback(req, res);
    }
  };
  const server = http.createServer();
  // Many clients keep connections open between requests; Node's default 5 s is short for that.
  server.keepAliveTimeout = 65_000;

  // Requests in flight per connection: a graceful close ends a connection once it has none. (Node's
  // closeIdleConnections counts a connection whose request body is read but whose answer is still being
  // computed as idle, which would cut requests waiting on an inference worker.)
  const active = new Map<net.Socket, number>();
  let closing: Promise<void> | undefined;
  server.on('connection', (socket) => {
    active.set(socket, 0);
    socket.on('close', () => active.delete(socket));
  });
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const socket = req.socket;
    active.set(socket, (active.get(socket) ?? 0) + 1);
    if (closing) res.setHeader('Connection', 'close');
    res.on('close', () => {
      const left = (active.get(socket) ?? 1) - 1;
      active.set(socket, left);
      if (closing && left === 0) socket.end();
    });
  });
  // After the bookkeeping above, so a handler that answers synchronously (the probes) still gets Connection: close.
  server.on('request', dispatch);

  const close = (timeoutMs = 30_000): Promise<void> => {
    readiness.close();
    closing ??= new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      const cutoff = setTimeout(() => server.closeAllConnections(), timeoutMs);
      // net.Server's close: stop accepting and call back once every connection has ended. (http.Server's
      // own close would also cut the connections it deems idle, see above.)
      net.Server.prototype.close.call(server, () => {
        clearTimeout(cutoff);
        resolve();
      });
      for (const [socket, n] of active) if (n === 0) socket.end();
    });
    return closing;
  };

  return { server, rest, close };
}
