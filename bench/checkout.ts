/**
 * Checkout saga benchmark: checkouts from the API call to escrowed-and-confirmed, against an empty
 * workflow's start-to-complete rate on the same Temporal server in the same run.
 *
 *   npm run bench:checkout [-- --clients=16 --seconds=5 --rounds=3 --shape=one|apart]
 *
 * Starts its own Temporal dev server (free port, the launcher's settings) and a fresh migrated
 * database (dropped at the end). `--shape=one` (default): one worker and the real HTTP API in this
 * process, as `npm start` runs them. `--shape=apart`: the API and the worker each in a process of
 * their own, started the way `npm run api` and `npm run worker` start them (app/system.ts), and
 * this process only sends the load. Each round runs the two loads one after the other with the same
 * number of closed-loop clients:
 *   - empty:    client.workflow.execute(noopWorkflow)  (start → complete)
 *   - checkout: POST /v1/checkout?wait=true with an Idempotency-Key, through the typed client (clients/ts)
 *               → 201 once stock is reserved and the buyer's wallet money is in the order's escrow
 *               (validate, reserve, charge, confirm). The API answers through an update-with-start that
 *               returns when the saga confirms.
 * Reports medians over rounds of each rate, their ratio, the checkout latency percentiles, where the
 * CPU went during each load (`cpuMsPerSaga` / `cpuMsPerEmpty`: CPU milliseconds per completed
 * operation of this process, the API and worker processes when apart, the Temporal server, the
 * database's backends, and the whole machine — which is shared, so its figure includes others'
 * work), what one saga's history holds at its 201 (events, workflow tasks), and the load average.
 * Prints exactly one JSON line:
 *   {"bench":"checkout","shape":…,"sagasPerSec":…,"emptyWorkflowsPerSec":…,"ratio":…,"p50ms":…,"p99ms":…,…}
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import pino from 'pino';
import { loadConfig } from '../app/config';
import { signToken } from '../api/auth';
import { startHttpServer } from '../api/server';
import { createMandiClient } from '../clients/ts';
import { checkoutWorkflowId } from '../contracts/checkout';
import type { Db } from '../db/knex';
import { FakePaymentProvider } from '../infra/fake-payment-provider';
import { FakePayoutProvider } from '../infra/fake-payout-provider';
import { InMemoryPubSub } from '../infra/pubsub';
import { freePort, startDevServer } from '../scripts/temporal-dev-server';
import { createMandiWorker } from '../workers/mandi-worker';
import { noopWorkflow } from '../workflows/noop';
import { startApiProcess } from './support/api-process';
import { createBenchDatabase } from './support/database';
import { backendPids, cpuSecondsOf, machineBusySeconds } from './support/process-cpu';
import { fundWallets } from './support/wallets';
import { closedLoop, median, percentile, round } from './support/stats';

function arg(name: string, def: number): number {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? Number(hit.slice(name.length + 3)) : def;
}
function argText(name: string, def: string): string {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : def;
}

const CLIENTS = arg('clients', 16);
const SECONDS = arg('seconds', 5);
const ROUNDS = arg('rounds', 3);
const SHAPE = argText('shape', 'one');
if (SHAPE !== 'one' && SHAPE !== 'apart') throw new Error(`--shape must be one or apart, got ${SHAPE}`);

type Cpu = Record<string, number>;

/** CPU seconds used so far by each named process (and the database's backends, and the machine). */
async function cpuNow(db: Db, pids: Record<string, number>): Promise<{ at: number; cpu: Cpu; pg: Map<number, number> }> {
  const u = process.cpuUsage();
  const cpu: Cpu = { bench: (u.user + u.system) / 1e6, machine: machineBusySeconds() };
  for (const [name, pid] of Object.entries(pids)) cpu[name] = cpuSecondsOf(pid);
  const pg = new Map((await backendPids(db)).map((pid) => [pid, cpuSecondsOf(pid)]));
  return { at: performance.now(), cpu, pg };
}

/** CPU milliseconds per operation between two readings, per process. */
function cpuPerOp(a: Awaited<ReturnType<typeof cpuNow>>, b: Awaited<ReturnType<typeof cpuNow>>, ops: number): Cpu {
  const out: Cpu = {};
  for (const k of Object.keys(a.cpu)) out[k] = round(((b.cpu[k] - a.cpu[k]) * 1000) / ops, 2);
  let pg = 0;
  for (const [pid, s] of b.pg) pg += Math.max(0, s - (a.pg.get(pid) ?? 0));
  out.postgres = round((pg * 1000) / ops, 2);
  return out;
}

const sumInto = (acc: Cpu, x: Cpu) => {
  for (const [k, v] of Object.entries(x)) acc[k] = (acc[k] ?? 0) + v;
};
const averaged = (acc: Cpu, n: number): Cpu => Object.fromEntries(Object.entries(acc).map(([k, v]) => [k, round(v / n, 2)]));

