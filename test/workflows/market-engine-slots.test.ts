/**
 * Many markets at once: engines run on their own task queue with their own slot budget, so open
 * markets never take the activity slots every other step needs — even when there are more open
 * markets than the main worker has slots.
 */
import { marketWorkflowId } from '../../contracts/market';
import { startTestApi, type TestApi } from '../support/api';
import { createTestDatabase, expectLedgerInvariants, type TestDatabase } from '../support/db';
import { createMarket, escrow, lifecycle, placeOrder, traders, waitForEngineIdle, waitForStatus } from '../support/markets';
import { eventually, startTestWorker, uniqueId, type TestWorker } from '../support/temporal';

/** Slots of the main worker (every flow's steps); fewer than the markets opened below. */
const STEP_SLOTS = 2;
const MARKETS = 6;

let tdb: TestDatabase;
let worker: TestWorker;
let api: TestApi;

beforeAll(async () => {
  tdb = await createTestDatabase();
  worker = await startTestWorker({ db: tdb.db, tuning: { maxConcurrentActivityTaskExecutions: STEP_SLOTS } });
  api = await startTestApi({ db: tdb.db, temporal: worker.client, taskQueue: worker.taskQueue, pubsub: worker.deps.pubsub });
});
afterAll(async () => {
  await api?.close();
  await worker?.shutdown();
  await tdb?.drop();
});

test(`${MARKETS} open markets run ${MARKETS} engines beside a worker of ${STEP_SLOTS} step slots, and every step still runs`, async () => {
  const admin = api.token(uniqueId('admin'), ['admin']);
  const marketIds = await Promise.all(
    Array.from({ length: MARKETS }, () => createMarket(api, admin, { opensInMs: 300, closesInMs: 600_000 })),
  );
  await eventually(async () => {
    const [{ n }] = await tdb
      .db('markets as m')
      .join('market_engines as e', 'e.market_id', 'm.id')
      .whereIn('m.id', marketIds)
      .where('m.status', 'open')
      .where('e.epoch', '>=', 1)
      .count({ n: '*' });
    return Number(n) === MARKETS;
  }, 30_000);

  // Every engine matches at once.
  const [a, b] = await traders(tdb.db, api, 2);
  for (const marketId of marketIds) {
    expect((await placeOrder(api, a.token, marketId, { side: 'YES', action: 'BUY', price: 550, quantity: 3 })).status).toBe(202);
    expect((await placeOrder(api, b.token, marketId, { side: 'NO', action: 'BUY', price: 450, quantity: 3 })).status).toBe(202);
  }
  for (const marketId of marketIds) {
    await waitForEngineIdle(tdb.db, marketId, 10_000);
    const [{ q }] = await tdb.db('market_fills').where({ market_id: marketId }).sum({ q: 'quantity' });
    expect(Number(q)).toBe(3);
  }

  // The lifecycle's steps (close, cancel, refunds, finish) still get slots while the engines run.
  for (const marketId of marketIds.slice(0, 3)) {
    expect((await lifecycle(api, admin, marketId, 'void', { reason: 'rain' })).status).toBe(200);
  }
  for (const marketId of marketIds.slice(0, 3)) await waitForStatus(tdb.db, marketId, 'voided', 30_000);
  for (const marketId of marketIds.slice(0, 3)) {
    expect(await escrow(tdb.db, marketId)).toBe(0);
    const result = await worker.client.workflow.getHandle(marketWorkflowId(marketId)).result();
    expect(result).toMatchObject({ phase: 'voided', engine: { processed: 2 } });
  }
  // …and the markets still open keep matching.
  const open = marketIds[MARKETS - 1];
  expect((await placeOrder(api, b.token, open, { side: 'YES', action: 'BUY', price: 600, quantity: 1 })).status).toBe(202);
  expect((await placeOrder(api, a.token, open, { side: 'NO', action: 'BUY', price: 400, quantity: 1 })).status).toBe(202);
  await waitForEngineIdle(tdb.db, open, 10_000);
  const [{ q }] = await tdb.db('market_fills').where({ market_id: open }).sum({ q: 'quantity' });
  expect(Number(q)).toBe(4);
  await expectLedgerInvariants(tdb.db);
}, 90_000);
