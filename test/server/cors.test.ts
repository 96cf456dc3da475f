// --rest_api_enable_cors_support and the CORS preflight, as TF Serving's
// http_server.cc answers them (AddCORSHeaders; OPTIONS needs an http(s) Origin).
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../serving/log.js';
import { startServer, type RunningServer } from '../../server/serve.js';
import { FIXTURES } from './helpers.js';

let server: RunningServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

async function start(restApiEnableCorsSupport?: boolean): Promise<string> {
  server = await startServer({
    models: { kind: 'single', name: 'half', basePath: path.join(FIXTURES, 'saved_model_half_plus_two_cpu') },
    restApiPort: 0,
    restApiHost: '127.0.0.1',
    execution: { threads: 0 },
    ...(restApiEnableCorsSupport === undefined ? {} : { restApiEnableCorsSupport }),
    log: silentLogger,
  });
  return server.url;
}

describe('CORS', () => {
  it('is off by default: no CORS headers; a preflight still answers as TF Serving', async () => {
    const url = await start();
    const res = await fetch(`${url}/v1/models/half:predict`, { method: 'POST', body: '{"instances": [1.0]}' });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await fetch(`${url}/v1/models/half:predict`, { method: 'OPTIONS', headers: { Origin: 'https://app.example' } });
    expect(preflight.status).toBe(200);
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('on, every /v1 answer carries the headers, errors and preflights included', async () => {
    const url = await start(true);
    for (const res of [
      await fetch(`${url}/v1/models/half:predict`, { method: 'POST', body: '{"instances": [1.0]}' }),
      await fetch(`${url}/v1/models/nope`),
      await fetch(`${url}/v1/models/half:predict`, { method: 'OPTIONS', headers: { Origin: 'http://localhost:3000' } }),
    ]) {
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(res.headers.get('access-control-allow-methods')).toBe('POST, GET');
      expect(res.headers.get('access-control-allow-headers')).toBe('Content-Type');
      await res.arrayBuffer();
    }
  });

  it('refuses a preflight without an http(s) Origin (400, TF Serving\'s text); the server stays up', async () => {
    const url = await start(true);
    for (const headers of [{}, { Origin: 'null' }, { Origin: 'file:///x' }]) {
      const res = await fetch(`${url}/v1/models/half:predict`, { method: 'OPTIONS', headers });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: 'Origin header is missing in CORS preflight' });
    }
    expect((await fetch(`${url}/v1/models/half`)).status).toBe(200);
  });
});
