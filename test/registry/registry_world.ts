// A registry wired to a real serving core, runtime and store (a SQLite file,
// or a PostgreSQL database when `storeUrl` is given), for the registry tests:
// start, upload, predict, restart; worldsPerTest() for the per-test folders,
// database and cleanup.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach } from 'vitest';
import { silentLogger } from '../../serving/log.js';
import type { ModelConfig } from '../../serving/model_config.js';
import type { CrashHook } from '../../registry/crash_points.js';
import { recoverRegistry } from '../../registry/recovery.js';
import { Registry } from '../../registry/registry.js';
import type { ModelSpec } from '../../serving/serving_core.js';
import { ServingCore } from '../../serving/serving_core.js';
import { openRegistryStore } from '../../registry/open_store.js';
import type { RegistryStore } from '../../registry/store.js';
import { UploadIntake } from '../../registry/upload.js';
import type { MetadataLimits, MetadataPatch } from '../../registry/version_metadata.js';
import { StatusError } from '../../runtime/errors.js';
import { inlineEngine } from '../../runtime/execution/serving_engine.js';
import { Tensor } from '../../runtime/tensor.js';
import { FIXTURES } from '../server/helpers.js';
import { createTestDatabase, type TestDatabase } from './postgres_helper.js';

export const PLUS_TWO = path.join(FIXTURES, 'saved_model_half_plus_two_cpu/00000123'); // y = 0.5x + 2
export const PLUS_THREE = path.join(FIXTURES, 'saved_model_half_plus_three/00000123'); // y = 0.5x + 3

export interface World {
  store: RegistryStore;
  core: ServingCore;
  registry: Registry;
  intake: UploadIntake;
  stop(): Promise<void>;
}

export async function startWorld(options: {
  dbFile: string;
  /** A PostgreSQL database to use instead of `dbFile`. */
  storeUrl?: string;
  /** Shared store: this world's replica id, and how often it polls for others' changes. */
  replicaId?: string;
  refreshIntervalMs?: number;
  modelsDir: string;
  configs?: ModelConfig[];
  maxLoadedVersions?: number;
  onDemandMaxWaitingRequests?: number;
  onDemandMaxWaitMs?: number;
  maxUploadBytes?: number;
  crashHook?: CrashHook;
  /** Shadow rollouts' copy queue (Registry's shadowQueue). */
  shadowQueue?: number;
  metadataLimits?: Partial<MetadataLimits>;
}): Promise<World> {
  const store = await openRegistryStore({ path: options.dbFile, url: options.storeUrl });
  await recoverRegistry(store, options.modelsDir, silentLogger);
  const core = new ServingCore({ engine: inlineEngine(), fileSystemPollWaitSeconds: 0, log: silentLogger });
  const registry = await Registry.open({
    store,
    replicaId: options.replicaId,
    refreshIntervalMs: options.refreshIntervalMs,
    core,
    modelsDir: options.modelsDir,
    maxLoadedVersions: options.maxLoadedVersions,
    onDemandMaxWaitingRequests: options.onDemandMaxWaitingRequests,
    onDemandMaxWaitMs: options.onDemandMaxWaitMs,
    log: silentLogger,
    crashHook: options.crashHook,
    shadowQueue: options.shadowQueue,
    metadataLimits: options.metadataLimits,
  });
  const intake = new UploadIntake({ registry, engine: inlineEngine(), maxUploadBytes: options.maxUploadBytes, log: silentLogger });
  await core.start(options.configs ?? []);
  await registry.settled();
  return {
    store,
    core,
    registry,
    intake,
    async stop() {
      await registry.stop();
      await core.stop();
      await store.close();
    },
  };
}

/** Uploads the files of `dir` as "files" parts with their relative paths. */
export async function uploadDir(w: World, model: string, dir: string, options: { version?: number; activate?: boolean; metadata?: MetadataPatch } = {}) {
  const session = await w.intake.begin(model);
  try {
    const walk = async (rel: string): Promise<void> => {
      for (const name of fs.readdirSync(path.join(dir, rel)).sort()) {
        const child = rel ? `${rel}/${name}` : name;
        if (fs.statSync(path.join(dir, child)).isDirectory()) await walk(child);
        else await session.addFile(child, fs.createReadStream(path.join(dir, child)));
      }
    };
    await walk('');
    return await session.finish({ version: options.version, activate: options.activate ?? true, actor: 'test', metadata: options.metadata });
  } finally {
    await session.discard();
  }
}

