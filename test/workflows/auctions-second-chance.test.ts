/**
 * The second chance, on the real dev server with a real worker: the winner's order is cancelled by
 * support before dispatch, the winner's money comes back, and the seller offers the lot to the
 * runner-up at that bidder's own highest bid — accepted (a new order at that price), declined and
 * passed down, left to lapse (the lot ends unsold), or refused for want of funds (nothing written).
 */
import { auctionKeys, auctionWorkflowId, type LotState } from '../../contracts/auction';
import { checkoutKeys } from '../../contracts/checkout';
import { auctionOrderId } from '../../db/auction-lots';
import { accounts } from '../../domain/ledger/accounts';
import { startTestApi, type TestApi } from '../support/api';
import {
  bid,
  chargeJournals,
  createLot,
  fundedBidders,
  heldFor,
  heldOnLot,
  lotPhase,
  lotRow,
  seedAuctionSeller,
  waitForLot,
  waitForOrderStatus,
  waitForPhase,
  type AuctionSeller,
  type Bidder,
} from '../support/auctions';
import { balanceOf, expectOrdersBalanced } from '../support/checkout';
import { createTestDatabase, expectLedgerInvariants, type TestDatabase } from '../support/db';
import { eventually, startTestWorker, uniqueId, type TestWorker } from '../support/temporal';

const FUNDS = 100_000;
// The shortest window the configuration allows a runner-up to answer in.
const ANSWER_WINDOW_SECONDS = 10;

let tdb: TestDatabase;
let worker: TestWorker;
let api: TestApi;
let seller: AuctionSeller;
let watcher: string;

