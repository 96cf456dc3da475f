// Scale-out end to end: three `modelhost serve` processes (the built binary)
// on loopback ports sharing one real PostgreSQL registry and one real
// S3-compatible server (s3rver), the model's base path on s3://. An upload
// through replica A and a pin, unpin and rollback through B are served by
// every replica within 2 s. A fourth replica is killed (SIGKILL) during an
// upload, at each of the upload's crash points (MODELHOST_CRASH_AT) and once
// from outside at a moment the test does not choose: the other replicas keep
// answering every request, and the upload ends either complete (recorded
// once as `uploaded`, served everywhere) or invisible (no version row, no
// marker in the bucket), once the dead replica's heartbeat has lapsed and a
// live replica has finished or undone its upload. Version 1 is TF Serving's
// half_plus_two (x = 1 → 2.5); uploaded version N answers 1000 + N.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MANIFEST_NAME } from '../../serving/object_store/manifest.js';
import { startServeProcess, type ServeProcess } from '../../scripts/serve_process.js';
import { writeVersionModel } from '../../scripts/soak.js';
import { TestS3, S3_KEY } from '../serving/object_store/s3_server.js';
import { createTestDatabase, describePostgres, type TestDatabase } from '../registry/postgres_helper.js';
import { FIXTURES, waitFor } from './helpers.js';
import { Traffic } from './traffic.js';

const PLUS_TWO = path.join(FIXTURES, 'saved_model_half_plus_two_cpu/00000123');
const BUCKET = 'models';
const PREFIX = 'team/hp';
const BASE = `s3://${BUCKET}/${PREFIX}`;
/** What the issue promises: a change through one replica is served by every replica within this. */
const AGREE_WITHIN_MS = 2000;
const LAPSE_MS = 1500;
const valueOf = (version: number) => (version === 1 ? 2.5 : 1000 + version);

interface VersionJson {
  version: number;
  state: string;
  source: string;
  retired: boolean;
}
interface EventJson {
  kind: string;
  version: number | null;
  actor: string;
}

