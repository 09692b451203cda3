import { auctionWorkflowId } from '../../contracts/auction';
import { checkoutWorkflowId } from '../../contracts/checkout';
import { accounts } from '../../domain/ledger/accounts';
import { startTestApi, type TestApi } from '../support/api';
import { bid, createLot, fundedBidders, heldFor, heldOnLot, seedAuctionSeller, waitForLot, type AuctionSeller } from '../support/auctions';
import { balanceOf, expectOrdersBalanced } from '../support/checkout';
import { createTestDatabase, expectLedgerInvariants, type TestDatabase } from '../support/db';
import { eventually, startTestWorker, uniqueId, type TestWorker } from '../support/temporal';

let tdb: TestDatabase;
let worker: TestWorker;
let api: TestApi;
let seller: AuctionSeller;
let watcher: string;

beforeAll(async () => {
  tdb = await createTestDatabase(30);
  worker = await startTestWorker({ db: tdb.db });
  api = await startTestApi({
    db: tdb.db,
    temporal: worker.client,
    taskQueue: worker.taskQueue,
    env: { RATE_LIMIT_PER_MINUTE: '100000', CHECKOUT_RETURN_WINDOW_SECONDS: '1' },
  });
  seller = await seedAuctionSeller(tdb.db, api, 50);
  watcher = api.token(uniqueId('viewer_'));
});
afterAll(async () => {
  await api?.close();
  await worker?.shutdown();
  await tdb?.drop();
});
afterEach(async () => {
  await expectLedgerInvariants(tdb.db);
  await expectOrdersBalanced(tdb.db);
});

const lotResult = (lotId: string) => worker.client.workflow.getHandle(auctionWorkflowId(lotId)).result();

test('the highest proxy bid wins at one increment above the runner-up; losers get their holds back, the price goes to escrow', async () => {
  const lotId = await createLot(api, seller, { startingPrice: 10_000, durationSeconds: 3 });
  await waitForLot(api, watcher, lotId, 'open');
  const [a, b, c] = await fundedBidders(tdb.db, api, 3);

  expect((await bid(api, a, lotId, 10_000, 20_000)).status).toBe(201);
  expect(await heldOnLot(tdb.db, lotId)).toEqual({ [a.userId]: 20_000 });
  // b bids below a's maximum: a's proxy answers one increment (₹10 at ₹100–₹300) above b.
  const second = await bid(api, b, lotId, 15_000);
  expect(second.status).toBe(201);
  expect(second.body).toMatchObject({
    bid: { leading: false, priceAfter: 16_000 },
    lot: { price: 16_000, bidCount: 2, nextMinimum: 17_000 },
  });
  expect(await heldOnLot(tdb.db, lotId)).toEqual({ [a.userId]: 20_000 });
  // c outbids a's maximum: c leads at a's max + ₹10, a's hold is released in the same transaction.
  const third = await bid(api, c, lotId, 25_000);
  expect(third.body).toMatchObject({ bid: { leading: true, priceAfter: 25_000 }, lot: { price: 25_000 } });
  expect(await heldOnLot(tdb.db, lotId)).toEqual({ [c.userId]: 25_000 });
  expect(await heldFor(tdb.db, a.userId)).toBe(0);

  const sold = await waitForLot(api, watcher, lotId, 'sold');
  expect(sold).toMatchObject({ price: 25_000, nextMinimum: null });
  const lot = await tdb.db('auction_lots').where({ id: lotId }).first();
  expect([lot.winner_id, Number(lot.sold_price)]).toEqual([c.userId, 25_000]);
  await eventually(async () => (await tdb.db('orders').where({ id: lot.order_id }).first())?.status === 'confirmed');
  expect(await balanceOf(tdb.db, accounts.orderEscrow(lot.order_id))).toBe(25_000);
  expect(await balanceOf(tdb.db, accounts.userWallet(c.userId))).toBe(1_000_000 - 25_000);
  for (const u of [a, b, c]) expect(await heldFor(tdb.db, u.userId)).toBe(0);
  expect(await heldOnLot(tdb.db, lotId)).toEqual({});

  // The order is the ordinary checkout saga, found by the lot it came from.
  const order = worker.client.workflow.getHandle(checkoutWorkflowId(lot.order_id));
  expect((await order.describe()).typedSearchAttributes).toBeDefined();
  const seller2 = api.token(seller.sellerId, ['seller']);
  expect((await api.request('POST', `/v1/orders/${lot.order_id}/delivered`, { token: seller2 })).status).toBe(202);
  // The lot's workflow follows its order to the end.
  const done = await lotResult(lotId);
  expect(done).toMatchObject({ phase: 'completed', winner: { bidderId: c.userId, price: 25_000 } });
  expect((await tdb.db('orders').where({ id: lot.order_id }).first()).status).toBe('completed');
});

