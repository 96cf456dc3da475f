// The model list changing under a running server: a config file re-read every
// --model_config_file_poll_wait_seconds (TF Serving's testModelConfigReload),
// a config file that stops parsing, and new sub-folders of the models directory.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Logger } from '../../serving/log.js';
import { startServer, type RunningServer } from '../../server/serve.js';
import { copyVersion, waitFor } from './helpers.js';

let tmp: string;
let server: RunningServer | undefined;
const logLines: string[] = [];
const log: Logger = { info: (m) => logLines.push(m), warn: (m) => logLines.push(m), error: (m) => logLines.push(m) };

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-reload-'));
  logLines.length = 0;
});
afterEach(async () => {
  await server?.stop();
  server = undefined;
  fs.rmSync(tmp, { recursive: true, force: true });
});

const status = async (name: string) => {
  const res = await request(server!.http.server).get(`/v1/models/${name}`);
  return res.status === 200 ? (res.body.model_version_status as { version: string; state: string }[]) : [];
};
const isAvailable = async (name: string) => (await status(name)).some((s) => s.state === 'AVAILABLE');

describe('config reload', () => {
  it('applies a rewritten config file: new models load, removed ones unload, labels move', async () => {
    copyVersion('matrix_half_plus_two/1', path.join(tmp, 'matrix/1'));
    copyVersion('matrix_half_plus_two/1', path.join(tmp, 'matrix/2'));
    copyVersion('saved_model_counter/00000123', path.join(tmp, 'counter/1'));
    const file = path.join(tmp, 'models.conf');
    const write = (body: string) => fs.writeFileSync(file, `model_config_list { ${body} }`);
    write('config { name: "half_plus_two" base_path: "matrix" model_platform: "tensorflow" }');
    server = await startServer({
      models: { kind: 'config_file', file, pollSeconds: 0.1 },
      restApiPort: 0,
      restApiHost: '127.0.0.1',
      fileSystemPollWaitSeconds: 0.1,
      log,
    });
    expect(await isAvailable('half_plus_two')).toBe(true);

    write(`config { name: "counter" base_path: "counter" model_platform: "tensorflow" }
           config { name: "matrix" base_path: "matrix" model_platform: "tensorflow"
                    model_version_policy { all {} } version_labels { key: "stable" value: 1 } }`);
    // Policy all: both versions of matrix load (2 first, then 1, which the label names).
    await waitFor('counter and both versions of matrix to load', async () =>
      (await isAvailable('counter')) && (await status('matrix')).filter((s) => s.state === 'AVAILABLE').length === 2);
    await waitFor('half_plus_two to unload', async () => (await status('half_plus_two')).every((s) => s.state === 'END'));
    const byLabel = await request(server.http.server).get('/v1/models/matrix/labels/stable/metadata');
    expect(byLabel.body.model_spec.version).toBe('1');

    write(`config { name: "counter" base_path: "counter" model_platform: "tensorflow" }
           config { name: "matrix" base_path: "matrix" model_platform: "tensorflow"
                    model_version_policy { all {} } version_labels { key: "stable" value: 2 } }`);
    await waitFor('the label to move', async () => {
      const res = await request(server!.http.server).get('/v1/models/matrix/labels/stable/metadata');
      return res.body.model_spec?.version === '2';
    });
  });

  it('keeps the current models when the config file stops parsing', async () => {
    copyVersion('matrix_half_plus_two/1', path.join(tmp, 'matrix/1'));
    const file = path.join(tmp, 'models.conf');
    fs.writeFileSync(file, 'model_config_list { config { name: "m" base_path: "matrix" model_platform: "tensorflow" } }');
    server = await startServer({ models: { kind: 'config_file', file, pollSeconds: 0.1 }, restApiPort: 0, restApiHost: '127.0.0.1', log });
    fs.writeFileSync(file, 'improperly formatted file');
    await waitFor('the parse error to be logged', () => logLines.some((l) => l.includes('Keeping the current models') && l.includes(file)));
    expect(await isAvailable('m')).toBe(true);
  });

  it('starts without a models directory and serves model folders as they are added', async () => {
    const dir = path.join(tmp, 'models');
    server = await startServer({
      models: { kind: 'models_dir', dir, pollSeconds: 0.1 },
      restApiPort: 0,
      restApiHost: '127.0.0.1',
      fileSystemPollWaitSeconds: 0.1,
      log,
    });
    expect(logLines).toContain(`No models to serve yet (${dir} has no model folders yet).`);
    copyVersion('matrix_half_plus_two/1', path.join(dir, 'first/1'));
    await waitFor('the first model', () => isAvailable('first'));
    copyVersion('matrix_half_plus_two/1', path.join(dir, 'second/5'));
    await waitFor('the second model', () => isAvailable('second'));
    expect(await isAvailable('first')).toBe(true);
  });
});
