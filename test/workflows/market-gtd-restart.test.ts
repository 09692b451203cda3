/**
 * A good-till-date order whose expiry comes while its engine's worker is dead: the engine that
 * takes over rebuilds the book, expires the order at its first batch and releases the hold once.
 */
import { randomUUID } from 'node:crypto';
import { startTestApi, type TestApi } from '../support/api';
import { createTestDatabase, expectLedgerInvariants, type TestDatabase } from '../support/db';
import { createMarket, expectNothingHeld, lifecycle, orderRow, placeAccepted, traders, waitForStatus, wallet } from '../support/markets';
import { connectClient, eventually, startTestWorker, uniqueId, type TestWorker } from '../support/temporal';
import { spawnWorkerProcess, type WorkerProcess } from '../support/worker-process-handle';
import { maxBuyCost } from '../../domain/market/costs';

let tdb: TestDatabase;
let api: TestApi;
let client: Awaited<ReturnType<typeof connectClient>>;
let child: WorkerProcess | undefined;
let worker: TestWorker | undefined;
const taskQueue = `test-${randomUUID()}`;

beforeAll(async () => {
  tdb = await createTestDatabase();
  client = await connectClient();
  api = await startTestApi({ db: tdb.db, temporal: client.client, taskQueue });
});
afterAll(async () => {
  await child?.kill();
  await api?.close();
  await worker?.shutdown();
  await client?.close();
  await tdb?.drop();
});

test('a GTD order expiring while the engine is down is expired by the engine that takes over, its hold released once', async () => {
  child = await spawnWorkerProcess({ databaseUrl: tdb.url, taskQueue });
  const admin = api.token(uniqueId('admin'), ['admin']);
  const marketId = await createMarket(api, admin, { opensInMs: 300, closesInMs: 120_000, feeBps: 200 });
  await waitForStatus(tdb.db, marketId, 'open');
  const [t, other] = await traders(tdb.db, api, 2);
  // Far enough that both orders are placed and looked at before it, also on a loaded machine.
  const expiresAt = new Date(Date.now() + 5_000).toISOString();
  const gtd = await placeAccepted(api, tdb.db, t.token, marketId, { side: 'YES', action: 'BUY', price: 400, quantity: 5, expiresAt });
  const gtc = await placeAccepted(api, tdb.db, other.token, marketId, { side: 'YES', action: 'BUY', price: 350, quantity: 1 });
  expect(await orderRow(tdb.db, gtd)).toMatchObject({ status: 'open' });
  const epochBefore = (await tdb.db('market_engines').where({ market_id: marketId }).first()).epoch;

  await child.kill();
  await eventually(async () => Date.now() > Date.parse(expiresAt) + 500, 10_000, 50);
  // Nobody expired it while no engine ran: the hold is still there.
  expect(await orderRow(tdb.db, gtd)).toMatchObject({ status: 'open' });
  expect((await wallet(tdb.db, t.id)).held).toBe(maxBuyCost(400, 5, 200));

  worker = await startTestWorker({ db: tdb.db, taskQueue });
  await eventually(async () => (await orderRow(tdb.db, gtd)).status === 'expired', 60_000, 50);
  expect((await tdb.db('market_engines').where({ market_id: marketId }).first()).epoch).toBeGreaterThan(epochBefore);
  expect(await orderRow(tdb.db, gtd)).toMatchObject({ reject_reason: 'expired', cancelled_qty: 5, hold_remaining: 0 });
  await expectNothingHeld(tdb.db, t.id);
  expect(await orderRow(tdb.db, gtc)).toMatchObject({ status: 'open' });
  await expectLedgerInvariants(tdb.db);

  await lifecycle(api, admin, marketId, 'void', { reason: 'test over' });
  await waitForStatus(tdb.db, marketId, 'voided', 60_000);
  await expectNothingHeld(tdb.db, other.id);
  await expectLedgerInvariants(tdb.db);
}, 120_000);
