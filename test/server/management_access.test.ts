// Finding 2 of issue 13, over real HTTP: behind a reverse proxy on the same
// host every request arrives from loopback, so without these rules anyone
// reaching the proxy got loopback's right to change the registry. A request
// that came through a proxy never gets that right; X-Forwarded-For is read
// only from --trusted_proxies; --require_admin_token takes the right away
// entirely; the token comes from an environment variable or a file, never
// needs the command line; and the history records who was authenticated,
// a client's X-Modelhost-Actor only as a claim.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../serving/log.js';
import type { IncomingMessage } from 'node:http';
import { clientOf, resolveAdminToken, TrustedProxies } from '../../server/management/auth.js';
import { startServer, type RunningServer, type RegistryServeOptions } from '../../server/serve.js';
import { copyVersion, waitFor } from './helpers.js';

const quiet: Logger = { info() {}, warn() {}, error() {} };
const TOKEN = 'proxy-test-token';
const auth = { Authorization: `Bearer ${TOKEN}` };
let tmp: string;
const servers: RunningServer[] = [];

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-access-'));
  copyVersion('saved_model_half_plus_two_cpu/00000123', path.join(tmp, 'models/hp/1'));
  copyVersion('saved_model_half_plus_three/00000123', path.join(tmp, 'models/hp/2'));
  fs.mkdirSync(path.join(tmp, 'empty'));
});
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function start(registry: Partial<RegistryServeOptions>): Promise<RunningServer> {
  const modelsDir = path.join(tmp, 'models');
  const server = await startServer({
    models: { kind: 'models_dir', dir: modelsDir, pollSeconds: 0 },
    restApiPort: 0,
    restApiHost: '127.0.0.1',
    execution: { threads: 0 },
    registry: { path: ':memory:', modelsDir, ...registry },
    log: quiet,
  });
  servers.push(server);
  return server;
}

const pin = (s: RunningServer, headers: Record<string, string> = {}) => request(s.url).post('/api/v1/models/hp/pin').set(headers).send({ version: 1 });
const lastActor = async (s: RunningServer) => {
  const events = (await request(s.url).get('/api/v1/models/hp/events')).body.events as { kind: string; actor: string }[];
  return events.find((e) => e.kind === 'pinned')!.actor;
};

describe('a request through a proxy never gets loopback privileges', () => {
  it('no token, no trusted proxy: a loopback request carrying X-Forwarded-For (or Forwarded, X-Real-IP, Via) is refused a change', async () => {
    const s = await start({});
    for (const header of [{ 'X-Forwarded-For': '203.0.113.7' }, { Forwarded: 'for=203.0.113.7' }, { 'X-Real-IP': '203.0.113.7' }, { Via: '1.1 nginx' }]) {
      const res = await pin(s, header);
      expect(res.status, JSON.stringify(header)).toBe(403);
      expect(res.body.error).toMatch(/came through a proxy/);
    }
    expect((await request(s.url).get('/api/v1/access').set('X-Forwarded-For', '203.0.113.7')).body).toEqual({ admin_token_required: false, changes_allowed: false });
    // Directly from loopback, as before.
    expect((await pin(s)).status).toBe(200);
  });

  it('no token, the proxy trusted: a request from it is refused a change even without forwarding headers', async () => {
    const s = await start({ trustedProxies: ['127.0.0.1'] });
    const res = await pin(s);
    expect(res.status).toBe(403);
    expect(res.body.error).toMatch(/came through a proxy/);
  });

  it('with a trusted proxy the forwarded address is the client: the history records it, read from the right past trusted hops', async () => {
    const s = await start({ adminToken: TOKEN, trustedProxies: ['127.0.0.0/8', '10.1.0.0/16'] });
    // The client claimed 198.51.100.66 itself; the proxies appended what they saw.
    const res = await pin(s, { ...auth, 'X-Forwarded-For': '198.51.100.66, 203.0.113.7, 10.1.2.3', 'X-Modelhost-Actor': 'alice' });
    expect(res.status, res.text).toBe(200);
    expect(await lastActor(s)).toBe('token@203.0.113.7 (claims "alice")');
  });

  it('without a trusted proxy X-Forwarded-For is ignored for the address', async () => {
    const s = await start({ adminToken: TOKEN });
    expect((await pin(s, { ...auth, 'X-Forwarded-For': '203.0.113.7' })).status).toBe(200);
    expect(await lastActor(s)).toBe('token@127.0.0.1');
  });

  it('the actor is who was authenticated; a spoofed X-Modelhost-Actor is only a claim', async () => {
    const s = await start({});
    expect((await pin(s, { 'X-Modelhost-Actor': 'admin@10.0.0.1' })).status).toBe(200);
    expect(await lastActor(s)).toBe('loopback@127.0.0.1 (claims "admin@10.0.0.1")');
  });

  it('refuses to start with a --trusted_proxies entry that is not an address', async () => {
    await expect(start({ trustedProxies: ['10.0.0.0/33'] })).rejects.toThrow(/"10.0.0.0\/33" is not an IP address or CIDR range/);
    await expect(start({ trustedProxies: ['proxy.local'] })).rejects.toThrow(/not an IP address/);
  });
});

