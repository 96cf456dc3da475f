/**
 * The management API, mounted at `/api/v1` (express; the inference path
 * `/v1` stays on the lean node:http handler). Every change goes through the
 * Registry; this file only parses requests and prints answers. Errors are
 * `{"error": "...", "code": "<TF status code>"}` with the HTTP status from
 * server/http_status.ts (managementHttpStatusOf).
 *
 *   GET    /access                          {"admin_token_required", "changes_allowed"} (for this caller)
 *   GET    /models                          {"models": [model]}
 *   GET    /models/{m}                      model
 *   GET    /models/{m}/versions             {"versions": [version]}
 *   GET    /models/{m}/versions/{v}         version
 *   GET    /models/{m}/events?limit&before  {"events": [...], "next_before"}
 *   GET    /models/{m}/stats?window=3600    request rate, errors, p50/p99 latency per 10 s (server/request_stats.ts)
 *   GET    /replicas                        {"replicas": [replica]} (live, gone, stopped; from heartbeats)
 *   POST   /models/{m}/versions             multipart: archive | files..., version?, activate?, force?,
 *                                            description?, source?, tag=k=v..., metric=k=v... → 201 version
 *   POST   /models/{m}/pin       {"version"} model
 *   DELETE /models/{m}/pin                   model
 *   POST   /models/{m}/rollback             model
 *   PUT    /models/{m}/labels/{l} {"version"} model
 *   DELETE /models/{m}/labels/{l}           model
 *   DELETE /models/{m}/versions/{v}[?purge=true]  version (retired)
 *   POST   /models/{m}/versions/{v}/restore      version (no longer retired)
 *   GET|POST|DELETE /models/{m}/rollout, POST /models/{m}/rollout/promote   (./rollout.ts)
 *   PATCH  /models/{m}/versions/{v}  {"description", "tags", "metrics", "source"} (merge patch) version
 *   GET    /models/{m}/versions/{a}/diff/{b}     signature diff from a to b, with what breaks callers of a
 */
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import multer from 'multer';
import { parseVersionNumber } from '../../registry/model_name.js';
import type { ModelInfo, Registry } from '../../registry/registry.js';
import type { UploadIntake } from '../../registry/upload.js';
import type { RequestStats } from '../request_stats.js';
import { invalidArgument, notFound, resourceExhausted, StatusError, toStatusError, unimplemented, type StatusCode } from '../../runtime/errors.js';
import { managementHttpStatusOf } from '../http_status.js';
import { accessOf, actorOf, checkAdminAccess, TrustedProxies, type AccessPolicy } from './auth.js';
import { eventsJson, modelJson as modelJsonOf, replicaJson, signatureDiffJson, versionJson, type RequestsPerSecond } from './json.js';
import { breakingChanges, diffSignatures } from '../../registry/signature_diff.js';
import { metadataFromFields, parseMetadataPatch } from '../../registry/version_metadata.js';
import { statsWindow } from './stats.js';
import { attachSession, sessionStorage } from './upload_storage.js';
import { webConsole } from './web_console.js';
import { mountRolloutRoutes } from './rollout.js';
import type { SideStats } from '../rollout/guard_window.js';

export interface ManagementOptions {
  registry: Registry;
  intake: UploadIntake;
  /** Bearer token mutating calls need; unset: mutations only from loopback clients connecting directly. */
  adminToken?: string;
  /** --trusted_proxies: IPs and CIDR ranges of reverse proxies whose X-Forwarded-For is believed (default none). */
  trustedProxies?: readonly string[];
  /** --require_admin_token: every change needs the token, loopback included (default false). */
  requireAdminToken?: boolean;
  /** Inference requests per second of a model (ServerMetrics.requestRates); unset: `requests_per_second` is null. */
  requestsPerSecond?: RequestsPerSecond;
  /** The last hour of each model's requests (ServerMetrics.stats); unset: /models/{m}/stats answers 501. */
  requestStats?: RequestStats;
  /** The built web console served at `/` (default: dist/web of this package); false: no console. */
  consoleDir?: string | false;
  /** This replica's guard-rail window figures of a running canary (server/rollout/guard.ts). */
  rolloutWindowStats?: (model: string) => { stable: SideStats; candidate: SideStats } | undefined;
}

/** Room for multipart headers and boundaries on top of --max_upload_bytes in the Content-Length check. */
const MULTIPART_SLACK = 1 << 20;

function bool(value: unknown, fallback: boolean, what: string): boolean {
  if (value === undefined || value === '') return fallback;
  if (value === true || value === 'true' || value === '1') return true;
  if (value === false || value === 'false' || value === '0') return false;
  throw invalidArgument(`${what} must be true or false, got ${JSON.stringify(value)}.`);
}

