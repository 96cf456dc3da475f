// A real PostgreSQL server for the registry tests: its URL comes from
// $MODELHOST_TEST_POSTGRES_URL (scripts/postgres_test_cluster.sh starts a
// throw-away cluster and prints it; .ci/run does so). Each test gets a fresh
// database, dropped afterwards. Without the variable the PostgreSQL suites
// are skipped locally, and FAIL in CI ($CI or $MODELHOST_REQUIRE_POSTGRES set).
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, it } from 'vitest';

export const POSTGRES_URL_ENV = 'MODELHOST_TEST_POSTGRES_URL';

export function postgresUrl(): string | undefined {
  return process.env[POSTGRES_URL_ENV] || undefined;
}

/** True where a missing server is a failure, not a skip (CI, or .ci/run's explicit flag). */
export function postgresRequired(): boolean {
  const flag = (v: string | undefined) => v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
  return flag(process.env.CI) || flag(process.env.MODELHOST_REQUIRE_POSTGRES);
}

const MISSING =
  `${POSTGRES_URL_ENV} is not set: the PostgreSQL registry suite needs a real server. ` +
  'Start one with: eval "$(scripts/postgres_test_cluster.sh start)"';

/**
 * `describe` for a PostgreSQL suite: runs `body` when the server is there;
 * otherwise one failing test in CI, a skipped suite elsewhere.
 */
export function describePostgres(name: string, body: () => void): void {
  if (postgresUrl()) describe(name, body);
  else if (postgresRequired()) describe(name, () => it('has a PostgreSQL server to test against', () => { throw new Error(MISSING); }));
  else describe.skip(`${name} (${POSTGRES_URL_ENV} not set)`, body);
}

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** Creates an empty database on the test server; `drop` removes it (closing what is still connected). */
export async function createTestDatabase(): Promise<TestDatabase> {
  const admin = postgresUrl();
  if (!admin) throw new Error(MISSING);
  const name = `modelhost_t_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
