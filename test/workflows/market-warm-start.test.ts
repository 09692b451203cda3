/**
 * A market's engine starts shortly before its open (ENGINE_WARM_START_MS): it has claimed the
 * market and rebuilt its book while the market is still scheduled, so the first order is matched
 * at once; and a market called off before it opens stops its warm engine.
 */
import { MIN_FALLBACK_POLL_MS } from '../../activities/market-engine';
import { ENGINE_WARM_START_MS, marketWorkflowId } from '../../contracts/market';
import { startTestApi, type TestApi } from '../support/api';
import { createTestDatabase, expectLedgerInvariants, type TestDatabase } from '../support/db';
import { createMarket, lifecycle, placeOrder, traders, waitForStatus } from '../support/markets';
import { eventually, startTestWorker, uniqueId, type TestWorker } from '../support/temporal';

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

/** The market's status and its engine's epoch, read together. */
async function engineOf(marketId: string): Promise<{ status: string; epoch: number }> {
  return tdb.db('markets as m').join('market_engines as e', 'e.market_id', 'm.id').where('m.id', marketId).first('m.status', 'e.epoch');
}

test('the engine is running before the open, and the first order is matched at once', async () => {
  expect(ENGINE_WARM_START_MS).toBeGreaterThan(5_000);
  const marketId = await createMarket(api, admin, { opensInMs: 5_000, closesInMs: 600_000 });
  const warm = await eventually(async () => {
    const e = await engineOf(marketId);
    return e.epoch >= 1 && e;
  }, 4_000);
  expect(warm.status).toBe('scheduled');

  await waitForStatus(tdb.db, marketId, 'open', 15_000);
  const [a, b] = await traders(tdb.db, api, 2);
  expect((await placeOrder(api, a.token, marketId, { side: 'YES', action: 'BUY', price: 500, quantity: 5 })).status).toBe(202);
  const placed = await placeOrder(api, b.token, marketId, { side: 'NO', action: 'BUY', price: 500, quantity: 5 });
  expect(placed.status).toBe(202);
  const acceptedAt = performance.now();
  await eventually(() => tdb.db('market_fills').where({ market_id: marketId }).first(), 5_000, 5);
  // Woken by the API, by an engine already waiting: well before any fallback look at Postgres.
  expect(performance.now() - acceptedAt).toBeLessThan(MIN_FALLBACK_POLL_MS);
  // The same engine that warmed up (no restart at the open).
  expect((await engineOf(marketId)).epoch).toBe(warm.epoch);

  expect((await lifecycle(api, admin, marketId, 'void', { reason: 'test over' })).status).toBe(200);
  await waitForStatus(tdb.db, marketId, 'voided');
  await expectLedgerInvariants(tdb.db);
}, 60_000);

test('a market voided before it opens stops its warm engine and finishes', async () => {
  const marketId = await createMarket(api, admin, { opensInMs: 8_000, closesInMs: 600_000 });
  await eventually(async () => (await engineOf(marketId)).epoch >= 1, 6_000);
  expect((await engineOf(marketId)).status).toBe('scheduled');

  const voided = await lifecycle(api, admin, marketId, 'void', { reason: 'match called off' });
  expect(voided.status).toBe(200);
  const result = await worker.client.workflow.getHandle(marketWorkflowId(marketId)).result();
  expect(result).toMatchObject({ phase: 'voided', engine: { processed: 0 } });
  expect((await engineOf(marketId)).status).toBe('voided');
}, 60_000);
