// TF Serving's --grpc_socket_path: the gRPC API on a UNIX socket, beside (or
// instead of) the TCP port; a stale socket is replaced, any other file there
// is refused rather than deleted.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../serving/log.js';
import { startServer, type RunningServer } from '../../server/serve.js';
import { protoClient } from './grpc_client.js';
import { FIXTURES } from './helpers.js';

type Unary = (req: Record<string, unknown>, cb: (err: grpc.ServiceError | null, res: Record<string, unknown>) => void) => void;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-grpc-socket-'));
const servers: RunningServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const start = (socket: string) =>
  startServer({
    models: { kind: 'single', name: 'half', basePath: path.join(FIXTURES, 'saved_model_half_plus_two_cpu') },
    restApiPort: 0,
    restApiHost: '127.0.0.1',
    grpcSocketPath: socket,
    log: silentLogger,
  });

const modelService = (address: string) =>
  protoClient<grpc.Client & { GetModelStatus: Unary }>('tensorflow_serving/apis/model_service.proto', 'tensorflow.serving.ModelService', address);

describe('--grpc_socket_path', () => {
  it('serves the gRPC API on a UNIX socket, replacing a stale one', async () => {
    const socket = path.join(tmp, 'stale.sock');
    // A process killed while listening leaves its socket file behind.
    const holder = spawn(process.execPath, ['-e', "require('net').createServer().listen(process.argv[1], () => console.log('up'))", socket]);
    await new Promise((resolve) => holder.stdout.once('data', resolve));
    holder.kill('SIGKILL');
    await new Promise((resolve) => holder.once('exit', resolve));
    expect(fs.lstatSync(socket).isSocket()).toBe(true);
    const server = await start(socket);
    servers.push(server);
    expect(fs.lstatSync(socket).isSocket()).toBe(true);
    const client = modelService(`unix:${socket}`);
    try {
      const status = await new Promise<Record<string, unknown>>((resolve, reject) =>
        client.GetModelStatus({ model_spec: { name: 'half' } }, (err, res) => (err ? reject(err) : resolve(res))),
      );
      expect(status.model_version_status).toMatchObject([{ version: '123', state: 'AVAILABLE' }]);
    } finally {
      client.close();
    }
  });

  it('refuses to start over a file that is not a socket, leaving the file alone', async () => {
    const file = path.join(tmp, 'precious.txt');
    fs.writeFileSync(file, 'keep me');
    await expect(start(file)).rejects.toThrow(/exists and is not a socket; refusing to replace it/);
    expect(fs.readFileSync(file, 'utf8')).toBe('keep me');
  });
});
