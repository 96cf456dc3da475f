/**
 * `npm run crash-test`: kill -9 at random points of uploads and pins, and
 * check that every restart finds the registry and the folders in agreement.
 *
 * Runs the built server (`node bin/modelhost.js serve`) on a temporary models
 * folder and registry file. Each iteration starts the server, checks the
 * invariants (below), sends one change through the management API (an upload
 * with activate=true or false, a pin, an unpin, or a retire with purge) and
 * kills the server with SIGKILL: either after a random delay within the
 * change's usual duration, or exactly at one of the registry's crash points
 * (MODELHOST_CRASH_AT, registry/crash_points.ts). The next start checks:
 *  - the registry and the folders agree: a version row is REMOVED exactly
 *    when its folder is missing, every version folder has a row, and no
 *    other model (a ghost) appeared;
 *  - no staging folder (`.upload-*`, `.purged-*`) remains;
 *  - the version that served before the kill still serves, unless the change
 *    committed (its row, pin or purge is in the registry after the restart),
 *    then the version it made serve; a change acknowledged before the kill
 *    must have committed. "Serves" means: the registry's active version,
 *    AVAILABLE in GET /v1/models/m, and predict answers with that version's
 *    numbers (versions alternate y = 0.5x + 2 and y = 0.5x + 3).
 *
 *   node dist/scripts/crash_test.js [--iterations 100] [--seed N] [--keep]
 *
 * Prints the seed (rerun with --seed to replay the same changes and delays;
 * kill timing still varies with the machine), a line per iteration, and a
 * summary; exits 1 on any violation.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CRASH_AT_ENV, type CrashPoint } from '../registry/crash_points.js';
import { packageRoot } from '../runtime/package_root.js';
import { ApiClient, type ModelJson } from '../server/commands/api_client.js';
import { multipartBody } from '../server/commands/multipart.js';
import { uploadParts } from '../server/commands/upload.js';
import { mulberry32 } from './seeded_random.js';

const ROOT = packageRoot();
const BIN = path.join(ROOT, 'bin/modelhost.js');
const FIXTURES = path.resolve(ROOT, '../shared/fixtures/tf-serving');
/** Odd versions: y = 0.5x + 2; even versions: y = 0.5x + 3. */
const PLUS_TWO = path.join(FIXTURES, 'saved_model_half_plus_two_cpu/00000123');
const PLUS_THREE = path.join(FIXTURES, 'saved_model_half_plus_three/00000123');
const MODEL = 'm';
const STAGING = /^\.(upload|purged)-/;

export interface CrashTestOptions {
  iterations: number;
  seed: number;
  /** Keep the temporary folder (printed) instead of deleting it. */
  keep?: boolean;
  log?: (line: string) => void;
}

export interface CrashTestSummary {
  seed: number;
  iterations: number;
  /** Kills by kind: 'delay' (random time) or a crash point. */
  kills: Record<string, number>;
  /** Changes per kind, and how many had committed when checked after the restart. */
  changes: Record<string, { sent: number; acknowledged: number; committed: number }>;
  violations: string[];
  seconds: number;
}

type Change =
  | { kind: 'upload'; version: number; activate: boolean }
  | { kind: 'pin'; version: number }
  | { kind: 'unpin' }
  | { kind: 'purge'; version: number };

/** What was true at the last check: the registry's view of the model, and the version serving. */
interface Known {
  model: ModelJson;
  serving: number;
  /** Highest version number the registry ever recorded. */
  highest: number;
}


const expectedY = (version: number) => (version % 2 === 1 ? 2.5 : 3.5);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Server {
  proc: ChildProcess;
  url: string;
  api: ApiClient;
  output: () => string;
  exited: Promise<void>;
}

/** Servers running now, killed if this script is stopped. */
const running = new Set<ChildProcess>();

