/**
 * What open markets cost while nobody trades: the running system — Temporal dev server, a fresh
 * Postgres database, Redis, the worker (market workflows and their engines) in this process and
 * the API in a child process — with --markets markets open and no orders.
 *
 *   npm run bench:markets-idle -- [--markets=100] [--seconds=10] [--settle-seconds=11]
 *
 * First --seconds with no market at all (what the system costs anyway), then the markets are
 * created through the API, opened, and each engine has claimed its market, and --seconds more are
 * measured after --settle-seconds: a Postgres backend that reported its counts less than a second
 * ago holds the next ones until it has been idle 10 s, so the start-up's commits must reach the
 * statistics before the window opens.
 * Postgres transactions: pg_stat_database.xact_commit of the bench's own database (the two reads
 * of it are counted too). Worker CPU: process.cpuUsage() of this process, which runs nothing but
 * the worker during the window, as a percentage of one core.
 *
 * Prints one JSON line: {"bench":"markets-idle","openMarkets":100,"pgTxPerSec":…,"workerCpuPct":…,
 * "noMarketsPgTxPerSec":…,"noMarketsWorkerCpuPct":…, …}
 */
import path from 'node:path';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { loadConfig } from '../app/config';
import { signToken } from '../api/auth';
import { createMandiClient } from '../clients/ts';
import type { Db } from '../db/knex';
import { freePort, startDevServer } from '../scripts/temporal-dev-server';
import { startBenchWorker } from './support/worker';
import { startApiProcess } from './support/api-process';
import { createBenchDatabase } from './support/database';
import { round } from './support/stats';

const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** `--name=value` or `--name value`. */
function arg(name: string, fallback: number): number {
  const argv = process.argv;
  const joined = argv.find((a) => a.startsWith(`--${name}=`));
  if (joined) return Number(joined.slice(name.length + 3));
  const at = argv.indexOf(`--${name}`);
  return at >= 0 && at + 1 < argv.length ? Number(argv[at + 1]) : fallback;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function committedTransactions(db: Db): Promise<number> {
  const { rows } = await db.raw(`SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()`);
  return Number(rows[0].xact_commit);
}

/** Postgres commits per second and this process's CPU (% of one core) over `seconds`. */
async function measure(db: Db, seconds: number): Promise<{ pgTxPerSec: number; cpuPct: number }> {
  const tx0 = await committedTransactions(db);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const cpu = process.cpuUsage(cpu0);
  const elapsed = (performance.now() - t0) / 1000;
  const tx1 = await committedTransactions(db);
  return { pgTxPerSec: round((tx1 - tx0) / elapsed, 1), cpuPct: round(((cpu.user + cpu.system) / 1e6 / elapsed) * 100, 2) };
}

async function main(): Promise<void> {
  const marketCount = arg('markets', 100);
  const seconds = arg('seconds', 10);
  const settleSeconds = arg('settle-seconds', 11);
  const cleanups: Array<() => Promise<void> | void> = [];
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const devStarting = freePort().then((port) => startDevServer({ port, headless: true }));
  const bench = await createBenchDatabase('markets_idle', 10);
  const db = bench.db;
  try {
    const dev = await devStarting;
    cleanups.push(() => dev.stop());
    const taskQueue = `bench-markets-idle-${process.pid}`;
    await startBenchWorker({ db, address: dev.address, taskQueue, redisUrl: REDIS_URL, cleanups });
    const api = await startApiProcess(path.resolve(__dirname, 'markets-api-process.ts'), {
      DATABASE_URL: bench.url,
      REDIS_URL,
      TEMPORAL_ADDRESS: dev.address,
      TEMPORAL_TASK_QUEUE: taskQueue,
      RATE_LIMIT_PER_MINUTE: '1000000',
    });
    cleanups.push(() => api.kill());

    await sleep(settleSeconds * 1000);
    const noMarkets = await measure(db, seconds);

    const secret = loadConfig({ NODE_ENV: 'test' }).JWT_SECRET;
    const admin = createMandiClient({ baseUrl: api.url, token: signToken(secret, { userId: 'bench_admin', roles: ['admin'] }) });
    const createMarket = async (i: number) => {
      const created = await admin.POST('/v1/markets', {
        params: { header: { 'Idempotency-Key': `bench-idle-${process.pid}-${i}` } },
        body: {
          question: `Will over ${i} have a six?`,
          opensAt: new Date(Date.now() + 500).toISOString(),
          closesAt: new Date(Date.now() + 3_600_000).toISOString(),
        },
      });
      if (created.response.status !== 201)
        throw new Error(`create market answered ${created.response.status}: ${JSON.stringify(created.error)}`);
      return (created.data as { marketId: string }).marketId;
    };
    const marketIds: string[] = [];
    for (let i = 0; i < marketCount; i += 10)
      marketIds.push(...(await Promise.all(Array.from({ length: Math.min(10, marketCount - i) }, (_, j) => createMarket(i + j)))));
    const deadline = Date.now() + 120_000;
    for (;;) {
      const [{ n }] = await db('markets as m')
        .join('market_engines as e', 'e.market_id', 'm.id')
        .whereIn('m.id', marketIds)
        .where('m.status', 'open')
        .where('e.epoch', '>=', 1)
        .count({ n: '*' });
      if (Number(n) === marketIds.length) break;
      if (Date.now() > deadline) throw new Error(`only ${n} of ${marketIds.length} markets open with an engine after 120 s`);
      await sleep(200);
    }
    await sleep(settleSeconds * 1000);
    const idle = await measure(db, seconds);

    const [{ n: stillOpen }] = await db('markets').whereIn('id', marketIds).where('status', 'open').count({ n: '*' });
    if (Number(stillOpen) !== marketIds.length) throw new Error(`${stillOpen} of ${marketIds.length} markets still open after the window`);
    console.log(
      JSON.stringify({
        bench: 'markets-idle',
        openMarkets: marketIds.length,
        pgTxPerSec: idle.pgTxPerSec,
        workerCpuPct: idle.cpuPct,
        noMarketsPgTxPerSec: noMarkets.pgTxPerSec,
        noMarketsWorkerCpuPct: noMarkets.cpuPct,
        windowSeconds: seconds,
      }),
    );
  } finally {
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch {
        // best effort
      }
    }
    await bench.drop();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
