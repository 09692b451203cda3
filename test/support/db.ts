import { randomBytes } from 'node:crypto';
import knex from 'knex';
import { createDb, type Db } from '../../db/knex';
import { ledgerProblems } from '../../db/ledger-reports';
import { databaseUrl, testEnv } from './env';

export interface TestDatabase {
  db: Db;
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A fresh, migrated database of this test file's own, cloned from the run's template. */
export async function createTestDatabase(poolMax = 10): Promise<TestDatabase> {
  const name = `mandi_t_${testEnv.runId}_${randomBytes(4).toString('hex')}`;
  const admin = knex({ client: 'pg', connection: testEnv.adminDatabaseUrl, pool: { min: 0, max: 1 } });
  try {
    await admin.raw(`CREATE DATABASE ${name} TEMPLATE ${testEnv.templateDatabase}`);
  } finally {
    await admin.destroy();
  }
  const url = databaseUrl(name);
  const db = createDb(url, poolMax);
  return {
    db,
    url,
    name,
    drop: async () => {
      await db.destroy();
      const a = knex({ client: 'pg', connection: testEnv.adminDatabaseUrl, pool: { min: 0, max: 1 } });
      try {
        await a.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await a.destroy();
      }
    },
  };
}

/** Every money scenario ends here: balances sum to zero, journals balance, no key applied twice, no drift. */
export async function expectLedgerInvariants(db: Db): Promise<void> {
  expect(await ledgerProblems(db)).toEqual([]);
}