describePostgres('three replicas sharing PostgreSQL and an S3 bucket', () => {
  let tmp: string;
  let db: TestDatabase;
  let s3: TestS3;
  let sql: pg.Client;
  const servers: ServeProcess[] = [];
  let a: ServeProcess;
  let b: ServeProcess;
  let c: ServeProcess;
  let nextVersion = 2;

  const env = (crashAt?: string): NodeJS.ProcessEnv => {
    const e: NodeJS.ProcessEnv = {
      ...process.env,
      S3_ENDPOINT: `127.0.0.1:${s3.port}`,
      S3_USE_HTTPS: '0',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: S3_KEY,
      AWS_SECRET_ACCESS_KEY: S3_KEY,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    delete e.MODELHOST_ADMIN_TOKEN; // changes from loopback
    delete e.MODELHOST_CRASH_AT;
    delete e.AWS_ENDPOINT_URL;
    delete e.AWS_ENDPOINT_URL_S3;
    if (crashAt) e.MODELHOST_CRASH_AT = crashAt;
    return e;
  };

  const serve = async (id: string, crashAt?: string) => {
    const dir = path.join(tmp, id);
    fs.mkdirSync(dir, { recursive: true });
    const s = await startServeProcess(
      [
        '--model_name=hp',
        `--model_base_path=${BASE}`,
        `--registry_url=${db.url}`,
        `--models_dir=${path.join(dir, 'models')}`,
        `--model_cache_dir=${path.join(dir, 'cache')}`,
        '--file_system_poll_wait_seconds=0.2',
        `--replica_id=${id}`,
        '--replica_heartbeat_ms=250',
        `--replica_lapse_ms=${LAPSE_MS}`,
        '--enable_model_warmup=false',
        '--inference_threads=1',
      ],
      { cwd: dir, env: env(crashAt) },
    );
    servers.push(s);
    return s;
  };

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-replicas-s3-'));
    db = await createTestDatabase();
    s3 = await TestS3.start();
    await s3.createBucket(BUCKET);
    await s3.putDir(BUCKET, `${PREFIX}/1`, PLUS_TWO); // a plain TF Serving folder
    a = await serve('replica-a');
    [b, c] = await Promise.all([serve('replica-b'), serve('replica-c')]);
    sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
  });
  afterAll(async () => {
    for (const s of servers) await s.stop();
    await sql?.end();
    await s3?.close();
    await db?.drop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const live = () => [a, b, c].filter((s) => s.proc.exitCode === null && s.proc.signalCode === null);

  async function answer(s: ServeProcess): Promise<number | string> {
    const res = await fetch(`${s.url}/v1/models/hp:predict`, { method: 'POST', body: '{"instances": [1.0]}' });
    const text = await res.text();
    return res.ok ? JSON.parse(text).predictions[0] : `${res.status} ${text}`;
  }

  async function call(s: ServeProcess, method: string, route: string, body?: unknown) {
    const res = await fetch(`${s.url}/api/v1${route}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json();
    expect(res.status, JSON.stringify(json)).toBeLessThan(300);
    return json;
  }

  /** Waits until every live replica answers `expected`; fails past `withinMs` after `since`, else returns the slowest time. */
  async function allAgree(expected: number, since: number, withinMs = AGREE_WITHIN_MS): Promise<number> {
    const took = await Promise.all(
      live().map(async (s) => {
        for (;;) {
          const got = await answer(s);
          const ms = Date.now() - since;
          if (got === expected) return ms;
          if (ms > withinMs) throw new Error(`${s.url} still answers ${got} ${ms} ms after the change (expected ${expected})`);
          await new Promise((r) => setTimeout(r, 20));
        }
      }),
    );
    return Math.max(...took);
  }

  /** A multipart upload of a version answering 1000 + `version`, as `version`. */
  async function uploadForm(version: number): Promise<FormData> {
    const dir = path.join(tmp, 'uploads', String(version));
    await writeVersionModel(dir, version);
    const form = new FormData();
    const walk = (rel: string) => {
      for (const name of fs.readdirSync(path.join(dir, rel)).sort()) {
        const child = rel ? `${rel}/${name}` : name;
        if (fs.statSync(path.join(dir, child)).isDirectory()) walk(child);
        else form.append('files', new Blob([fs.readFileSync(path.join(dir, child))]), child);
      }
    };
    walk('');
    form.append('version', String(version));
    return form;
  }

  const events = async (s: ServeProcess) => (await call(s, 'GET', '/models/hp/events?limit=1000')).events as EventJson[];
  const versions = async (s: ServeProcess) => (await call(s, 'GET', '/models/hp')).versions as VersionJson[];
  const pendingMoves = async () => Number((await sql.query('SELECT count(*) AS n FROM pending_moves')).rows[0].n);
  const markerOf = async (version: number) => (await s3.keys(BUCKET, `${PREFIX}/${version}/`)).includes(`${PREFIX}/${version}/${MANIFEST_NAME}`);

  /**
   * What every replica and the bucket must agree on once an upload is over:
   * every version row that is not REMOVED has its objects in the bucket (a
   * marker, for uploads), and every marker has a row recorded as `uploaded`.
   */
  async function consistent(): Promise<void> {
    const rows = await versions(a);
    for (const s of live()) expect((await versions(s)).map((v) => [v.version, v.source])).toEqual(rows.map((v) => [v.version, v.source]));
    for (const v of rows) {
      if (v.state === 'REMOVED') continue;
      const keys = await s3.keys(BUCKET, `${PREFIX}/${v.version}/`);
      expect(keys, `objects of version ${v.version}`).toContain(`${PREFIX}/${v.version}/saved_model.pb`);
      if (v.source === 'uploaded') expect(keys, `marker of version ${v.version}`).toContain(`${PREFIX}/${v.version}/${MANIFEST_NAME}`);
    }
    const markers = (await s3.keys(BUCKET, `${PREFIX}/`)).filter((k) => k.endsWith(`/${MANIFEST_NAME}`) && !k.includes('.modelhost-staging'));
    for (const k of markers) {
      const version = Number(k.slice(PREFIX.length + 1).split('/')[0]);
      expect(rows.find((v) => v.version === version), `the row of published version ${version}`).toMatchObject({ source: 'uploaded' });
    }
  }

  it('serves version 1 on all three replicas, each listing the three', async () => {
    for (const s of [a, b, c]) expect(await answer(s)).toBe(2.5);
    await expect
      .poll(async () => ((await call(c, 'GET', '/replicas')).replicas as { id: string; status: string }[]).map((r) => `${r.id} ${r.status}`).sort(), { timeout: 5000 })
      .toEqual(['replica-a live', 'replica-b live', 'replica-c live']);
  });

  it('an upload through A, then a pin, unpin and rollback through B, are served by every replica within 2 s', async () => {
    const version = nextVersion++;
    let t = Date.now();
    const res = await fetch(`${a.url}/api/v1/models/hp/versions`, { method: 'POST', body: await uploadForm(version) });
    expect(res.status, await res.clone().text()).toBe(201);
    expect(await res.json()).toMatchObject({ version, path: `${BASE}/${version}`, source: 'uploaded' });
    const took = [await allAgree(valueOf(version), t)];

    t = Date.now();
    expect(await call(b, 'POST', '/models/hp/pin', { version: 1 })).toMatchObject({ pinned_version: 1 });
    took.push(await allAgree(2.5, t));
    // Each replica's heartbeat says which version serves: v1 on all three, shortly after.
    const servingOf = async () =>
      ((await call(c, 'GET', '/replicas')).replicas as { id: string; versions: { model: string; version: number; serving?: boolean }[] }[])
        .map((r) => `${r.id} ${r.versions.filter((v) => v.serving).map((v) => `${v.model}/${v.version}`).join()}`)
        .sort();
    await expect.poll(servingOf, { timeout: AGREE_WITHIN_MS }).toEqual(['replica-a hp/1', 'replica-b hp/1', 'replica-c hp/1']);

    t = Date.now();
    await call(b, 'DELETE', '/models/hp/pin');
    took.push(await allAgree(valueOf(version), t));

    t = Date.now();
    expect(await call(b, 'POST', '/models/hp/rollback')).toMatchObject({ active_version: 1, pinned_version: 1 });
    took.push(await allAgree(2.5, t));

    t = Date.now();
    await call(a, 'DELETE', '/models/hp/pin');
    took.push(await allAgree(valueOf(version), t));
    for (const ms of took) expect(ms).toBeLessThan(AGREE_WITHIN_MS);

    const history = await events(c);
    expect(history.filter((e) => e.version === version && (e.kind === 'uploaded' || e.kind === 'discovered')).map((e) => e.kind)).toEqual(['uploaded']);
    await consistent();
  });

  it('an upload with activate=false through A is never served by B or C: the version serving stays, pinned', async () => {
    const version = nextVersion++;
    const before = (await call(a, 'GET', '/models/hp')).active_version as number;
    const traffic = [b, c].map((s) => new Traffic(`${s.url}/v1/models/hp:predict`, [valueOf(before)], 3));
    try {
      await Promise.all(traffic.map((t) => t.passes(5)));
      const form = await uploadForm(version);
      form.append('activate', 'false');
      const res = await fetch(`${a.url}/api/v1/models/hp/versions`, { method: 'POST', body: form });
      expect(res.status, await res.clone().text()).toBe(201);
      // Every replica finds the new version in the bucket and loads it (newest), within a few polls.
      await waitFor('the new version loaded on B and C', async () => {
        const loaded = await Promise.all([b, c].map(async (s) => (await versions(s)).find((v) => v.version === version)?.state));
        return loaded.every((x) => x === 'AVAILABLE');
      });
      await Promise.all(traffic.map((t) => t.passes(20)));
    } finally {
      await Promise.all(traffic.map((t) => t.stop()));
    }
    for (const t of traffic) expect(t.failures).toEqual([]);
    for (const s of live()) expect(await call(s, 'GET', '/models/hp')).toMatchObject({ active_version: before, pinned_version: before });
    const t = Date.now();
    await call(b, 'DELETE', '/models/hp/pin');
    expect(await allAgree(valueOf(version), t)).toBeLessThan(AGREE_WITHIN_MS);
  });

  /** Runs `upload` (which ends with a replica killed) under traffic on A, B and C; checks the others kept serving and the outcome. */
  async function killedDuringUpload(version: number, upload: () => Promise<void>, activate = true): Promise<'complete' | 'nothing'> {
    const active = (await call(a, 'GET', '/models/hp')).active_version as number;
    const before = valueOf(active);
    const traffic = live().map((s) => new Traffic(`${s.url}/v1/models/hp:predict`, activate ? [before, valueOf(version)] : [before], 2));
    let outcome: 'complete' | 'nothing';
    try {
      await Promise.all(traffic.map((t) => t.passes(5)));
      await upload();
      // The dead replica's upload is finished or undone by a live one once its heartbeat lapses.
      await waitFor('the interrupted upload finished or undone', async () => (await pendingMoves()) === 0, LAPSE_MS + 10_000);
      const row = (await sql.query('SELECT source FROM versions WHERE model = $1 AND version = $2', ['hp', version])).rows[0] as { source: string } | undefined;
      outcome = row ? 'complete' : 'nothing';
      // Every replica's copy of the registry follows the store within 2 s.
      const listed = async (s: ServeProcess) => (await versions(s)).find((v) => v.version === version)?.source ?? 'none';
      await waitFor('every replica to list the outcome', async () => (await Promise.all(live().map(listed))).every((x) => x === (row ? 'uploaded' : 'none')), AGREE_WITHIN_MS);
      if (outcome === 'complete') {
        expect(row).toEqual({ source: 'uploaded' });
        expect(await markerOf(version)).toBe(true);
        if (activate) await allAgree(valueOf(version), Date.now(), 5000);
        const history = await events(b);
        expect(history.filter((e) => e.version === version && (e.kind === 'uploaded' || e.kind === 'discovered')).map((e) => e.kind)).toEqual(['uploaded']);
      } else {
        expect(await markerOf(version)).toBe(false);
        for (const s of live()) expect((await fetch(`${s.url}/api/v1/models/hp/versions/${version}`)).status).toBe(404);
        // Nothing appears later either (a poll or two of the bucket on every replica).
        await new Promise((r) => setTimeout(r, 600));
        for (const s of live()) expect((await versions(s)).map((v) => v.version)).not.toContain(version);
        expect(await allAgree(before, Date.now(), 0)).toBeGreaterThanOrEqual(0);
      }
      await Promise.all(traffic.map((t) => t.passes(5)));
    } finally {
      await Promise.all(traffic.map((t) => t.stop()));
    }
    for (const t of traffic) expect(t.failures).toEqual([]);
    // An upload that ends invisible was never served by anyone.
    if (outcome === 'nothing') for (const t of traffic) expect(t.answers.get(valueOf(version)) ?? 0).toBe(0);
    await consistent();
    return outcome;
  }

  const expectedOutcome: Record<string, 'complete' | 'nothing'> = {
    'upload:staged': 'nothing',
    'upload:recorded': 'nothing',
    'upload:moved': 'complete',
    'upload:committed': 'complete',
  };
  for (const point of Object.keys(expectedOutcome)) {
    it(`a replica killed at ${point} during an upload: the others keep serving, and the upload ends ${expectedOutcome[point]}`, async () => {
      const version = nextVersion++;
      const d = await serve(`replica-d-${point.split(':')[1]}`, point);
      const outcome = await killedDuringUpload(version, async () => {
        const sent = fetch(`${d.url}/api/v1/models/hp/versions`, { method: 'POST', body: await uploadForm(version) });
        await expect(sent).rejects.toThrow();
        await waitFor('the replica to die', () => d.proc.signalCode === 'SIGKILL');
      });
      expect(outcome).toBe(expectedOutcome[point]);
      expect(d.output()).not.toMatch(/Recovery:/); // it was the live replicas that recovered its upload
    });
  }

  for (const [point, expected] of [
    ['upload:recorded', 'nothing'],
    ['upload:moved', 'complete'],
  ] as const) {
    it(`a replica killed at ${point} during an upload with activate=false: the version serving stays on every replica, pinned only while the upload stands`, async () => {
      const version = nextVersion++;
      const active = (await call(a, 'GET', '/models/hp')).active_version as number;
      const d = await serve(`replica-d-inactive-${point.split(':')[1]}`, point);
      const outcome = await killedDuringUpload(
        version,
        async () => {
          const form = await uploadForm(version);
          form.append('activate', 'false');
          await expect(fetch(`${d.url}/api/v1/models/hp/versions`, { method: 'POST', body: form })).rejects.toThrow();
          await waitFor('the replica to die', () => d.proc.signalCode === 'SIGKILL');
        },
        false,
      );
      expect(outcome).toBe(expected);
      // The pin the upload made when it was recorded is undone with it.
      for (const s of live()) expect(await call(s, 'GET', '/models/hp')).toMatchObject({ active_version: active, pinned_version: expected === 'complete' ? active : null });
      if (expected === 'complete') await call(a, 'DELETE', '/models/hp/pin');
    });
  }

  it('a replica killed from outside while its upload publishes: the upload ends complete or invisible', async () => {
    const version = nextVersion++;
    const d = await serve('replica-d-outside');
    const outcome = await killedDuringUpload(version, async () => {
      const sent = fetch(`${d.url}/api/v1/models/hp/versions`, { method: 'POST', body: await uploadForm(version) }).then(
        (r) => r.status,
        () => 'reset',
      );
      // As soon as its first object is staged in the bucket.
      await waitFor('the upload to reach the bucket', async () => (await s3.keys(BUCKET, `${PREFIX}/.modelhost-staging/${version}/`)).length > 0, 20_000, 5);
      d.proc.kill('SIGKILL');
      await sent;
    });
    expect(['complete', 'nothing']).toContain(outcome);
  });

  it('a replica killed while another uploads: the upload completes and is served by the survivors; the dead one is reported gone', async () => {
    const version = nextVersion++;
    const before = valueOf((await call(a, 'GET', '/models/hp')).active_version);
    const traffic = [a, b].map((s) => new Traffic(`${s.url}/v1/models/hp:predict`, [before, valueOf(version)], 2));
    try {
      const t = Date.now();
      const sent = fetch(`${a.url}/api/v1/models/hp/versions`, { method: 'POST', body: await uploadForm(version) });
      c.proc.kill('SIGKILL');
      const res = await sent;
      expect(res.status, await res.clone().text()).toBe(201);
      expect(await allAgree(valueOf(version), t)).toBeLessThan(AGREE_WITHIN_MS);
    } finally {
      await Promise.all(traffic.map((t) => t.stop()));
    }
    for (const t of traffic) expect(t.failures).toEqual([]);
    await expect
      .poll(async () => ((await call(b, 'GET', '/replicas')).replicas as { id: string; status: string }[]).filter((r) => r.id === 'replica-c').map((r) => r.status), { timeout: 5000 })
      .toEqual(['gone']);
    await consistent();
  });
});
