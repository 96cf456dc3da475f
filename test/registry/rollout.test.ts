// Rollouts in the registry with a real serving core, runtime and store (the
// same suite on a SQLite file and on a real PostgreSQL database): the split
// of requests naming no version, sticky routing keys, promote and abort with
// their history, refusals (bad input, a signature-breaking candidate), the
// rollout surviving a restart and, on PostgreSQL, seen by a second replica.
// half_plus_three answers 3.5 for x = 1, half_plus_two 2.5: the answer says
// which version served it. Each has a signature the other lacks (a breaking
// change either way), so the rollouts between them are forced (`rollout`)
// except in the test of that refusal.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRolloutRequest } from '../../registry/rollout/rollout_request.js';
import { BUCKETS, MAX_KEY_CHARS, routingBucket, routingKeyOf, takesCandidate } from '../../registry/rollout/routing.js';
import { FIXTURES, waitFor } from '../server/helpers.js';
import { describePostgres } from './postgres_helper.js';
import { errorOf, PLUS_THREE, PLUS_TWO, predict, uploadDir, type World, worldsPerTest } from './registry_world.js';

const COUNTER = path.join(FIXTURES, 'saved_model_counter/00000123'); // no serving_default

const harness = worldsPerTest('modelhost-rollout-');
const { start, worlds } = harness;

/** A rollout request, forced (see the top) unless it says otherwise. */
const rollout = (body: Record<string, unknown>) => parseRolloutRequest({ force: true, ...body });
const history = async (w: World, model: string) =>
  (await w.registry.events(model, { limit: 1000 })).reverse().filter((e) => e.kind.startsWith('rollout') || e.kind === 'pinned' || e.kind === 'activated');

/** v1 = half_plus_three serving (pinned: v2 was uploaded with activate=false), v2 = half_plus_two. */
async function twoVersions(w: World): Promise<void> {
  await uploadDir(w, 'hp', PLUS_THREE);
  await uploadDir(w, 'hp', PLUS_TWO, { activate: false });
  expect(w.registry.getModel('hp')).toMatchObject({ activeVersion: 1, pinnedVersion: 1 });
}

