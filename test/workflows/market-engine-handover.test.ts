/**
 * A deploy stops workers gracefully: the engine of an open market must then hand over — fail its
 * attempt so Temporal runs it on the next worker — rather than complete and leave the market
 * trading without an engine.
 */
import { randomUUID } from 'node:crypto';
import { marketStateQuery, marketWorkflowId } from '../../contracts/market';
import { InMemoryPubSub } from '../../infra/pubsub';
import { startTestApi, type TestApi } from '../support/api';
import { createTestDatabase, expectLedgerInvariants, type TestDatabase } from '../support/db';
import { createMarket, lifecycle, placeOrder, traders, waitForEngineIdle, waitForStatus } from '../support/markets';
import { connectClient, eventually, startTestWorker, uniqueId, type TestWorker } from '../support/temporal';

const taskQueue = `test-${randomUUID()}`;
const pubsub = new InMemoryPubSub();
let tdb: TestDatabase;
let first: TestWorker | undefined;
let second: TestWorker | undefined;
let api: TestApi;
let client: Awaited<ReturnType<typeof connectClient>>;

beforeAll(async () => {
  tdb = await createTestDatabase();
  first = await startTestWorker({ db: tdb.db, taskQueue, pubsub });
  // The API's own connection: it outlives the first worker's.
  client = await connectClient();
  api = await startTestApi({ db: tdb.db, temporal: client.client, taskQueue, pubsub });
});
afterAll(async () => {
  await api?.close();
  await second?.shutdown();
  await first?.shutdown();
  await client?.close();
  await tdb?.drop();
});

const engineEpoch = async (marketId: string) => (await tdb.db('market_engines').where({ market_id: marketId }).first('epoch')).epoch;

test("a worker shut down gracefully hands its engines to the next one; the market's orders are still matched", async () => {
  const admin = api.token(uniqueId('admin'), ['admin']);
  const marketId = await createMarket(api, admin, { opensInMs: 300, closesInMs: 600_000 });
  await waitForStatus(tdb.db, marketId, 'open');
  await eventually(async () => (await engineEpoch(marketId)) >= 1);
  const [a, b] = await traders(tdb.db, api, 2);
  expect((await placeOrder(api, a.token, marketId, { side: 'YES', action: 'BUY', price: 500, quantity: 2 })).status).toBe(202);
  await waitForEngineIdle(tdb.db, marketId);

  await first!.shutdown();
  first = undefined;
  // Accepted while no worker runs: durable, waiting for the next engine.
  expect((await placeOrder(api, b.token, marketId, { side: 'NO', action: 'BUY', price: 500, quantity: 2 })).status).toBe(202);
  second = await startTestWorker({ db: tdb.db, taskQueue, pubsub });
  await waitForEngineIdle(tdb.db, marketId, 20_000);
  expect(await engineEpoch(marketId)).toBeGreaterThanOrEqual(2);
  const [{ q }] = await tdb.db('market_fills').where({ market_id: marketId }).sum({ q: 'quantity' });
  expect(Number(q)).toBe(2);
  // The workflow never saw its engine finish: it is still trading.
  const state = await client.client.workflow.getHandle(marketWorkflowId(marketId)).query(marketStateQuery);
  expect(state).toMatchObject({ phase: 'open', engine: null });

  expect((await lifecycle(api, admin, marketId, 'void', { reason: 'test over' })).status).toBe(200);
  await waitForStatus(tdb.db, marketId, 'voided');
  await expectLedgerInvariants(tdb.db);
}, 90_000);