export async function uploadArchive(w: World, model: string, bytes: Buffer, options: { version?: number } = {}) {
  const session = await w.intake.begin(model);
  try {
    await session.addArchive(Readable.from([bytes]));
    return await session.finish({ version: options.version, activate: true, actor: 'test' });
  } finally {
    await session.discard();
  }
}

/** Runs serving_default with x = 1 on what `spec` resolves to (loading on demand as the REST handler does). */
export async function predict(w: World, spec: ModelSpec): Promise<{ version: number; y: number }> {
  let handle;
  let reservation: (() => void) | undefined;
  try {
    handle = w.core.getHandle(spec);
  } catch (e) {
    if (!(e instanceof StatusError && e.code === 'NOT_FOUND')) throw e;
    reservation = await w.core.loadOnDemand(spec).catch(() => undefined);
    if (!reservation) throw e;
    handle = w.core.getHandle(spec);
  }
  try {
    const { y } = await handle.model.run('serving_default', { x: Tensor.from('float32', [1], [1]) });
    return { version: handle.version, y: y.numbers()[0] };
  } finally {
    handle.release();
    reservation?.();
  }
}

export async function errorOf(p: Promise<unknown>): Promise<StatusError> {
  try {
    await p;
  } catch (e) {
    return e as StatusError;
  }
  throw new Error('did not fail');
}

/** How many models, versions and events the store holds (to show a refusal wrote nothing). */
export async function storeCounts(store: RegistryStore): Promise<{ models: number; versions: number; events: number }> {
  const models = await store.listModels();
  let versions = 0;
  let events = 0;
  for (const m of models) {
    versions += (await store.listVersions(m.name)).length;
    events += (await store.listEvents(m.name, { limit: 1000 })).length;
  }
  return { models: models.length, versions, events };
}

/** The worlds of one test file: a fresh folder per test, its worlds stopped after it (see worldsPerTest). */
export interface WorldsPerTest {
  /** This test's temporary folder, and the registry file and models folder in it. */
  readonly tmp: string;
  readonly dbFile: string;
  readonly modelsDir: string;
  /** The worlds started in this test, stopped after it; a test that stops one itself takes it out. */
  readonly worlds: World[];
  /** startWorld on this test's folders (and database, under usePostgres), remembered in `worlds`. */
  start(options?: Partial<Parameters<typeof startWorld>[0]>): Promise<World>;
  /** Call inside a describePostgres block: each test there runs its worlds on its own PostgreSQL database. */
  usePostgres(): void;
}

/**
 * Call at the top of a test file: before each test a fresh temporary folder
 * (named from `prefix`) with data/registry.db and models/; after it, its
 * worlds stopped and the folder removed.
 */
export function worldsPerTest(prefix: string): WorldsPerTest {
  let tmp = '';
  let storeUrl: string | undefined;
  const worlds: World[] = [];
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  });
  afterEach(async () => {
    for (const w of worlds.splice(0)) await w.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  const harness: WorldsPerTest = {
    get tmp() {
      return tmp;
    },
    get dbFile() {
      return path.join(tmp, 'data/registry.db');
    },
    get modelsDir() {
      return path.join(tmp, 'models');
    },
    worlds,
    async start(options = {}) {
      const w = await startWorld({ dbFile: harness.dbFile, modelsDir: harness.modelsDir, storeUrl, ...options });
      worlds.push(w);
      return w;
    },
    usePostgres() {
      let db: TestDatabase;
      beforeEach(async () => {
        db = await createTestDatabase();
        storeUrl = db.url;
      });
      afterEach(async () => {
        for (const w of worlds.splice(0)) await w.stop();
        storeUrl = undefined;
        await db.drop();
      });
    },
  };
  return harness;
}
