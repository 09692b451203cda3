import knex from 'knex';
import { createDb, migrateLatest, type Db } from '../../db/knex';

const ADMIN_URL = process.env.BENCH_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface BenchDatabase {
  db: Db;
  url: string;
  drop(): Promise<void>;
}

/** A fresh, migrated database for one benchmark run, dropped afterwards. */
export async function createBenchDatabase(name: string, poolMax: number): Promise<BenchDatabase> {
  const dbName = `mandi_bench_${name}_${process.pid}`;
  const admin = knex({ client: 'pg', connection: ADMIN_URL, pool: { min: 0, max: 1 } });
  await admin.raw(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.raw(`CREATE DATABASE ${dbName}`);
  await admin.destroy();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${dbName}`;
  const db = createDb(url.toString(), poolMax);
  await migrateLatest(db);
  return {
    db,
    url: url.toString(),
    drop: async () => {
      await db.destroy();
      const a = knex({ client: 'pg', connection: ADMIN_URL, pool: { min: 0, max: 1 } });
      await a.raw(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await a.destroy();
    },
  };
}
