/**
 * The rollout routes of the management API (docs/registry.md#rollouts):
 *
 *   GET    /models/{m}/rollout           the rollout (running or the last one that ended) with this replica's window figures;
 *                                       {"state": "none", ...nulls} when the model never had one
 *   POST   /models/{m}/rollout           {"version", "percent"?, "mode"?, "limits"?, "window_seconds"?, "steps"?, "step_seconds"?, "force"?}
 *                                       starts one, or changes the running one → the rollout
 *   POST   /models/{m}/rollout/promote   the candidate serves every request naming no version → the rollout
 *   DELETE /models/{m}/rollout           abort: the stable version serves them all again → the rollout
 */
import type { Request, RequestHandler, Router } from 'express';
import type { Registry } from '../../registry/registry.js';
import { parseRolloutRequest } from '../../registry/rollout/rollout_request.js';
import type { RolloutRow } from '../../registry/store.js';
import { notFound } from '../../runtime/errors.js';
import type { SideStats } from '../rollout/guard_window.js';

export interface RolloutRouteOptions {
  registry: Registry;
  /** Parses the JSON body (express.json with the API's limit). */
  json: RequestHandler;
  actorOf: (req: Request) => string;
  /** This replica's window figures of the model's running canary (server/rollout/guard.ts). */
  windowStats?: (model: string) => { stable: SideStats; candidate: SideStats } | undefined;
}

export function rolloutJson(r: RolloutRow, registry: Registry, windowStats: RolloutRouteOptions['windowStats']) {
  const window = r.state === 'running' ? windowStats?.(r.model) : undefined;
  const shadow = r.mode === 'shadow' ? registry.shadowStats(r.model) : undefined;
  return {
    model: r.model,
    stable: r.stable,
    candidate: r.candidate,
    percent: r.percent,
    mode: r.mode,
    state: r.state,
    reason: r.reason,
    limits: r.limits && { max_error_rate: r.limits.maxErrorRate, max_p99_latency_ratio: r.limits.maxP99LatencyRatio, min_requests: r.limits.minRequests },
    window_seconds: r.windowSeconds,
    steps: r.steps,
    step_seconds: r.stepSeconds,
    started_at: r.startedAt,
    changed_at: r.changedAt,
    actor: r.actor,
    revision: r.revision,
    stats: { stable: window?.stable ?? null, candidate: window?.candidate ?? null, ...(shadow ? { shadow } : {}) },
  };
}

const modelOf = (req: Request) => String(req.params.model);

/** A model that never had a rollout: state "none", every other field null (200, so a console polling it logs no error). */
export function noRolloutJson(model: string) {
  return {
    model,
    stable: null,
    candidate: null,
    percent: null,
    mode: null,
    state: 'none',
    reason: null,
    limits: null,
    window_seconds: null,
    steps: null,
    step_seconds: null,
    started_at: null,
    changed_at: null,
    actor: null,
    revision: 0,
    stats: { stable: null, candidate: null },
  };
}

export function mountRolloutRoutes(router: Router, options: RolloutRouteOptions): void {
  const { registry, json, actorOf } = options;
  const answer = (r: RolloutRow | undefined) => {
    if (!r) throw notFound('The rollout changed meanwhile; look again.');
    return rolloutJson(r, registry, options.windowStats);
  };

  router.get('/models/:model/rollout', (req, res) => {
    const name = modelOf(req);
    const r = registry.getRollout(name);
    res.set('Cache-Control', 'no-store').json(r ? answer(r) : noRolloutJson(name));
  });

  router.post('/models/:model/rollout', json, async (req, res) => {
    const request = parseRolloutRequest(req.body);
    res.json(answer(await registry.startRollout(modelOf(req), request, actorOf(req))));
  });

  router.post('/models/:model/rollout/promote', async (req, res) => {
    res.json(answer(await registry.promoteRollout(modelOf(req), actorOf(req))));
  });

  router.delete('/models/:model/rollout', async (req, res) => {
    res.json(answer(await registry.abortRollout(modelOf(req), actorOf(req))));
  });
}
