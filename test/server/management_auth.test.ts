// Who may change the registry: the admin token when one is set; without one,
// only clients on the same machine, and the refusal says how to set a token.
import type { IncomingMessage } from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../serving/log.js';
import { actorOf, checkAdminAccess, isLoopbackAddress } from '../../server/management/auth.js';
import { startServer, type RunningServer } from '../../server/serve.js';
import { StatusError } from '../../runtime/errors.js';
import { copyVersion } from './helpers.js';

const fakeRequest = (method: string, remoteAddress: string, headers: Record<string, string> = {}) =>
  ({ method, headers, socket: { remoteAddress } }) as unknown as IncomingMessage;

function refusal(req: IncomingMessage, token?: string): StatusError | undefined {
  try {
    checkAdminAccess(req, { adminToken: token });
    return undefined;
  } catch (e) {
    return e as StatusError;
  }
}

describe('admin access', () => {
  it('lets anyone read', () => {
    expect(refusal(fakeRequest('GET', '203.0.113.9'))).toBeUndefined();
    expect(refusal(fakeRequest('GET', '203.0.113.9'), 'secret')).toBeUndefined();
  });

  it('with no token set, accepts changes from loopback only and says how to set a token', () => {
    for (const address of ['127.0.0.1', '::1', '::ffff:127.0.0.1', '127.1.2.3']) expect(refusal(fakeRequest('POST', address))).toBeUndefined();
    const e = refusal(fakeRequest('POST', '203.0.113.9'))!;
    expect(e.code).toBe('PERMISSION_DENIED');
    expect(e.message).toMatch(/MODELHOST_ADMIN_TOKEN=<token> \(or --admin_token_file=<file>\)/);
    expect(refusal(fakeRequest('DELETE', '::ffff:10.0.0.1'))?.code).toBe('PERMISSION_DENIED');
  });

  it('with a token set, needs it from everyone, loopback included', () => {
    expect(refusal(fakeRequest('POST', '127.0.0.1'), 'secret')?.code).toBe('UNAUTHENTICATED');
    expect(refusal(fakeRequest('POST', '127.0.0.1', { authorization: 'Basic abc' }), 'secret')?.code).toBe('UNAUTHENTICATED');
    expect(refusal(fakeRequest('POST', '203.0.113.9', { authorization: 'Bearer wrong' }), 'secret')?.code).toBe('PERMISSION_DENIED');
    expect(refusal(fakeRequest('POST', '203.0.113.9', { authorization: 'Bearer secret' }), 'secret')).toBeUndefined();
    expect(refusal(fakeRequest('PUT', '203.0.113.9', { authorization: 'bearer  secret ' }), 'secret')).toBeUndefined();
  });

  it('refuses changes a browser sends on behalf of another site, token or not', () => {
    const fromSite = (origin: string, extra: Record<string, string> = {}) =>
      fakeRequest('POST', '127.0.0.1', { host: 'localhost:8501', origin, ...extra });
    expect(refusal(fromSite('https://evil.example'))?.message).toMatch(/^Refused a change sent by another site \(Origin https:\/\/evil.example, this server is localhost:8501\)/);
    expect(refusal(fromSite('null'))?.code).toBe('PERMISSION_DENIED');
    expect(refusal(fromSite('https://evil.example', { authorization: 'Bearer secret' }), 'secret')?.code).toBe('PERMISSION_DENIED');
    expect(refusal(fakeRequest('POST', '127.0.0.1', { host: 'localhost:8501', 'sec-fetch-site': 'cross-site' }))?.code).toBe('PERMISSION_DENIED');
    // The console served by this server, and clients that send no Origin (the CLI), are fine.
    expect(refusal(fromSite('http://localhost:8501', { 'sec-fetch-site': 'same-origin' }))).toBeUndefined();
    expect(refusal(fakeRequest('POST', '127.0.0.1', { host: '127.0.0.1:8501' }))).toBeUndefined();
  });

  it('with no token set, refuses a loopback client that names another host (DNS rebinding)', () => {
    const e = refusal(fakeRequest('POST', '127.0.0.1', { host: 'rebound.example:8501', origin: 'http://rebound.example:8501' }))!;
    expect(e.code).toBe('PERMISSION_DENIED');
    expect(e.message).toMatch(/addressed as localhost or 127.0.0.1 \(this request named rebound.example:8501\)/);
    for (const host of ['localhost:8501', 'app.localhost', '127.0.0.1', '[::1]:8501']) expect(refusal(fakeRequest('POST', '::1', { host }))).toBeUndefined();
    // With a token, the token decides.
    expect(refusal(fakeRequest('POST', '127.0.0.1', { host: 'models.internal:8501', authorization: 'Bearer secret' }), 'secret')).toBeUndefined();
  });

  it('recognises loopback addresses and records who acted', () => {
    expect(isLoopbackAddress('10.0.0.1')).toBe(false);
    expect(isLoopbackAddress(undefined)).toBe(false);
    expect(actorOf(fakeRequest('POST', '::ffff:127.0.0.1', { 'x-modelhost-actor': 'cli:alice' }), {})).toBe('loopback@127.0.0.1 (claims "cli:alice")');
    expect(actorOf(fakeRequest('POST', '::1'), {})).toBe('loopback@::1');
    expect(actorOf(fakeRequest('POST', '203.0.113.9'), { adminToken: 'secret' })).toBe('token@203.0.113.9');
  });
});

describe('a server with no admin token', () => {
  let tmp: string;
  let server: RunningServer;
  const quiet: Logger = { info() {}, warn() {}, error() {} };

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-noauth-'));
    copyVersion('saved_model_half_plus_two_cpu/00000123', path.join(tmp, 'models/hp/1'));
    copyVersion('saved_model_half_plus_three/00000123', path.join(tmp, 'models/hp/2'));
    server = await startServer({
      models: { kind: 'models_dir', dir: path.join(tmp, 'models'), pollSeconds: 0 },
      restApiPort: 0,
      restApiHost: '127.0.0.1',
      registry: { path: ':memory:', modelsDir: path.join(tmp, 'models') },
      log: quiet,
    });
  });
  afterAll(async () => {
    await server?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('accepts changes from loopback without a token', async () => {
    const res = await request(server.url).post('/api/v1/models/hp/pin').send({ version: 1 });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ pinned_version: 1, active_version: 1 });
  });
});