beforeAll(async () => {
  tdb = await createTestDatabase(20);
  worker = await startTestWorker({ db: tdb.db });
  api = await startTestApi({
    db: tdb.db,
    temporal: worker.client,
    taskQueue: worker.taskQueue,
    env: { RATE_LIMIT_PER_MINUTE: '100000', AUCTION_SECOND_CHANCE_WINDOW_SECONDS: String(ANSWER_WINDOW_SECONDS) },
  });
  seller = await seedAuctionSeller(tdb.db, api, 20);
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

const lotResult = (lotId: string): Promise<LotState> => worker.client.workflow.getHandle(auctionWorkflowId(lotId)).result();
const support = () => api.token(uniqueId('agent_'), ['support']);
const offersOf = async (b: Bidder) => (await api.request('GET', '/v1/me/offers', { token: b.token })).body.offers;

/** A lot sold to the last of `bids` (plain bids, in order): returns it once the winner's order is confirmed. */
async function soldLot(bids: Array<[Bidder, number]>): Promise<{ lotId: string; orderId: string }> {
  const lotId = await createLot(api, seller, { startingPrice: 10_000, durationSeconds: 2 });
  await waitForLot(api, watcher, lotId, 'open');
  for (const [b, amount] of bids) expect((await bid(api, b, lotId, amount)).status).toBe(201);
  await waitForLot(api, watcher, lotId, 'sold');
  const orderId = (await lotRow(tdb.db, lotId)).order_id!;
  await waitForOrderStatus(tdb.db, orderId, 'confirmed');
  return { lotId, orderId };
}

/** Support cancels the winner's order before dispatch: the money goes back, the lot waits for the seller's second chance. */
async function cancelWinnersOrder(lotId: string, orderId: string, winner: Bidder): Promise<void> {
  const cancelled = await api.request('POST', `/v1/orders/${orderId}/cancel`, { token: support(), body: { reason: 'buyer unreachable' } });
  expect(cancelled.status).toBe(202);
  await waitForOrderStatus(tdb.db, orderId, 'cancelled');
  await waitForPhase(api, seller, lotId, 'second_chance');
  expect(await balanceOf(tdb.db, accounts.userWallet(winner.userId))).toBe(FUNDS);
  expect(await heldFor(tdb.db, winner.userId)).toBe(0);
  expect(await balanceOf(tdb.db, accounts.orderEscrow(orderId))).toBe(0);
  expect((await lotRow(tdb.db, lotId)).status).toBe('unsold');
}

async function offerSecondChance(lotId: string) {
  const res = await api.request('POST', `/v1/auctions/${lotId}/second-chance`, { token: seller.token });
  expect(res.status).toBe(200);
  return res.body as { phase: string; offer: { offerId: number; amount: number; expiresAt: string } | null };
}

test('accepted: the runner-up is held at acceptance and buys at their own highest bid; the lot is theirs', async () => {
  const [a, b, c] = await fundedBidders(tdb.db, api, 3, FUNDS);
  const { lotId, orderId } = await soldLot([
    [c, 10_000],
    [b, 15_000],
    [a, 20_000],
  ]);
  expect((await lotRow(tdb.db, lotId)).winner_id).toBe(a.userId);
  await cancelWinnersOrder(lotId, orderId, a);
  expect(await offersOf(b)).toEqual([]);

  const offered = await offerSecondChance(lotId);
  expect(offered).toMatchObject({ phase: 'second_chance', offer: { amount: 15_000 } });
  const { offerId } = offered.offer!;
  expect(await offersOf(b)).toEqual([{ offerId, lotId, amount: 15_000, status: 'offered', expiresAt: offered.offer!.expiresAt }]);
  expect(await offersOf(c)).toEqual([]);
  // Offered once: the seller cannot offer again while this offer stands.
  const again = await api.request('POST', `/v1/auctions/${lotId}/second-chance`, { token: seller.token });
  expect([again.status, again.body.error?.code]).toEqual([409, 'second_chance_unavailable']);

  const accepted = await api.request('POST', `/v1/auctions/offers/${offerId}/accept`, { token: b.token });
  expect(accepted.status).toBe(200);
  expect(accepted.body).toMatchObject({ offerId, status: 'accepted', amount: 15_000 });
  // The funds were held in the acceptance's own transaction.
  const hold = await tdb
    .db('holds')
    .where({ idempotency_key: auctionKeys.offerHold(lotId, offerId) })
    .first();
  expect({ account: hold?.account_id, amount: hold?.amount }).toEqual({ account: accounts.userWallet(b.userId), amount: 15_000 });

  const secondOrder = auctionOrderId(lotId, b.userId);
  await waitForOrderStatus(tdb.db, secondOrder, 'confirmed');
  const order = await tdb.db('orders').where({ id: secondOrder }).first();
  expect([order.buyer_id, order.total]).toEqual([b.userId, 15_000]);
  expect(await balanceOf(tdb.db, accounts.orderEscrow(secondOrder))).toBe(15_000);
  expect(await balanceOf(tdb.db, accounts.userWallet(b.userId))).toBe(FUNDS - 15_000);
  expect((await chargeJournals(tdb.db, secondOrder)).map((j) => j.idempotency_key)).toEqual([checkoutKeys.charge(secondOrder)]);
  const lot = await lotRow(tdb.db, lotId);
  expect([lot.status, lot.winner_id, lot.sold_price, lot.order_id]).toEqual(['sold', b.userId, 15_000, secondOrder]);
  expect(await lotPhase(api, seller, lotId)).toMatchObject({ phase: 'sold', offer: null });
  expect(await heldOnLot(tdb.db, lotId)).toEqual({});
  for (const u of [a, b, c]) expect(await heldFor(tdb.db, u.userId)).toBe(0);
});

test('declined, then passed down; the next bidder lets it lapse: the lot ends unsold with nothing held', async () => {
  const [a, b, c] = await fundedBidders(tdb.db, api, 3, FUNDS);
  const { lotId, orderId } = await soldLot([
    [c, 10_000],
    [b, 15_000],
    [a, 20_000],
  ]);
  await cancelWinnersOrder(lotId, orderId, a);
  const toB = (await offerSecondChance(lotId)).offer!;
  expect(toB.amount).toBe(15_000);

  const declined = await api.request('POST', `/v1/auctions/offers/${toB.offerId}/decline`, { token: b.token });
  expect(declined.body).toMatchObject({ offerId: toB.offerId, status: 'declined' });
  expect(await heldFor(tdb.db, b.userId)).toBe(0);
  // Passed down at once, to the next bidder at their own highest bid.
  const [toC] = await eventually(async () => {
    const offers = await offersOf(c);
    return offers.length > 0 ? offers : null;
  });
  expect(toC).toMatchObject({ lotId, amount: 10_000, status: 'offered' });
  expect((await lotPhase(api, seller, lotId)).offer).toMatchObject({ offerId: toC.offerId, amount: 10_000 });
  const window = Date.parse(toC.expiresAt) - Date.now();
  expect(window).toBeGreaterThan((ANSWER_WINDOW_SECONDS - 2) * 1_000);

  // C never answers: at the end of the window the lot is unsold and its workflow ends there.
  const done = await lotResult(lotId);
  expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(toC.expiresAt));
  expect(done).toMatchObject({ phase: 'unsold', offer: null, passedOver: [a.userId, b.userId, c.userId] });
  expect(await offersOf(c)).toMatchObject([{ offerId: toC.offerId, status: 'expired' }]);
  const late = await api.request('POST', `/v1/auctions/offers/${toC.offerId}/accept`, { token: c.token });
  expect([late.status, late.body.error?.code]).toEqual([409, 'offer_closed']);

  const lot = await lotRow(tdb.db, lotId);
  expect(lot.status).toBe('unsold');
  expect(
    await tdb
      .db('orders')
      .where({ id: auctionOrderId(lotId, c.userId) })
      .first(),
  ).toBeUndefined();
  expect(await heldOnLot(tdb.db, lotId)).toEqual({});
  for (const u of [a, b, c]) {
    expect(await heldFor(tdb.db, u.userId)).toBe(0);
    expect(await balanceOf(tdb.db, accounts.userWallet(u.userId))).toBe(FUNDS);
  }
});

test('accepting without the funds is refused with insufficient_funds and writes nothing; the offer still stands', async () => {
  const [a] = await fundedBidders(tdb.db, api, 1, FUNDS);
  const [b] = await fundedBidders(tdb.db, api, 1, 16_000);
  const lotId = await createLot(api, seller, { startingPrice: 10_000, durationSeconds: 2 });
  const elsewhere = await createLot(api, seller, { startingPrice: 10_000, durationSeconds: 2 });
  await waitForLot(api, watcher, lotId, 'open');
  await waitForLot(api, watcher, elsewhere, 'open');
  expect((await bid(api, b, lotId, 15_000)).status).toBe(201);
  expect((await bid(api, a, lotId, 20_000)).status).toBe(201);
  // Outbid, B spends on another lot what the offer will ask for.
  expect((await bid(api, b, elsewhere, 10_000)).status).toBe(201);
  await waitForLot(api, watcher, lotId, 'sold');
  await waitForLot(api, watcher, elsewhere, 'sold');
  const orderId = (await lotRow(tdb.db, lotId)).order_id!;
  await waitForOrderStatus(tdb.db, orderId, 'confirmed');
  await waitForOrderStatus(tdb.db, (await lotRow(tdb.db, elsewhere)).order_id!, 'confirmed');
  await cancelWinnersOrder(lotId, orderId, a);
  const offer = (await offerSecondChance(lotId)).offer!;
  expect(offer.amount).toBe(15_000);

  const written = async () => ({
    offer: await tdb.db('auction_offers').where({ id: offer.offerId }).first('status', 'decided_at', 'order_id'),
    wallet: await tdb
      .db('account_balances')
      .where({ account_id: accounts.userWallet(b.userId) })
      .select('balance', 'held'),
    holds: (await tdb.db('holds').count({ n: '*' }).first())!.n,
    journals: (await tdb.db('journal').count({ n: '*' }).first())!.n,
    orders: (await tdb.db('orders').count({ n: '*' }).first())!.n,
  });
  const before = await written();
  expect(before.offer).toEqual({ status: 'offered', decided_at: null, order_id: null });
  const refused = await api.request('POST', `/v1/auctions/offers/${offer.offerId}/accept`, { token: b.token });
  expect([refused.status, refused.body.error?.code]).toEqual([409, 'insufficient_funds']);
  expect(await written()).toEqual(before);
  expect(await lotPhase(api, seller, lotId)).toMatchObject({ phase: 'second_chance', offer: { offerId: offer.offerId } });

  // B can still answer the offer that stands: declining it leaves nobody, and the lot ends unsold.
  const declined = await api.request('POST', `/v1/auctions/offers/${offer.offerId}/decline`, { token: b.token });
  expect(declined.body.status).toBe('declined');
  expect(await lotResult(lotId)).toMatchObject({ phase: 'unsold', passedOver: [a.userId, b.userId] });
  expect(await heldOnLot(tdb.db, lotId)).toEqual({});
  expect(await heldFor(tdb.db, b.userId)).toBe(0);
  expect(await balanceOf(tdb.db, accounts.userWallet(b.userId))).toBe(16_000 - 10_000);
});
