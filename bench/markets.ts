/**
 * Markets benchmark: the running system — Temporal dev server, a fresh Postgres database, Redis,
 * the worker (market workflow + engine) in this process and the API in a child process — with
 * many concurrent HTTP clients placing orders on one market (or spread over --markets open
 * markets) and a WebSocket watcher.
 *
 *   npm run bench:markets -- [--seconds=8] [--concurrency=256] [--paced-rate=1000]
 *                            [--latency-seconds=20] [--warmup-seconds=2] [--markets=1] [--raw-seconds=3]
 *
 * With --markets N (N > 1) every order goes to one of N open markets, each with its own engine,
 * and a YES and the NO that crosses it go to the same market; the probes and the WebSocket watcher
 * stay on the first market, so the latency is one market's while the others are busy, and
 * ordersPerSec is the aggregate over all of them.
 *
 * Phase 1 (latency), paced at 1,000 orders/s for --latency-seconds (about 85 probes per 10 s, so
 * p99 is not just the slowest one), after --warmup-seconds of the same traffic whose latencies are
 * not counted (its slowest is reported as warmupLatencyMaxMs): background orders rest away from the touch
 * (YES bids 100–400, asks 600–900) so they keep changing the book, and every 100 ms a probe moves
 * the price (a YES bid at 450, then a NO buy that trades against it). Latency = from the probe's
 * 202 to the first WebSocket update showing it (best bid 450, or the probe trade's volume); an
 * update that arrives before the 202 counts as 0 ms.
 * Phase 2 (throughput), unpaced for --seconds: --concurrency clients send a crossing mix as fast as
 * the API accepts it; ordersPerSec = orders accepted ÷ time until the engine has matched and
 * committed all of them. The default of 256 clients saturates the machine, so the figure is its
 * capacity rather than a client-count limit: with fewer clients in flight, intake batches are
 * smaller (more transactions per order) and the CPU is not fully used. acceptP50ms/acceptP99ms are
 * the order round trips at that load, i.e. the queueing a client sees at saturation.
 *
 * Prints one JSON line: {"bench":"markets","ordersPerSec":…,"priceLatencyP50ms":…,"priceLatencyP99ms":…}
 * with, for the throughput phase, where the time went: pgTxPerOrder (Postgres transactions per
 * accepted order), pgWaits (what its busy connections were doing, on average), cpu (cores used by
 * the API, this process and Postgres, and by the whole shared machine), and the engines' group
 * statements (batchesPerCommit, readsPerStatement, groupFallbacks: see MarketEngineStore).
 * Diagnostics: BENCH_DEBUG=1 also prints Postgres's per-function times (pg_stat_user_functions), each probe's split to stderr (202 round trip, engine time from
 * the 202 to publication, delivery from publication to the socket) and the sorted latencies;
 * BENCH_API_NODE_ARGS passes flags to the API process (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").
 */
import path from 'node:path';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { Pool } from 'undici';
import WebSocket from 'ws';
import { loadConfig } from '../app/config';
import { signToken } from '../api/auth';
import { createMandiClient, type paths } from '../clients/ts';
import type { Db } from '../db/knex';
import { marketEngineStoreTotals, type StoreStats } from '../db/market-engine-store';
import { freePort, startDevServer } from '../scripts/temporal-dev-server';
import { startBenchWorker } from './support/worker';
import { startApiProcess } from './support/api-process';
import { createBenchDatabase } from './support/database';
import { samplePgWaits } from './support/pg-waits';
import { startCpuMeter } from './support/process-cpu';
import { closedLoop } from './support/stats';
import { fundWallets } from './support/wallets';

const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const USERS = 200;
/** This process's Postgres pool: the worker's engines and the raw INSERT baseline. */
const BENCH_POOL = 20;

