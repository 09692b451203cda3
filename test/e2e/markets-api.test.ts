import { startTestApi, type TestApi } from '../support/api';
import { createTestDatabase, expectLedgerInvariants, type TestDatabase } from '../support/db';
import {
  createMarket,
  escrow,
  lifecycle,
  placeAccepted,
  placeOrder,
  traders,
  waitForEngineIdle,
  waitForStatus,
  wallet,
  type Trader,
} from '../support/markets';
import { startTestWorker, uniqueId, type TestWorker } from '../support/temporal';
import { answer, type RequestBody } from '../support/typed-client';

/** The markets API as support, admins and customers see it: who may read what, and answers that tell the truth. */

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

const FUNDS = 100_000;
type NewOrder = RequestBody<'placeMarketOrder'>;

async function openMarket(): Promise<string> {
  const marketId = await createMarket(api, admin, { opensInMs: 200 });
  await waitForStatus(tdb.db, marketId, 'open');
  return marketId;
}

const positionsOf = async (token: string, marketId: string, userId?: string) =>
  answer(api.client(token).GET('/v1/markets/{marketId}/positions', { params: { path: { marketId }, query: { userId } } }));
const getMarket = async (marketId: string) =>
  (await answer(api.client(admin).GET('/v1/markets/{marketId}', { params: { path: { marketId } } }))).body;

/** P&L is what the market did to the wallet: once it has paid out, P&L equals the wallet's change. */
async function expectPnlIsWalletChange(t: Trader, marketId: string) {
  const pos = (await positionsOf(t.token, marketId)).body;
  expect(pos.pnl).toBe((await wallet(tdb.db, t.id)).balance - FUNDS);
  return pos;
}

test("support and admins read anyone's market orders and positions; a customer only their own", async () => {
  const marketId = await openMarket();
  const [a, b] = await traders(tdb.db, api, 2, FUNDS);
  const aOrder = await placeAccepted(api, tdb.db, a.token, marketId, { side: 'YES', action: 'BUY', price: 600, quantity: 3 });
  await placeAccepted(api, tdb.db, b.token, marketId, { side: 'NO', action: 'BUY', price: 400, quantity: 3 });

  const ordersOf = (marketId: string, userId?: string) => ({ params: { path: { marketId }, query: { userId } } });
  const theOrder = { params: { path: { marketId, orderId: aOrder } } };
  for (const staff of [api.token(uniqueId('agent'), ['support']), admin]) {
    const orders = await answer(api.client(staff).GET('/v1/markets/{marketId}/orders', ordersOf(marketId, a.id)));
    expect(orders.status).toBe(200);
    expect(orders.body).toMatchObject({ marketId, userId: a.id });
    expect(orders.body.orders).toEqual([expect.objectContaining({ orderId: aOrder, userId: a.id, status: 'filled', filledQty: 3 })]);
    const one = await answer(api.client(staff).GET('/v1/markets/{marketId}/orders/{orderId}', theOrder));
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ orderId: aOrder, userId: a.id });
    const positions = await positionsOf(staff, marketId, a.id);
    expect(positions.status).toBe(200);
    expect(positions.body).toMatchObject({ userId: a.id, positions: [{ side: 'YES', quantity: 3 }] });
  }

  // A customer sees their own, with or without their own id; someone else's does not exist for them.
  expect((await answer(api.client(a.token).GET('/v1/markets/{marketId}/orders', ordersOf(marketId)))).body.orders).toHaveLength(1);
  expect((await positionsOf(a.token, marketId, a.id)).body.positions).toEqual([expect.objectContaining({ side: 'YES', quantity: 3 })]);
  const seller = api.token(uniqueId('seller'), ['seller']);
  for (const token of [b.token, seller]) {
    const mandi = api.client(token);
    const reads = {
      orders: () => answer(mandi.GET('/v1/markets/{marketId}/orders', ordersOf(marketId, a.id))),
      positions: () => positionsOf(token, marketId, a.id),
      order: () => answer(mandi.GET('/v1/markets/{marketId}/orders/{orderId}', theOrder)),
    };
    for (const [read, send] of Object.entries(reads)) {
      const res = await send();
      expect([read, res.status, res.body.error?.code]).toEqual([read, 404, 'not_found']);
    }
  }

  // Reading is not trading; an unknown market is a 404 for staff too; a bad userId is a 400.
  const support = api.token(uniqueId('agent'), ['support']);
  expect((await placeOrder(api, support, marketId, { side: 'YES', action: 'BUY', price: 500, quantity: 1 })).status).toBe(403);
  expect((await positionsOf(support, 'mk_doesnotexist00', a.id)).status).toBe(404);
  expect((await answer(api.client(support).GET('/v1/markets/{marketId}/orders', ordersOf('mk_doesnotexist00', a.id)))).status).toBe(404);
  const tooLong = await answer(api.client(support).GET('/v1/markets/{marketId}/orders', ordersOf(marketId, 'x'.repeat(129))));
  expect([tooLong.status, tooLong.body.error.code]).toEqual([400, 'validation_failed']);

  expect((await lifecycle(api, admin, marketId, 'void', { reason: 'test over' })).body.status).toBe('voided');
});

