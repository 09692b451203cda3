import fs from 'node:fs';
import knex from 'knex';
import { testEnv } from './env';
import { recordHistories } from './record-histories';

export default async function globalTeardown(): Promise<void> {
  const recordTo = process.env.RECORD_HISTORIES;
  if (recordTo && globalThis.__mandiDevServer) {
    console.log(`recorded ${await recordHistories(globalThis.__mandiDevServer.address, recordTo)} histories into ${recordTo}`);
  }
  await globalThis.__mandiDevServer?.stop();
  const admin = knex({ client: 'pg', connection: testEnv.adminDatabaseUrl, pool: { min: 0, max: 1 } });
  try {
    const { rows } = await admin.raw(`SELECT datname FROM pg_database WHERE datname LIKE ?`, [`mandi_%_${testEnv.runId}%`]);
    for (const { datname } of rows) await admin.raw(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    await admin.raw(`DROP DATABASE IF EXISTS "${testEnv.templateDatabase}" WITH (FORCE)`);
  } finally {
    await admin.destroy();
  }
  fs.rmSync(testEnv.workflowBundlePath, { force: true });
}