// The orders are the load itself, so they go over a bare undici pool rather than the typed
// client: measured on loopback, a pool round trip costs about 65 µs of client CPU, and the typed
// client adds about 100 µs to any transport (it builds a Request and a Response per call) — at
// 3,000 orders/s a third of a core taken from the engine, which runs in this process. The route
// and its body are still the typed client's, so a changed route breaks this file's compile.
const ORDERS_PATH = '/v1/markets/{marketId}/orders' satisfies keyof paths;
type NewOrder = Omit<paths[typeof ORDERS_PATH]['post']['requestBody']['content']['application/json'], 'clientOrderId'>;

/** `--name=value` or `--name value`. */
function arg(name: string, fallback: number): number {
  const argv = process.argv;
  const joined = argv.find((a) => a.startsWith(`--${name}=`));
  if (joined) return Number(joined.slice(name.length + 3));
  const at = argv.indexOf(`--${name}`);
  return at >= 0 && at + 1 < argv.length ? Number(argv[at + 1]) : fallback;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;

/** Orders the engines of these markets have matched and committed, all together. */
async function engineProcessed(db: Db, marketIds: readonly string[]): Promise<number> {
  const [{ total }] = await db('market_engines').whereIn('market_id', marketIds).sum({ total: 'processed' });
  return Number(total ?? 0);
}

/** Transactions this database has committed so far (all clients). */
async function committedTransactions(db: Db): Promise<number> {
  const { rows } = await db.raw(`SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()`);
  return Number(rows[0].xact_commit);
}

/**
 * Waits until every market is open and its engine has claimed it (epoch ≥ 1). The engine claims
 * before the open (it warms up first), so the claim alone does not mean orders are taken.
 */
async function openWithEngines(db: Db, marketIds: readonly string[]): Promise<void> {
  for (;;) {
    const [{ n }] = await db('markets as m')
      .join('market_engines as e', 'e.market_id', 'm.id')
      .whereIn('m.id', marketIds)
      .where('m.status', 'open')
      .where('e.epoch', '>=', 1)
      .count({ n: '*' });
    if (Number(n) === marketIds.length) return;
    await sleep(50);
  }
}

async function main(): Promise<void> {
  const seconds = arg('seconds', 8);
  const latencySeconds = arg('latency-seconds', 20);
  const warmupSeconds = arg('warmup-seconds', 2);
  const concurrency = arg('concurrency', 256);
  const pacedRate = arg('paced-rate', 1000);
  const marketCount = arg('markets', 1);
  const rawSeconds = arg('raw-seconds', 3);
  const cleanups: Array<() => Promise<void> | void> = [];
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  // The dev server starts while the scratch database is created and migrated.
  const devStarting = freePort().then((port) => startDevServer({ port, headless: true }));
  const bench = await createBenchDatabase('markets', BENCH_POOL);
  const db = bench.db;
  // Per-function call counts and times (pg_stat_user_functions) for the diagnostics below.
  if (process.env.BENCH_DEBUG) await db.raw(`ALTER DATABASE ${new URL(bench.url).pathname.slice(1)} SET track_functions = 'pl'`);
  try {
    const dev = await devStarting;
    cleanups.push(() => dev.stop());
    const taskQueue = `bench-markets-${process.pid}`;
    await startBenchWorker({ db, address: dev.address, taskQueue, redisUrl: REDIS_URL, cleanups });
    const api = await startApiProcess(path.resolve(__dirname, 'markets-api-process.ts'), {
      DATABASE_URL: bench.url,
      REDIS_URL,
      TEMPORAL_ADDRESS: dev.address,
      TEMPORAL_TASK_QUEUE: taskQueue,
      // 256 clients on one address: neither the per-user nor the per-address limit may shape the load.
      RATE_LIMIT_PER_MINUTE: '1000000',
      RATE_LIMIT_PER_IP_PER_MINUTE: '100000000',
    });
    cleanups.push(() => api.kill());

    const secret = loadConfig({ NODE_ENV: 'test' }).JWT_SECRET;
    const users = Array.from({ length: USERS }, (_, i) => `bench_u${i}`);
    const tokens = users.map((u) => signToken(secret, { userId: u, roles: ['customer'] }));
    await fundWallets(db, users);
    const adminToken = signToken(secret, { userId: 'bench_admin', roles: ['admin'] });
    let networkErrors = 0;
    const errorCodes: Record<string, number> = {};
    const post = async (p: string, token: string, body: unknown) => {
      try {
        return await postOnce(p, token, body);
      } catch (err) {
        networkErrors++;
        const code = (err as { code?: string }).code ?? String(err);
        errorCodes[code] = (errorCodes[code] ?? 0) + 1;
        return { status: 0, body: null as any };
      }
    };
    // An efficient client (undici, keep-alive, bounded connections) so that the load generator,
    // which shares this machine's two cores with the system under test, takes as little as it can.
    const pool = new Pool(api.url, { connections: Math.max(concurrency, 64) });
    cleanups.push(() => pool.close());
    const postOnce = async (p: string, token: string, body: unknown) => {
      const res = await pool.request({
        path: p,
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: res.statusCode, body: (await res.body.json()) as any };
    };
    const admin = createMandiClient({ baseUrl: api.url, token: adminToken });
    const createMarket = async (i: number) => {
      const created = await admin.POST('/v1/markets', {
        params: { header: { 'Idempotency-Key': `bench-create-${process.pid}-${i}` } },
        body: {
          question: `Will the next over have a six? (${i})`,
          opensAt: new Date(Date.now() + 300).toISOString(),
          closesAt: new Date(Date.now() + 3_600_000).toISOString(),
          feeBps: 200,
        },
      });
      if (created.response.status !== 201)
        throw new Error(`create market answered ${created.response.status}: ${JSON.stringify(created.error)}`);
      return (created.data as { marketId: string }).marketId;
    };
    const marketIds: string[] = [];
    for (let i = 0; i < marketCount; i += 10)
      marketIds.push(...(await Promise.all(Array.from({ length: Math.min(10, marketCount - i) }, (_, j) => createMarket(i + j)))));
    await openWithEngines(db, marketIds);
    const marketId = marketIds[0];

    // The watcher.
    type Update = { at: number; view: any; publishedAt: number };
    const updates: Update[] = [];
    const listeners = new Set<(u: Update) => void>();
    const ws = new WebSocket(`${api.url.replace(/^http/, 'ws')}/v1/ws`);
    await new Promise((r) => ws.once('open', r));
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString());
      if (m.type !== 'update' && m.type !== 'snapshot') return;
      const u = { at: performance.now(), view: m.view, publishedAt: m.publishedAt };
      updates.push(u);
      for (const l of listeners) l(u);
    });
    ws.send(JSON.stringify({ op: 'subscribe', market: marketId }));
    const waitForView = (pred: (v: any) => boolean, since: number) =>
      new Promise<number>((resolve) => {
        const hit = updates.find((u) => u.at >= since && pred(u.view));
        if (hit) return resolve(hit.at);
        const l = (u: Update) => {
          if (pred(u.view)) {
            listeners.delete(l);
            resolve(u.at);
          }
        };
        listeners.add(l);
      });

    let seq = 0;
    const ordersPaths = marketIds.map((id) => ORDERS_PATH.replace('{marketId}', encodeURIComponent(id)));
    const place = (user: number, order: NewOrder, market = 0) =>
      post(ordersPaths[market], tokens[user], { clientOrderId: `b${seq++}`, ...order });
    // Consecutive pairs (a YES and the NO after it) share a market, so every market gets both sides.
    const marketOf = (k: number) => Math.floor(k / 2) % marketCount;

    // Phase 1: paced background flow plus price-moving probes — first a warm-up (JIT, pools,
    // prepared statements; reported apart, not counted), then the measured run.
    let volume = 0;
    // The update may beat the 202 to the client: it then counts as 0 ms (the app saw the new price
    // before its acknowledgement), which is why updates are looked for from the moment of sending.
    const probe = async (latencies: number[], user: number, order: NewOrder, shows: (v: any) => boolean) => {
      const sentAt = performance.now();
      const res = await place(user, order);
      const acceptedAt = performance.now();
      if (res.status !== 202) return false;
      const seenAt = await waitForView(shows, sentAt);
      latencies.push(Math.max(0, seenAt - acceptedAt));
      if (process.env.BENCH_DEBUG) {
        const u = updates.find((x) => x.at === seenAt)!;
        const toDate = (t: number) => performance.timeOrigin + t;
        console.error(
          `rtt ${(acceptedAt - sentAt).toFixed(1)} engine ${(u.publishedAt - toDate(acceptedAt)).toFixed(1)} deliver ${(toDate(seenAt) - u.publishedAt).toFixed(1)}`,
        );
      }
      return true;
    };
    const pacedRun = async (durationMs: number) => {
      const latencies: number[] = [];
      const end = performance.now() + durationMs;
      const background = (async () => {
        const interval = 1000 / pacedRate;
        let next = performance.now();
        const inflight = new Set<Promise<unknown>>();
        let i = 0;
        while (performance.now() < end) {
          next += interval;
          const bid = i % 2 === 0;
          const p = place(
            2 + (i % (USERS - 2)),
            { side: bid ? 'YES' : 'NO', action: 'BUY', price: 100 + 50 * (i % 7), quantity: 1 + (i % 3) },
            marketOf(i),
          );
          i++;
          inflight.add(p);
          void p.finally(() => inflight.delete(p));
          const wait = next - performance.now();
          if (wait > 0) await sleep(wait);
        }
        await Promise.all(inflight);
        return i;
      })();
      while (performance.now() < end - 300) {
        const bid = await probe(latencies, 0, { side: 'YES', action: 'BUY', price: 450, quantity: 1 }, (v) => v.bestBid === 450);
        await sleep(100);
        // Only a bid that rests can be traded against: without it the volume would never move.
        if (!bid) continue;
        const target = volume + 1;
        if (await probe(latencies, 1, { side: 'NO', action: 'BUY', price: 550, quantity: 1 }, (v) => v.volume >= target)) volume = target;
        await sleep(100);
      }
      return { orders: await background, latencies: latencies.sort((x, y) => x - y) };
    };
    const warmup = await pacedRun(warmupSeconds * 1000);
    const { orders: pacedOrders, latencies } = await pacedRun(latencySeconds * 1000);

    // The baseline: plain one-row INSERT transactions from as many clients, on the same database.
    await db.raw(`CREATE TABLE bench_raw (id bigserial PRIMARY KEY, v bigint NOT NULL)`);
    const rawOp = async (_c: number, i: number) => {
      await db.raw('INSERT INTO bench_raw (v) VALUES (?)', [i]);
    };
    await closedLoop(concurrency, 1, rawOp); // warm-up
    const rawRates = [(await closedLoop(concurrency, rawSeconds, rawOp)).perSec];

    // Phase 2: unpaced crossing mix from many clients.
    const before = await engineProcessed(db, marketIds);
    const xactBefore = await committedTransactions(db);
    const storeBefore: StoreStats = { ...marketEngineStoreTotals };
    const stopWaits = samplePgWaits(db);
    const stopCpu = await startCpuMeter(db, api.pid);
    let accepted = 0;
    const roundTrips: number[] = [];
    let rejected = 0;
    const tStart = performance.now();
    const tEnd = tStart + seconds * 1000;
    await Promise.all(
      Array.from({ length: concurrency }, async (_, c) => {
        let k = c;
        while (performance.now() < tEnd) {
          const side = k % 2 === 0 ? 'YES' : 'NO';
          const sentAt = performance.now();
          const res = await place(
            2 + (k % (USERS - 2)),
            { side, action: 'BUY', price: 400 + 50 * (k % 5), quantity: 1 + (k % 4), tif: k % 5 === 0 ? 'IOC' : 'GTC' },
            marketOf(k),
          );
          roundTrips.push(performance.now() - sentAt);
          if (res.status === 202) accepted++;
          else rejected++;
          k += concurrency;
        }
      }),
    );
    const sent = performance.now();
    roundTrips.sort((x, y) => x - y);
    while ((await engineProcessed(db, marketIds)) < before + accepted) await sleep(20);
    const matched = performance.now();
    const pgWaits = await stopWaits();
    const cpu = await stopCpu();
    const phaseTx = (await committedTransactions(db)) - xactBefore;
    const store = Object.fromEntries(
      Object.entries(marketEngineStoreTotals).map(([k, v]) => [k, v - storeBefore[k as keyof StoreStats]]),
    ) as StoreStats;
    rawRates.push((await closedLoop(concurrency, rawSeconds, rawOp)).perSec);

    if (process.env.BENCH_DEBUG) {
      console.error(latencies.map((l) => l.toFixed(1)).join(' '));
      const { rows } = await db.raw(
        `SELECT funcname, calls, round(total_time) AS total_ms, round(self_time) AS self_ms FROM pg_stat_user_functions ORDER BY total_time DESC`,
      );
      console.error(JSON.stringify(rows));
    }
    const ordersPerSec = accepted / ((matched - tStart) / 1000);
    const rawInsertTxPerSec = (rawRates[0] + rawRates[1]) / 2;
    const out = {
      bench: 'markets',
      ordersPerSec: Math.round(ordersPerSec),
      priceLatencyP50ms: Math.round(pct(latencies, 50) * 10) / 10,
      priceLatencyP99ms: Math.round(pct(latencies, 99) * 10) / 10,
      rawInsertTxPerSec: Math.round(rawInsertTxPerSec),
      ratio: Math.round((ordersPerSec / rawInsertTxPerSec) * 1e4) / 1e4,
      markets: marketCount,
      rawInsertRounds: rawRates.map(Math.round),
      acceptedPerSec: Math.round(accepted / ((sent - tStart) / 1000)),
      // The order's round trip at that load: the queueing a client sees when the system is saturated.
      acceptP50ms: Math.round(pct(roundTrips, 50) * 10) / 10,
      acceptP99ms: Math.round(pct(roundTrips, 99) * 10) / 10,
      drainMs: Math.round(matched - sent),
      // Postgres transactions committed during the throughput phase, per accepted order, and what
      // its busy connections were doing on average (running, waiting for a lock, idle in a transaction).
      pgTxPerOrder: Math.round((phaseTx / Math.max(1, accepted)) * 100) / 100,
      pgWaits,
      // Cores used in that phase: the API process, this one (worker and clients), Postgres, the whole (shared) machine.
      cpu,
      // The engines' statements in that phase: batches per group commit, queue reads per statement.
      batchesPerCommit: Math.round((store.commitBatches / Math.max(1, store.commitStatements)) * 10) / 10,
      readsPerStatement: Math.round((store.reads / Math.max(1, store.readStatements)) * 10) / 10,
      engineStatements: store.commitStatements + store.readStatements,
      groupFallbacks: store.groupFallbacks,
      rejected,
      networkErrors,
      ...(networkErrors > 0 ? { errorCodes } : {}),
      pacedOrdersPerSec: Math.round(pacedOrders / latencySeconds),
      probes: latencies.length,
      warmupProbes: warmup.latencies.length,
      warmupLatencyMaxMs: Math.round(warmup.latencies[warmup.latencies.length - 1] * 10) / 10,
      concurrency,
    };
    ws.close();
    console.log(JSON.stringify(out));
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