test('a lot whose bids stay below the reserve is unsold and every hold is released', async () => {
  const lotId = await createLot(api, seller, { startingPrice: 10_000, reservePrice: 50_000, durationSeconds: 2 });
  await waitForLot(api, watcher, lotId, 'open');
  const [a, b] = await fundedBidders(tdb.db, api, 2);
  await bid(api, a, lotId, 10_000, 30_000);
  const res = await bid(api, b, lotId, 20_000);
  expect(res.body.lot).toMatchObject({ reserveMet: false, price: 21_000 });
  const state = await lotResult(lotId);
  expect(state).toMatchObject({ phase: 'unsold', outcome: { kind: 'unsold', reason: 'reserve_not_met' } });
  expect(await heldOnLot(tdb.db, lotId)).toEqual({});
  expect(await heldFor(tdb.db, a.userId)).toBe(0);
});

test('a bid in the last seconds moves the end; with sudden death it does not', async () => {
  const [a, b] = await fundedBidders(tdb.db, api, 2);
  const soft = await createLot(api, seller, { durationSeconds: 2, softCloseSeconds: 3 });
  const sudden = await createLot(api, seller, { durationSeconds: 2, softCloseSeconds: 3, suddenDeath: true });
  const [softOpen, suddenOpen] = [await waitForLot(api, watcher, soft, 'open'), await waitForLot(api, watcher, sudden, 'open')];

  const late = await bid(api, a, soft, 10_000);
  expect(Date.parse(late.body.lot.endsAt)).toBeGreaterThan(Date.parse(softOpen.endsAt));
  const lateSudden = await bid(api, b, sudden, 10_000);
  expect(lateSudden.body.lot.endsAt).toBe(suddenOpen.endsAt);

  const suddenClosed = await waitForLot(api, watcher, sudden, 'sold');
  // The soft-close lot is still open when the sudden-death one has closed on its original time.
  expect((await api.request('GET', `/v1/auctions/${soft}`, { token: watcher })).body.status).toBe('open');
  expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(suddenClosed.endsAt));
  const closedAt = (await tdb.db('auction_lots').where({ id: soft }).first()).ends_at;
  expect(closedAt.getTime()).toBe(Date.parse(late.body.lot.endsAt));
  await waitForLot(api, watcher, soft, 'sold');
  // A bid after the close is refused, with the close fenced in the database.
  const after = await bid(api, b, soft, 50_000);
  expect([after.status, after.body.error.code]).toEqual([409, 'lot_closed']);
});

test('buy-now ends the lot at once for its price; the earlier leader gets their hold back', async () => {
  const lotId = await createLot(api, seller, { startingPrice: 10_000, reservePrice: 30_000, buyNowPrice: 40_000, durationSeconds: 60 });
  await waitForLot(api, watcher, lotId, 'open');
  const [a, b] = await fundedBidders(tdb.db, api, 2);
  await bid(api, a, lotId, 12_000);
  const bought = await api.request('POST', `/v1/auctions/${lotId}/buy-now`, { token: b.token, body: { clientBidId: 'bn-1' } });
  expect(bought.status).toBe(201);
  expect(bought.body.lot).toMatchObject({ status: 'closed', price: 40_000 });
  expect(await heldFor(tdb.db, a.userId)).toBe(0);
  const again = await api.request('POST', `/v1/auctions/${lotId}/buy-now`, { token: b.token, body: { clientBidId: 'bn-1' } });
  expect([again.status, again.body.replayed]).toEqual([200, true]);
  const sold = await waitForLot(api, watcher, lotId, 'sold', 5_000);
  expect(sold.price).toBe(40_000);
  const lot = await tdb.db('auction_lots').where({ id: lotId }).first();
  expect(lot.winner_id).toBe(b.userId);
  await eventually(async () => (await balanceOf(tdb.db, accounts.orderEscrow(lot.order_id))) === 40_000);
});

test('buy-now is refused once a bid has reached the reserve', async () => {
  const lotId = await createLot(api, seller, { startingPrice: 10_000, reservePrice: 20_000, buyNowPrice: 40_000, durationSeconds: 2 });
  await waitForLot(api, watcher, lotId, 'open');
  const [a, b] = await fundedBidders(tdb.db, api, 2);
  const met = await bid(api, a, lotId, 10_000, 25_000);
  expect(met.body.lot).toMatchObject({ reserveMet: true, price: 20_000, buyNowPrice: null });
  const refused = await api.request('POST', `/v1/auctions/${lotId}/buy-now`, { token: b.token, body: { clientBidId: 'bn-2' } });
  expect([refused.status, refused.body.error.code]).toEqual([409, 'buy_now_unavailable']);
  expect(await heldFor(tdb.db, b.userId)).toBe(0);
  await waitForLot(api, watcher, lotId, 'sold');
});

