/**
 * In-play suspension on the real dev server: while suspended nothing matches and new orders are
 * refused with market_suspended; resting orders are cancelled with their holds released (or kept,
 * if the market chose so); a resume restarts trading after its delay. FlowStatus, the market's row
 * and the feed say so. Each scenario ends with the ledger invariants.
 */
import { marketWorkflowId } from '../../contracts/market';
import { marketFeedChannel, type FeedMessage } from '../../domain/market/feed';
import { startTestApi, type TestApi } from '../support/api';
import { createTestDatabase, expectLedgerInvariants, type TestDatabase } from '../support/db';
import {
  createMarket,
  expectEscrowMatchesPairs,
  expectNothingHeld,
  lifecycle,
  orderRow,
  placeAccepted,
  placeOrder,
  traders,
  waitForEngineIdle,
  waitForStatus,
  wallet,
} from '../support/markets';
import { eventually, startTestWorker, uniqueId, type TestWorker } from '../support/temporal';
import { answer } from '../support/typed-client';

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
afterEach(async () => {
  await expectLedgerInvariants(tdb.db);
});

/** Every view the market's feed publishes, from now on. */
async function feedOf(marketId: string): Promise<{ views: FeedMessage['view'][]; stop: () => Promise<void> }> {
  const views: FeedMessage['view'][] = [];
  const stop = await worker.deps.pubsub.subscribe(marketFeedChannel(marketId), (m) => views.push((m as FeedMessage).view));
  return { views, stop };
}
const flowStatus = async (marketId: string) =>
  (await worker.client.workflow.getHandle(marketWorkflowId(marketId)).describe()).searchAttributes.FlowStatus;
const fills = async (marketId: string) => Number((await tdb.db('market_fills').where({ market_id: marketId }).count({ n: '*' }))[0].n);

test('suspend while orders stream in: nothing matches once it answers, new orders are refused, resting ones cancelled; resume after its delay', async () => {
  const marketId = await createMarket(api, admin, { opensInMs: 200, closesInMs: 120_000 });
  await waitForStatus(tdb.db, marketId, 'open');
  const feed = await feedOf(marketId);
  const ts = await traders(tdb.db, api, 6);
  const resting = await placeAccepted(api, tdb.db, ts[0].token, marketId, { side: 'YES', action: 'BUY', price: 300, quantity: 4 });

  // Crossing buys keep arriving from all sides while the suspension is asked for.
  let streaming = true;
  const refusedSuspended: number[] = [];
  const stream = (async () => {
    for (let i = 0; streaming; i++) {
      const t = ts[1 + (i % 5)];
      const res = await placeOrder(api, t.token, marketId, { side: i % 2 ? 'YES' : 'NO', action: 'BUY', price: 500, quantity: 1 });
      if (res.status === 409) {
        expect(res.body.error.code).toBe('market_suspended');
        refusedSuspended.push(i);
      } else expect(res.status).toBe(202);
    }
  })();
  await eventually(async () => (await fills(marketId)) >= 10, 20_000, 20);
  const suspended = await lifecycle(api, admin, marketId, 'suspend', { source: 'feed:ball-by-ball' });
  expect(suspended.status).toBe(200);
  expect(suspended.body).toMatchObject({ phase: 'suspended', suspended: true, status: 'open' });
  const fillsAtSuspension = await fills(marketId);
  await eventually(async () => refusedSuspended.length >= 5, 10_000, 20);
  streaming = false;
  await stream;
  await waitForEngineIdle(tdb.db, marketId);

  expect(await fills(marketId)).toBe(fillsAtSuspension);
  expect(
    Number((await tdb.db('market_orders').where({ market_id: marketId }).whereIn('status', ['open', 'accepted']).count({ n: '*' }))[0].n),
  ).toBe(0);
  expect(await orderRow(tdb.db, resting)).toMatchObject({ status: 'cancelled', cancelled_qty: 4 });
  for (const t of ts) await expectNothingHeld(tdb.db, t.id);
  expect(await flowStatus(marketId)).toEqual(['suspended']);
  const market = await answer(api.client(ts[0].token).GET('/v1/markets/{marketId}', { params: { path: { marketId } } }));
  expect(market.body).toMatchObject({ suspended: true, book: { suspended: true, bids: [], asks: [] } });
  await eventually(async () => feed.views.some((v) => v.suspended), 5_000, 20);
  // The suspended view supersedes what came before: no later view says otherwise.
  const firstSuspended = feed.views.findIndex((v) => v.suspended);
  expect(feed.views.slice(firstSuspended).every((v) => v.suspended)).toBe(true);
  expect((await lifecycle(api, admin, marketId, 'suspend')).body.phase).toBe('suspended'); // again: nothing more

  // Resume with a delay: still refused until resumesAt, then orders match again.
  const resumed = await lifecycle(api, admin, marketId, 'resume', { delaySeconds: 1 });
  expect(resumed.body).toMatchObject({ phase: 'open', suspended: true });
  const resumesAt = Date.parse(resumed.body.resumesAt);
  expect(resumesAt).toBeGreaterThan(Date.now());
  const early = await placeOrder(api, ts[1].token, marketId, { side: 'YES', action: 'BUY', price: 500, quantity: 1 });
  expect([early.status, early.body.error?.code]).toEqual([409, 'market_suspended']);
  expect(await flowStatus(marketId)).toEqual(['open']);
  await eventually(async () => Date.now() > resumesAt + 50, 5_000, 20);
  await eventually(async () => feed.views.length > 0 && !feed.views[feed.views.length - 1].suspended, 10_000, 20);
  const yes = await placeAccepted(api, tdb.db, ts[1].token, marketId, { side: 'YES', action: 'BUY', price: 500, quantity: 2 });
  await placeAccepted(api, tdb.db, ts[2].token, marketId, { side: 'NO', action: 'BUY', price: 500, quantity: 2 });
  expect(await orderRow(tdb.db, yes)).toMatchObject({ status: 'filled' });
  expect((await lifecycle(api, admin, marketId, 'resume')).body.error?.code).toBe('market_not_suspended');
  await feed.stop();

  await lifecycle(api, admin, marketId, 'close');
  await expectEscrowMatchesPairs(tdb.db, marketId);
  expect((await lifecycle(api, admin, marketId, 'resolve', { outcome: 'YES', source: 'scorecard' })).status).toBe(200);
  await waitForStatus(tdb.db, marketId, 'settled');
  for (const t of ts) expect((await wallet(tdb.db, t.id)).held).toBe(0);
});

