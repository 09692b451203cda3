import { startTestApi, type TestApi } from '../support/api';
import { balanceOf, expectOrdersBalanced, fundWallet, seedProduct, seedSeller } from '../support/checkout';
import { createTestDatabase, expectLedgerInvariants, type TestDatabase } from '../support/db';
import { eventually, startTestWorker, uniqueId, type TestWorker } from '../support/temporal';
import { accounts } from '../../domain/ledger/accounts';

/** Order answers over HTTP: each action answers with the order after it, and every order says when it settles. */

const RETURN_WINDOW_MS = 4_000;

let tdb: TestDatabase;
let worker: TestWorker;
let api: TestApi;

beforeAll(async () => {
  tdb = await createTestDatabase();
  worker = await startTestWorker({ db: tdb.db });
  api = await startTestApi({
    db: tdb.db,
    temporal: worker.client,
    taskQueue: worker.taskQueue,
    env: {
      CHECKOUT_RETURN_WINDOW_SECONDS: String(RETURN_WINDOW_MS / 1000),
      CHECKOUT_DELIVERY_DEADLINE_SECONDS: '120',
      RATE_LIMIT_PER_MINUTE: '100000',
    },
  });
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

/** A seller with one product, and a buyer whose wallet covers `units` of it. */
async function shop(price = 2_000, units = 3) {
  const sellerId = await seedSeller(tdb.db);
  const productId = await seedProduct(tdb.db, sellerId, price, 10);
  const buyer = uniqueId('b_');
  await fundWallet(tdb.db, buyer, price * units);
  return { sellerId, productId, buyer, price, sellerToken: api.token(sellerId, ['seller']), buyerToken: api.token(buyer) };
}

async function confirmedOrder(s: Awaited<ReturnType<typeof shop>>): Promise<string> {
  const res = await api.request('POST', '/v1/checkout?wait=true', {
    token: s.buyerToken,
    idempotencyKey: uniqueId('co-'),
    body: { lines: [{ productId: s.productId, quantity: 1, unitPrice: s.price }] },
  });
  expect(res.status).toBe(201);
  expect(res.body).toMatchObject({ status: 'confirmed', deliveredAt: null, returnWindowEndsAt: null, settlesAt: null });
  return res.body.orderId;
}

const act = (orderId: string, action: string, token: string, body: unknown = {}) =>
  api.request('POST', `/v1/orders/${orderId}/${action}`, { token, body });
const getOrder = async (orderId: string, token: string) => (await api.request('GET', `/v1/orders/${orderId}`, { token })).body;

test('delivered answers with the delivered order, which says when its return window ends and when it settles', async () => {
  const s = await shop();
  const orderId = await confirmedOrder(s);
  expect(await getOrder(orderId, s.buyerToken)).toMatchObject({
    status: 'confirmed',
    deliveredAt: null,
    returnWindowEndsAt: null,
    settlesAt: null,
  });

  const dispatched = await act(orderId, 'dispatch', s.sellerToken);
  expect(dispatched.status).toBe(202);
  expect(dispatched.body).toMatchObject({ orderId, status: 'dispatched', accepted: true, settlesAt: null });

  const delivered = await act(orderId, 'delivered', s.sellerToken);
  expect(delivered.status).toBe(202);
  expect(delivered.body).toMatchObject({ orderId, status: 'delivered', accepted: true });
  const { deliveredAt, returnWindowEndsAt, settlesAt } = delivered.body;
  expect(Date.parse(returnWindowEndsAt) - Date.parse(deliveredAt)).toBe(RETURN_WINDOW_MS);
  expect(settlesAt).toBe(returnWindowEndsAt);
  expect(delivered.body.timeline.map((e: { type: string }) => e.type)).toContain('delivered');

  // The same on GET, for the buyer and the seller, and in the lists.
  expect(await getOrder(orderId, s.buyerToken)).toMatchObject({ status: 'delivered', deliveredAt, returnWindowEndsAt, settlesAt });
  for (const [token, query] of [
    [s.buyerToken, ''],
    [s.sellerToken, ''],
    [s.sellerToken, `?sellerId=${s.sellerId}`],
  ]) {
    const list = await api.request('GET', `/v1/orders${query}`, { token });
    expect(list.status).toBe(200);
    expect(list.body.orders).toEqual([expect.objectContaining({ orderId, status: 'delivered', returnWindowEndsAt, settlesAt })]);
  }

  // When the window closes it settles; settlesAt then is when it did.
  const settled = await eventually(async () => {
    const o = await getOrder(orderId, s.buyerToken);
    return o.status === 'completed' ? o : null;
  }, 30_000);
  expect(settled.returnWindowEndsAt).toBe(returnWindowEndsAt);
  const settledEvent = settled.timeline.find((e: { type: string }) => e.type === 'settled');
  expect(settled.settlesAt).toBe(settledEvent.at);
  expect(Date.parse(settled.settlesAt)).toBeGreaterThanOrEqual(Date.parse(returnWindowEndsAt));
  expect(await balanceOf(tdb.db, accounts.orderEscrow(orderId))).toBe(0);
});

test('cancel and return answer with the order once their compensations have run; neither order will settle', async () => {
  const s = await shop(1_500, 2);
  const cancelledId = await confirmedOrder(s);
  const cancelled = await act(cancelledId, 'cancel', s.buyerToken, { reason: 'ordered twice' });
  expect(cancelled.status).toBe(202);
  expect(cancelled.body).toMatchObject({
    orderId: cancelledId,
    status: 'cancelled',
    failureCode: 'cancelled_by_buyer',
    deliveredAt: null,
    returnWindowEndsAt: null,
    settlesAt: null,
  });

  const returnedId = await confirmedOrder(s);
  const delivered = await act(returnedId, 'delivered', s.sellerToken);
  expect(delivered.body.status).toBe('delivered');
  const returned = await act(returnedId, 'return', s.buyerToken, { reason: 'wrong size' });
  expect(returned.status).toBe(202);
  // Delivered, so its window had an end; returned inside it, so it will never settle.
  expect(returned.body).toMatchObject({
    orderId: returnedId,
    status: 'returned',
    returnWindowEndsAt: delivered.body.returnWindowEndsAt,
    settlesAt: null,
  });
  expect(await balanceOf(tdb.db, accounts.userWallet(s.buyer))).toBe(3_000);

  // Acting on a closed order is refused and changes nothing.
  expect((await act(returnedId, 'delivered', s.sellerToken)).status).toBe(409);
  expect((await getOrder(returnedId, s.buyerToken)).status).toBe('returned');
});

test("order lists: your own orders, or staff reading anyone's; nobody else's", async () => {
  const s = await shop(1_000, 2);
  const [first, second] = [await confirmedOrder(s), await confirmedOrder(s)];
  const other = uniqueId('b_');

  const mine = await api.request('GET', '/v1/orders', { token: s.buyerToken });
  expect(mine.body.orders.map((o: { orderId: string }) => o.orderId)).toEqual([second, first]);
  expect(mine.body.orders[0]).toMatchObject({
    buyerId: s.buyer,
    sellerId: s.sellerId,
    total: 1_000,
    lines: [{ quantity: 1 }],
    settlesAt: null,
  });
  expect((await api.request('GET', '/v1/orders?limit=1', { token: s.buyerToken })).body.orders).toHaveLength(1);
  expect((await api.request('GET', '/v1/orders', { token: api.token(other) })).body.orders).toEqual([]);

  for (const [token, query] of [
    [api.token(other), `buyerId=${s.buyer}`],
    [api.token(uniqueId('s_'), ['seller']), `sellerId=${s.sellerId}`],
  ]) {
    const res = await api.request('GET', `/v1/orders?${query}`, { token });
    expect([res.status, res.body.error.code]).toEqual([404, 'not_found']);
  }
  const staff = await api.request('GET', `/v1/orders?buyerId=${s.buyer}`, { token: api.token(uniqueId('agent_'), ['support']) });
  expect(staff.body.orders.map((o: { orderId: string }) => o.orderId)).toEqual([second, first]);

  for (const query of ['limit=0', 'limit=101', 'status=confirmed']) {
    const res = await api.request('GET', `/v1/orders?${query}`, { token: s.buyerToken });
    expect([query, res.status, res.body.error.code]).toEqual([query, 400, 'validation_failed']);
  }
  for (const id of [first, second]) expect((await act(id, 'cancel', s.buyerToken)).body.status).toBe('cancelled');
});
