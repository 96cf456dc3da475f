/**
 * `npm run soak`: hot swaps under load against a real `modelhost serve`
 * process with default flags (bounded: a few minutes; exit code 1 on any
 * failure or wrong answer).
 *
 *  - The server serves a temporary models folder holding one model, `soak`,
 *    whose version 1 is TF Serving's half_plus_two fixture (x = 1 → 2.5).
 *  - `--clients` keep-alive clients call predict with x = 1 continuously:
 *    three in four (by default) ask for the default version, the others for
 *    a specific version (a non-retired one, kept for a few requests, so versions are
 *    loaded on demand and evicted). Every uploaded version N answers
 *    1000 + N (y = x + b, b restored from its checkpoint), so each answer
 *    names the version that served it.
 *  - Meanwhile `--changes` changes go through the management API, one at a
 *    time: uploads (a few with activate=false), pins, unpins, rollbacks and
 *    retires, chosen at random (seeded) among those valid at that moment.
 *  - Every answer is checked: a default-version answer must come from a
 *    version that was the default at some instant of the request (during a
 *    change, from its request to its acknowledgement, the versions before and
 *    after it are both allowed); a specific-version answer must come from that
 *    version (a 404 is allowed once its retirement was asked for). After each
 *    change the server's active version must be the one the change implies.
 *  - Resident memory of the server is sampled from /proc/<pid>/status.
 *
 * With `--replicas=N` (N > 1; scripts/soak_replicas.ts) N replicas with
 * default flags share a PostgreSQL registry (a database made for the run on
 * --postgres_url or $MODELHOST_TEST_POSTGRES_URL) and an s3rver bucket
 * holding the model's base path. Each client sends its requests to the
 * replicas in turn (a round robin over their ports), and each change goes
 * through the next replica. A change's window of allowed answers (before
 * and after) lasts until 2 s after its acknowledgement; from then on every
 * replica must answer only with the new version, and every replica's
 * registry must report it active; a second of traffic is checked so before
 * the next change. New versions become targets of the specific-version
 * clients 2 s after their upload.
 *
 *   npm run soak -- --changes=200 --clients=32 --seed=1
 *   npm run soak -- --replicas=3 [--changes=100] [--postgres_url=postgresql://...] [--every_change]
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { ModelBuilder } from '../runtime/graph/builder.js';
import { packageRoot } from '../runtime/package_root.js';
import { writeSavedModel } from '../runtime/savedmodel/writer.js';
import { Tensor } from '../runtime/tensor.js';
import { multipartBody, type FormPart } from '../server/commands/multipart.js';
import { residentMemory, startServeProcess, type ServeProcess } from './serve_process.js';
import { startReplicas, type Replicas } from './soak_replicas.js';
import { mulberry32 } from './seeded_random.js';

export interface SoakOptions {
  changes: number;
  clients: number;
  /** Every n-th client asks for specific versions, the others for the default one (default 4). */
  specificEvery?: number;
  seed?: number;
  /** Extra `modelhost serve` flags (default: none, the defaults are the point). */
  serveArgs?: readonly string[];
  /** Log every change, not every 20th (--every_change). */
  everyChange?: boolean;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /**
   * More than 1: that many replicas sharing a PostgreSQL registry and an S3
   * bucket (scripts/soak_replicas.ts); clients and changes rotate over them.
   */
  replicas?: number;
  /** With replicas: the server the registry database is made on (default $MODELHOST_TEST_POSTGRES_URL). */
  postgresUrl?: string;
  /** With replicas: how long after a change is acknowledged every replica must serve only it (default 2000 ms). */
  settleMs?: number;
}

export interface SoakResult {
  replicas: number;
  requests: number;
  /** Requests that got no answer, or an error they were not allowed to get (503s included). */
  failures: number;
  /** 200 answers from a version that was not allowed at that moment, or with numbers no version gives. */
  wrongAnswers: number;
  /** Changes that failed, and changes after which the active version was not the one expected. */
  changeFailures: number;
  changes: Record<string, number>;
  /** The first few problems, described. */
  problems: string[];
  seconds: number;
  /** The longest a version that had been switched away from still answered after the switch was acknowledged. */
  slowestAgreementMs: number;
  /** Resident memory of the server (with replicas: the largest). */
  rss: { start: number; end: number; peak: number };
}

