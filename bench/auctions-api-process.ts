/**
 * The HTTP API (with its WebSocket gateway) in a process of its own, for bench/auctions.ts.
 * Env: DATABASE_URL, REDIS_URL, TEMPORAL_ADDRESS, TEMPORAL_TASK_QUEUE, BENCH_API_POOL (its Postgres
 * pool size: the bench measures its raw INSERT baseline with as many connections).
 * Prints "api-ready <url>".
 */
import { Client, Connection } from '@temporalio/client';
import pino from 'pino';
import { loadConfig } from '../app/config';
import { startHttpServer } from '../api/server';
import { createDb } from '../db/knex';
import { RedisPubSub } from '../infra/pubsub';

async function main(): Promise<void> {
  const config = loadConfig({ ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'silent' });
  const poolSize = Number(process.env.BENCH_API_POOL);
  if (!Number.isInteger(poolSize) || poolSize < 1)
    throw new Error(`BENCH_API_POOL must be a positive integer, got ${process.env.BENCH_API_POOL}`);
  const db = createDb(config.DATABASE_URL!, poolSize);
  const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS! });
  const server = await startHttpServer(
    { config, db, temporal: new Client({ connection }), pubsub: new RedisPubSub(config.REDIS_URL!), logger: pino({ level: 'silent' }) },
    0,
    '127.0.0.1',
  );
  console.log(`api-ready ${server.url}`);
  // A clean exit on SIGTERM (lets --cpu-prof write its profile).
  process.once('SIGTERM', () => process.exit(0));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