function bodyVersion(req: Request): number {
  const body: unknown = req.body;
  if (!body || typeof body !== 'object' || !('version' in body)) {
    throw invalidArgument('Send a JSON body {"version": N}.');
  }
  return parseVersionNumber((body as { version: unknown }).version);
}

function intQuery(req: Request, name: string): number | undefined {
  const value = req.query[name];
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || !/^\d+$/.test(value)) throw invalidArgument(`Query parameter ${name} must be a positive integer.`);
  return Number(value);
}

/** Turns anything thrown into the API's error status and body. */
export function errorBody(err: unknown): { status: number; body: { error: string; code: StatusCode } } {
  let e: StatusError;
  // express.json() errors carry `type` and an HTTP `status`.
  const parserError = err instanceof Error ? (err as Error & { type?: string; status?: number }) : undefined;
  if (err instanceof StatusError) e = err;
  else if (err instanceof multer.MulterError) e = invalidArgument(`The multipart upload was refused: ${err.message}${err.field ? ` (${err.field})` : ''}.`);
  else if (parserError?.type === 'entity.parse.failed') e = invalidArgument(`The JSON body could not be parsed: ${parserError.message}`);
  else if (parserError?.status === 413) e = resourceExhausted(parserError.message);
  else if (parserError?.status !== undefined && parserError.status < 500) e = invalidArgument(parserError.message);
  else e = toStatusError(err);
  return { status: managementHttpStatusOf(e.code), body: { error: e.message, code: e.code } };
}