describe('the client address behind trusted proxies', () => {
  const req = (remoteAddress: string, xff?: string) =>
    ({ headers: xff === undefined ? {} : { 'x-forwarded-for': xff }, socket: { remoteAddress } }) as unknown as IncomingMessage;
  const proxies = new TrustedProxies(['127.0.0.1', '10.0.0.0/8', 'fd00::/8']);

  it('walks X-Forwarded-For from the right past trusted hops, IPv4-mapped and IPv6 included', () => {
    expect(clientOf(req('::ffff:127.0.0.1', '203.0.113.7'), proxies)).toEqual({ address: '203.0.113.7', proxied: true });
    expect(clientOf(req('fd00::1', '2001:db8::5, fd00::2'), proxies)).toEqual({ address: '2001:db8::5', proxied: true });
    // Every hop trusted: the leftmost is the client. A hop that is not an address: unknown.
    expect(clientOf(req('127.0.0.1', '10.0.0.9, 10.0.0.8'), proxies).address).toBe('10.0.0.9');
    expect(clientOf(req('127.0.0.1', 'spoofed, 10.0.0.8'), proxies).address).toBe('unknown');
    // No header from a trusted proxy: the proxy itself, still proxied.
    expect(clientOf(req('10.1.2.3'), proxies)).toEqual({ address: '10.1.2.3', proxied: true });
    // From an untrusted sender the header is ignored for the address, but marks the request as proxied.
    expect(clientOf(req('192.0.2.1', '127.0.0.1'), proxies)).toEqual({ address: '192.0.2.1', proxied: true });
    expect(clientOf(req('127.0.0.1'), new TrustedProxies())).toEqual({ address: '127.0.0.1', proxied: false });
  });
});

describe('--require_admin_token', () => {
  it('refuses loopback changes without the token, and refuses to start with no token', async () => {
    const s = await start({ adminToken: TOKEN, requireAdminToken: true });
    expect((await pin(s)).status).toBe(401);
    expect((await request(s.url).get('/api/v1/access')).body).toEqual({ admin_token_required: true, changes_allowed: false });
    expect((await pin(s, auth)).status).toBe(200);
    await expect(start({ requireAdminToken: true })).rejects.toThrow(/--require_admin_token is set but no admin token is/);
  });
});

describe('the admin token from a file, the environment, or (warned) the command line', () => {
  const BIN = path.resolve(import.meta.dirname, '../../bin/modelhost.js');
  const running: ChildProcess[] = [];
  afterEach(() => {
    for (const p of running.splice(0)) if (p.exitCode === null) p.kill('SIGKILL');
  });

  function serve(args: string[], env: Record<string, string | undefined> = {}) {
    const proc = spawn(
      process.execPath,
      [BIN, 'serve', '--rest_api_host=127.0.0.1', '--rest_api_port=0', '--port=0', '--registry_path=:memory:', `--models_dir=${path.join(tmp, 'empty')}`, '--inference_threads=0', ...args],
      { env: { ...process.env, MODELHOST_ADMIN_TOKEN: undefined, ...env } },
    );
    running.push(proc);
    let output = '';
    proc.stdout!.on('data', (d) => (output += d));
    proc.stderr!.on('data', (d) => (output += d));
    const exit = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
    const url = () =>
      waitFor('the server to listen', () => {
        const m = /Exporting HTTP\/REST API at [^\s]*:(\d+)/.exec(output);
        if (!m && proc.exitCode !== null) throw new Error(`server exited: ${output}`);
        return m ? `http://127.0.0.1:${m[1]}` : undefined;
      }, 60_000);
    return { proc, exit, url, output: () => output };
  }

  it('reads --admin_token_file (trailing newline trimmed) and needs that token from loopback', async () => {
    const file = path.join(tmp, 'token');
    fs.writeFileSync(file, 'from-a-file\n', { mode: 0o600 });
    const s = serve([`--admin_token_file=${file}`]);
    const url = await s.url();
    // No models: a call past the check answers 404, one refused by it 401.
    expect((await request(url).post('/api/v1/models/hp/pin').send({ version: 1 })).status).toBe(401);
    expect((await request(url).post('/api/v1/models/hp/pin').set('Authorization', 'Bearer from-a-file').send({ version: 1 })).status).toBe(404);
    expect(s.output()).not.toMatch(/visible to every user/);
    s.proc.kill('SIGTERM');
    expect(await s.exit).toBe(0);
  });

  it('resolves the token: a missing or empty file stops startup; --admin_token on the command line is warned about', () => {
    const warnings: string[] = [];
    const warn = (m: string) => warnings.push(m);
    const emptyFile = path.join(tmp, 'empty-token');
    fs.writeFileSync(emptyFile, '\n', { mode: 0o600 });
    expect(() => resolveAdminToken({ file: path.join(tmp, 'nope') }, warn)).toThrow(/--admin_token_file: cannot read .*nope/);
    expect(() => resolveAdminToken({ file: emptyFile }, warn)).toThrow(/--admin_token_file: .*empty-token is empty/);
    expect(() => resolveAdminToken({ file: emptyFile, flag: 'x' }, warn)).toThrow(/not both/);
    const open = path.join(tmp, 'open-token');
    fs.writeFileSync(open, 'abc\r\n');
    fs.chmodSync(open, 0o644);
    expect(resolveAdminToken({ file: open, env: 'from-env' }, warn)).toBe('abc');
    expect(warnings.splice(0)).toEqual([expect.stringMatching(/open-token is readable by every user/)]);
    expect(resolveAdminToken({ env: 'from-env' }, warn)).toBe('from-env');
    expect(warnings).toEqual([]);
    expect(resolveAdminToken({ flag: 'on-the-command-line', env: 'from-env' }, warn)).toBe('on-the-command-line');
    expect(warnings).toEqual([expect.stringMatching(/--admin_token on the command line is visible to every user of this machine \(ps\)/)]);
  });
});
