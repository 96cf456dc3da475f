// A real `modelhost serve` process (the built binary) on a temporary folder
// with an empty models/ and an admin token, for the tests that drive the
// registry CLI against it over loopback. Call serveForCli() at the top of a
// test file: it starts the server before the file's tests and stops it
// (SIGTERM) and removes the folder after them.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll } from 'vitest';
import { waitFor } from '../helpers.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const BIN = path.join(ROOT, 'bin/modelhost.js');
const exec = promisify(execFile);

export interface CliServer {
  /** The server's REST URL (once started). */
  readonly url: string;
  /** The temporary folder the server and the CLI run in (models/ in it). */
  readonly tmp: string;
  /**
   * `modelhost <args>` with MODELHOST_SERVER and MODELHOST_ADMIN_TOKEN set
   * (`env` adds to them; an undefined value removes a variable); its exit
   * code and output, whether it fails or not.
   */
  cli(args: string[], env?: Record<string, string | undefined>): Promise<{ code: number; stdout: string; stderr: string }>;
}

export function serveForCli(options: { prefix: string; token: string; flags?: string[] }): CliServer {
  let tmp = '';
  let proc: ChildProcess;
  let url = '';
  let output = '';

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), options.prefix));
    fs.mkdirSync(path.join(tmp, 'models'));
    proc = spawn(
      process.execPath,
      [BIN, 'serve', '--rest_api_host=127.0.0.1', '--rest_api_port=0', '--port=0', '--file_system_poll_wait_seconds=0.2', `--admin_token=${options.token}`, ...(options.flags ?? [])],
      { cwd: tmp },
    );
    proc.stdout!.on('data', (d) => (output += d));
    proc.stderr!.on('data', (d) => (output += d));
    const port = await waitFor('the server to listen', () => {
      const m = /Exporting HTTP\/REST API at [^\s]*:(\d+)/.exec(output);
      if (!m && proc.exitCode !== null) throw new Error(`server exited: ${output}`);
      return m ? Number(m[1]) : undefined;
    }, 60_000);
    url = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    if (proc && proc.exitCode === null) {
      const exited = new Promise((r) => proc.on('exit', r));
      proc.kill('SIGTERM');
      await exited;
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  return {
    get url() {
      return url;
    },
    get tmp() {
      return tmp;
    },
    async cli(args: string[], env: Record<string, string | undefined> = {}) {
      const fullEnv: NodeJS.ProcessEnv = { ...process.env, MODELHOST_SERVER: url, MODELHOST_ADMIN_TOKEN: options.token, ...env };
      for (const [k, v] of Object.entries(env)) if (v === undefined) delete fullEnv[k];
      try {
        const { stdout, stderr } = await exec(process.execPath, [BIN, ...args], { cwd: tmp, env: fullEnv });
        return { code: 0, stdout, stderr };
      } catch (e) {
        const err = e as { code: number; stdout: string; stderr: string };
        return { code: err.code, stdout: err.stdout, stderr: err.stderr };
      }
    },
  };
}
