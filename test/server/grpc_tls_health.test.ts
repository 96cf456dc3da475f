/**
 * Issue 15's gRPC server options, with real gRPC clients built from the
 * .proto files and real TLS:
 *  - --ssl_config_file (TF Serving's SSLConfig text proto): Predict over TLS
 *    with throw-away certificates made by the `openssl` CLI; a plaintext
 *    client gets nothing; with client_verify a client without a certificate,
 *    or with one that custom_ca did not sign, is refused in the handshake;
 *    bad files stop the start with an error naming the file;
 *  - --enable_grpc_healthcheck_service: grpc.health.v1.Health with "",
 *    "ModelService" and "PredictionService" SERVING (TF Serving's names),
 *    NOT_FOUND "service name unknown" for others, Watch streams that see
 *    NOT_SERVING when the server stops, a bound on open Watch streams;
 *    without the flag the service is absent;
 *  - --enable_serialization_as_tensor_content: Predict outputs as raw
 *    little-endian bytes in tensor_content (strings as varint lengths then
 *    bytes), the typed fields otherwise.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../serving/log.js';
import { startServer, type RunningServer, type ServeOptions } from '../../server/serve.js';
import { writeDtypesModel } from '../helpers/dtypes_model.js';
import { protoClient } from './grpc_client.js';
import { FIXTURES } from './helpers.js';

type Msg = Record<string, unknown>;
type Unary = (req: Msg, options: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: Msg) => void) => void;
type Client = grpc.Client & Record<string, Unary>;
type HealthClient = grpc.Client & { Check: Unary; Watch: (req: Msg) => grpc.ClientReadableStream<Msg> };

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-grpc-tls-'));
const servers: RunningServer[] = [];
const clients: grpc.Client[] = [];
const HALF = path.join(FIXTURES, 'saved_model_half_plus_two_cpu');

const pem = (name: string) => fs.readFileSync(path.join(tmp, name));
const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: tmp, stdio: 'pipe' });

/** A CA, and a key + certificate it signs (with `ext` extensions). */
function makeCa(name: string): void {
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.crt`);
}
function makeCert(name: string, ca: string, ext: string): void {
  fs.writeFileSync(path.join(tmp, `${name}.ext`), ext);
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.csr`);
  openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-days', '1', '-extfile', `${name}.ext`, '-out', `${name}.crt`);
}

