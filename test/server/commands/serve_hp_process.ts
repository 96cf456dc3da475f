// The built `modelhost serve` as a user runs it, on a temporary copy of
// half_plus_two's two versions (model "hp", an in-memory registry) with the
// flags a test adds: for the tests of one serve flag each. Call
// serveHpWithFlags() at the top of a test file; it kills what is still
// running after each test and removes the folder after the file.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach } from 'vitest';
import { copyVersion, waitFor } from '../helpers.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const BIN = path.join(ROOT, 'bin/modelhost.js');

export interface HpServeProcess {
  /** Everything the process printed so far (stdout and stderr). */
  output(): string;
  /** Its exit code, once it exits. */
  exit: Promise<number | null>;
  /** Waits until it listens (60 s at most; fails if it exits first) and gives its REST URL. */
  url(): Promise<string>;
}

export function serveHpWithFlags(prefix: string): (flags: string[]) => HpServeProcess {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const running: ChildProcess[] = [];
  const base = path.join(tmp, 'hp');
  copyVersion('saved_model_half_plus_two_2_versions/00000123', path.join(base, '123'));
  copyVersion('saved_model_half_plus_two_2_versions/00000124', path.join(base, '124'));
  afterEach(() => {
    for (const p of running.splice(0)) if (p.exitCode === null) p.kill('SIGKILL');
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  return (flags) => {
    const args = [BIN, 'serve', '--rest_api_host=127.0.0.1', '--rest_api_port=0', '--port=0', '--registry_path=:memory:', '--model_name=hp', `--model_base_path=${base}`, ...flags];
    const proc = spawn(process.execPath, args, { cwd: tmp });
    running.push(proc);
    let output = '';
    proc.stdout!.on('data', (d) => (output += d));
    proc.stderr!.on('data', (d) => (output += d));
    const exit = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
    const url = async () => {
      const port = await waitFor('the server to listen', () => {
        const m = /Exporting HTTP\/REST API at [^\s]*:(\d+)/.exec(output);
        if (!m && proc.exitCode !== null) throw new Error(`server exited: ${output}`);
        return m ? Number(m[1]) : undefined;
      }, 60_000);
      return `http://127.0.0.1:${port}`;
    };
    return { output: () => output, exit, url };
  };
}
