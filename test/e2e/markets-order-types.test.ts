import { MarketSession } from '../../api/ws/market-session';
import { startTestApi, type TestApi } from '../support/api';
import { createTestDatabase, expectLedgerInvariants, type TestDatabase } from '../support/db';
import {
  createMarket,
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
import { maxBuyCost } from '../../domain/market/costs';

/** The order types traders expect, over HTTP against the real engine: each ends with the ledger invariants. */

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

const FEE = 200;
async function openMarket(): Promise<string> {
  const marketId = await createMarket(api, admin, { opensInMs: 200, feeBps: FEE });
  await waitForStatus(tdb.db, marketId, 'open');
  return marketId;
}
const inMs = (ms: number) => new Date(Date.now() + ms).toISOString();

test('post-only: rejected with the price when it would take, rests when it would not; never with IOC', async () => {
  const marketId = await openMarket();
  const [maker, taker] = await traders(tdb.db, api, 2);
  await placeAccepted(api, tdb.db, maker.token, marketId, { side: 'NO', action: 'BUY', price: 400, quantity: 5 }); // YES ask 600

  const takes = await placeAccepted(api, tdb.db, taker.token, marketId, {
    side: 'YES',
    action: 'BUY',
    price: 600,
    quantity: 2,
    postOnly: true,
  });
  expect(await orderRow(tdb.db, takes)).toMatchObject({
    status: 'rejected',
    reject_reason: 'post_only_would_take',
    current_price: 600,
    filled_qty: 0,
  });
  const rests = await placeAccepted(api, tdb.db, taker.token, marketId, {
    side: 'YES',
    action: 'BUY',
    price: 550,
    quantity: 2,
    postOnly: true,
  });
  expect(await orderRow(tdb.db, rests)).toMatchObject({ status: 'open', remaining: 2, post_only: true });
  expect((await wallet(tdb.db, taker.id)).held).toBe(maxBuyCost(550, 2, FEE));

  const ioc = await placeOrder(api, taker.token, marketId, {
    side: 'YES',
    action: 'BUY',
    price: 550,
    quantity: 1,
    tif: 'IOC',
    postOnly: true,
  });
  expect([ioc.status, ioc.body.error?.code]).toEqual([422, 'invalid_order_type']);

  await lifecycle(api, admin, marketId, 'void', { reason: 'test over' });
  await expectNothingHeld(tdb.db, taker.id);
});

test('good-till-date: the engine expires it on time and releases its hold; an expiry in the past is refused', async () => {
  const marketId = await openMarket();
  const [t] = await traders(tdb.db, api, 1);
  const expiresAt = inMs(1_500);
  const orderId = await placeAccepted(api, tdb.db, t.token, marketId, { side: 'YES', action: 'BUY', price: 450, quantity: 3, expiresAt });
  expect(await orderRow(tdb.db, orderId)).toMatchObject({ status: 'open' });
  expect((await wallet(tdb.db, t.id)).held).toBe(maxBuyCost(450, 3, FEE));

  await eventually(async () => (await orderRow(tdb.db, orderId)).status === 'expired', 10_000, 25);
  const row = await orderRow(tdb.db, orderId);
  expect(row).toMatchObject({ reject_reason: 'expired', cancelled_qty: 3, hold_remaining: 0 });
  // On time: within a second of expiresAt (the engine's timer, not its fallback watch).
  expect(new Date(row.updated_at).getTime() - Date.parse(expiresAt)).toBeLessThan(1_000);
  await expectNothingHeld(tdb.db, t.id);
  const got = await answer(api.client(t.token).GET('/v1/markets/{marketId}/orders/{orderId}', { params: { path: { marketId, orderId } } }));
  expect(got.body).toMatchObject({ status: 'expired', expiresAt: new Date(expiresAt).toISOString(), postOnly: false });

  const past = await placeOrder(api, t.token, marketId, { side: 'YES', action: 'BUY', price: 450, quantity: 1, expiresAt: inMs(-1_000) });
  expect([past.status, past.body.error?.code]).toEqual([422, 'expires_at_past']);
  await lifecycle(api, admin, marketId, 'void', { reason: 'test over' });
});

test('amend: a decrease keeps time priority and releases hold; a new price is a cancel plus a new order and says so', async () => {
  const marketId = await openMarket();
  const [a, b, seller] = await traders(tdb.db, api, 3);
  const first = await placeAccepted(api, tdb.db, a.token, marketId, { side: 'YES', action: 'BUY', price: 500, quantity: 10 });
  const second = await placeAccepted(api, tdb.db, b.token, marketId, { side: 'YES', action: 'BUY', price: 500, quantity: 10 });
  const amend = (token: string, orderId: string, body: { quantity?: number; price?: number; clientOrderId?: string }) =>
    answer(api.client(token).POST('/v1/markets/{marketId}/orders/{orderId}/amend', { params: { path: { marketId, orderId } }, body }));

  const dec = await amend(a.token, first, { quantity: 4 });
  expect([dec.status, dec.body]).toEqual([202, { orderId: first, kind: 'decrease', keepsPriority: true, quantity: 4, replacement: null }]);
  await waitForEngineIdle(tdb.db, marketId);
  expect(await orderRow(tdb.db, first)).toMatchObject({ status: 'open', remaining: 4, cancelled_qty: 6 });
  expect((await wallet(tdb.db, a.id)).held).toBe(maxBuyCost(500, 4, FEE));
  expect((await amend(a.token, first, { quantity: 5 })).body.error?.code).toBe('not_a_decrease');

  // A NO buyer at 500 takes 5: A's 4 first (it kept its place), then 1 of B's.
  await placeAccepted(api, tdb.db, seller.token, marketId, { side: 'NO', action: 'BUY', price: 500, quantity: 5 });
  expect(await orderRow(tdb.db, first)).toMatchObject({ status: 'filled', filled_qty: 4 });
  expect(await orderRow(tdb.db, second)).toMatchObject({ status: 'open', filled_qty: 1, remaining: 9 });

  const noKey = await amend(b.token, second, { price: 450 });
  expect([noKey.status, noKey.body.error?.code]).toEqual([422, 'client_order_id_required']);
  const rep = await amend(b.token, second, { price: 450, clientOrderId: uniqueId('rep') });
  expect(rep.status).toBe(202);
  expect(rep.body).toMatchObject({ orderId: second, kind: 'replace', keepsPriority: false, quantity: 10 });
  await waitForEngineIdle(tdb.db, marketId);
  expect(await orderRow(tdb.db, second)).toMatchObject({ status: 'cancelled', filled_qty: 1 });
  expect(await orderRow(tdb.db, rep.body.replacement!.orderId)).toMatchObject({ status: 'open', price: 450, quantity: 10, remaining: 10 });
  // Someone else's order does not exist for them.
  expect((await amend(a.token, second, { quantity: 1 })).status).toBe(404);

  await lifecycle(api, admin, marketId, 'void', { reason: 'test over' });
  for (const t of [a, b, seller]) await expectNothingHeld(tdb.db, t.id);
});

test('batch place and batch cancel: every item has its own result and none affects another', async () => {
  const marketId = await openMarket();
  const [t] = await traders(tdb.db, api, 1, 20_000);
  const placed = await answer(
    api.client(t.token).POST('/v1/markets/{marketId}/orders/batch', {
      params: { path: { marketId } },
      body: {
        orders: [
          { clientOrderId: 'b-1', side: 'YES', action: 'BUY', price: 300, quantity: 5 },
          { clientOrderId: 'b-2', side: 'YES', action: 'BUY', price: 300, quantity: 1, tif: 'FOK', postOnly: true },
          { clientOrderId: 'b-3', side: 'YES', action: 'BUY', price: 900, quantity: 1_000 }, // far beyond the wallet
          { clientOrderId: 'b-4', side: 'NO', action: 'BUY', price: 200, quantity: 2, expiresAt: inMs(60_000) },
          { clientOrderId: 'b-1', side: 'YES', action: 'BUY', price: 300, quantity: 5 }, // the same order again: replayed
        ],
      },
    }),
  );
  expect(placed.status).toBe(200);
  const r: Array<{ index: number; status: number; orderId: string | null; replayed: boolean | null; error: { code: string } | null }> =
    placed.body.results;
  expect(r.map((x) => [x.index, x.status, x.error?.code ?? null])).toEqual([
    [0, 202, null],
    [1, 422, 'invalid_order_type'],
    [2, 409, 'insufficient_funds'],
    [3, 202, null],
    [4, 202, null],
  ]);
  expect(r[4]).toMatchObject({ orderId: r[0].orderId, replayed: true });
  await waitForEngineIdle(tdb.db, marketId);
  expect((await wallet(tdb.db, t.id)).held).toBe(maxBuyCost(300, 5, FEE) + maxBuyCost(200, 2, FEE));

  const tooMany = await api.request('POST', `/v1/markets/${marketId}/orders/batch`, {
    token: t.token,
    // 21 orders: over the limit of 20, refused whole.
    body: {
      orders: Array.from({ length: 21 }, (_, i) => ({ clientOrderId: `x-${i}`, side: 'YES', action: 'BUY', price: 300, quantity: 1 })),
    },
  });
  expect(tooMany.status).toBe(400);

  const unknown = 'mo_00000000000000000000000000000000';
  const cancelled = await answer(
    api.client(t.token).POST('/v1/markets/{marketId}/orders/batch-cancel', {
      params: { path: { marketId } },
      body: { orderIds: [r[0].orderId!, unknown, r[3].orderId!] },
    }),
  );
  expect(
    cancelled.body.results.map((x: { orderId: string; cancelRequested: boolean; error: { code: string } | null }) => [
      x.orderId,
      x.cancelRequested,
      x.error?.code ?? null,
    ]),
  ).toEqual([
    [r[0].orderId, true, null],
    [unknown, false, 'not_found'],
    [r[3].orderId, true, null],
  ]);
  await waitForEngineIdle(tdb.db, marketId);
  await expectNothingHeld(tdb.db, t.id);
  const again = await answer(
    api
      .client(t.token)
      .POST('/v1/markets/{marketId}/orders/batch-cancel', { params: { path: { marketId } }, body: { orderIds: [r[0].orderId!] } }),
  );
  expect(again.body.results[0]).toMatchObject({ cancelRequested: false, error: { code: 'order_not_open' } });
  await lifecycle(api, admin, marketId, 'void', { reason: 'test over' });
});

test('cancel-all: in one market, then in every market, only the caller’s live orders', async () => {
  const [m1, m2] = [await openMarket(), await openMarket()];
  const [t, other] = await traders(tdb.db, api, 2);
  for (const m of [m1, m2]) {
    await placeAccepted(api, tdb.db, t.token, m, { side: 'YES', action: 'BUY', price: 300, quantity: 2 });
    await placeAccepted(api, tdb.db, t.token, m, { side: 'NO', action: 'BUY', price: 300, quantity: 2 });
    await placeAccepted(api, tdb.db, other.token, m, { side: 'YES', action: 'BUY', price: 250, quantity: 1 });
  }
  const one = await answer(api.client(t.token).POST('/v1/markets/{marketId}/orders/cancel-all', { params: { path: { marketId: m1 } } }));
  expect([one.status, one.body.marketId, one.body.cancelRequested]).toEqual([202, m1, 2]);
  await waitForEngineIdle(tdb.db, m1);
  expect(await tdb.db('market_orders').where({ user_id: t.id, market_id: m1, status: 'open' }).count({ n: '*' })).toEqual([{ n: 0 }]);
  expect(await tdb.db('market_orders').where({ user_id: t.id, market_id: m2, status: 'open' }).count({ n: '*' })).toEqual([{ n: 2 }]);

  const all = await answer(api.client(t.token).POST('/v1/markets/orders/cancel-all'));
  expect([all.status, all.body.marketId, all.body.cancelRequested]).toEqual([202, null, 2]);
  expect(new Set(all.body.orders.map((o: { marketId: string }) => o.marketId))).toEqual(new Set([m2]));
  await waitForEngineIdle(tdb.db, m2);
  await expectNothingHeld(tdb.db, t.id);
  expect(await tdb.db('market_orders').where({ user_id: other.id, status: 'open' }).count({ n: '*' })).toEqual([{ n: 2 }]);
  for (const m of [m1, m2]) await lifecycle(api, admin, m, 'void', { reason: 'test over' });
});

test('cancel-on-disconnect: heartbeats keep the orders; silence past the timeout (also after the socket closed) cancels them all', async () => {
  const [m1, m2] = [await openMarket(), await openMarket()];
  const [t] = await traders(tdb.db, api, 1);
  for (const m of [m1, m2]) await placeAccepted(api, tdb.db, t.token, m, { side: 'YES', action: 'BUY', price: 300, quantity: 2 });
  const frames: Array<Record<string, unknown>> = [];
  const session = new MarketSession(worker.deps, (f) => frames.push(f));
  const principal = { userId: t.id, roles: ['customer' as const] };

  await session.handle(null, { op: 'cancelOnDisconnect', timeoutSeconds: 1 });
  expect(frames.pop()).toMatchObject({ type: 'error', code: 'forbidden' });
  await session.handle(principal, { op: 'cancelOnDisconnect', timeoutSeconds: 0 });
  expect(frames.pop()).toMatchObject({ type: 'error', code: 'bad_message' });
  await session.handle(principal, { op: 'cancelOnDisconnect', timeoutSeconds: 1 });
  expect(frames.pop()).toMatchObject({ type: 'cancelOnDisconnect', enabled: true, timeoutSeconds: 1, userId: t.id });

  // Heartbeats every 400 ms for 2 s: nothing is cancelled.
  for (let i = 0; i < 5; i++) {
    await new Promise((r) => setTimeout(r, 400));
    await session.handle(principal, { op: 'heartbeat' });
  }
  expect(await tdb.db('market_orders').where({ user_id: t.id, status: 'open' }).count({ n: '*' })).toEqual([{ n: 2 }]);

  // The socket drops; a second later (the grace period) every order in both markets is cancelled.
  session.close();
  await eventually(
    async () => Number((await tdb.db('market_orders').where({ user_id: t.id, status: 'cancelled' }).count({ n: '*' }))[0].n) === 2,
    10_000,
    50,
  );
  await expectNothingHeld(tdb.db, t.id);
  expect(frames.filter((f) => f.type === 'cancelledOnDisconnect')).toEqual([]); // closed: nothing to send to

  // Turned off, silence cancels nothing.
  const quiet = new MarketSession(worker.deps, (f) => frames.push(f));
  await placeAccepted(api, tdb.db, t.token, m1, { side: 'YES', action: 'BUY', price: 300, quantity: 1 });
  await quiet.handle(principal, { op: 'cancelOnDisconnect', timeoutSeconds: 1 });
  await quiet.handle(principal, { op: 'cancelOnDisconnect', enabled: false });
  await new Promise((r) => setTimeout(r, 1_500));
  expect(await tdb.db('market_orders').where({ user_id: t.id, status: 'open' }).count({ n: '*' })).toEqual([{ n: 1 }]);
  for (const m of [m1, m2]) await lifecycle(api, admin, m, 'void', { reason: 'test over' });
});

test('candles: OHLCV per interval from the trades, the last traded price, and the latest trades', async () => {
  const marketId = await openMarket();
  const [a, b] = await traders(tdb.db, api, 2);
  const trades: Array<[number, number]> = [
    [550, 2],
    [600, 3],
    [500, 1],
  ];
  for (const [p, q] of trades) {
    await placeAccepted(api, tdb.db, a.token, marketId, { side: 'YES', action: 'BUY', price: p, quantity: q });
    await placeAccepted(api, tdb.db, b.token, marketId, { side: 'NO', action: 'BUY', price: 1000 - p, quantity: q });
  }
  const res = await answer(
    api.client(a.token).GET('/v1/markets/{marketId}/candles', { params: { path: { marketId }, query: { interval: '5m' } } }),
  );
  expect(res.status).toBe(200);
  expect(res.body.lastPrice).toBe(500);
  const candles: Array<{ high: number; close: number; volume: number }> = res.body.candles;
  const volume = candles.reduce((s, c) => s + c.volume, 0);
  expect(volume).toBe(6);
  const last = candles[candles.length - 1];
  expect(last.close).toBe(500);
  expect(Math.max(...candles.map((c) => c.high))).toBe(600);
  const bad = await answer(
    api.client(a.token).GET('/v1/markets/{marketId}/candles', {
      params: { path: { marketId }, query: { interval: '1s', from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z' } },
    }),
  );
  expect([bad.status, bad.body.error?.code]).toEqual([422, 'range_too_large']);

  // The latest trades, newest first: the NO buyer took the resting YES bid each time; nobody's ids.
  const latest = await answer(
    api.client(b.token).GET('/v1/markets/{marketId}/trades', { params: { path: { marketId }, query: { limit: 2 } } }),
  );
  expect(latest.status).toBe(200);
  type Trade = { price: number; quantity: number; takerSide: string; takerAction: string };
  const newest: Trade[] = latest.body.trades;
  expect(newest.map(({ price, quantity, takerSide, takerAction }) => [price, quantity, takerSide, takerAction])).toEqual([
    [500, 1, 'NO', 'BUY'],
    [600, 3, 'NO', 'BUY'],
  ]);
  expect(JSON.stringify(latest.body)).not.toContain(a.id);
  const all = await answer(api.client(a.token).GET('/v1/markets/{marketId}/trades', { params: { path: { marketId } } }));
  expect((all.body.trades as Trade[]).map((t) => t.price)).toEqual([500, 600, 550]);
  const unknown = await answer(
    api.client(a.token).GET('/v1/markets/{marketId}/trades', { params: { path: { marketId: 'mk_nope00000000' } } }),
  );
  expect(unknown.status).toBe(404);
  const tooMany = await answer(
    api.client(a.token).GET('/v1/markets/{marketId}/trades', { params: { path: { marketId }, query: { limit: 500 } } }),
  );
  expect([tooMany.status, tooMany.body.error?.code]).toEqual([400, 'validation_failed']);
  await lifecycle(api, admin, marketId, 'void', { reason: 'test over' });
});
