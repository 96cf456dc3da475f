// gRPC requests for a version that is not loaded load it on demand, as REST
// requests do (--max_loaded_versions=1 keeps only the newest loaded).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../serving/log.js';
import { startServer, type RunningServer } from '../../server/serve.js';
import { protoClient } from './grpc_client.js';
import { copyVersion } from './helpers.js';

type Reply = { outputs: Record<string, { float_val: number[] }>; model_spec: { version: { value: string } } };
type Unary = (req: Record<string, unknown>, cb: (err: grpc.ServiceError | null, res: Reply) => void) => void;

let server: RunningServer;
let client: grpc.Client & { Predict: Unary };
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-grpc-on-demand-'));

beforeAll(async () => {
  const modelsDir = path.join(tmp, 'models');
  copyVersion('saved_model_half_plus_two_2_versions/00000123', path.join(modelsDir, 'hp', '123'));
  copyVersion('saved_model_half_plus_two_2_versions/00000124', path.join(modelsDir, 'hp', '124'));
  server = await startServer({
    models: { kind: 'models_dir', dir: modelsDir, pollSeconds: 0.2 },
    restApiPort: 0,
    grpcPort: 0,
    restApiHost: '127.0.0.1',
    fileSystemPollWaitSeconds: 0.2,
    registry: { path: path.join(tmp, 'registry.db'), modelsDir, maxLoadedVersions: 1 },
    log: silentLogger,
  });
  client = protoClient('tensorflow_serving/apis/prediction_service.proto', 'tensorflow.serving.PredictionService', `127.0.0.1:${server.grpcPort}`);
}, 60_000);

afterAll(async () => {
  client?.close();
  await server?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const predict = (version?: number) =>
  new Promise<Reply>((resolve, reject) =>
    client.Predict(
      {
        model_spec: { name: 'hp', ...(version === undefined ? {} : { version: { value: String(version) } }) },
        inputs: { x: { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: 1 }, { size: 1 }] }, float_val: [2] } },
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    ),
  );

describe('gRPC on-demand loading', () => {
  it('answers a named version that is not loaded by loading it, as REST does', async () => {
    expect((await predict()).model_spec.version.value).toBe('124');
    const loaded = async () => {
      const body = (await (await fetch(`${server.url}/api/v1/models/hp/versions`)).json()) as { versions: { version: number; loaded: boolean }[] };
      return Object.fromEntries(body.versions.map((v) => [v.version, v.loaded]));
    };
    expect(await loaded()).toEqual({ 123: false, 124: true });
    const older = await predict(123);
    expect(older.model_spec.version.value).toBe('123');
    expect(older.outputs.y.float_val).toEqual([3]);
    // The newest still answers (it is loaded again if the old one took the slot).
    expect((await predict(124)).outputs.y.float_val).toEqual([3]);
  });
});