test('positions are marked at the last price while trading, and at 1000 or 0 a contract by the outcome once settled', async () => {
  const marketId = await openMarket();
  const [a, b, c] = await traders(tdb.db, api, 3, FUNDS);
  // A and B mint 10 pairs at 600/400; then A sells 4 YES to C at 700, the last trade.
  await placeAccepted(api, tdb.db, a.token, marketId, { side: 'YES', action: 'BUY', price: 600, quantity: 10 });
  await placeAccepted(api, tdb.db, b.token, marketId, { side: 'NO', action: 'BUY', price: 400, quantity: 10 });
  await placeAccepted(api, tdb.db, a.token, marketId, { side: 'YES', action: 'SELL', price: 700, quantity: 4 });
  await placeAccepted(api, tdb.db, c.token, marketId, { side: 'YES', action: 'BUY', price: 700, quantity: 4 });

  const trading = (await positionsOf(b.token, marketId)).body;
  expect(trading).toMatchObject({
    valuation: 'last_price',
    marketStatus: 'open',
    positions: [{ side: 'NO', quantity: 10, markPrice: 300, markValue: 3_000 }],
    value: 3_000,
  });
  expect((await positionsOf(a.token, marketId)).body.positions).toEqual([
    expect.objectContaining({ side: 'YES', quantity: 6, markPrice: 700 }),
  ]);

  expect((await lifecycle(api, admin, marketId, 'close')).status).toBe(200);
  const resolved = await lifecycle(api, admin, marketId, 'resolve', { outcome: 'NO', source: 'scorer' });
  expect(resolved.body).toMatchObject({ outcome: 'NO', resolutionSource: 'scorer' });
  expect(['resolved', 'settled']).toContain(resolved.body.status); // without a dispute window, payout follows at once
  await waitForStatus(tdb.db, marketId, 'settled');

  // The winners' contracts are worth 1000 each, the losers' nothing — not the last trade's 300 / 700.
  const bPos = await expectPnlIsWalletChange(b, marketId);
  expect(bPos).toMatchObject({
    valuation: 'outcome',
    outcome: 'NO',
    marketStatus: 'settled',
    positions: [{ side: 'NO', quantity: 10, markPrice: 1000, markValue: 10_000 }],
    value: 10_000,
    settlement: { kind: 'payout', amount: 10_000, contracts: 10 },
  });
  const aPos = await expectPnlIsWalletChange(a, marketId);
  expect(aPos).toMatchObject({ valuation: 'outcome', positions: [{ side: 'YES', quantity: 6, markPrice: 0, markValue: 0 }], value: 0 });
  expect(aPos.pnl).toBe(-aPos.netCost);
  const cPos = await expectPnlIsWalletChange(c, marketId);
  expect(cPos).toMatchObject({ positions: [{ side: 'YES', quantity: 4, markPrice: 0 }], value: 0 });
  expect(await escrow(tdb.db, marketId)).toBe(0);
});