const MODEL = 'soak';
const X = 1;
const FIXTURE_VALUE = 2.5; // half_plus_two, version 1
const valueOf = (version: number) => (version === 1 ? FIXTURE_VALUE : 1000 + version);
const versionOf = (value: number) => (value === FIXTURE_VALUE ? 1 : Number.isInteger(value - 1000) && value > 1001 ? value - 1000 : undefined);
const REQUEST_TIMEOUT_MS = 30_000;
const CHANGE_TIMEOUT_MS = 60_000;
/** Replicas: a change through one is served by every one within this (issue 16). */
const AGREE_WITHIN_MS = 2000;
/** Replicas: traffic checked against the settled version before the next change. */
const CHECKED_GAP_MS = 1000;


interface Answer {
  t0: number;
  t1: number;
  /** Undefined: the default version. */
  asked: number | undefined;
  status: number;
  body: string;
  /** Which server answered (index). */
  replica: number;
}

interface Epoch {
  start: number;
  allowed: number[];
}

interface ModelJson {
  active_version: number | null;
  previous_version: number | null;
  pinned_version: number | null;
  versions: { version: number; retired: boolean; state: string }[];
}

function send(agent: http.Agent, url: string, method: string, body?: string | { contentType: string; length: number; stream: () => NodeJS.ReadableStream }, timeoutMs = REQUEST_TIMEOUT_MS): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = {};
    if (body !== undefined && typeof body !== 'string') {
      headers['Content-Type'] = body.contentType;
      headers['Content-Length'] = body.length;
    } else if (typeof body === 'string') headers['Content-Type'] = 'application/json';
    const req = http.request(url, { method, agent, headers, timeout: timeoutMs }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    if (body === undefined || typeof body === 'string') req.end(body);
    else body.stream().pipe(req);
  });
}

/** A SavedModel answering x + b with b = 999 + version restored from its checkpoint (x = 1 → 1000 + version). */
export async function writeVersionModel(dir: string, version: number): Promise<void> {
  const m = new ModelBuilder();
  const b = m.variable('b', Tensor.from('float32', [], [999 + version]));
  const fn = m.function('serve', [{ name: 'x', dtype: 'float32', shape: [-1] }], (tf, x) => tf.add(x, tf.readVariable(b)));
  m.signature('serving_default', fn, { outputs: ['y'] });
  await writeSavedModel(dir, m.build());
}