test('bids that break a rule are refused with their code and write nothing', async () => {
  const lotId = await createLot(api, seller, { startingPrice: 10_000, durationSeconds: 30 });
  await waitForLot(api, watcher, lotId, 'open');
  const [a] = await fundedBidders(tdb.db, api, 1, 15_000);
  const [poor] = await fundedBidders(tdb.db, api, 1, 5_000);
  const cases: Array<[Promise<{ status: number; body: any }>, number, string]> = [
    [bid(api, a, lotId, 9_900), 409, 'bid_too_low'],
    [bid(api, a, lotId, 12_000, 11_000), 422, 'max_below_amount'],
    [bid(api, poor, lotId, 10_000), 409, 'insufficient_funds'],
    [bid(api, a, lotId, 10_000, 20_000), 409, 'insufficient_funds'],
    // The seller's own id, even with a customer's powers, cannot bid on the lot; the seller role cannot bid at all.
    [bid(api, { userId: seller.sellerId, token: api.token(seller.sellerId) }, lotId, 10_000), 409, 'seller_cannot_bid'],
    [bid(api, { userId: seller.sellerId, token: seller.token }, lotId, 10_000), 403, 'forbidden'],
  ];
  for (const [call, status, code] of cases) {
    const res = await call;
    expect([res.status, res.body.error?.code]).toEqual([status, code]);
  }
  expect(await tdb.db('auction_bids').where({ lot_id: lotId }).count().first()).toEqual({ count: 0 });
  expect(await heldOnLot(tdb.db, lotId)).toEqual({});
  // The same clientBidId with another amount is not a replay.
  expect((await bid(api, a, lotId, 10_000, undefined, 'same')).status).toBe(201);
  const reused = await bid(api, a, lotId, 11_000, undefined, 'same');
  expect([reused.status, reused.body.error.code]).toEqual([409, 'client_bid_id_reused']);
  // The leader raising their own bid only raises their maximum (and their hold).
  const raised = await bid(api, a, lotId, 12_000, 14_000);
  expect(raised.body.lot.price).toBe(10_000);
  expect(await heldOnLot(tdb.db, lotId)).toEqual({ [a.userId]: 14_000 });
  const cancel = await api.request('POST', `/v1/auctions/${lotId}/cancel`, { token: seller.token });
  expect([cancel.status, cancel.body.error.code]).toEqual([409, 'lot_has_bids']);
});

test('a show presents its lots one by one; pausing stops new lots; ending cancels the lots never presented', async () => {
  const created = await api.request('POST', '/v1/shows', {
    token: seller.token,
    idempotencyKey: uniqueId('show-'),
    body: { sellerId: seller.sellerId, title: 'Friday sarees' },
  });
  expect(created.status).toBe(201);
  const showId = created.body.showId;
  const lots = [];
  for (let i = 0; i < 3; i++) lots.push(await createLot(api, seller, { showId, durationSeconds: 2 }));
  const early = await api.request('POST', `/v1/shows/${showId}/lots/${lots[0]}/start`, { token: seller.token });
  expect([early.status, early.body.error.code]).toEqual([409, 'show_not_live']);

  expect((await api.request('POST', `/v1/shows/${showId}/start`, { token: seller.token })).body.status).toBe('live');
  expect((await api.request('POST', `/v1/shows/${showId}/lots/${lots[0]}/start`, { token: seller.token })).status).toBe(202);
  const [a] = await fundedBidders(tdb.db, api, 1);
  await waitForLot(api, watcher, lots[0], 'open');
  expect((await bid(api, a, lots[0], 10_000)).status).toBe(201);
  const twice = await api.request('POST', `/v1/shows/${showId}/lots/${lots[0]}/start`, { token: seller.token });
  expect([twice.status, twice.body.error.code]).toEqual([409, 'lot_already_started']);

  expect((await api.request('POST', `/v1/shows/${showId}/pause`, { token: seller.token })).body.status).toBe('paused');
  const paused = await api.request('POST', `/v1/shows/${showId}/lots/${lots[1]}/start`, { token: seller.token });
  expect([paused.status, paused.body.error.code]).toEqual([409, 'show_not_live']);
  await api.request('POST', `/v1/shows/${showId}/resume`, { token: seller.token });
  expect((await api.request('POST', `/v1/shows/${showId}/lots/${lots[1]}/start`, { token: seller.token })).status).toBe(202);
  await waitForLot(api, watcher, lots[1], 'open');

  const ended = await api.request('POST', `/v1/shows/${showId}/end`, { token: seller.token });
  expect(ended.body.status).toBe('ended');
  expect(ended.body.lots.map((l: any) => l.status)).toEqual(['open', 'open', 'cancelled']);
  expect(await lotResult(lots[2])).toMatchObject({ phase: 'cancelled' });
  await waitForLot(api, watcher, lots[0], 'sold');
  expect(await lotResult(lots[1])).toMatchObject({ phase: 'unsold', outcome: { reason: 'no_bids' } });
  // Someone else's show is not theirs to run.
  const other = await seedAuctionSeller(tdb.db, api);
  const foreign = await api.request('POST', `/v1/shows/${showId}/pause`, { token: other.token });
  expect(foreign.status).toBe(404);
});