async function startServer(dir: string, crashAt: CrashPoint | undefined): Promise<Server> {
  const env = { ...process.env };
  delete env[CRASH_AT_ENV];
  if (crashAt) env[CRASH_AT_ENV] = crashAt;
  delete env.MODELHOST_ADMIN_TOKEN;
  const proc = spawn(
    process.execPath,
    [
      BIN,
      'serve',
      '--rest_api_host=127.0.0.1',
      '--rest_api_port=0', '--port=0',
      `--models_dir=${path.join(dir, 'models')}`,
      `--registry_path=${path.join(dir, 'registry.db')}`,
      '--file_system_poll_wait_seconds=0.5',
      '--inference_threads=0',
    ],
    { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  proc.stdout!.on('data', (d) => (output += d));
  proc.stderr!.on('data', (d) => (output += d));
  running.add(proc);
  const exited = new Promise<void>((resolve) =>
    proc.once('exit', () => {
      running.delete(proc);
      resolve();
    }),
  );
  const deadline = Date.now() + 60_000;
  for (;;) {
    const m = /Exporting HTTP\/REST API at [^\s]*:(\d+)/.exec(output);
    if (m) {
      const url = `http://127.0.0.1:${m[1]}`;
      return { proc, url, api: new ApiClient(url, ''), output: () => output, exited };
    }
    if (proc.exitCode !== null || proc.signalCode !== null || Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`the server did not start:\n${output.slice(-3000)}`);
    }
    await sleep(20);
  }
}

async function kill(s: Server): Promise<void> {
  if (s.proc.exitCode === null && s.proc.signalCode === null) s.proc.kill('SIGKILL');
  await s.exited;
}

/** Waits until `fn` returns undefined (all good), for at most `ms`; returns the last complaint otherwise. */
async function settle(fn: () => Promise<string | undefined>, ms: number): Promise<string | undefined> {
  const deadline = Date.now() + ms;
  let last: string | undefined;
  for (;;) {
    try {
      last = await fn();
    } catch (e) {
      last = (e as Error).message;
    }
    if (last === undefined || Date.now() > deadline) return last;
    await sleep(50);
  }
}

/** Staging folders anywhere in the models folder or a model folder. */
function stagingLeft(modelsDir: string): string[] {
  const out: string[] = [];
  if (!fs.existsSync(modelsDir)) return out;
  for (const name of fs.readdirSync(modelsDir)) {
    const p = path.join(modelsDir, name);
    if (STAGING.test(name)) out.push(p);
    else if (fs.statSync(p).isDirectory()) for (const inner of fs.readdirSync(p)) if (STAGING.test(inner)) out.push(path.join(p, inner));
  }
  return out;
}

/** Registry rows against version folders; returns what disagrees. */
function disagreements(model: ModelJson, modelsDir: string): string[] {
  const out: string[] = [];
  const base = path.join(modelsDir, MODEL);
  for (const v of model.versions) {
    const onDisk = fs.existsSync(path.join(base, String(v.version)));
    if (v.state === 'REMOVED' && onDisk) out.push(`version ${v.version} is REMOVED but its folder is there`);
    if (v.state !== 'REMOVED' && !onDisk) out.push(`version ${v.version} is ${v.state} but its folder is missing`);
  }
  const rows = new Set(model.versions.filter((v) => v.state !== 'REMOVED').map((v) => v.version));
  const folders = fs.existsSync(base) ? fs.readdirSync(base).filter((n) => /^\d+$/.test(n)).map(Number) : [];
  for (const f of folders) if (!rows.has(f)) out.push(`folder ${f} has no live registry row`);
  return out;
}

/** The version that serves given the registry's pin and versions: the pin, else the newest live one not retired. */
function servedBy(model: ModelJson): number | undefined {
  if (model.pinned_version !== null) return model.pinned_version;
  const live = model.versions.filter((v) => v.state !== 'REMOVED' && v.state !== 'FAILED' && !v.retired).map((v) => v.version);
  return live.length ? Math.max(...live) : undefined;
}

/** Checks that `version` serves: active in the registry, AVAILABLE over /v1, and predict answers from it. */
async function checkServes(s: Server, version: number): Promise<string | undefined> {
  const model = await s.api.call<ModelJson>('GET', `/models/${MODEL}`);
  if (model.active_version !== version) return `active version is ${model.active_version}, expected ${version}`;
  const status = (await (await fetch(`${s.url}/v1/models/${MODEL}`)).json()) as { model_version_status?: { version: string; state: string }[] };
  const entry = status.model_version_status?.find((e) => e.version === String(version));
  if (entry?.state !== 'AVAILABLE') return `GET /v1/models/${MODEL} shows version ${version} as ${entry?.state ?? 'absent'}`;
  const res = await fetch(`${s.url}/v1/models/${MODEL}:predict`, { method: 'POST', body: JSON.stringify({ instances: [1.0] }) });
  const body = (await res.json()) as { predictions?: number[]; error?: string };
  if (res.status !== 200 || body.predictions?.[0] !== expectedY(version)) {
    return `predict answered ${res.status} ${JSON.stringify(body)}, expected ${expectedY(version)} from version ${version}`;
  }
  return undefined;
}

/** Did `change` commit, judging by the registry after the restart (and was it consistent)? */
function committed(change: Change, after: ModelJson): boolean {
  switch (change.kind) {
    case 'upload':
      return after.versions.some((v) => v.version === change.version);
    case 'pin':
      return after.pinned_version === change.version;
    case 'unpin':
      return after.pinned_version === null;
    case 'purge':
      return after.versions.find((v) => v.version === change.version)?.state === 'REMOVED';
  }
}

/** The version that must serve after the restart. */
function mustServe(change: Change, before: Known, done: boolean): number {
  if (!done) return before.serving;
  switch (change.kind) {
    case 'upload':
      return change.activate && before.model.pinned_version === null ? change.version : before.serving;
    case 'pin':
      return change.version;
    case 'unpin': {
      const live = before.model.versions.filter((v) => v.state !== 'REMOVED' && !v.retired).map((v) => v.version);
      return Math.max(...live);
    }
    case 'purge':
      return before.serving;
  }
}

function describe(change: Change): string {
  switch (change.kind) {
    case 'upload':
      return `upload ${change.version}${change.activate ? '' : ' (activate=false)'}`;
    case 'pin':
      return `pin ${change.version}`;
    case 'unpin':
      return 'unpin';
    case 'purge':
      return `retire+purge ${change.version}`;
  }
}

/** Sends `change`; resolves true once the server acknowledged it (2xx). */
async function send(s: Server, change: Change): Promise<boolean> {
  try {
    switch (change.kind) {
      case 'upload': {
        const parts = await uploadParts(change.version % 2 === 1 ? PLUS_TWO : PLUS_THREE, { activate: change.activate });
        await s.api.upload(`/models/${MODEL}/versions`, multipartBody(parts));
        break;
      }
      case 'pin':
        await s.api.call('POST', `/models/${MODEL}/pin`, { version: change.version });
        break;
      case 'unpin':
        await s.api.call('DELETE', `/models/${MODEL}/pin`);
        break;
      case 'purge':
        await s.api.call('DELETE', `/models/${MODEL}/versions/${change.version}?purge=true`);
        break;
    }
    return true;
  } catch {
    return false;
  }
}

/** Picks the next change from what is known now. */
function pickChange(random: () => number, known: Known): Change {
  const live = known.model.versions.filter((v) => v.state === 'AVAILABLE' && !v.retired).map((v) => v.version);
  const r = random();
  const pinned = known.model.pinned_version;
  const purgeable = live.filter((v) => v !== known.serving && v !== pinned);
  if (r < 0.15 && purgeable.length > 0) return { kind: 'purge', version: purgeable[Math.floor(random() * purgeable.length)] };
  if (r < 0.4 && live.length > 1) {
    const others = live.filter((v) => v !== pinned);
    return { kind: 'pin', version: others[Math.floor(random() * others.length)] };
  }
  if (r < 0.5 && pinned !== null) return { kind: 'unpin' };
  return { kind: 'upload', version: known.highest + 1, activate: random() >= 0.15 };
}

const UPLOAD_POINTS: CrashPoint[] = ['upload:staged', 'upload:recorded', 'upload:moved', 'upload:committed'];
const PURGE_POINTS: CrashPoint[] = ['purge:recorded', 'purge:moved', 'purge:committed'];

export async function runCrashTest(options: CrashTestOptions): Promise<CrashTestSummary> {
  const log = options.log ?? ((line: string) => console.log(line));
  const random = mulberry32(options.seed);
  const started = Date.now();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-crash-test-'));
  const modelsDir = path.join(dir, 'models');
  const summary: CrashTestSummary = { seed: options.seed, iterations: options.iterations, kills: {}, changes: {}, violations: [], seconds: 0 };
  /** Usual duration of each kind of change (ms), from the acknowledged ones; kill delays are drawn below it. */
  const usual: Record<string, number> = { upload: 400, pin: 60, unpin: 60, purge: 80 };
  log(`crash test: seed ${options.seed}, ${options.iterations} iterations, in ${dir}`);
  let server: Server | undefined = undefined;
  try {
    // Version 1, not killed: the model exists and serves before the first kill.
    server = await startServer(dir, undefined);
    if (!(await send(server, { kind: 'upload', version: 1, activate: true }))) throw new Error(`the first upload failed:\n${server.output().slice(-3000)}`);
    let known: Known = { model: await server.api.call<ModelJson>('GET', `/models/${MODEL}`), serving: 1, highest: 1 };

    for (let i = 1; i <= options.iterations; i++) {
      const change = pickChange(random, known);
      const points = change.kind === 'upload' ? UPLOAD_POINTS : change.kind === 'purge' ? PURGE_POINTS : [];
      // A third of uploads and purges stop exactly at a crash point; the rest, and pins, at a random time.
      const point = points.length > 0 && random() < 1 / 3 ? points[Math.floor(random() * points.length)] : undefined;
      const delay = Math.round(random() * usual[change.kind] * 1.5);
      const killedBy = point ?? 'delay';
      summary.kills[killedBy] = (summary.kills[killedBy] ?? 0) + 1;
      const counts = (summary.changes[change.kind] ??= { sent: 0, acknowledged: 0, committed: 0 });
      counts.sent++;

      const tStart = Date.now();
      // The server that passed the last checks takes the change, unless it must stop at a crash point.
      if (point) {
        await kill(server);
        server = await startServer(dir, point);
      }
      const t0 = Date.now();
      let acknowledged = false;
      const sent = send(server, change).then((ok) => {
        acknowledged = ok;
        if (ok) usual[change.kind] = 0.8 * usual[change.kind] + 0.2 * (Date.now() - t0);
      });
      if (point) await Promise.race([server.exited, sent.then(() => sleep(200))]);
      else await Promise.race([sleep(delay), sent.then(() => sleep(Math.max(0, delay - (Date.now() - t0))))]);
      await kill(server);
      await sent;
      if (acknowledged) counts.acknowledged++;

      // The restart, and its checks.
      const before = known;
      const tKilled = Date.now();
      server = await startServer(dir, undefined);
      const tRestarted = Date.now();
      const problems: string[] = [];
      const models = (await server.api.call<{ models: ModelJson[] }>('GET', '/models')).models.map((m) => m.name);
      if (models.join() !== MODEL) problems.push(`models listed: [${models.join(', ')}], expected [${MODEL}]`);
      const left = stagingLeft(modelsDir);
      if (left.length) problems.push(`staging folders left: ${left.join(', ')}`);
      const after = await server.api.call<ModelJson>('GET', `/models/${MODEL}`);
      problems.push(...disagreements(after, modelsDir));
      const done = committed(change, after);
      if (done) counts.committed++;
      if (acknowledged && !done) problems.push(`${describe(change)} was acknowledged but is not in the registry after the restart`);
      if (change.kind === 'upload' && !done && fs.existsSync(path.join(modelsDir, MODEL, String(change.version)))) {
        problems.push(`upload ${change.version} has a folder but no row`);
      }
      const expected = mustServe(change, before, done);
      const fromRegistry = servedBy(after);
      if (fromRegistry !== expected) problems.push(`the registry would serve ${fromRegistry}, expected ${expected}`);
      const serving = await settle(() => checkServes(server!, expected), 30_000);
      if (serving) problems.push(serving);

      const at = point ?? `${delay} ms`;
      const timing = `[start ${t0 - tStart} ms, change+kill ${tKilled - t0} ms, restart ${tRestarted - tKilled} ms, checks ${Date.now() - tRestarted} ms]`;
      log(
        `${String(i).padStart(3)}: ${describe(change).padEnd(26)} killed at ${at.padEnd(17)} ${acknowledged ? 'acknowledged' : 'unanswered  '} ${done ? 'committed' : 'not committed'} → serves ${expected} ${timing}${problems.length ? `  VIOLATION: ${problems.join('; ')}` : ''}`,
      );
      for (const p of problems) summary.violations.push(`iteration ${i} (${describe(change)}, killed at ${at}): ${p}`);
      if (problems.length) log(server.output().slice(-2000));
      known = { model: after, serving: expected, highest: Math.max(before.highest, ...after.versions.map((v) => v.version)) };
    }
    await kill(server);
  } finally {
    if (server) await kill(server);
    if (options.keep) log(`kept ${dir}`);
    else fs.rmSync(dir, { recursive: true, force: true });
  }
  summary.seconds = Math.round((Date.now() - started) / 1000);
  const changes = Object.entries(summary.changes)
    .map(([k, c]) => `${k} ${c.sent} (${c.acknowledged} acknowledged, ${c.committed} committed)`)
    .join(', ');
  const kills = Object.entries(summary.kills)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  log(`crash test: ${summary.iterations} kills in ${summary.seconds} s (seed ${summary.seed}); changes: ${changes}; killed at: ${kills}; violations: ${summary.violations.length}`);
  for (const v of summary.violations) log(`  ${v}`);
  return summary;
}

function parseArgs(argv: string[]): CrashTestOptions {
  const options: CrashTestOptions = { iterations: 100, seed: Math.floor(Math.random() * 2 ** 31) };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2);
    const value = () => inline ?? argv[++i];
    if (flag === '--iterations') options.iterations = Number(value());
    else if (flag === '--seed') options.seed = Number(value());
    else if (flag === '--keep') options.keep = true;
    else throw new Error(`unknown argument ${argv[i]} (expected --iterations N, --seed N, --keep)`);
  }
  if (!Number.isSafeInteger(options.iterations) || options.iterations < 1) throw new Error('--iterations: expected a whole number >= 1');
  if (!Number.isSafeInteger(options.seed)) throw new Error('--seed: expected a whole number');
  return options;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      for (const proc of running) proc.kill('SIGKILL');
      process.exit(1);
    });
  }
  runCrashTest(parseArgs(process.argv.slice(2))).then(
    (s) => process.exit(s.violations.length > 0 ? 1 : 0),
    (e: Error) => {
      console.error(e.stack ?? e.message);
      process.exit(1);
    },
  );
}
