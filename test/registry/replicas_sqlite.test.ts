// The registry flags and /api/v1/replicas on the default store (SQLite, one
// process): a URL that is not PostgreSQL is refused naming the flag, a lapse
// no longer than the heartbeat is refused, and the one replica lists itself
// live with what it has loaded, then stopped after a clean shutdown.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../serving/log.js';
import { checkRegistryUrl } from '../../registry/open_store.js';
import { SqliteStore } from '../../registry/sqlite_store.js';
import { inlineEngine } from '../../runtime/execution/serving_engine.js';
import { startServer, type ServeOptions } from '../../server/serve.js';
import { copyVersion } from '../server/helpers.js';

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-replicas1-'));
  copyVersion('saved_model_half_plus_two_cpu/00000123', path.join(tmp, 'models/hp/1'));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

const options = (registry: Partial<NonNullable<ServeOptions['registry']>> = {}): ServeOptions => ({
  models: { kind: 'models_dir', dir: path.join(tmp, 'models'), pollSeconds: 0 },
  restApiPort: 0,
  restApiHost: '127.0.0.1',
  engine: inlineEngine(),
  registry: { path: path.join(tmp, 'registry.db'), modelsDir: path.join(tmp, 'models'), ...registry },
  log: silentLogger,
});

describe('registry store selection and replicas on SQLite', () => {
  it('refuses a registry URL that is not PostgreSQL, or not a URL, naming the flag', () => {
    expect(() => checkRegistryUrl('mysql://db/x')).toThrow(/^--registry_url must start with postgresql:\/\/ .* got mysql:\/\/\.$/);
    expect(() => checkRegistryUrl('db:5432')).toThrow(/^--registry_url must/);
    expect(() => checkRegistryUrl('not a url')).toThrow(/^--registry_url must be a URL like postgresql:\/\/user@host:5432\/database, got "not a url"\.$/);
    expect(() => checkRegistryUrl('postgres://u@h/d')).not.toThrow();
  });

  it('refuses a lapse no longer than the heartbeat', async () => {
    await expect(startServer(options({ heartbeatMs: 1000, replicaLapseMs: 1000 }))).rejects.toThrow(
      '--replica_lapse_ms (1000) must be longer than --replica_heartbeat_ms (1000), or live replicas would be reported gone.',
    );
  });

  it('lists the one replica live with its loaded versions, and stopped after shutdown', async () => {
    const server = await startServer(options({ replicaId: 'solo', heartbeatMs: 200 }));
    try {
      const res = await fetch(`${server.url}/api/v1/replicas`);
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      const body = await res.json();
      expect(body.replicas).toHaveLength(1);
      expect(body.replicas[0]).toMatchObject({ id: 'solo', self: true, status: 'live', address: `127.0.0.1:${server.port}`, stopped_at: null });
      expect(body.replicas[0].versions).toEqual([{ model: 'hp', version: 1, state: 'AVAILABLE', serving: true }]);
      // The history names the server plainly on a store only it uses.
      const events = (await (await fetch(`${server.url}/api/v1/models/hp/events`)).json()).events as { kind: string; actor: string }[];
      expect(events.find((e) => e.kind === 'available')?.actor).toBe('server');
    } finally {
      await server.stop();
    }
    const store = SqliteStore.open(path.join(tmp, 'registry.db'));
    try {
      expect((await store.listReplicas()).map((r) => [r.id, r.stoppedAt !== null, r.versions])).toEqual([['solo', true, []]]);
    } finally {
      await store.close();
    }
  });
});