/** An SSLConfig text file as TF Serving reads it (PEM texts in C-escaped strings). */
function sslConfig(name: string, fields: { key?: Buffer; cert?: Buffer; ca?: Buffer; clientVerify?: boolean }): string {
  const str = (b: Buffer) => JSON.stringify(b.toString('utf8'));
  const lines = [
    fields.key && `server_key: ${str(fields.key)}`,
    fields.cert && `server_cert: ${str(fields.cert)}`,
    fields.ca && `custom_ca: ${str(fields.ca)}`,
    fields.clientVerify !== undefined && `client_verify: ${fields.clientVerify}`,
  ].filter(Boolean);
  const file = path.join(tmp, name);
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

beforeAll(async () => {
  makeCa('ca');
  makeCa('rogue_ca');
  makeCert('server', 'ca', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  makeCert('client', 'ca', 'extendedKeyUsage=clientAuth\n');
  makeCert('rogue_client', 'rogue_ca', 'extendedKeyUsage=clientAuth\n');
  await writeDtypesModel(path.join(tmp, 'echo', '1'));
}, 60_000);

afterAll(async () => {
  for (const c of clients) c.close();
  for (const s of servers) await s.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function serve(options: Partial<ServeOptions>): Promise<RunningServer> {
  const config = path.join(tmp, `models-${servers.length}.conf`);
  fs.writeFileSync(
    config,
    `model_config_list {
      config { name: "half" base_path: "${HALF}" model_platform: "tensorflow" }
      config { name: "echo" base_path: "${path.join(tmp, 'echo')}" model_platform: "tensorflow" }
    }`,
  );
  const s = await startServer({
    models: { kind: 'config_file', file: config, pollSeconds: 0 },
    restApiPort: 0,
    restApiHost: '127.0.0.1',
    grpcPort: 0,
    execution: { threads: 0 },
    log: silentLogger,
    ...options,
  });
  servers.push(s);
  return s;
}

/** With TLS credentials, the server's certificate is checked for "localhost" (the name it carries). */
function client<C extends grpc.Client>(file: string, service: string, address: string, credentials?: grpc.ChannelCredentials): C {
  const options = credentials?._isSecure() ? { 'grpc.ssl_target_name_override': 'localhost' } : {};
  const c = protoClient<C>(file, service, address, credentials, options);
  clients.push(c);
  return c;
}
const prediction = (address: string, credentials?: grpc.ChannelCredentials) =>
  client<Client>('tensorflow_serving/apis/prediction_service.proto', 'tensorflow.serving.PredictionService', address, credentials);
const health = (address: string, credentials?: grpc.ChannelCredentials) =>
  client<HealthClient>('health/v1/health.proto', 'grpc.health.v1.Health', address, credentials);

function call(c: object, method: string, req: Msg): Promise<Msg> {
  return new Promise((resolve, reject) =>
    (c as Record<string, Unary>)[method](req, { deadline: Date.now() + 10_000 }, (err, res) => (err ? reject(err) : resolve(res))),
  );
}
async function callError(c: object, method: string, req: Msg): Promise<grpc.ServiceError> {
  try {
    await call(c, method, req);
  } catch (e) {
    return e as grpc.ServiceError;
  }
  throw new Error(`${method} succeeded`);
}

const predictHalf = { model_spec: { name: 'half' }, inputs: { x: { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: 3 }] }, float_val: [1, 2, 5] } } };
const yOf = (res: Msg) => (res.outputs as Record<string, Msg>).y;

describe('--ssl_config_file', () => {
  let tlsOnly: RunningServer;
  let verifying: RunningServer;
  const trustCa = () => grpc.credentials.createSsl(pem('ca.crt'));

  beforeAll(async () => {
    tlsOnly = await serve({ grpcSslConfigFile: sslConfig('tls.conf', { key: pem('server.key'), cert: pem('server.crt') }) });
    verifying = await serve({
      grpcSslConfigFile: sslConfig('verify.conf', { key: pem('server.key'), cert: pem('server.crt'), ca: pem('ca.crt'), clientVerify: true }),
    });
  }, 60_000);

  it('answers Predict over TLS', async () => {
    const res = await call(prediction(`127.0.0.1:${tlsOnly.grpcPort}`, trustCa()), 'Predict', predictHalf);
    expect(yOf(res).float_val).toEqual([2.5, 3, 4.5]);
  });

  it('gives a plaintext client nothing', async () => {
    const err = await callError(prediction(`127.0.0.1:${tlsOnly.grpcPort}`), 'Predict', predictHalf);
    expect(err.code).toBe(grpc.status.UNAVAILABLE);
  });

  it('is not trusted by a client that does not trust its CA', async () => {
    const err = await callError(prediction(`127.0.0.1:${tlsOnly.grpcPort}`, grpc.credentials.createSsl(pem('rogue_ca.crt'))), 'Predict', predictHalf);
    expect(err.code).toBe(grpc.status.UNAVAILABLE);
  });

  it('with client_verify, answers a client whose certificate custom_ca signed', async () => {
    const creds = grpc.credentials.createSsl(pem('ca.crt'), pem('client.key'), pem('client.crt'));
    const res = await call(prediction(`127.0.0.1:${verifying.grpcPort}`, creds), 'Predict', predictHalf);
    expect(yOf(res).float_val).toEqual([2.5, 3, 4.5]);
  });

  it('with client_verify, refuses a client without a certificate, or with one custom_ca did not sign', async () => {
    const none = await callError(prediction(`127.0.0.1:${verifying.grpcPort}`, trustCa()), 'Predict', predictHalf);
    expect(none.code).toBe(grpc.status.UNAVAILABLE);
    const rogue = grpc.credentials.createSsl(pem('ca.crt'), pem('rogue_client.key'), pem('rogue_client.crt'));
    const err = await callError(prediction(`127.0.0.1:${verifying.grpcPort}`, rogue), 'Predict', predictHalf);
    expect(err.code).toBe(grpc.status.UNAVAILABLE);
    // ...and still answers the right client afterwards.
    const creds = grpc.credentials.createSsl(pem('ca.crt'), pem('client.key'), pem('client.crt'));
    expect(yOf(await call(prediction(`127.0.0.1:${verifying.grpcPort}`, creds), 'Predict', predictHalf)).float_val).toEqual([2.5, 3, 4.5]);
  });

  it('also secures --grpc_socket_path', async () => {
    const socket = path.join(tmp, 'tls.sock');
    await serve({ grpcPort: undefined, grpcSocketPath: socket, grpcSslConfigFile: path.join(tmp, 'tls.conf') });
    const res = await call(prediction(`unix:${socket}`, trustCa()), 'Predict', predictHalf);
    expect(yOf(res).float_val).toEqual([2.5, 3, 4.5]);
    const plain = await callError(prediction(`unix:${socket}`), 'Predict', predictHalf);
    expect(plain.code).toBe(grpc.status.UNAVAILABLE);
  });

  it('stops the start on a bad file, naming it', async () => {
    const missing = path.join(tmp, 'missing.conf');
    await expect(serve({ grpcSslConfigFile: missing })).rejects.toThrow(`Could not read config file '${missing}'`);
    const noCert = sslConfig('no-cert.conf', { key: pem('server.key') });
    await expect(serve({ grpcSslConfigFile: noCert })).rejects.toThrow(`'${noCert}': the SSLConfig has no server_cert; both are needed (PEM text).`);
    const mismatched = sslConfig('mismatch.conf', { key: pem('client.key'), cert: pem('server.crt') });
    await expect(serve({ grpcSslConfigFile: mismatched })).rejects.toThrow(`'${mismatched}': the SSLConfig's server_key, server_cert or custom_ca is not usable PEM`);
    const verifyNoCa = sslConfig('verify-no-ca.conf', { key: pem('server.key'), cert: pem('server.crt'), clientVerify: true });
    await expect(serve({ grpcSslConfigFile: verifyNoCa })).rejects.toThrow(`'${verifyNoCa}': client_verify is set but custom_ca is empty`);
    const typo = path.join(tmp, 'typo.conf');
    fs.writeFileSync(typo, 'server_keys: "x"');
    await expect(serve({ grpcSslConfigFile: typo })).rejects.toThrow(`Invalid protobuf file: '${typo}'. Error parsing text-format tensorflow.serving.SSLConfig`);
  });
});

describe('--enable_grpc_healthcheck_service', () => {
  it('serves grpc.health.v1.Health as TF Serving does, and turns NOT_SERVING on stop', async () => {
    const s = await serve({ enableGrpcHealthcheckService: true });
    const h = health(`127.0.0.1:${s.grpcPort}`);
    for (const service of ['', 'ModelService', 'PredictionService']) {
      expect(await call(h, 'Check', { service })).toEqual({ status: 'SERVING' });
    }
    const unknown = await callError(h, 'Check', { service: 'tensorflow.serving.PredictionService' });
    expect(unknown.code).toBe(grpc.status.NOT_FOUND);
    expect(unknown.details).toBe('service name unknown');
    expect((await callError(h, 'List', {})).code).toBe(grpc.status.UNIMPLEMENTED);

    const seen: string[] = [];
    const watch = h.Watch({ service: '' });
    watch.on('data', (m: Msg) => seen.push(m.status as string));
    const ended = new Promise<void>((resolve) => {
      watch.on('end', () => resolve());
      watch.on('error', () => resolve());
    });
    const unknownWatch = h.Watch({ service: 'nope' });
    const unknownFirst = await new Promise<Msg>((resolve) => unknownWatch.once('data', resolve));
    expect(unknownFirst).toEqual({ status: 'SERVICE_UNKNOWN' });
    unknownWatch.on('error', () => {});
    while (seen.length === 0) await new Promise((r) => setTimeout(r, 10));
    expect(seen).toEqual(['SERVING']);

    await s.stop(5000);
    await ended;
    expect(seen).toEqual(['SERVING', 'NOT_SERVING']);
  });

  it('bounds open Watch streams (--grpc_health_max_watches), and Check keeps answering', async () => {
    const s = await serve({ enableGrpcHealthcheckService: true, grpcHealthMaxWatches: 2 });
    const h = health(`127.0.0.1:${s.grpcPort}`);
    const first = (stream: grpc.ClientReadableStream<Msg>) =>
      new Promise<Msg | grpc.ServiceError>((resolve) => {
        stream.once('data', resolve);
        stream.once('error', resolve);
      });
    const open = [h.Watch({ service: '' }), h.Watch({ service: 'ModelService' })];
    for (const w of open) expect(await first(w)).toEqual({ status: 'SERVING' });
    const refused = (await first(h.Watch({ service: '' }))) as grpc.ServiceError;
    expect(refused.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(refused.details).toBe('Too many health Watch streams open (at most 2; --grpc_health_max_watches)');
    expect(await call(h, 'Check', { service: '' })).toEqual({ status: 'SERVING' });
    // A closed watch frees its place.
    open[0].on('error', () => {});
    open[0].cancel();
    await new Promise((r) => setTimeout(r, 100));
    expect(await first(h.Watch({ service: 'PredictionService' }))).toEqual({ status: 'SERVING' });
    open[1].on('error', () => {});
  });

  it('is absent without the flag', async () => {
    const s = await serve({});
    const err = await callError(health(`127.0.0.1:${s.grpcPort}`), 'Check', { service: '' });
    expect(err.code).toBe(grpc.status.UNIMPLEMENTED);
  });
});

describe('--enable_serialization_as_tensor_content', () => {
  let plain: Client;
  let content: Client;

  beforeAll(async () => {
    plain = prediction(`127.0.0.1:${(await serve({})).grpcPort}`);
    content = prediction(`127.0.0.1:${(await serve({ enableSerializationAsTensorContent: true })).grpcPort}`);
  }, 60_000);

  const echo = (signature: string, input: Msg) => ({ model_spec: { name: 'echo', signature_name: signature }, inputs: { x: input } });
  const dims = (n: number) => ({ dim: [{ size: n }] });
  const shapeOf = (n: number) => ({ dim: [{ size: String(n), name: '' }], unknown_rank: false });

  it('answers float outputs in tensor_content with the flag, in float_val without', async () => {
    const withFlag = yOf(await call(content, 'Predict', predictHalf));
    expect(withFlag.float_val).toEqual([]);
    const bytes = withFlag.tensor_content as Buffer;
    expect(bytes.length).toBe(12);
    expect(Array.from(new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + 12)))).toEqual([2.5, 3, 4.5]);
    expect(withFlag).toMatchObject({ dtype: 'DT_FLOAT', tensor_shape: shapeOf(3) });
    const withoutFlag = yOf(await call(plain, 'Predict', predictHalf));
    expect(withoutFlag.float_val).toEqual([2.5, 3, 4.5]);
    expect((withoutFlag.tensor_content as Buffer).length).toBe(0);
  });

  it('writes int64, bool and int8 outputs little-endian, one element after the other', async () => {
    const i64 = yOf(await call(content, 'Predict', echo('int64', { dtype: 'DT_INT64', tensor_shape: dims(2), int64_val: ['-2', '9007199254740993'] })));
    const b = i64.tensor_content as Buffer;
    expect([b.readBigInt64LE(0), b.readBigInt64LE(8)]).toEqual([-2n, 9007199254740993n]);
    expect(i64.int64_val).toEqual([]);
    const bool = yOf(await call(content, 'Predict', echo('bool', { dtype: 'DT_BOOL', tensor_shape: dims(3), bool_val: [true, false, true] })));
    expect(Array.from(bool.tensor_content as Buffer)).toEqual([1, 0, 1]);
    const i8 = yOf(await call(content, 'Predict', echo('int8', { dtype: 'DT_INT8', tensor_shape: dims(2), int_val: [-1, 7] })));
    expect(Array.from(i8.tensor_content as Buffer)).toEqual([255, 7]);
    expect(yOf(await call(plain, 'Predict', echo('int8', { dtype: 'DT_INT8', tensor_shape: dims(2), int_val: [-1, 7] }))).int_val).toEqual([-1, 7]);
  });

  it('writes string outputs as varint lengths, then the bytes (TF\'s EncodeStringList)', async () => {
    const long = 'x'.repeat(200);
    const req = echo('string', { dtype: 'DT_STRING', tensor_shape: dims(2), string_val: [Buffer.from('ab'), Buffer.from(long)] });
    const s = yOf(await call(content, 'Predict', req));
    expect(s.string_val).toEqual([]);
    expect(Buffer.from(s.tensor_content as Buffer)).toEqual(Buffer.concat([Buffer.from([2, 200 & 0x7f | 0x80, 1]), Buffer.from('ab'), Buffer.from(long)]));
    const typed = yOf(await call(plain, 'Predict', req));
    expect((typed.string_val as Buffer[]).map((v) => v.toString())).toEqual(['ab', long]);
  });

  it('leaves tensor_content empty for an empty output', async () => {
    const empty = yOf(await call(content, 'Predict', echo('float32', { dtype: 'DT_FLOAT', tensor_shape: dims(0) })));
    expect((empty.tensor_content as Buffer).length).toBe(0);
    expect(empty.tensor_shape).toEqual(shapeOf(0));
  });
});