export function managementRouter(options: ManagementOptions): Router {
  const { registry, intake } = options;
  const modelJson = (m: ModelInfo) => modelJsonOf(m, options.requestsPerSecond);
  const router = Router();
  const access: AccessPolicy = {
    adminToken: options.adminToken,
    trustedProxies: new TrustedProxies(options.trustedProxies),
    requireAdminToken: options.requireAdminToken,
  };
  // Bodies of pin and label calls are JSON whatever Content-Type says (curl -d sends form-urlencoded).
  const json = express.json({ limit: '64kb', type: () => true });
  // Room for the metadata fields (one past each count limit, so the registry's own message names the limit).
  const limits = registry.metadataLimits;
  const metadataFields = limits.maxTags + limits.maxMetrics + 2;
  const parts = multer({
    storage: sessionStorage,
    preservePath: true,
    defParamCharset: 'utf8',
    limits: {
      fields: 20 + metadataFields,
      fieldSize: Math.max(4096, 4 * Math.max(limits.maxDescriptionChars, limits.maxKeyChars + 1 + limits.maxValueChars) + 16),
      files: 100_000,
      parts: 100_020 + metadataFields,
    },
  }).any();
  // PATCH bodies keep their text, so a key given twice (which JSON.parse merges) is refused.
  const rawBodies = new WeakMap<Request, string>();
  const patchJson = express.json({
    limit: '256kb',
    type: () => true,
    verify: (req, _res, buf) => void rawBodies.set(req as Request, buf.toString('utf8')),
  });

  router.use((req: Request, _res: Response, next: NextFunction) => {
    checkAdminAccess(req, access);
    next();
  });

  router.get('/access', (req, res) => {
    res.set('Cache-Control', 'no-store').json(accessOf(req, access));
  });

  router.get('/replicas', async (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ replicas: (await registry.replicas()).map((r) => replicaJson(r, registry.replicaId)) });
  });

  router.get('/models', (_req, res) => {
    res.json({ models: registry.listModels().map((m) => modelJson(m)) });
  });

  router.get('/models/:model', (req, res) => {
    res.json(modelJson(registry.getModel(req.params.model)));
  });

  router.get('/models/:model/versions', (req, res) => {
    res.json({ versions: registry.listVersions(req.params.model).map(versionJson) });
  });

  router.get('/models/:model/versions/:version', (req, res) => {
    res.json(versionJson(registry.getVersion(req.params.model, parseVersionNumber(req.params.version))));
  });

  router.get('/models/:model/events', async (req, res) => {
    const limit = Math.min(intQuery(req, 'limit') ?? 100, 1000);
    if (limit < 1) throw invalidArgument('Query parameter limit must be between 1 and 1000.');
    const events = await registry.events(req.params.model, { limit, before: intQuery(req, 'before') });
    res.json(eventsJson(events, limit));
  });

  router.get('/models/:model/stats', (req, res) => {
    const model = registry.getModel(req.params.model).name; // NOT_FOUND for a model the registry does not know
    const window = statsWindow(req.query.window);
    if (!options.requestStats) throw unimplemented('This server does not sample request statistics.');
    res.set('Cache-Control', 'no-store').json(options.requestStats.query(model, window));
  });

  router.post('/models/:model/versions', async (req, res) => {
    const name = req.params.model;
    const length = Number(req.headers['content-length']);
    if (Number.isFinite(length) && length > intake.maxUploadBytes + MULTIPART_SLACK) {
      throw resourceExhausted(`The upload is ${length} bytes, more than ${intake.maxUploadBytes} (--max_upload_bytes).`);
    }
    if (!req.is('multipart/form-data')) {
      throw invalidArgument(
        'Send the SavedModel as multipart/form-data: one "archive" part (.tar.gz, .tgz or .zip) or "files" parts whose filenames are paths relative to the SavedModel folder.',
      );
    }
    const session = await intake.begin(name);
    attachSession(req, session);
    try {
      try {
        await new Promise<void>((resolve, reject) => parts(req, res, (err?: unknown) => (err ? reject(err) : resolve())));
      } catch (e) {
        if (e instanceof StatusError || e instanceof multer.MulterError) throw e;
        throw invalidArgument(`The multipart upload could not be read: ${(e as Error).message}`);
      }
      const fields = (req.body ?? {}) as Record<string, unknown>;
      const version = fields.version === undefined || fields.version === '' ? undefined : parseVersionNumber(fields.version);
      const activate = bool(fields.activate, true, 'activate');
      const force = bool(fields.force, false, 'force');
      const metadata = metadataFromFields({ description: fields.description, source: fields.source, tag: fields.tag, metric: fields.metric });
      const info = await session.finish({ version, activate, force, metadata, actor: actorOf(req, access) });
      res.status(201).location(`/api/v1/models/${encodeURIComponent(name)}/versions/${info.version}`).json(versionJson(info));
    } finally {
      await session.discard();
    }
  });

  router.post('/models/:model/pin', json, async (req, res) => {
    res.json(modelJson(await registry.pin(req.params.model, bodyVersion(req), actorOf(req, access))));
  });

  router.delete('/models/:model/pin', async (req, res) => {
    res.json(modelJson(await registry.unpin(req.params.model, actorOf(req, access))));
  });

  router.post('/models/:model/rollback', async (req, res) => {
    res.json(modelJson(await registry.rollback(req.params.model, actorOf(req, access))));
  });

  router.put('/models/:model/labels/:label', json, async (req, res) => {
    res.json(modelJson(await registry.setLabel(req.params.model, req.params.label, bodyVersion(req), actorOf(req, access))));
  });

  router.delete('/models/:model/labels/:label', async (req, res) => {
    res.json(modelJson(await registry.deleteLabel(req.params.model, req.params.label, actorOf(req, access))));
  });

  router.delete('/models/:model/versions/:version', async (req, res) => {
    const purge = bool(req.query.purge, false, 'purge');
    const version = parseVersionNumber(req.params.version);
    res.json(versionJson(await registry.retire(req.params.model, version, { purge }, actorOf(req, access))));
  });

  router.post('/models/:model/versions/:version/restore', async (req, res) => {
    const version = parseVersionNumber(req.params.version);
    res.json(versionJson(await registry.restore(req.params.model, version, actorOf(req, access))));
  });

  mountRolloutRoutes(router, { registry, json, actorOf: (req) => actorOf(req, access), windowStats: options.rolloutWindowStats });

  router.patch('/models/:model/versions/:version', patchJson, async (req, res) => {
    const version = parseVersionNumber(req.params.version);
    const patch = parseMetadataPatch(req.body, rawBodies.get(req));
    res.json(versionJson(await registry.setMetadata(req.params.model, version, patch, actorOf(req, access))));
  });

  router.get('/models/:model/versions/:from/diff/:to', async (req, res) => {
    const model = req.params.model;
    const from = parseVersionNumber(req.params.from);
    const to = parseVersionNumber(req.params.to);
    // NOT_FOUND for an unknown model or version before anything is loaded.
    registry.getVersion(model, from);
    registry.getVersion(model, to);
    const [a, b] = [await registry.versionSignatures(model, from), await registry.versionSignatures(model, to)];
    res.json(signatureDiffJson(model, from, to, diffSignatures(a, b), breakingChanges(a, b)));
  });

  router.use((req: Request) => {
    throw notFound(`No management API route for ${req.method} ${req.baseUrl}${req.path}. See docs/registry.md.`);
  });

  router.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const { status, body } = errorBody(err);
    if (res.headersSent) return;
    res.status(status).json(body);
  });

  return router;
}

/**
 * The express app serving `/api/v1` and the web console (`/`), used as the
 * HTTP server's fallback for every path that is not `/v1/...`.
 */
export function managementApp(options: ManagementOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('json spaces', 1);
  app.use('/api/v1', managementRouter(options));
  if (options.consoleDir !== false) app.use(webConsole(options.consoleDir));
  app.use((req: Request, res: Response) => {
    res.status(404).json({
      error: `No handler for ${req.method} ${req.path}. The TensorFlow Serving REST API is under /v1/, the management API under /api/v1/.`,
      code: 'NOT_FOUND',
    });
  });
  return app;
}
