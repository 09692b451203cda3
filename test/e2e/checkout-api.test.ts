import type { MandiClient } from '../../clients/ts';
import { startTestApi, type TestApi } from '../support/api';
import { balanceOf, expectOrdersBalanced, fundWallet, seedProduct, seedSeller } from '../support/checkout';
import { createTestDatabase, expectLedgerInvariants, type TestDatabase } from '../support/db';
import { eventually, startTestWorker, uniqueId, type TestWorker } from '../support/temporal';
import { answer } from '../support/typed-client';
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
  return {
    sellerId,
    productId,
    buyer,
    price,
    asSeller: api.client(api.token(sellerId, ['seller'])),
    asBuyer: api.client(api.token(buyer)),
  };
}

async function confirmedOrder(s: Awaited<ReturnType<typeof shop>>): Promise<string> {
  const res = await answer(
    s.asBuyer.POST('/v1/checkout', {
      params: { query: { wait: 'true' }, header: { 'Idempotency-Key': uniqueId('co-') } },
      body: { lines: [{ productId: s.productId, quantity: 1, unitPrice: s.price }] },
    }),
  );
  expect(res.status).toBe(201);
  expect(res.body).toMatchObject({ status: 'confirmed', deliveredAt: null, returnWindowEndsAt: null, settlesAt: null });
  return res.body.orderId;
}

const onOrder = (orderId: string) => ({ params: { path: { orderId } } });
const getOrder = async (orderId: string, as: MandiClient) => (await answer(as.GET('/v1/orders/{orderId}', onOrder(orderId)))).body;

test('delivered answers with the delivered order, which says when its return window ends and when it settles', async () => {
  const s = await shop();
  const orderId = await confirmedOrder(s);
  expect(await getOrder(orderId, s.asBuyer)).toMatchObject({
    status: 'confirmed',
    deliveredAt: null,
    returnWindowEndsAt: null,
    settlesAt: null,
  });

  const dispatched = await answer(s.asSeller.POST('/v1/orders/{orderId}/dispatch', onOrder(orderId)));
  expect(dispatched.status).toBe(202);
  expect(dispatched.body).toMatchObject({ orderId, status: 'dispatched', accepted: true, settlesAt: null });

  const delivered = await answer(s.asSeller.POST('/v1/orders/{orderId}/delivered', onOrder(orderId)));
  expect(delivered.status).toBe(202);
  expect(delivered.body).toMatchObject({ orderId, status: 'delivered', accepted: true });
  const { deliveredAt, returnWindowEndsAt, settlesAt } = delivered.body;
  expect(Date.parse(returnWindowEndsAt) - Date.parse(deliveredAt)).toBe(RETURN_WINDOW_MS);
  expect(settlesAt).toBe(returnWindowEndsAt);
  expect(delivered.body.timeline.map((e: { type: string }) => e.type)).toContain('delivered');

  // The same on GET, for the buyer and the seller, and in the lists.
  expect(await getOrder(orderId, s.asBuyer)).toMatchObject({ status: 'delivered', deliveredAt, returnWindowEndsAt, settlesAt });
  for (const [as, query] of [
    [s.asBuyer, {}],
    [s.asSeller, {}],
    [s.asSeller, { sellerId: s.sellerId }],
  ] as const) {
    const list = await answer(as.GET('/v1/orders', { params: { query } }));
    expect(list.status).toBe(200);
    expect(list.body.orders).toEqual([expect.objectContaining({ orderId, status: 'delivered', returnWindowEndsAt, settlesAt })]);
  }

  // When the window closes it settles; settlesAt then is when it did.
  const settled = await eventually(async () => {
    const o = await getOrder(orderId, s.asBuyer);
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
  const cancelled = await answer(
    s.asBuyer.POST('/v1/orders/{orderId}/cancel', { ...onOrder(cancelledId), body: { reason: 'ordered twice' } }),
  );
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
  const delivered = await answer(s.asSeller.POST('/v1/orders/{orderId}/delivered', onOrder(returnedId)));
  expect(delivered.body.status).toBe('delivered');
  const returned = await answer(s.asBuyer.POST('/v1/orders/{orderId}/return', { ...onOrder(returnedId), body: { reason: 'wrong size' } }));
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
  expect((await answer(s.asSeller.POST('/v1/orders/{orderId}/delivered', onOrder(returnedId)))).status).toBe(409);
  expect((await getOrder(returnedId, s.asBuyer)).status).toBe('returned');
});

test("order lists: your own orders, or staff reading anyone's; nobody else's", async () => {
  const s = await shop(1_000, 2);
  const [first, second] = [await confirmedOrder(s), await confirmedOrder(s)];
  const other = uniqueId('b_');

  const mine = await answer(s.asBuyer.GET('/v1/orders'));
  expect(mine.body.orders.map((o: { orderId: string }) => o.orderId)).toEqual([second, first]);
  expect(mine.body.orders[0]).toMatchObject({
    buyerId: s.buyer,
    sellerId: s.sellerId,
    total: 1_000,
    lines: [{ quantity: 1 }],
    settlesAt: null,
  });
  expect((await answer(s.asBuyer.GET('/v1/orders', { params: { query: { limit: 1 } } }))).body.orders).toHaveLength(1);
  expect((await answer(api.client(api.token(other)).GET('/v1/orders'))).body.orders).toEqual([]);

  for (const [as, query] of [
    [api.client(api.token(other)), { buyerId: s.buyer }],
    [api.client(api.token(uniqueId('s_'), ['seller'])), { sellerId: s.sellerId }],
  ] as const) {
    const res = await answer(as.GET('/v1/orders', { params: { query } }));
    expect([res.status, res.body.error.code]).toEqual([404, 'not_found']);
  }
  const staff = api.client(api.token(uniqueId('agent_'), ['support']));
  const anyBuyers = await answer(staff.GET('/v1/orders', { params: { query: { buyerId: s.buyer } } }));
  expect(anyBuyers.body.orders.map((o: { orderId: string }) => o.orderId)).toEqual([second, first]);

  for (const limit of [0, 101]) {
    const res = await answer(s.asBuyer.GET('/v1/orders', { params: { query: { limit } } }));
    expect([limit, res.status, res.body.error.code]).toEqual([limit, 400, 'validation_failed']);
  }
  // Raw: a query parameter the document does not have, which the typed client cannot send.
  const unknownFilter = await api.request('GET', '/v1/orders?status=confirmed', { token: api.token(s.buyer) });
  expect([unknownFilter.status, unknownFilter.body.error.code]).toEqual([400, 'validation_failed']);
  for (const id of [first, second]) {
    expect((await answer(s.asBuyer.POST('/v1/orders/{orderId}/cancel', onOrder(id)))).body.status).toBe('cancelled');
  }
});