test('a market that keeps resting orders through a suspension: they stay (holds too) and match once it resumes; a close while suspended works', async () => {
  const marketId = await createMarket(api, admin, { opensInMs: 200, closesInMs: 120_000, suspendCancelsOrders: false });
  await waitForStatus(tdb.db, marketId, 'open');
  const [maker, taker] = await traders(tdb.db, api, 2);
  const kept = await placeAccepted(api, tdb.db, maker.token, marketId, { side: 'YES', action: 'BUY', price: 600, quantity: 3 });
  const held = (await wallet(tdb.db, maker.id)).held;

  expect((await lifecycle(api, admin, marketId, 'suspend')).body).toMatchObject({ phase: 'suspended', suspendCancelsOrders: false });
  expect(await orderRow(tdb.db, kept)).toMatchObject({ status: 'open', remaining: 3 });
  expect((await wallet(tdb.db, maker.id)).held).toBe(held);
  const refused = await placeOrder(api, taker.token, marketId, { side: 'NO', action: 'BUY', price: 400, quantity: 3 });
  expect([refused.status, refused.body.error?.code]).toEqual([409, 'market_suspended']);
  // Cancels and decreases still go through while suspended.
  const amended = await answer(
    api
      .client(maker.token)
      .POST('/v1/markets/{marketId}/orders/{orderId}/amend', { params: { path: { marketId, orderId: kept } }, body: { quantity: 2 } }),
  );
  expect(amended.status).toBe(202);
  await waitForEngineIdle(tdb.db, marketId);
  expect(await orderRow(tdb.db, kept)).toMatchObject({ status: 'open', remaining: 2 });

  expect((await lifecycle(api, admin, marketId, 'resume', { delaySeconds: 0 })).body).toMatchObject({ phase: 'open', suspended: false });
  await placeAccepted(api, tdb.db, taker.token, marketId, { side: 'NO', action: 'BUY', price: 400, quantity: 2 });
  expect(await orderRow(tdb.db, kept)).toMatchObject({ status: 'filled', filled_qty: 2 });

  // Suspended again, then closed straight away: trading stops at once.
  await lifecycle(api, admin, marketId, 'suspend');
  const started = Date.now();
  const closed = await lifecycle(api, admin, marketId, 'close');
  expect(closed.body).toMatchObject({ status: 'closed', phase: 'closed' });
  expect(Date.now() - started).toBeLessThan(3_000);
  expect((await lifecycle(api, admin, marketId, 'suspend')).status).toBe(409);
  await lifecycle(api, admin, marketId, 'void', { reason: 'test over' });
  for (const t of [maker, taker]) await expectNothingHeld(tdb.db, t.id);
});
