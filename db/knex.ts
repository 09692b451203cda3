import knex, { type Knex } from 'knex';
import { types } from 'pg';
import path from 'node:path';

// BIGINT (paise, ids) comes back as a JS number; anything beyond 2^53 is a bug, so fail loudly.
types.setTypeParser(types.builtins.INT8, (value: string) => {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError(`bigint ${value} exceeds the safe integer range`);
  return n;
});

export type Db = Knex;
export type Tx = Knex.Transaction;
/** Anything that can run a query: the pool or an open transaction. */
export type Queryable = Knex | Knex.Transaction;

export function createDb(connectionString: string, poolMax = 10): Db {
  return knex({
    client: 'pg',
    connection: { connectionString, application_name: 'mandi' },
    pool: {
      min: 0,
      max: poolMax,
      // An idle connection can be cut (database restart, failover); the pool replaces it. Without
      // a listener the 'error' event would crash the process.
      afterCreate: (conn: { on(event: 'error', fn: (err: Error) => void): void }, done: (err: Error | null, conn: unknown) => void) => {
        conn.on('error', () => {});
        done(null, conn);
      },
    },
    migrations: migrationConfig(),
  });
}

export function migrationConfig(): Knex.MigratorConfig {
  return {
    directory: path.resolve(__dirname, '..', 'migrations'),
    loadExtensions: ['.ts', '.js'],
    tableName: 'knex_migrations',
  };
}

export async function migrateLatest(db: Db): Promise<string[]> {
  const [, applied] = (await db.migrate.latest(migrationConfig())) as [number, string[]];
  return applied;
}
