import path from 'node:path';
import fs from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import Redis from 'ioredis';
import type { ActivityDeps } from '../activities/deps';
import { startHttpServer } from '../api/server';
import { createDb, migrateLatest } from '../db/knex';
import { createMoneyRails } from '../infra/providers';
import { createPubSub } from '../infra/pubsub';
import { isListening, startDevServer } from '../scripts/temporal-dev-server';
import { createMandiWorker } from '../workers/mandi-worker';
import type { Config } from './config';
import { startEmbeddedPostgres } from './embedded-postgres';
import { temporalConnectionOptions } from './temporal-connection';
import { whenReachable } from './unavailable';
import type { Logger } from './logger';
import { ensureSchedules } from './schedules';
import { ensureAreaCloseSchedules } from '../api/routes/delivery';

export type Role = 'all' | 'api' | 'worker';

export interface RunningSystem {
  apiUrl: string | null;
  /** /metrics without a token, when METRICS_PORT is set. */
  metricsUrl: string | null;
  temporalUiUrl: string | null;
  /** In reverse order of start: the API drains, the worker drains, then what was launched here stops. */
  stop(): Promise<void>;
  /** No waiting (a second Ctrl-C, a stuck drain): signals the processes launched here to stop. */
  kill(): void;
}

/**
 * Brings up what is missing (Temporal dev server, embedded Postgres), applies migrations, then
 * starts the worker and/or the API. `stop()` undoes it in reverse order.
 */
export async function startSystem(config: Config, role: Role, logger: Logger): Promise<RunningSystem> {
  const stops: Array<() => Promise<void>> = [];
  // The dev server and the embedded Postgres outlive us unless told to stop, whatever way this
  // process ends (a crash, process.exit from a stuck shutdown): on exit, signal them at least.
  const launched = new Set<() => void>();
  const kill = () => {
    for (const fn of launched) fn();
    launched.clear();
  };
  process.once('exit', kill);
  const stop = async () => {
    for (const fn of stops.reverse()) {
      try {
        await fn();
      } catch (err) {
        logger.warn({ err }, 'error while stopping');
      }
    }
    stops.length = 0;
    kill();
    process.removeListener('exit', kill);
  };
  /** A process launched here: stopped in order by stop(), signalled by kill() if it never gets there. */
  const launch = (graceful: () => Promise<void>, signal: () => void) => {
    launched.add(signal);
    stops.push(async () => {
      await graceful();
      launched.delete(signal);
    });
  };

  try {
    fs.mkdirSync(config.DATA_DIR, { recursive: true });

    let temporalAddress = config.TEMPORAL_ADDRESS;
    let temporalUiUrl = config.TEMPORAL_UI_URL ?? null;
    if (!temporalAddress) {
      if (await isListening(config.TEMPORAL_DEV_PORT)) {
        logger.info({ port: config.TEMPORAL_DEV_PORT }, 'reusing the Temporal dev server already running');
      } else {
        logger.info('starting the Temporal dev server (history in %s)', path.join(config.DATA_DIR, 'temporal.db'));
        const dev = await startDevServer({
          port: config.TEMPORAL_DEV_PORT,
          uiPort: config.TEMPORAL_DEV_UI_PORT,
          dbFile: path.join(config.DATA_DIR, 'temporal.db'),
        });
        launch(dev.stop, () => signalGroup(dev.process.pid, 'SIGTERM'));
      }
      temporalAddress = `127.0.0.1:${config.TEMPORAL_DEV_PORT}`;
      temporalUiUrl ??= `http://localhost:${config.TEMPORAL_DEV_UI_PORT}`;
    }

    let databaseUrl = config.DATABASE_URL;
    if (!databaseUrl) {
      logger.info('no DATABASE_URL: starting an embedded Postgres under %s', config.DATA_DIR);
      const embedded = await startEmbeddedPostgres(config.DATA_DIR, config.EMBEDDED_POSTGRES_PORT);
      launch(embedded.stop, embedded.signalStop);
      databaseUrl = embedded.url;
    }
    const db = createDb(databaseUrl, config.DATABASE_POOL_MAX);
    stops.push(() => db.destroy());
    const applied = await whenReachable('migrations', () => migrateLatest(db), logger);
    if (applied.length) logger.info({ applied }, 'migrations applied');

    const pubsub = createPubSub(config.REDIS_URL);
    stops.push(() => pubsub.close());
    const redis = config.REDIS_URL ? new Redis(config.REDIS_URL, { maxRetriesPerRequest: 3, enableAutoPipelining: true }) : undefined;
    if (redis) stops.push(async () => void redis.disconnect());

    // One set of connection options (address, TLS/mTLS, API key) for the client and the worker.
    const temporalOptions = temporalConnectionOptions(config, temporalAddress);
    const connection = await Connection.connect(temporalOptions);
    stops.push(() => connection.close());
    const temporal = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });

    let apiUrl: string | null = null;
    let metricsUrl: string | null = null;
    const publicUrl = config.PUBLIC_URL ?? `http://127.0.0.1:${config.PORT}`;

    if (role !== 'api') {
      // The SDK's own INFO lines (bundle sizes, state changes) drown the useful ones.
      // We drain on signals ourselves, in order (see app/start.ts), so the SDK must not.
      Runtime.install({
        logger: new DefaultLogger(config.LOG_LEVEL === 'debug' || config.LOG_LEVEL === 'trace' ? 'DEBUG' : 'WARN'),
        shutdownSignals: [],
      });
      const workerConnection = await NativeConnection.connect(temporalOptions);
      stops.push(() => workerConnection.close());
      const deps: ActivityDeps = {
        db,
        pubsub,
        logger,
        temporal,
        ...createMoneyRails(config, db, publicUrl),
        redis,
      };
      const worker = await createMandiWorker({
        connection: workerConnection,
        namespace: config.TEMPORAL_NAMESPACE,
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        deps,
        marketEngineSlots: config.MARKET_ENGINE_SLOTS,
        marketEngineFallbackPollMs: config.MARKET_ENGINE_FALLBACK_POLL_MS,
        ...(config.TEMPORAL_WORKFLOW_BUNDLE ? { workflowBundle: { codePath: path.resolve(config.TEMPORAL_WORKFLOW_BUNDLE) } } : {}),
        tuning: { shutdownGraceTime: `${config.SHUTDOWN_GRACE_SECONDS}s` },
      });
      const running = worker.run();
      stops.push(async () => {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await running;
      });
      await ensureSchedules(temporal, config);
      // One end-of-day Schedule per delivery area (created with the area; brought up to date here on a deploy).
      await ensureAreaCloseSchedules(temporal, db, config.TEMPORAL_TASK_QUEUE);
      logger.info({ taskQueue: config.TEMPORAL_TASK_QUEUE }, 'worker running');
    }

    if (role !== 'worker') {
      const http = await startHttpServer({ config, db, temporal, pubsub, logger, redis }, config.PORT, config.HOST);
      stops.push(http.close);
      apiUrl = http.url;
      metricsUrl = http.metricsUrl;
    }

    return { apiUrl, metricsUrl, temporalUiUrl, stop, kill };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The dev server runs in its own process group (so Ctrl-C reaches us first): signal the group. */
function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}