describe('rollout requests', () => {
  it('takes the documented fields and refuses everything else, naming the field', () => {
    expect(parseRolloutRequest({ version: 3, percent: 10 })).toMatchObject({ version: 3, percent: 10, mode: 'canary', force: false });
    expect(rollout({ version: 3, mode: 'shadow' })).toMatchObject({ mode: 'shadow', percent: undefined });
    expect(rollout({ version: 3, steps: [10, 50, 100], step_seconds: 300, limits: { max_error_rate: 0.01 } })).toMatchObject({
      steps: [10, 50, 100],
      stepSeconds: 300,
      limits: { maxErrorRate: 0.01, maxP99LatencyRatio: null, minRequests: 50 },
    });
    const refused: [unknown, RegExp][] = [
      [[], /JSON body/],
      [{ percent: 10 }, /candidate version/],
      [{ version: 3, percent: 101 }, /percent must be a number from 0 to 100/],
      [{ version: 3, percent: -1 }, /percent must be/],
      [{ version: 3, percent: '10' }, /percent must be/],
      [{ version: 3, percent: 10.123 }, /two decimals/],
      [{ version: 3, percent: 10, precent: 5 }, /Unknown field "precent"/],
      [{ version: 'three', percent: 10 }, /version/],
      [{ version: 3, mode: 'blue-green' }, /mode must be "canary" or "shadow"/],
      [{ version: 3, percent: 10, window_seconds: 1 }, /window_seconds must be a whole number from 5 to 3600/],
      [{ version: 3, percent: 10, window_seconds: 1e9 }, /window_seconds/],
      [{ version: 3, steps: [50, 10], step_seconds: 60 }, /steps must rise/],
      [{ version: 3, steps: [10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 100], step_seconds: 60 }, /1 to 10 percentages/],
      [{ version: 3, steps: [10, 50] }, /step_seconds/],
      [{ version: 3, percent: 10, step_seconds: 60 }, /step_seconds needs steps/],
      [{ version: 3, steps: [10, 50], step_seconds: 1 }, /step_seconds must be a whole number from 5/],
      [{ version: 3, percent: 20, steps: [10, 50], step_seconds: 60 }, /not one of the steps/],
      [{ version: 3, percent: 10, limits: { max_error_rate: 2 } }, /max_error_rate must be a fraction from 0 to 1/],
      [{ version: 3, percent: 10, limits: { max_p99_latency_ratio: 0 } }, /max_p99_latency_ratio/],
      [{ version: 3, percent: 10, limits: { min_requests: 5 } }, /must set max_error_rate or max_p99_latency_ratio/],
      [{ version: 3, percent: 10, limits: { max_error_rate: 0.1, min_requests: 0 } }, /min_requests must be a whole number from 1/],
      [{ version: 3, percent: 10, limits: { max_errors: 1 } }, /Unknown field limits.max_errors/],
      [{ version: 3, mode: 'shadow', limits: { max_error_rate: 0.1 } }, /canary rollouts only/],
      [{ version: 3, percent: 10, force: 'yes' }, /force must be true or false/],
    ];
    for (const [body, message] of refused) {
      const e = (() => {
        try {
          parseRolloutRequest(body);
        } catch (err) {
          return err as Error & { code?: string };
        }
        throw new Error(`accepted ${JSON.stringify(body)}`);
      })();
      expect(e.code, JSON.stringify(body)).toBe('INVALID_ARGUMENT');
      expect(e.message, JSON.stringify(body)).toMatch(message);
    }
  });
});

describe('routing keys', () => {
  it('hash into the 10,000 buckets evenly, per model, reading only the first 256 characters', () => {
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 20_000; i++) counts[Math.floor(routingBucket('m', `req-${i}`) / (BUCKETS / 10))]++;
    for (const c of counts) expect(Math.abs(c - 2000)).toBeLessThan(200);
    expect(routingBucket('a', 'key')).not.toBe(routingBucket('b', 'key'));
    const long = 'k'.repeat(MAX_KEY_CHARS);
    expect(routingBucket('m', `${long}tail-1`)).toBe(routingBucket('m', `${long}tail-2`));
    expect(takesCandidate('m', 'x', 0)).toBe(false);
    expect(takesCandidate('m', 'x', 100)).toBe(true);
    // X-Routing-Key wins over X-Request-Id; empty values are skipped.
    const headers: Record<string, string> = { 'x-request-id': 'r', 'x-routing-key': 'k' };
    expect(routingKeyOf((h) => headers[h])).toBe('k');
    expect(routingKeyOf((h) => ({ 'x-routing-key': '', 'x-request-id': 'r' })[h])).toBe('r');
    expect(routingKeyOf(() => undefined)).toBeUndefined();
  });
});

describe('rollouts on SQLite', () => rolloutSuite());

describePostgres('rollouts on PostgreSQL', () => {
  harness.usePostgres();
  rolloutSuite();

  it('a second replica routes by the rollout another started, and stops when it is aborted there', async () => {
    const a = await start({ replicaId: 'a', refreshIntervalMs: 100 });
    await twoVersions(a);
    const b = await start({ replicaId: 'b', refreshIntervalMs: 100 });
    await b.registry.settled();
    await a.registry.startRollout('hp', rollout({ version: 2, percent: 100 }), 'test');
    await waitFor('replica b to route to the candidate', async () => (await predict(b, { name: 'hp', routing: {} })).version === 2);
    expect(b.registry.getRollout('hp')).toMatchObject({ state: 'running', candidate: 2, stable: 1, percent: 100 });
    await a.registry.abortRollout('hp', 'test');
    await waitFor('replica b to see the abort', () => b.registry.getRollout('hp')?.state === 'aborted');
    expect(await predict(b, { name: 'hp', routing: {} })).toEqual({ version: 1, y: 3.5 });
    // A guard-rail abort that lost the race (the rollout already ended) changes nothing.
    expect(await b.registry.abortRollout('hp', 'guard', { expectedRevision: 2, reason: 'late' })).toBeUndefined();
  });
});

