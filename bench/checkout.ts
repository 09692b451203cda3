/**
 * Checkout saga benchmark: checkouts from the API call to escrowed-and-confirmed, against an empty
 * workflow's start-to-complete rate on the same Temporal server in the same run.
 *
 *   npm run bench:checkout [-- --clients=16 --seconds=5 --rounds=3]
 *
 * Starts its own Temporal dev server (free port), a fresh migrated database (dropped at the end), one
 * in-process worker and the real HTTP API. Each round runs the two loads one after the other with the
 * same number of closed-loop clients:
 *   - empty:    client.workflow.execute(noopWorkflow)  (start → complete)
 *   - checkout: POST /v1/checkout?wait=true with an Idempotency-Key, through the typed client (clients/ts)
 *               → 201 once stock is reserved and the buyer's wallet money is in the order's escrow
 *               (validate, reserve, charge, confirm). The API answers through an update-with-start that
 *               returns when the saga confirms.
 * Reports medians over rounds of each rate, their ratio, and the checkout latency percentiles.
 * Prints exactly one JSON line:
 *   {"bench":"checkout","sagasPerSec":…,"emptyWorkflowsPerSec":…,"ratio":…,"p50ms":…,"p99ms":…}
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import pino from 'pino';
import { loadConfig } from '../app/config';
import { signToken } from '../api/auth';
import { startHttpServer } from '../api/server';
import { createMandiClient } from '../clients/ts';
import { FakePaymentProvider } from '../infra/fake-payment-provider';
import { FakePayoutProvider } from '../infra/fake-payout-provider';
import { InMemoryPubSub } from '../infra/pubsub';
import { freePort, startDevServer } from '../scripts/temporal-dev-server';
import { createMandiWorker } from '../workers/mandi-worker';
import { noopWorkflow } from '../workflows/noop';
import { createBenchDatabase } from './support/database';
import { fundWallets } from './support/wallets';
import { closedLoop, median, percentile, round } from './support/stats';

function arg(name: string, def: number): number {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? Number(hit.slice(name.length + 3)) : def;
}

const CLIENTS = arg('clients', 16);
const SECONDS = arg('seconds', 5);
const ROUNDS = arg('rounds', 3);

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
    const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', TEMPORAL_TASK_QUEUE: taskQueue, RATE_LIMIT_PER_MINUTE: '10000000' });
    const http = await startHttpServer({ config, db, temporal: client, pubsub: new InMemoryPubSub(), logger }, 0, '127.0.0.1');
    stops.push(http.close);

    // One seller, one product with plenty of stock, one funded buyer per client.
    const sellerId = `bench_seller_${process.pid}`;
    await db('sellers').insert({ id: sellerId, name: 'Bench seller', commission_bps: 1000, bank_account_ref: 'ok' });
    const productId = `bench_product_${process.pid}`;
    await db('products').insert({ id: productId, seller_id: sellerId, name: 'Bench item', price: 4_999, stock: 1_000_000 });
    const buyers = Array.from({ length: CLIENTS }, (_, i) => `bench_buyer_${i}`);
    await fundWallets(db, buyers);
    const clients = buyers.map((b) =>
      createMandiClient({ baseUrl: http.url, token: signToken(config.JWT_SECRET, { userId: b, roles: ['customer'] }) }),
    );
    const lines = [{ productId, quantity: 1, unitPrice: 4_999 }];

    const empty = async () => {
      await client.workflow.execute(noopWorkflow, { taskQueue, workflowId: `noop-${randomUUID()}`, args: [] });
    };
    const checkout = async (c: number) => {
      const { response, error } = await clients[c].POST('/v1/checkout', {
        params: { query: { wait: 'true' }, header: { 'Idempotency-Key': `bench-${randomUUID()}` } },
        body: { lines },
      });
      if (response.status !== 201) throw new Error(`checkout answered ${response.status}: ${JSON.stringify(error)}`);
    };

    // Warm-up: bundle caches, connection pools, JIT.
    await closedLoop(CLIENTS, 1.5, () => empty());
    await closedLoop(CLIENTS, 1.5, (c) => checkout(c));

    const emptyRates: number[] = [];
    const sagaRates: number[] = [];
    const latencies: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const e = await closedLoop(CLIENTS, SECONDS, () => empty());
      emptyRates.push(e.perSec);
      const s = await closedLoop(CLIENTS, SECONDS, (c) => checkout(c));
      sagaRates.push(s.perSec);
      latencies.push(...s.latencies);
    }
    const sagasPerSec = median(sagaRates);
    const emptyWorkflowsPerSec = median(emptyRates);
    console.log(
      JSON.stringify({
        bench: 'checkout',
        sagasPerSec: round(sagasPerSec, 1),
        emptyWorkflowsPerSec: round(emptyWorkflowsPerSec, 1),
        ratio: round(sagasPerSec / emptyWorkflowsPerSec, 3),
        p50ms: round(percentile(latencies, 50), 1),
        p99ms: round(percentile(latencies, 99), 1),
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
