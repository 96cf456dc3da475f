/**
 * Picks the registry store: PostgreSQL when a URL is given
 * (`--registry_url`, or $MODELHOST_REGISTRY_URL), else the SQLite file
 * (`--registry_path`, default data/registry.db).
 */
import { PostgresStore, type PostgresStoreOptions } from './postgres_store.js';
import { SqliteStore } from './sqlite_store.js';
import type { RegistryStore, SynchronousMode } from './store.js';

export const REGISTRY_URL_ENV = 'MODELHOST_REGISTRY_URL';

export interface RegistryStoreLocation {
  /** The SQLite file (or ':memory:'), used when `url` is not set. */
  path: string;
  synchronous?: SynchronousMode;
  /** postgresql://user[:password]@host[:port]/database (also postgres://). */
  url?: string;
  postgres?: PostgresStoreOptions;
}

/** Throws INVALID_ARGUMENT-like errors naming the flag when `url` is not a PostgreSQL URL. */
export function checkRegistryUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`--registry_url must be a URL like postgresql://user@host:5432/database, got ${JSON.stringify(url.slice(0, 200))}.`);
  }
  if (parsed.protocol !== 'postgresql:' && parsed.protocol !== 'postgres:') {
    throw new Error(`--registry_url must start with postgresql:// (the only shared registry store), got ${parsed.protocol}//.`);
  }
}

export async function openRegistryStore(where: RegistryStoreLocation): Promise<RegistryStore> {
  if (where.url) {
    checkRegistryUrl(where.url);
    return PostgresStore.open(where.url, where.postgres);
  }
  return SqliteStore.open(where.path, { synchronous: where.synchronous });
}