function rolloutSuite() {
  it('a 10% rollout sends 10% ± 2% of 5,000 requests to the candidate; a routing key is sticky; named versions are not split', async () => {
    const w = await start();
    await twoVersions(w);
    const started = await w.registry.startRollout('hp', rollout({ version: 2, percent: 10 }), 'test');
    expect(started).toMatchObject({ stable: 1, candidate: 2, percent: 10, mode: 'canary', state: 'running', reason: null, windowSeconds: 60 });

    let keyed = 0;
    let random = 0;
    const sides = new Map<string, number>();
    for (let i = 0; i < 5000; i++) {
      const key = `client-${i}`;
      const r = await predict(w, { name: 'hp', routing: { key } });
      expect(r.y).toBe(r.version === 2 ? 2.5 : 3.5);
      if (r.version === 2) keyed++;
      sides.set(key, r.version);
      if ((await predict(w, { name: 'hp', routing: {} })).version === 2) random++;
    }
    expect(keyed).toBeGreaterThanOrEqual(400);
    expect(keyed).toBeLessThanOrEqual(600);
    expect(random).toBeGreaterThanOrEqual(400);
    expect(random).toBeLessThanOrEqual(600);
    // Sticky: the same keys land on the same side again.
    for (let i = 0; i < 200; i++) expect((await predict(w, { name: 'hp', routing: { key: `client-${i}` } })).version).toBe(sides.get(`client-${i}`));
    // Explicit versions and requests without routing (metadata, say) are not split.
    for (let i = 0; i < 50; i++) {
      expect((await predict(w, { name: 'hp', version: 1, routing: { key: `client-${i}` } })).version).toBe(1);
      expect((await predict(w, { name: 'hp' })).version).toBe(1);
    }
    // Raising the percentage keeps the candidate's clients on it.
    await w.registry.startRollout('hp', rollout({ version: 2, percent: 50 }), 'test');
    for (let i = 0; i < 500; i++) if (sides.get(`client-${i}`) === 2) expect((await predict(w, { name: 'hp', routing: { key: `client-${i}` } })).version).toBe(2);
    expect(w.registry.getModel('hp').activeVersion).toBe(1);
  });

  it('promote makes the candidate serve (the pin moves to it); the history records every step', async () => {
    const w = await start();
    await twoVersions(w);
    await w.registry.startRollout('hp', rollout({ version: 2, percent: 10 }), 'alice');
    await w.registry.startRollout('hp', rollout({ version: 2, percent: 30 }), 'alice');
    const promoted = await w.registry.promoteRollout('hp', 'bob');
    expect(promoted).toMatchObject({ state: 'promoted', reason: 'promoted by bob', percent: 30 });
    await w.registry.settled();
    expect(await predict(w, { name: 'hp', routing: { key: 'anyone' } })).toEqual({ version: 2, y: 2.5 });
    expect(w.registry.getModel('hp')).toMatchObject({ activeVersion: 2, pinnedVersion: 2, previousVersion: 1 });
    const h = await history(w, 'hp');
    const kinds = h.map((e) => `${e.kind} ${e.version} ${e.actor}`);
    expect(kinds.slice(-5)).toEqual(['rollout_started 2 alice', 'rollout_changed 2 alice', 'pinned 2 bob', 'rollout_promoted 2 bob', 'activated 2 server']);
    expect(h.find((e) => e.kind === 'rollout_started')!.detail).toMatch(/10% of requests naming no version \(version 1 answers the rest\)/);
    expect(h.find((e) => e.kind === 'rollout_changed')!.detail).toMatch(/10% → 30%/);
    // Nothing runs now: promote and abort say so.
    expect(await errorOf(w.registry.promoteRollout('hp', 'bob'))).toMatchObject({ code: 'FAILED_PRECONDITION', message: 'Model hp has no rollout running.' });
    expect(await errorOf(w.registry.abortRollout('hp', 'bob'))).toMatchObject({ code: 'FAILED_PRECONDITION' });
  });

  it('abort gives the stable version every request again, pinning it when the model would follow the newer candidate', async () => {
    const w = await start();
    await uploadDir(w, 'hp', PLUS_THREE);
    await uploadDir(w, 'hp', PLUS_TWO);
    await uploadDir(w, 'hp', PLUS_THREE); // v3 serves (newest), unpinned
    await w.registry.startRollout('hp', rollout({ version: 2, percent: 100 }), 'test');
    expect(await predict(w, { name: 'hp', routing: {} })).toEqual({ version: 2, y: 2.5 });
    await w.registry.abortRollout('hp', 'test');
    expect(await predict(w, { name: 'hp', routing: {} })).toEqual({ version: 3, y: 3.5 });
    expect(w.registry.getModel('hp').pinnedVersion).toBeNull(); // v3 is the newest: nothing to pin
    expect(w.registry.getRollout('hp')).toMatchObject({ state: 'aborted', reason: 'aborted by test' });

    // Stable v2 (pinned), candidate v3 newer: an abort keeps v2 serving by its pin; a rollout while pinned is allowed.
    await w.registry.pin('hp', 2, 'test');
    await w.registry.startRollout('hp', rollout({ version: 3, percent: 50 }), 'test');
    // Changing what serves by hand is refused while a rollout runs.
    expect(await errorOf(w.registry.pin('hp', 1, 'test'))).toMatchObject({ code: 'FAILED_PRECONDITION', message: expect.stringMatching(/rollout of version 3 running; promote or abort it before pinning/) });
    expect(await errorOf(w.registry.unpin('hp', 'test'))).toMatchObject({ code: 'FAILED_PRECONDITION' });
    expect(await errorOf(w.registry.rollback('hp', 'test'))).toMatchObject({ code: 'FAILED_PRECONDITION' });
    expect(await errorOf(w.registry.retire('hp', 3, {}, 'test'))).toMatchObject({ code: 'FAILED_PRECONDITION' });
    await w.registry.abortRollout('hp', 'test', { reason: 'candidate looked wrong' });
    expect(await predict(w, { name: 'hp', routing: {} })).toEqual({ version: 2, y: 2.5 });
    expect(w.registry.getModel('hp')).toMatchObject({ pinnedVersion: 2, activeVersion: 2 });
    const last = (await history(w, 'hp')).at(-1)!;
    expect(last).toMatchObject({ kind: 'rollout_aborted', version: 3 });
    expect(last.detail).toMatch(/candidate looked wrong/);

    // Unpinned, newest v3 serving, candidate v1 (older): a promote pins v1, since the model would follow v3.
    await w.registry.unpin('hp', 'test');
    await w.registry.settled();
    await w.registry.startRollout('hp', rollout({ version: 1, percent: 10 }), 'test');
    await w.registry.promoteRollout('hp', 'test');
    expect(await predict(w, { name: 'hp', routing: {} })).toEqual({ version: 1, y: 3.5 });
    expect(w.registry.getModel('hp').pinnedVersion).toBe(1);
  });

  it('refuses a candidate that would break callers (409 naming the change) unless forced, and other impossible rollouts', async () => {
    const w = await start();
    await uploadDir(w, 'hp', PLUS_TWO);
    await uploadDir(w, 'hp', COUNTER, { activate: false }); // v2: no serving_default
    const before = (await w.registry.events('hp', { limit: 1000 })).length;
    const e = await errorOf(w.registry.startRollout('hp', rollout({ version: 2, percent: 10, force: false }), 'test'));
    expect(e.code).toBe('FAILED_PRECONDITION'); // 409 over HTTP
    expect(e.message).toMatch(/^Version 2 of model hp would break callers of version 1: signature classify_x_to_y removed; .*signature serving_default removed\./);
    expect(e.message).toMatch(/Send "force": true/);
    expect(w.registry.getRollout('hp')).toBeUndefined();
    await w.registry.settled();
    expect((await w.registry.events('hp', { limit: 1000 })).filter((x) => x.kind.startsWith('rollout'))).toEqual([]);
    expect((await w.registry.events('hp', { limit: 1000 })).length).toBeGreaterThanOrEqual(before);

    const forced = await w.registry.startRollout('hp', rollout({ version: 2, percent: 10 }), 'test');
    expect(forced.state).toBe('running');
    expect((await history(w, 'hp')).at(-1)!.detail).toMatch(/\(forced\)$/);

    // Another candidate while one runs; the serving version itself; a version that does not exist.
    await uploadDir(w, 'hp', PLUS_TWO, { activate: false });
    expect(await errorOf(w.registry.startRollout('hp', rollout({ version: 3, percent: 10 }), 'test'))).toMatchObject({
      code: 'FAILED_PRECONDITION',
      message: 'Model hp has a rollout of version 2 running; promote or abort it before rolling out version 3.',
    });
    expect(await errorOf(w.registry.startRollout('hp', rollout({ version: 2, mode: 'shadow' }), 'test'))).toMatchObject({ code: 'FAILED_PRECONDITION' });
    await w.registry.abortRollout('hp', 'test');
    expect(await errorOf(w.registry.startRollout('hp', rollout({ version: 1, percent: 10 }), 'test'))).toMatchObject({
      code: 'FAILED_PRECONDITION',
      message: 'Version 1 already serves model hp; roll out another version.',
    });
    expect(await errorOf(w.registry.startRollout('hp', rollout({ version: 9, percent: 10 }), 'test'))).toMatchObject({ code: 'NOT_FOUND', message: 'Model hp has no version 9.' });
    expect(await errorOf(w.registry.startRollout('nope', rollout({ version: 1, percent: 10 }), 'test'))).toMatchObject({ code: 'NOT_FOUND' });
    await w.registry.retire('hp', 3, {}, 'test');
    expect(await errorOf(w.registry.startRollout('hp', rollout({ version: 3, percent: 10 }), 'test'))).toMatchObject({
      code: 'FAILED_PRECONDITION',
      message: 'Version 3 of model hp cannot be rolled out: it is retired.',
    });
  });

  it('a running rollout survives a restart and keeps splitting', async () => {
    let w = await start();
    await twoVersions(w);
    await w.registry.startRollout('hp', rollout({ version: 2, percent: 100, limits: { max_error_rate: 0.05, min_requests: 20 }, window_seconds: 30 }), 'test');
    await worlds.pop()!.stop();
    w = await start();
    expect(w.registry.getRollout('hp')).toMatchObject({
      state: 'running',
      stable: 1,
      candidate: 2,
      percent: 100,
      windowSeconds: 30,
      limits: { maxErrorRate: 0.05, maxP99LatencyRatio: null, minRequests: 20 },
    });
    expect(await predict(w, { name: 'hp', routing: {} })).toEqual({ version: 2, y: 2.5 });
    expect(await predict(w, { name: 'hp' })).toEqual({ version: 1, y: 3.5 });
  });

  it('writes a rollout row only at the revision expected (one replica wins a race)', async () => {
    const w = await start();
    await twoVersions(w);
    const row = await w.registry.startRollout('hp', rollout({ version: 2, percent: 10 }), 'test');
    expect(await w.store.transaction((tx) => tx.putRollout({ ...row, percent: 20, revision: row.revision + 1 }, row.revision + 5))).toBe(false);
    expect((await w.store.getRollout('hp'))!.percent).toBe(10);
    expect(await w.store.transaction((tx) => tx.putRollout({ ...row, percent: 20, revision: row.revision + 1 }, row.revision))).toBe(true);
    expect(await w.store.getRollout('hp')).toMatchObject({ percent: 20, revision: row.revision + 1, limits: null, steps: null });
    // A step decided on the old revision changes nothing: on PostgreSQL the registry rereads the row first and
    // finds the revision moved; on SQLite (whose row was changed behind the registry's back here) the write loses.
    const step = w.registry.stepRollout('hp', row.revision, 50, 'guard', 'test');
    if (w.store.kind === 'sqlite') expect(await errorOf(step)).toMatchObject({ code: 'ABORTED' });
    else expect(await step).toBeUndefined();
    expect((await w.store.getRollout('hp'))!.percent).toBe(20);
  });

  it('a new upload during a rollout does not take the traffic from the stable version', async () => {
    const w = await start();
    await uploadDir(w, 'hp', PLUS_THREE);
    await uploadDir(w, 'hp', PLUS_TWO, { activate: false });
    await w.registry.unpin('hp', 'test');
    await w.registry.pin('hp', 1, 'test');
    await w.registry.unpin('hp', 'test'); // follows the newest (2) now
    await w.registry.settled();
    await w.registry.startRollout('hp', rollout({ version: 1, percent: 0 }), 'test');
    await uploadDir(w, 'hp', PLUS_THREE); // v3, activate=true
    await w.registry.settled();
    expect(await predict(w, { name: 'hp', routing: {} })).toEqual({ version: 2, y: 2.5 });
    expect(w.registry.getModel('hp').activeVersion).toBe(2);
    // Aborting keeps the stable version serving (pinned: the model would follow v3 otherwise).
    await w.registry.abortRollout('hp', 'test');
    await w.registry.settled();
    expect(await predict(w, { name: 'hp', routing: {} })).toEqual({ version: 2, y: 2.5 });
    expect(w.registry.getModel('hp').pinnedVersion).toBe(2);
  });

  it('shadow with no room for copies (queue 0) drops every copy and still answers every client', async () => {
    const w = await start({ shadowQueue: 0 });
    await twoVersions(w);
    await w.registry.startRollout('hp', rollout({ version: 2, mode: 'shadow' }), 'test');
    for (let i = 0; i < 20; i++) expect(await predict(w, { name: 'hp', routing: {} })).toEqual({ version: 1, y: 3.5 });
    expect(w.registry.shadowStats('hp')).toMatchObject({ requests: 0, dropped: 20, failed: 0, queued: 0, queue_limit: 0, agreement: null });
  });

  it('shadow: clients always get the stable answer; the candidate gets copies, compared', async () => {
    const w = await start();
    await twoVersions(w);
    await w.registry.startRollout('hp', rollout({ version: 2, mode: 'shadow' }), 'test');
    for (let i = 0; i < 40; i++) expect(await predict(w, { name: 'hp', routing: { key: `c${i}` } })).toEqual({ version: 1, y: 3.5 });
    const stats = await waitFor('the copies to run', () => {
      const s = w.registry.shadowStats('hp')!;
      return s.requests + s.dropped === 40 && s.queued === 0 ? s : undefined;
    });
    expect(stats.requests).toBeGreaterThan(0);
    expect(stats.failed).toBe(0);
    // One output per row: the argmax always agrees; the values differ by exactly 1.
    expect(stats.agreement).toBe(1);
    expect(stats.max_abs_diff).toBeCloseTo(1, 6);
    expect(stats.p50_ms).toBeGreaterThan(0);
    expect(stats.p99_ms).toBeGreaterThanOrEqual(stats.p50_ms!);
  });
}
