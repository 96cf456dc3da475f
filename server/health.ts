/**
 * Probe endpoints for orchestrators (Kubernetes, load balancers):
 *
 *   GET|HEAD /healthz  200 {"live":true} while the process answers HTTP at all
 *                      (also while draining: a drain is not a reason to restart).
 *   GET|HEAD /readyz   200 {"ready":true,"models":[names]} or 503
 *                      {"ready":false,"error":"...","models":[{"name","reason"}]}
 *                      naming the models that hold readiness back and why
 *                      (loading, failed with which error, no version found);
 *                      503 while shutting down.
 *
 * The rule. A server becomes ready once every configured model has a version
 * AVAILABLE. After that it stays ready while every configured model that has
 * had an AVAILABLE version here still has one; a model added to the list
 * later does not take a ready server out of service while it loads (or if it
 * never loads): every replica re-reads the same list at about the same time,
 * so gating on it would empty the Service at once. Such models are listed in
 * the 200 answer as "pending": {"ready":true,"models":[...],"pending":[{"name",
 * "reason"}]}. A new replica (a rollout, a scale-up) still waits for them, so
 * a model that cannot load stalls the rollout instead of serving without it.
 *
 * "Configured" is the operator's model list (--model_config_file,
 * --model_name/--model_base_path, or the folders of --models_dir), as last
 * read; models created only through uploads are not waited for. A list with
 * no models is ready. The server listens only once the first loads are done,
 * so before that the probes get no answer at all (Kubernetes: a startupProbe).
 */
import type http from 'node:http';
import type { ServableState } from '../serving/servable_state.js';
import type { ServingCore } from '../serving/serving_core.js';

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
  /** Every configured model, in list order. */
  configured: readonly string[];
  /** Configured models without an AVAILABLE version that hold readiness back. */
  notReady: ModelReadiness[];
  /** Configured models without an AVAILABLE version that do not (added after the server became ready, never AVAILABLE here). */
  pending: ModelReadiness[];
}

function cut(text: string): string {
  return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS)}…` : text;
}

function describe(s: ServableState): string {
  const error = s.status.code === 'OK' ? '' : ` (${s.status.code}: ${cut(s.status.message)})`;
  return `version ${s.version} ${s.state}${error}`;
}

/** Why a model with no AVAILABLE version is not servable, from its recorded version states. */
function notReadyReason(states: readonly ServableState[]): string {
  if (states.length === 0) return 'no version found under its base path yet';
  const shown = states.slice(0, MAX_VERSIONS_DESCRIBED).map(describe).join('; ');
  const more = states.length > MAX_VERSIONS_DESCRIBED ? `; ${states.length - MAX_VERSIONS_DESCRIBED} older version(s)` : '';
  return `no version AVAILABLE: ${shown}${more}`;
}

/** Applies the readiness rule (see the module comment) for one server. */
export class ReadinessTracker {
  private becameReady = false;
  /** Models that have had an AVAILABLE version on this server. */
  private readonly established = new Set<string>();
  private readonly unsubscribe: () => void;

  constructor(private readonly core: ServingCore) {
    for (const s of core.monitor.all()) if (s.state === 'AVAILABLE') this.established.add(s.name);
    this.unsubscribe = core.monitor.subscribe((s) => {
      if (s.state === 'AVAILABLE') this.established.add(s.name);
    });
  }

  check(configured: readonly string[]): Readiness {
    const notReady: ModelReadiness[] = [];
    const pending: ModelReadiness[] = [];
    for (const name of configured) {
      const states = this.core.monitor.getVersionStates(name);
      if (states.some((s) => s.state === 'AVAILABLE')) continue;
      const entry = { name, reason: notReadyReason(states) };
      if (this.becameReady && !this.established.has(name)) pending.push(entry);
      else notReady.push(entry);
    }
    const ready = notReady.length === 0;
    if (ready) this.becameReady = true;
    return { ready, configured, notReady, pending };
  }

  close(): void {
    this.unsubscribe();
  }
}

export interface HealthOptions {
  readiness: ReadinessTracker;
  /** Names of the configured models. */
  configuredModels: () => readonly string[];
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

/** "a, b, and 3 more" for at most MAX_LISTED_MODELS names. */
function nameList(models: readonly ModelReadiness[]): string {
  const listed = models.slice(0, MAX_LISTED_MODELS).map((m) => m.name);
  return listed.join(', ') + (models.length > listed.length ? `, and ${models.length - listed.length} more` : '');
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
  const r = options.readiness.check(options.configuredModels());
  if (r.ready) {
    const body: Record<string, unknown> = { ready: true, models: r.configured.slice(0, MAX_LISTED_MODELS) };
    if (r.pending.length) body.pending = r.pending.slice(0, MAX_LISTED_MODELS);
    send(req, res, 200, body);
    return;
  }
  const error = `${r.notReady.length} of ${r.configured.length} configured model(s) have no AVAILABLE version: ${nameList(r.notReady)}`;
  send(req, res, 503, { ready: false, error, models: r.notReady.slice(0, MAX_LISTED_MODELS) });
}