test("a voided market answers with the voided market, and its positions are valued at the refund of each user's net cost", async () => {
  const marketId = await openMarket();
  const [a, b, c] = await traders(tdb.db, api, 3, FUNDS);
  await placeAccepted(api, tdb.db, a.token, marketId, { side: 'YES', action: 'BUY', price: 500, quantity: 10 });
  await placeAccepted(api, tdb.db, b.token, marketId, { side: 'NO', action: 'BUY', price: 500, quantity: 10 });
  // A sells everything to C at a profit before the void.
  await placeAccepted(api, tdb.db, a.token, marketId, { side: 'YES', action: 'SELL', price: 800, quantity: 10 });
  await placeAccepted(api, tdb.db, c.token, marketId, { side: 'YES', action: 'BUY', price: 800, quantity: 10 });

  const voided = await lifecycle(api, admin, marketId, 'void', { reason: 'match abandoned (rain)' });
  expect(voided.status).toBe(200);
  expect(voided.body).toMatchObject({ marketId, status: 'voided', phase: 'voided', voidReason: 'match abandoned (rain)', usersPaid: 3 });
  expect(voided.body.closedAt).not.toBeNull();
  expect((await tdb.db('markets').where({ id: marketId }).first('status')).status).toBe('voided');

  // B and C: no contract is marked; the value is the refund of what they paid, so they are even.
  for (const t of [b, c]) {
    const pos = await expectPnlIsWalletChange(t, marketId);
    expect(pos).toMatchObject({ valuation: 'void_refund', marketStatus: 'voided', pnl: 0, settlement: { kind: 'refund' } });
    expect(pos.positions).toEqual([expect.objectContaining({ quantity: 10, markPrice: null, markValue: null })]);
    expect(pos.value).toBe(pos.netCost);
    expect(pos.settlement.amount).toBe(pos.netCost);
  }
  // A sold at a profit (net cost below zero): refunded nothing, keeps the profit.
  const aPos = await expectPnlIsWalletChange(a, marketId);
  expect(aPos.netCost).toBeLessThan(0);
  expect(aPos).toMatchObject({ valuation: 'void_refund', value: 0, settlement: { kind: 'refund', amount: 0 } });
  expect(aPos.pnl).toBe(-aPos.netCost);

  // Voiding again answers with the same voided market and moves nothing.
  const again = await lifecycle(api, admin, marketId, 'void', { reason: 'again' });
  expect(again.body).toMatchObject({ status: 'voided', phase: 'voided', voidReason: 'match abandoned (rain)' });
  expect(await escrow(tdb.db, marketId)).toBe(0);
});

test('a clientOrderId is unique per user and market; reusing it for another order is a 409 naming that order', async () => {
  const [m1, m2] = [await openMarket(), await openMarket()];
  const [a] = await traders(tdb.db, api, 1, FUNDS);
  const order: NewOrder = { clientOrderId: 'a-1', side: 'YES', action: 'BUY', price: 500, quantity: 2 };
  const post = (marketId: string, body: NewOrder) =>
    answer(api.client(a.token).POST('/v1/markets/{marketId}/orders', { params: { path: { marketId } }, body }));

  const first = await post(m1, order);
  const inOtherMarket = await post(m2, order);
  expect([first.status, inOtherMarket.status]).toEqual([202, 202]);
  expect(inOtherMarket.body.orderId).not.toBe(first.body.orderId);
  expect(await post(m1, order)).toMatchObject({ status: 202, body: { orderId: first.body.orderId, replayed: true } });
  const held = (await wallet(tdb.db, a.id)).held;

  const clash = await post(m1, { ...order, price: 550 });
  expect(clash.status).toBe(409);
  expect(clash.body.error).toMatchObject({
    code: 'client_order_id_reused',
    details: { orderId: first.body.orderId, clientOrderId: 'a-1' },
  });
  expect((await wallet(tdb.db, a.id)).held).toBe(held);
  expect(await tdb.db('market_orders').where({ user_id: a.id, client_order_id: 'a-1' }).orderBy('market_id').pluck('market_id')).toEqual(
    [m1, m2].sort(),
  );

  // The same new order sent many times at once (one intake batch or several): one order.
  const burst = await Promise.all(Array.from({ length: 10 }, () => post(m1, { ...order, clientOrderId: 'a-2' })));
  expect(burst.map((r) => r.status)).toEqual(Array(10).fill(202));
  expect(new Set(burst.map((r) => r.body.orderId)).size).toBe(1);
  expect(burst.filter((r) => !r.body.replayed)).toHaveLength(1);
  expect(await tdb.db('market_orders').where({ user_id: a.id, client_order_id: 'a-2' })).toHaveLength(1);

  await waitForEngineIdle(tdb.db, m1);
  for (const m of [m1, m2]) expect((await lifecycle(api, admin, m, 'void', { reason: 'test over' })).body.status).toBe('voided');
  expect(await wallet(tdb.db, a.id)).toMatchObject({ balance: FUNDS, held: 0 });
});