function filesOf(dir: string, rel = ''): FormPart[] {
  const parts: FormPart[] = [];
  for (const name of fs.readdirSync(path.join(dir, rel)).sort()) {
    const child = rel ? `${rel}/${name}` : name;
    const full = path.join(dir, child);
    const st = fs.statSync(full);
    if (st.isDirectory()) parts.push(...filesOf(dir, child));
    else parts.push({ name: 'files', filename: child, file: full, size: st.size });
  }
  return parts;
}

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const log = options.log ?? (() => {});
  const random = mulberry32(options.seed ?? 1);
  const replicaCount = options.replicas ?? 1;
  // With replicas: a change is acknowledged by one of them; the others must serve it within settleMs.
  const settleMs = replicaCount > 1 ? (options.settleMs ?? AGREE_WITHIN_MS) : 0;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-soak-'));
  const fixture = path.resolve(packageRoot(), '../shared/fixtures/tf-serving/saved_model_half_plus_two_cpu/00000123');
  const env = { ...process.env };
  delete env.MODELHOST_ADMIN_TOKEN; // changes come from loopback, as an operator on the host makes them
  const problems: string[] = [];
  const problem = (p: string) => {
    if (problems.length < 20) problems.push(p);
  };
  let servers: ServeProcess[] = [];
  let replicas: Replicas | undefined;
  const started = performance.now();
  let stopClients = false;
  const answers: Answer[] = [];
  let failures = 0;
  let wrongAnswers = 0;
  let changeFailures = 0;
  let slowestAgreementMs = 0;
  const changes: Record<string, number> = {};
  const rss = { start: 0, end: 0, peak: 0 };
  const api = new http.Agent({ keepAlive: true, maxSockets: 1 });
  let sampler: NodeJS.Timeout | undefined;
  try {
    if (replicaCount > 1) {
      const postgresUrl = options.postgresUrl ?? process.env.MODELHOST_TEST_POSTGRES_URL;
      if (!postgresUrl) {
        throw new Error('--replicas needs a PostgreSQL server: pass --postgres_url=postgresql://... or set MODELHOST_TEST_POSTGRES_URL (eval "$(scripts/postgres_test_cluster.sh start)").');
      }
      replicas = await startReplicas({ count: replicaCount, tmp, model: MODEL, firstVersion: fixture, postgresUrl, serveArgs: options.serveArgs });
      servers = replicas.servers;
    } else {
      fs.cpSync(fixture, path.join(tmp, 'models', MODEL, '1'), { recursive: true });
      fs.chmodSync(path.join(tmp, 'models', MODEL, '1'), 0o755);
      servers = [
        await startServeProcess([`--models_dir=${path.join(tmp, 'models')}`, `--registry_path=${path.join(tmp, 'registry.db')}`, ...(options.serveArgs ?? [])], {
          cwd: tmp,
          env,
        }),
      ];
    }
    const sample = () => {
      let now = 0;
      for (const srv of servers) {
        const m = residentMemory(srv.pid);
        if (m) {
          rss.peak = Math.max(rss.peak, m.rss, m.peak);
          now = Math.max(now, m.rss);
        }
      }
      return now;
    };
    sampler = setInterval(sample, 200);
    const getModel = async (srv: ServeProcess): Promise<ModelJson> => {
      const r = await send(api, `${srv.url}/api/v1/models/${MODEL}`, 'GET');
      if (r.status !== 200) throw new Error(`GET model from ${srv.url}: ${r.status} ${r.body}`);
      return JSON.parse(r.body) as ModelJson;
    };

    // What clients may target, and when retirements were asked for.
    let state = await getModel(servers[0]);
    const retireAsked = new Map<number, number>();
    const servable = () => state.versions.filter((v) => !v.retired && v.state !== 'REMOVED').map((v) => v.version);
    let targets = servable();
    const epochs: Epoch[] = [{ start: -Infinity, allowed: [state.active_version ?? 1] }];
    /** Changes of the default version: when acknowledged, from which version to which (for the agreement time). */
    const switches: { c1: number; from: number; to: number; until: number }[] = [];

    const client = async (index: number) => {
      // One keep-alive connection per replica; each request goes to the next replica (round robin over their ports).
      const agents = servers.map(() => new http.Agent({ keepAlive: true, maxSockets: 1 }));
      const random = mulberry32((options.seed ?? 1) * 1000 + index + 1);
      const every = options.specificEvery ?? 4;
      const specific = index % every === every - 1;
      let asked: number | undefined;
      let left = 0;
      let turn = index;
      try {
        while (!stopClients) {
          if (specific && left-- <= 0) {
            asked = targets[Math.floor(random() * targets.length)];
            left = 5 + Math.floor(random() * 20);
          }
          const which = turn++ % servers.length;
          const url = `${servers[which].url}/v1/models/${MODEL}${asked === undefined ? '' : `/versions/${asked}`}:predict`;
          const t0 = performance.now();
          try {
            const r = await send(agents[which], url, 'POST', `{"instances": [${X}]}`);
            answers.push({ t0, t1: performance.now(), asked, status: r.status, body: r.body, replica: which });
          } catch (e) {
            failures++;
            problem(`${url}: ${(e as Error).message}`);
          }
        }
      } finally {
        for (const a of agents) a.destroy();
      }
    };
    const clients = Array.from({ length: options.clients }, (_, i) => client(i));
    await new Promise((r) => setTimeout(r, 2000));
    rss.start = sample();

    let nextVersion = Math.max(...state.versions.map((v) => v.version)) + 1;
    const newest = (exclude?: number) => Math.max(...servable().filter((v) => v !== exclude));
    for (let i = 0; i < options.changes; i++) {
      // Changes go through the replicas in turn too.
      const via = servers[i % servers.length];
      const active = state.active_version!;
      const pinned = state.pinned_version;
      const live = servable();
      // Valid changes now, with weights.
      const choices: [string, number][] = [['upload', 4]];
      if (live.length > 1) choices.push(['pin', 2]);
      if (pinned !== null) choices.push(['unpin', 2]);
      if (state.previous_version !== null && state.previous_version !== active && live.includes(state.previous_version)) choices.push(['rollback', 2]);
      if (live.filter((v) => v !== pinned).length > 2) choices.push(['retire', 2]);
      choices.push(['upload_inactive', 1]);
      let pick = random() * choices.reduce((n, [, w]) => n + w, 0);
      const kind = choices.find(([, w]) => (pick -= w) < 0)![0];

      let request: () => Promise<{ status: number; body: string }>;
      let expected: number;
      let detail = kind;
      if (kind === 'upload' || kind === 'upload_inactive') {
        const version = nextVersion++;
        const dir = path.join(tmp, 'uploads', String(version));
        await writeVersionModel(dir, version);
        const form = multipartBody([...filesOf(dir), { name: 'version', value: String(version) }, { name: 'activate', value: String(kind === 'upload') }]);
        request = () => send(api, `${via.url}/api/v1/models/${MODEL}/versions`, 'POST', { contentType: form.contentType, length: form.length, stream: () => form.stream() }, CHANGE_TIMEOUT_MS);
        expected = pinned ?? (kind === 'upload' ? version : active);
        detail = `${kind} ${version}`;
      } else if (kind === 'pin') {
        const others = live.filter((v) => v !== pinned);
        const version = others[Math.floor(random() * others.length)];
        request = () => send(api, `${via.url}/api/v1/models/${MODEL}/pin`, 'POST', JSON.stringify({ version }), CHANGE_TIMEOUT_MS);
        expected = version;
        detail = `pin ${version}`;
      } else if (kind === 'unpin') {
        request = () => send(api, `${via.url}/api/v1/models/${MODEL}/pin`, 'DELETE', undefined, CHANGE_TIMEOUT_MS);
        expected = newest();
      } else if (kind === 'rollback') {
        request = () => send(api, `${via.url}/api/v1/models/${MODEL}/rollback`, 'POST', undefined, CHANGE_TIMEOUT_MS);
        expected = state.previous_version!;
        detail = `rollback to ${expected}`;
      } else {
        const candidates = live.filter((v) => v !== pinned);
        const version = candidates[Math.floor(random() * candidates.length)];
        request = () => send(api, `${via.url}/api/v1/models/${MODEL}/versions/${version}`, 'DELETE', undefined, CHANGE_TIMEOUT_MS);
        expected = version === active ? newest(version) : active;
        detail = `retire ${version}`;
        retireAsked.set(version, performance.now());
        targets = targets.filter((v) => v !== version);
      }
      if (servers.length > 1) detail += ` through replica ${i % servers.length}`;

      const c0 = performance.now();
      let ack: { status: number; body: string };
      try {
        ack = await request();
      } catch (e) {
        changeFailures++;
        problem(`change ${i + 1} (${detail}): ${(e as Error).message}`);
        break;
      }
      const c1 = performance.now();
      changes[kind] = (changes[kind] ?? 0) + 1;
      if (ack.status < 200 || ack.status > 299) {
        changeFailures++;
        problem(`change ${i + 1} (${detail}): ${ack.status} ${ack.body}`);
      }
      state = await getModel(via);
      const now = state.active_version!;
      if (now !== expected) {
        changeFailures++;
        problem(`change ${i + 1} (${detail}): version ${now} is active, expected ${expected}`);
      }
      const before = epochs[epochs.length - 1].allowed.at(-1)!;
      epochs.push({ start: c0, allowed: [...new Set([before, now])] }, { start: c1 + settleMs, allowed: [now] });
      const last = switches.at(-1);
      if (last && last.until === Infinity) last.until = c0;
      if (before !== now) switches.push({ c1, from: before, to: now, until: Infinity });
      if (settleMs > 0) {
        // Every replica has had settleMs to follow; its registry must say so too. Then some traffic that must all be `now`.
        await new Promise((r) => setTimeout(r, Math.max(0, c1 + settleMs - performance.now())));
        for (const [k, srv] of servers.entries()) {
          const seen = (await getModel(srv)).active_version;
          if (seen !== now) {
            changeFailures++;
            problem(`change ${i + 1} (${detail}): replica ${k} reports version ${seen} active ${settleMs} ms later, expected ${now}`);
          }
        }
        await new Promise((r) => setTimeout(r, Math.max(0, c1 + settleMs + CHECKED_GAP_MS - performance.now())));
      }
      targets = servable();
      if (options.everyChange || (i + 1) % 20 === 0 || i + 1 === options.changes) {
        const at = `${((c0 - started) / 1000).toFixed(1)}-${((c1 - started) / 1000).toFixed(1)} s`;
        log(`change ${i + 1}/${options.changes} (${detail}, ${at}): ${answers.length} answers, active ${now}, largest server RSS ${(sample() / 2 ** 20).toFixed(0)} MiB`);
      }
    }
    await new Promise((r) => setTimeout(r, 2000));
    stopClients = true;
    await Promise.all(clients);
    rss.end = sample();

    // Check every answer against what was allowed during it.
    for (const a of answers) {
      const where = servers.length > 1 ? ` (replica ${a.replica})` : '';
      if (a.asked !== undefined) {
        if (a.status === 404 && (retireAsked.get(a.asked) ?? Infinity) < a.t1) continue;
        if (a.status !== 200) {
          failures++;
          problem(`version ${a.asked}${where}: ${a.status} ${a.body.slice(0, 300)}`);
          continue;
        }
        const value = (JSON.parse(a.body) as { predictions: number[] }).predictions[0];
        if (value !== valueOf(a.asked)) {
          wrongAnswers++;
          problem(`version ${a.asked}${where} answered ${value}`);
        }
        continue;
      }
      if (a.status !== 200) {
        failures++;
        problem(`default version${where}: ${a.status} ${a.body.slice(0, 300)}`);
        continue;
      }
      const value = (JSON.parse(a.body) as { predictions: number[] }).predictions[0];
      const version = versionOf(value);
      const allowed = new Set<number>();
      for (let e = 0; e < epochs.length; e++) {
        const until = e + 1 < epochs.length ? epochs[e + 1].start : Infinity;
        if (epochs[e].start <= a.t1 && until >= a.t0) for (const v of epochs[e].allowed) allowed.add(v);
      }
      if (version === undefined || !allowed.has(version)) {
        wrongAnswers++;
        problem(`default version${where} answered ${value} (version ${version ?? '?'}) at ${((a.t0 - started) / 1000).toFixed(1)} s; allowed then: ${[...allowed].join(', ')}`);
      }
      // How long after a switch was acknowledged the old version still answered somewhere.
      if (version !== undefined) {
        for (const sw of switches) if (version === sw.from && a.t0 >= sw.c1 && a.t0 < sw.until) slowestAgreementMs = Math.max(slowestAgreementMs, a.t1 - sw.c1);
      }
    }
  } finally {
    stopClients = true;
    clearInterval(sampler);
    api.destroy();
    const codes = replicas ? await replicas.close() : await Promise.all(servers.map((s) => s.stop(30_000)));
    for (const [k, code] of codes.entries()) if (code !== 0) problem(`server ${k} exited with ${code} on SIGTERM`);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return {
    replicas: replicaCount,
    requests: answers.length + failures,
    failures,
    wrongAnswers,
    changeFailures,
    changes,
    problems,
    seconds: (performance.now() - started) / 1000,
    slowestAgreementMs,
    rss,
  };
}

