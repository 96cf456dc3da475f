/**
 * The servers under test, each in its own child process (so the load
 * generator in the bench process never shares their event loop):
 *  - the bare node:http ceiling (bench/bare_server.ts);
 *  - `node bin/modelhost.js serve` on a temp copy of ./models/f_mnist plus
 *    half_plus_two from ../shared/fixtures, a temp registry, and whatever
 *    extra flags a case needs (batching, inference threads).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { F_MNIST_DIR, HALF_PLUS_TWO_DIR, ROOT, sleep, spawnServer } from './common.js';

export interface RunningServer {
  readonly url: string;
  readonly pid: number;
  /** The command line, for the report. */
  readonly command: string;
  output(): string;
  stop(): Promise<void>;
}

/** A port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = a && typeof a === 'object' ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function stopper(child: ReturnType<typeof spawnServer>['child']): () => Promise<void> {
  return async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  };
}

export async function startBare(): Promise<RunningServer> {
  const script = path.join(ROOT, 'dist', 'bench', 'bare_server.js');
  const s = spawnServer([script]);
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    const done = () => {
      clearTimeout(timer);
      s.child.stdout.off('data', onData);
      s.child.off('exit', onExit);
    };
    const fail = (err: Error) => {
      done();
      if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
      reject(err);
    };
    const onData = (b: Buffer) => {
      buf += b.toString();
      const m = /LISTENING (\d+)/.exec(buf);
      if (m) {
        done();
        resolve(Number(m[1]));
      }
    };
    const onExit = (code: number | null) => fail(new Error(`bare server exited (${code}):\n${s.output()}`));
    const timer = setTimeout(() => fail(new Error(`bare server did not start:\n${s.output()}`)), 10_000);
    s.child.stdout.on('data', onData);
    s.child.once('exit', onExit);
  });
  return { url: `http://127.0.0.1:${port}`, pid: s.child.pid!, command: `node dist/bench/bare_server.js`, output: s.output, stop: stopper(s.child) };
}

/** Copies the models the bench serves into `workDir/models` (f_mnist versions 1 and 2, half_plus_two). */
export function prepareModels(workDir: string): string {
  const models = path.join(workDir, 'models');
  fs.cpSync(F_MNIST_DIR, path.join(models, 'f_mnist'), { recursive: true });
  fs.cpSync(HALF_PLUS_TWO_DIR, path.join(models, 'half_plus_two'), { recursive: true });
  return models;
}

/** Flags `modelhost serve --help` lists (so cases needing a flag the server lacks are skipped, not failed). */
export function serveFlags(): Promise<Set<string>> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(ROOT, 'bin', 'modelhost.js'), 'serve', '--help'], { cwd: ROOT }, (_err, stdout) => {
      resolve(new Set([...stdout.matchAll(/--([a-z_]+)/g)].map((m) => m[1])));
    });
  });
}

async function available(url: string): Promise<boolean> {
  try {
    const res = await fetch(url);
    if (!res.ok) return false;
    const body = (await res.json()) as { model_version_status?: { state: string }[] };
    return (body.model_version_status ?? []).some((v) => v.state === 'AVAILABLE');
  } catch {
    return false;
  }
}

export interface ModelhostOptions {
  workDir: string;
  modelsDir: string;
  /** Extra `serve` flags (`--enable_batching`, `--batching_parameters_file=...`, ...). */
  args: readonly string[];
  /** Models that must be AVAILABLE before the server counts as ready. */
  models: readonly string[];
  label: string;
  /** Options for node itself, before the script (e.g. --cpu-prof). */
  nodeArgs?: readonly string[];
}

export async function startModelhost(o: ModelhostOptions): Promise<RunningServer> {
  const port = await freePort();
  const registry = path.join(o.workDir, `registry-${o.label}.db`);
  const args = [
    'serve',
    `--rest_api_port=${port}`,
    '--port=0',
    '--rest_api_host=127.0.0.1',
    `--models_dir=${o.modelsDir}`,
    `--registry_path=${registry}`,
    ...o.args,
  ];
  const s = spawnServer([...(o.nodeArgs ?? []), path.join(ROOT, 'bin', 'modelhost.js'), ...args]);
  const url = `http://127.0.0.1:${port}`;
  const server: RunningServer = {
    url,
    pid: s.child.pid!,
    command: `modelhost ${args.map((a) => a.replace(o.workDir, '$TMP')).join(' ')}`,
    output: s.output,
    stop: stopper(s.child),
  };
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (s.child.exitCode !== null) throw new Error(`modelhost serve exited (${s.child.exitCode}):\n${s.output()}`);
    const ready = await Promise.all(o.models.map((m) => available(`${url}/v1/models/${m}`)));
    if (ready.every(Boolean)) return server;
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`modelhost serve not ready after 120 s:\n${s.output()}`);
    }
    await sleep(100);
  }
}