/** What a workflow's history holds: its events and its workflow tasks (completed ones). */
async function historyShape(client: Client, workflowId: string): Promise<{ events: number; workflowTasks: number }> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const events = history.events ?? [];
  const workflowTasks = events.filter((e) => e.workflowTaskCompletedEventAttributes).length;
  return { events: events.length, workflowTasks };
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const bench = await createBenchDatabase('checkout', 40);
  const dev = await startDevServer({ port: await freePort(), headless: true });
  const stops: Array<() => Promise<unknown>> = [];
  try {
    const db = bench.db;
    const taskQueue = `bench-checkout-${randomUUID()}`;
    const connection = await Connection.connect({ address: dev.address });
    stops.push(() => connection.close());
    const client = new Client({ connection });
    const env = {
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      TEMPORAL_TASK_QUEUE: taskQueue,
      RATE_LIMIT_PER_MINUTE: '10000000',
      RATE_LIMIT_PER_IP_PER_MINUTE: '100000000',
    };
    const config = loadConfig(env);
    const pids: Record<string, number> = { temporal: dev.process.pid! };
    let apiUrl: string;

    if (SHAPE === 'one') {
      const workerConnection = await NativeConnection.connect({ address: dev.address });
      stops.push(() => workerConnection.close());
      const logger = pino({ level: 'silent' });
      const worker = await createMandiWorker({
        connection: workerConnection,
        namespace: 'default',
        taskQueue,
        deps: {
          db,
          pubsub: new InMemoryPubSub(),
          payments: new FakePaymentProvider(db, { settleDelayMs: 20 }),
          payouts: new FakePayoutProvider(db),
          logger,
          temporal: client,
        },
        tuning: { maxCachedWorkflows: 2_000 },
      });
      const running = worker.run();
      stops.push(async () => {
        worker.shutdown();
        await running;
      });
      const http = await startHttpServer({ config, db, temporal: client, pubsub: new InMemoryPubSub(), logger }, 0, '127.0.0.1');
      stops.push(http.close);
      apiUrl = http.url;
    } else {
      // `npm run worker` and `npm run api` on this bench's server and database.
      const roleEnv = { ...env, DATABASE_URL: bench.url, TEMPORAL_ADDRESS: dev.address, DATA_DIR: os.tmpdir() };
      const script = path.resolve(__dirname, 'support/system-role.ts');
      const worker = await startApiProcess(script, roleEnv, ['worker'], 'BENCH_WORKER_NODE_ARGS');
      stops.push(() => worker.kill());
      const api = await startApiProcess(script, roleEnv, ['api']);
      stops.push(() => api.kill());
      pids.api = api.pid;
      pids.worker = worker.pid;
      apiUrl = api.url;
    }

    // One seller, one product with plenty of stock, one funded buyer per client.
    const sellerId = `bench_seller_${process.pid}`;
    await db('sellers').insert({ id: sellerId, name: 'Bench seller', commission_bps: 1000, bank_account_ref: 'ok' });
    const productId = `bench_product_${process.pid}`;
    await db('products').insert({ id: productId, seller_id: sellerId, name: 'Bench item', price: 4_999, stock: 1_000_000 });
    const buyers = Array.from({ length: CLIENTS }, (_, i) => `bench_buyer_${i}`);
    await fundWallets(db, buyers);
    const clients = buyers.map((b) =>
      createMandiClient({ baseUrl: apiUrl, token: signToken(config.JWT_SECRET, { userId: b, roles: ['customer'] }) }),
    );
    const lines = [{ productId, quantity: 1, unitPrice: 4_999 }];

    let lastEmpty = '';
    let lastOrder = '';
    const empty = async () => {
      const workflowId = `noop-${randomUUID()}`;
      await client.workflow.execute(noopWorkflow, { taskQueue, workflowId, args: [] });
      lastEmpty = workflowId;
    };
    const checkout = async (c: number) => {
      const { data, response, error } = await clients[c].POST('/v1/checkout', {
        params: { query: { wait: 'true' }, header: { 'Idempotency-Key': `bench-${randomUUID()}` } },
        body: { lines },
      });
      if (response.status !== 201) throw new Error(`checkout answered ${response.status}: ${JSON.stringify(error)}`);
      lastOrder = (data as { orderId: string }).orderId;
    };

    // Warm-up: bundle caches, connection pools, JIT.
    await closedLoop(CLIENTS, 1.5, () => empty());
    await closedLoop(CLIENTS, 1.5, (c) => checkout(c));

    const emptyRates: number[] = [];
    const sagaRates: number[] = [];
    const latencies: number[] = [];
    const emptyCpu: Cpu = {};
    const sagaCpu: Cpu = {};
    for (let r = 0; r < ROUNDS; r++) {
      let c0 = await cpuNow(db, pids);
      const e = await closedLoop(CLIENTS, SECONDS, () => empty());
      sumInto(emptyCpu, cpuPerOp(c0, await cpuNow(db, pids), e.latencies.length));
      emptyRates.push(e.perSec);
      c0 = await cpuNow(db, pids);
      const s = await closedLoop(CLIENTS, SECONDS, (c) => checkout(c));
      sumInto(sagaCpu, cpuPerOp(c0, await cpuNow(db, pids), s.latencies.length));
      sagaRates.push(s.perSec);
      latencies.push(...s.latencies);
    }
    const sagasPerSec = median(sagaRates);
    const emptyWorkflowsPerSec = median(emptyRates);
    console.log(
      JSON.stringify({
        bench: 'checkout',
        shape: SHAPE,
        sagasPerSec: round(sagasPerSec, 1),
        emptyWorkflowsPerSec: round(emptyWorkflowsPerSec, 1),
        ratio: round(sagasPerSec / emptyWorkflowsPerSec, 3),
        p50ms: round(percentile(latencies, 50), 1),
        p99ms: round(percentile(latencies, 99), 1),
        ratios: sagaRates.map((s, i) => round(s / emptyRates[i], 3)),
        cpuMsPerSaga: averaged(sagaCpu, ROUNDS),
        cpuMsPerEmpty: averaged(emptyCpu, ROUNDS),
        sagaHistory: await historyShape(client, checkoutWorkflowId(lastOrder)),
        emptyHistory: await historyShape(client, lastEmpty),
        loadavg: os.loadavg().map((l) => round(l, 2)),
      }),
    );
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await dev.stop().catch(() => undefined);
    await bench.drop().catch(() => undefined);
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