function flag(name: string, fallback: number): number {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  const value = arg === undefined ? fallback : Number(arg.slice(name.length + 3));
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} must be a non-negative integer`);
  return value;
}

function stringFlag(name: string): string | undefined {
  return process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

async function main(): Promise<void> {
  const replicas = flag('replicas', 1);
  if (replicas < 1) throw new Error('--replicas must be at least 1');
  const options = { changes: flag('changes', replicas > 1 ? 100 : 200), clients: flag('clients', 32), seed: flag('seed', 1), replicas, postgresUrl: stringFlag('postgres_url'), everyChange: process.argv.includes('--every_change') };
  const who =
    replicas > 1
      ? `${replicas} modelhost serve replicas (default flags) sharing a PostgreSQL registry and an S3 bucket, requests and changes round-robin over them`
      : 'modelhost serve with default flags';
  console.log(`Soak: ${options.changes} changes under ${options.clients} keep-alive clients, ${who} (seed ${options.seed})`);
  const r = await runSoak({ ...options, log: (l) => console.log(l) });
  const mib = (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`;
  console.log(`changes: ${Object.entries(r.changes).map(([k, n]) => `${k} ${n}`).join(', ')}`);
  console.log(`requests ${r.requests}, failures ${r.failures}, wrong answers ${r.wrongAnswers}, change failures ${r.changeFailures}, ${r.seconds.toFixed(0)} s`);
  if (replicas > 1) console.log(`slowest agreement: the old version last answered ${r.slowestAgreementMs.toFixed(0)} ms after a change was acknowledged`);
  console.log(`${replicas > 1 ? 'largest replica' : 'server'} RSS: start ${mib(r.rss.start)}, end ${mib(r.rss.end)}, peak ${mib(r.rss.peak)}`);
  for (const p of r.problems) console.log(`  ${p}`);
  process.exitCode = r.failures + r.wrongAnswers + r.changeFailures > 0 ? 1 : 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(packageRoot(), 'dist/scripts/soak.js')) {
  main().catch((e: Error) => {
    console.error(e.stack ?? e.message);
    process.exitCode = 1;
  });
}