test('close answers with the market after it: a moved close shows the new closesAt, closing now shows it closed', async () => {
  const marketId = await createMarket(api, admin, { opensInMs: 200, closesInMs: 120_000 });
  await waitForStatus(tdb.db, marketId, 'open');
  const before = await getMarket(marketId);

  const at = new Date(Date.now() + 4_000).toISOString();
  const moved = await lifecycle(api, admin, marketId, 'close', { at });
  expect(moved.status).toBe(200);
  expect(moved.body).toMatchObject({ marketId, status: 'open', phase: 'open', closesAt: at, closedAt: null });
  expect(await getMarket(marketId)).toMatchObject({ closesAt: at, status: 'open' });

  // Only earlier, never before the opening: anything else is refused and changes nothing.
  for (const bad of [new Date(Date.parse(at) + 60_000).toISOString(), before.closesAt]) {
    const res = await lifecycle(api, admin, marketId, 'close', { at: bad });
    expect([res.status, res.body.error.code]).toEqual([422, 'invalid_close_time']);
    expect(res.body.error.details).toMatchObject({ closesAt: at });
  }
  expect((await getMarket(marketId)).closesAt).toBe(at);

  // The moved close happens when it said.
  await waitForStatus(tdb.db, marketId, 'closed', 20_000);
  const closed = await getMarket(marketId);
  expect(Date.parse(closed.closedAt)).toBeGreaterThanOrEqual(Date.parse(at) - 50);
  expect(Date.parse(closed.closesAt)).toBeLessThanOrEqual(Date.parse(at));

  // Closing now: the answer is the closed market, its closesAt the moment trading stopped.
  const other = await createMarket(api, admin, { opensInMs: 200, closesInMs: 120_000 });
  await waitForStatus(tdb.db, other, 'open');
  const sent = Date.now();
  const now = await lifecycle(api, admin, other, 'close');
  expect(now.status).toBe(200);
  expect(now.body).toMatchObject({ marketId: other, status: 'closed', phase: 'closed' });
  expect(Date.parse(now.body.closesAt)).toBeGreaterThanOrEqual(sent - 1_000);
  expect(Date.parse(now.body.closesAt)).toBeLessThanOrEqual(Date.now());
  expect(now.body.closedAt).toBe(now.body.closesAt);
  const [t] = await traders(tdb.db, api, 1, FUNDS);
  expect((await placeOrder(api, t.token, other, { side: 'YES', action: 'BUY', price: 500, quantity: 1 })).body.error.code).toBe(
    'market_not_open',
  );

  for (const m of [marketId, other]) expect((await lifecycle(api, admin, m, 'void', { reason: 'test over' })).body.status).toBe('voided');
});

test('a market that has not opened yet can be voided (and cannot have its close moved before its opening)', async () => {
  const marketId = await createMarket(api, admin, { opensInMs: 60_000, closesInMs: 120_000 });
  const created = await getMarket(marketId);
  expect(created.status).toBe('scheduled');
  const early = await lifecycle(api, admin, marketId, 'close', { at: new Date(Date.now() + 30_000).toISOString() });
  expect([early.status, early.body.error.code]).toEqual([422, 'invalid_close_time']);

  const voided = await lifecycle(api, admin, marketId, 'void', { reason: 'fixture cancelled' });
  expect(voided.status).toBe(200);
  // It never traded: its planned times stay as they were, closedAt says when it was stopped.
  expect(voided.body).toMatchObject({
    status: 'voided',
    phase: 'voided',
    opensAt: created.opensAt,
    closesAt: created.closesAt,
    usersPaid: 0,
  });
  expect(Date.parse(voided.body.closedAt)).toBeLessThan(Date.parse(created.opensAt));
});

test("a transition the market's phase refuses is a 409 with the workflow's code", async () => {
  const marketId = await openMarket();
  const early = await lifecycle(api, admin, marketId, 'resolve', { outcome: 'YES', source: 'too early' });
  expect([early.status, early.body.error.code]).toEqual([409, 'market_not_closed']);
  expect((await lifecycle(api, admin, marketId, 'void', { reason: 'test over' })).body.status).toBe('voided');
});
