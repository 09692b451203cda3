/**
 * Open markets cost nothing while nobody trades: their engines wait on the API's wake-up and one
 * shared fallback statement a second, and heartbeat to Temporal, not Postgres. And the wake-up is
 * only a speed-up: an order whose wake-up never arrives is still matched within the fallback.
 */
import { MIN_FALLBACK_POLL_MS } from '../../activities/market-engine';
import { InMemoryPubSub } from '../../infra/pubsub';
import { startTestApi, type TestApi } from '../support/api';
import { createTestDatabase, expectLedgerInvariants, type TestDatabase } from '../support/db';
import { createMarket, lifecycle, placeOrder, traders, waitForEngineIdle, waitForStatus } from '../support/markets';
import { eventually, startTestWorker, uniqueId, type TestWorker } from '../support/temporal';

const OPEN_MARKETS = 100;
/** The target: a hundred idle markets add at most this many Postgres transactions a second in all. */
const MAX_TX_PER_SEC = 10;
const WINDOW_MS = 10_000;
const STATS_SETTLE_MS = 11_000;

let tdb: TestDatabase;
let worker: TestWorker;
let api: TestApi;
let admin: string;

beforeAll(async () => {
  tdb = await createTestDatabase();
  worker = await startTestWorker({ db: tdb.db });
  api = await startTestApi({ db: tdb.db, temporal: worker.client, taskQueue: worker.taskQueue, pubsub: worker.deps.pubsub });
  admin = api.token(uniqueId('admin'), ['admin']);
});
afterAll(async () => {
  await api?.close();
  await worker?.shutdown();
  await tdb?.drop();
});

async function committedTransactions(): Promise<number> {
  const { rows } = await tdb.db.raw(`SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()`);
  return Number(rows[0].xact_commit);
}

async function openMarketsWithEngines(marketIds: string[]): Promise<number> {
  const [{ n }] = await tdb
    .db('markets as m')
    .join('market_engines as e', 'e.market_id', 'm.id')
    .whereIn('m.id', marketIds)
    .where('m.status', 'open')
    .where('e.epoch', '>=', 1)
    .count({ n: '*' });
  return Number(n);
}

test(`${OPEN_MARKETS} open idle markets cost Postgres under ${MAX_TX_PER_SEC} transactions a second in all`, async () => {
  const marketIds: string[] = [];
  for (let i = 0; i < OPEN_MARKETS; i += 10)
    marketIds.push(
      ...(await Promise.all(Array.from({ length: 10 }, () => createMarket(api, admin, { opensInMs: 300, closesInMs: 600_000 })))),
    );
  await eventually(async () => (await openMarketsWithEngines(marketIds)) === OPEN_MARKETS, 90_000, 200);
  // Let the start-up's commits reach the statistics first: a backend that reported less than a
  // second ago holds its counts until it next reports or has been idle 10 s (PGSTAT_IDLE_INTERVAL).
  await new Promise((r) => setTimeout(r, STATS_SETTLE_MS));

  const before = await committedTransactions();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, WINDOW_MS));
  const after = await committedTransactions();
  const txPerSec = (after - before) / ((performance.now() - t0) / 1000);
  expect(txPerSec).toBeLessThan(MAX_TX_PER_SEC);

  // Idle is not dead: every engine is still claimed and its market open, and orders placed now,
  // on markets across the range, are matched.
  expect(await openMarketsWithEngines(marketIds)).toBe(OPEN_MARKETS);
  const [a, b] = await traders(tdb.db, api, 2);
  const probes = [marketIds[0], marketIds[49], marketIds[99]];
  for (const marketId of probes) {
    expect((await placeOrder(api, a.token, marketId, { side: 'YES', action: 'BUY', price: 500, quantity: 1 })).status).toBe(202);
    expect((await placeOrder(api, b.token, marketId, { side: 'NO', action: 'BUY', price: 500, quantity: 1 })).status).toBe(202);
  }
  for (const marketId of probes) {
    await waitForEngineIdle(tdb.db, marketId, 10_000);
    const [{ n }] = await tdb.db('market_fills').where({ market_id: marketId }).count({ n: '*' });
    expect(Number(n)).toBe(1);
  }
  await expectLedgerInvariants(tdb.db);
}, 180_000);

test('an order whose wake-up is lost is still matched within the fallback interval', async () => {
  // An API whose wake-ups go to a bus no engine listens on: only the fallback can find its orders.
  const deaf = await startTestApi({ db: tdb.db, temporal: worker.client, taskQueue: worker.taskQueue, pubsub: new InMemoryPubSub() });
  try {
    const [a, b] = await traders(tdb.db, deaf, 2);
    const marketId = await createMarket(deaf, admin, { opensInMs: 300, closesInMs: 600_000 });
    await waitForStatus(tdb.db, marketId, 'open');
    await eventually(async () => (await openMarketsWithEngines([marketId])) === 1);

    const latencies: number[] = [];
    for (let i = 0; i < 4; i++) {
      // Land at different points of the fallback's cycle.
      await new Promise((r) => setTimeout(r, 150 + 230 * i));
      const trader = i % 2 === 0 ? a : b;
      const order = i % 2 === 0 ? ({ side: 'YES', price: 600 } as const) : ({ side: 'NO', price: 400 } as const);
      const placed = await placeOrder(deaf, trader.token, marketId, { ...order, action: 'BUY', quantity: 2 });
      expect(placed.status).toBe(202);
      const acceptedAt = performance.now();
      await waitForEngineIdle(tdb.db, marketId, 10_000);
      latencies.push(performance.now() - acceptedAt);
    }
    // The fallback, plus its statement, the read and the commit on a busy two-core machine.
    expect(Math.max(...latencies)).toBeLessThan(MIN_FALLBACK_POLL_MS + 1_000);
    const fills = await tdb.db('market_fills').where({ market_id: marketId }).sum({ q: 'quantity' });
    expect(Number(fills[0].q)).toBe(4);
    expect((await lifecycle(deaf, admin, marketId, 'void', { reason: 'test over' })).status).toBe(200);
    await waitForStatus(tdb.db, marketId, 'voided');
    await expectLedgerInvariants(tdb.db);
  } finally {
    await deaf.close();
  }
}, 60_000);
