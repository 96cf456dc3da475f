/**
 * `modelhost serve` in a child process, as an operator runs it: for the soak
 * (`npm run soak`) and the tests that must survive a server that hangs (a test
 * in the same process as a starved event loop would hang with it).
 *
 *   const s = await startServeProcess(['--models_dir=/tmp/m', '--registry_path=/tmp/r.db'], { cwd: tmp });
 *   await fetch(`${s.url}/v1/models/m`);
 *   await s.stop();
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../runtime/package_root.js';

const BIN = path.join(packageRoot(), 'bin/modelhost.js');

export interface ServeProcess {
  readonly proc: ChildProcess;
  readonly url: string;
  readonly pid: number;
  /** Everything the server printed so far. */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code (null when killed). */
  stop(graceMs?: number): Promise<number | null>;
}

/** Starts the built binary (dist/) with `args` after `serve --rest_api_host=127.0.0.1 --rest_api_port=0 --port=0`, and waits until it listens. */
export async function startServeProcess(
  args: readonly string[],
  options: { cwd: string; timeoutMs?: number; env?: NodeJS.ProcessEnv },
): Promise<ServeProcess> {
  const proc = spawn(process.execPath, [BIN, 'serve', '--rest_api_host=127.0.0.1', '--rest_api_port=0', '--port=0', ...args], { cwd: options.cwd, env: options.env });
  let output = '';
  proc.stdout!.on('data', (d) => (output += d));
  proc.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const stop = async (graceMs = 10_000): Promise<number | null> => {
    if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
    try {
      return await exited;
    } finally {
      clearTimeout(timer);
    }
  };
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    const m = /Exporting HTTP\/REST API at [^\s]*:(\d+)/.exec(output);
    if (m) return { proc, url: `http://127.0.0.1:${m[1]}`, pid: proc.pid!, output: () => output, stop };
    if (proc.exitCode !== null || Date.now() > deadline) {
      await stop(0);
      throw new Error(`modelhost serve did not start:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Resident memory of a process from /proc (Linux): now (VmRSS) and peak (VmHWM), in bytes; undefined elsewhere. */
export function residentMemory(pid: number): { rss: number; peak: number } | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    return { rss: kb('VmRSS'), peak: kb('VmHWM') };
  } catch {
    return undefined;
  }
}
