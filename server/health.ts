/**
 * Probe endpoints for orchestrators (Kubernetes, load balancers):
 *
 *   GET|HEAD /healthz  200 {"live":true} while the process answers HTTP at all
 *                      (also while draining: a drain is not a reason to restart).
 *   GET|HEAD /readyz   200 {"ready":true,"models":[names]} when every configured
 *                      model has a version AVAILABLE; 503 {"ready":false,
 *                      "error":"...","models":[{"name","reason"}]} naming the
 *                      models that have none and why (loading, failed with
 *                      which error, no version found), or while shutting down.
 *
 * "Configured" is the operator's model list (--model_config_file,
 * --model_name/--model_base_path, or the folders of --models_dir), as last
 * read; models created only through uploads are not waited for. A model list
 * with no models is ready. The server listens only once the first loads are
 * done, so before that the probes get no answer at all (Kubernetes: use a
 * startupProbe for slow first loads).
 */
import type http from 'node:http';
import type { ServableState } from '../registry/servable_state.js';
import type { ServingCore } from '../registry/serving_core.js';

export const LIVENESS_PATH = '/healthz';
export const READINESS_PATH = '/readyz';

/** At most this many models are listed in one answer (the count in the error is always complete). */
export const MAX_LISTED_MODELS = 100;
/** A load error quoted in a reason is cut to this many characters. */
const MAX_ERROR_CHARS = 300;
/** Versions described in one model's reason, newest first. */
const MAX_VERSIONS_DESCRIBED = 3;

export interface ModelReadiness {
  name: string;
  reason: string;
}

export interface Readiness {
  ready: boolean;
  /** Every configured model (ready ones too), in list order. */
  configured: readonly string[];
  /** Configured models without an AVAILABLE version. */
  notReady: ModelReadiness[];
}

function cut(text: string): string {
  return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS)}…` : text;
}

function describe(s: ServableState): string {
  const error = s.status.code === 'OK' ? '' : ` (${s.status.code}: ${cut(s.status.message)})`;
  return `version ${s.version} ${s.state}${error}`;
}

/** Why a model with no AVAILABLE version is not ready, from its recorded version states. */
function notReadyReason(states: readonly ServableState[]): string {
  if (states.length === 0) return 'no version found under its base path yet';
  const shown = states.slice(0, MAX_VERSIONS_DESCRIBED).map(describe).join('; ');
  const more = states.length > MAX_VERSIONS_DESCRIBED ? `; ${states.length - MAX_VERSIONS_DESCRIBED} older version(s)` : '';
  return `no version AVAILABLE: ${shown}${more}`;
}

/** Is every model in `configured` servable now? */
export function readiness(core: ServingCore, configured: readonly string[]): Readiness {
  const notReady: ModelReadiness[] = [];
  for (const name of configured) {
    const states = core.monitor.getVersionStates(name);
    if (!states.some((s) => s.state === 'AVAILABLE')) notReady.push({ name, reason: notReadyReason(states) });
  }
  return { ready: notReady.length === 0, configured, notReady };
}

export interface HealthOptions {
  core: ServingCore;
  /** Names of the configured models (default: every model the core serves). */
  configuredModels?: () => readonly string[];
  /** True once a graceful stop has begun: /readyz answers 503. */
  draining: () => boolean;
}

/** True for the probe paths this module answers. */
export function isHealthPath(path: string): boolean {
  return path === LIVENESS_PATH || path === READINESS_PATH;
}

function send(req: http.IncomingMessage, res: http.ServerResponse, status: number, body: object, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  // Probes must see the state now, never a cached answer.
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store', ...headers });
  res.end(req.method === 'HEAD' ? undefined : text);
}

/** Answers /healthz or /readyz (see the module comment). */
export function handleHealth(req: http.IncomingMessage, res: http.ServerResponse, path: string, options: HealthOptions): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    send(req, res, 405, { error: `${req.method} is not allowed on ${path}: use GET or HEAD.` }, { Allow: 'GET, HEAD' });
    return;
  }
  if (path === LIVENESS_PATH) {
    send(req, res, 200, { live: true });
    return;
  }
  if (options.draining()) {
    send(req, res, 503, { ready: false, error: 'The server is shutting down: finishing in-flight requests, taking no new ones.', models: [] });
    return;
  }
  const names = options.configuredModels?.() ?? options.core.modelConfigs().map((m) => m.name);
  const r = readiness(options.core, names);
  if (r.ready) {
    send(req, res, 200, { ready: true, models: r.configured.slice(0, MAX_LISTED_MODELS) });
    return;
  }
  const listed = r.notReady.slice(0, MAX_LISTED_MODELS);
  const named = listed.map((m) => m.name).join(', ') + (r.notReady.length > listed.length ? `, and ${r.notReady.length - listed.length} more` : '');
  const error = `${r.notReady.length} of ${r.configured.length} configured model(s) have no AVAILABLE version: ${named}`;
  send(req, res, 503, { ready: false, error, models: listed });
}
