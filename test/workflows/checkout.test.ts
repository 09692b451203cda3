import { ApplicationFailure } from '@temporalio/common';
import { accounts } from '../../domain/ledger/accounts';
import { WithStartWorkflowOperation } from '@temporalio/client';
import { cancelSignal, checkoutWorkflowId, markDeliveredSignal, markDispatchedUpdate } from '../../contracts/checkout';
import { FakePayoutProvider } from '../../infra/fake-payout-provider';
import type { CheckoutInput, CheckoutState } from '../../contracts/checkout';
import { checkoutWorkflow } from '../../workflows/checkout';
import { startTestApi, type TestApi } from '../support/api';
import { balanceOf, expectOrdersBalanced, fundWallet, orderMoney, placeOrder, seedProduct, seedSeller } from '../support/checkout';
import { createTestDatabase, expectLedgerInvariants, type TestDatabase } from '../support/db';
import { eventually, startTestWorker, uniqueId, type TestWorker } from '../support/temporal';

let tdb: TestDatabase;
let worker: TestWorker;
let api: TestApi;
/** Activity name → predicate: true makes that call fail with a non-retryable, non-business error. */
const faults = new Map<string, (arg: any) => boolean>();

beforeAll(async () => {
  tdb = await createTestDatabase(30);
  worker = await startTestWorker({
    db: tdb.db,
    extraDeps: { payouts: new FakePayoutProvider(tdb.db, { settleDelayMs: 200 }) },
    wrapActivities: (real) =>
      Object.fromEntries(
        Object.entries(real).map(([name, fn]) => [
          name,
          async (...args: any[]) => {
            if (faults.get(name)?.(args[0])) throw ApplicationFailure.nonRetryable(`injected failure in ${name}`, 'Injected');
            return (fn as (...a: any[]) => Promise<unknown>)(...args);
          },
        ]),
      ),
  });
  api = await startTestApi({
    db: tdb.db,
    temporal: worker.client,
    taskQueue: worker.taskQueue,
    env: { CHECKOUT_RETURN_WINDOW_SECONDS: '1', CHECKOUT_DELIVERY_DEADLINE_SECONDS: '60', RATE_LIMIT_PER_MINUTE: '100000' },
  });
});
afterAll(async () => {
  await api?.close();
  await worker?.shutdown();
  await tdb?.drop();
});
afterEach(async () => {
  faults.clear();
  await expectLedgerInvariants(tdb.db);
  await expectOrdersBalanced(tdb.db);
});

const admin = () => api.token(uniqueId('admin_'), ['admin']);
const support = () => api.token(uniqueId('agent_'), ['support']);
const stock = async (productId: string) => (await tdb.db('products').where({ id: productId }).first()).stock as number;
const orderRow = (orderId: string) => tdb.db('orders').where({ id: orderId }).first();
const handle = (orderId: string) => worker.client.workflow.getHandle(checkoutWorkflowId(orderId));
const result = (orderId: string) => handle(orderId).result() as Promise<CheckoutState>;

async function startSaga(input: CheckoutInput) {
  return worker.client.workflow.start(checkoutWorkflow, {
    taskQueue: worker.taskQueue,
    workflowId: checkoutWorkflowId(input.orderId),
    args: [input],
  });
}

async function checkout(buyerId: string, lines: unknown[], extra: Record<string, unknown> = {}, wait = true) {
  return api.request('POST', `/v1/checkout${wait ? '?wait=true' : ''}`, {
    token: api.token(buyerId),
    idempotencyKey: uniqueId('idem_'),
    body: { lines, ...extra },
  });
}

/** A card-paid order of one product, confirmed, then cancelled by its buyer. */
async function cardOrderCancelledByBuyer(price: number, stockLeft: number, paymentMethod: string, reason: string) {
  const sellerId = await seedSeller(tdb.db);
  const productId = await seedProduct(tdb.db, sellerId, price, stockLeft);
  const buyer = uniqueId('b_');
  const res = await checkout(buyer, [{ productId, quantity: 1, unitPrice: price }], { paymentMethod });
  expect(res.status).toBe(201);
  const cancel = await api.request('POST', `/v1/orders/${res.body.orderId}/cancel`, { token: api.token(buyer), body: { reason } });
  expect(cancel.status).toBe(202);
  return { sellerId, productId, buyer, orderId: res.body.orderId as string };
}

/** What the card provider refunded for an order's payment. */
const providerRefunds = async (orderId: string) =>
  tdb
    .db('fake_provider.refunds')
    .where({ payment_id: (await orderRow(orderId)).provider_payment_id })
    .select('amount');

async function waitForStatus(orderId: string, status: string, timeoutMs = 20_000) {
  return eventually(async () => ((await orderRow(orderId)).status === status ? true : null), timeoutMs);
}

describe('happy path', () => {
  test('wallet checkout → delivered → window closes → settled with commission and referral; timeline visible', async () => {
    const sellerId = await seedSeller(tdb.db, { commissionBps: 1250 });
    const productId = await seedProduct(tdb.db, sellerId, 33_333, 5);
    const buyer = uniqueId('b_');
    const referrer = uniqueId('r_');
    await api.request('POST', '/v1/referrals', { token: admin(), body: { buyerId: buyer, referrerId: referrer, rateBps: 200 } });
    await fundWallet(tdb.db, buyer, 100_000);

    const res = await checkout(buyer, [{ productId, quantity: 3, unitPrice: 33_333 }]);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'confirmed', total: 99_999, fundingSource: 'wallet' });
    const { orderId } = res.body;
    expect(await stock(productId)).toBe(2);
    expect(await balanceOf(tdb.db, accounts.orderEscrow(orderId))).toBe(99_999);

    const seller = api.token(sellerId, ['seller']);
    expect((await api.request('POST', `/v1/orders/${orderId}/delivered`, { token: seller, body: {} })).status).toBe(202);
    const final = await result(orderId);
    expect(final.status).toBe('completed');

    // 99 999 × 12.5% = 12 499.875 → 12 499 commission; 2% referral = 1 999.98 → 1 999 (out of the commission).
    expect(await balanceOf(tdb.db, accounts.sellerPayable(sellerId))).toBe(99_999 - 12_499);
    expect(await balanceOf(tdb.db, accounts.userWallet(referrer))).toBe(1_999);
    expect(await orderMoney(tdb.db, orderId)).toMatchObject({
      paid: 99_999,
      sellerCredited: 87_500,
      commission: 10_500,
      referral: 1_999,
      refunds: 0,
      escrow: 0,
    });

    const view = await api.request('GET', `/v1/orders/${orderId}`, { token: api.token(buyer) });
    expect(view.status).toBe(200);
    expect(view.body.timeline.map((e: { type: string }) => e.type)).toEqual([
      'placed',
      'validated',
      'stock_reserved',
      'charged',
      'confirmed',
      'delivered',
      'settled',
    ]);
    expect(view.body.saga).toBeUndefined();
    const staffView = await api.request('GET', `/v1/orders/${orderId}`, { token: support() });
    expect(staffView.body.saga).toMatchObject({ status: 'completed', compensationsRun: [] });
    // Somebody else's order is invisible.
    expect((await api.request('GET', `/v1/orders/${orderId}`, { token: api.token(uniqueId('b_')) })).status).toBe(404);
  });

  test('a short wallet falls back to the payment method (flaky provider, one charge)', async () => {
    const sellerId = await seedSeller(tdb.db);
    const productId = await seedProduct(tdb.db, sellerId, 5_000, 5);
    const buyer = uniqueId('b_');
    await fundWallet(tdb.db, buyer, 1_000);
    const res = await checkout(buyer, [{ productId, quantity: 1, unitPrice: 5_000 }], { paymentMethod: 'pm_flaky_2' });
    expect(res.status).toBe(201);
    expect(res.body.fundingSource).toBe('provider');
    expect(await balanceOf(tdb.db, accounts.userWallet(buyer))).toBe(1_000);
    expect(
      await tdb
        .db('fake_provider.payments')
        .where({ idempotency_key: `checkout-${res.body.orderId}:provider-charge` })
        .count(),
    ).toEqual([{ count: 1 }]);
    await handle(res.body.orderId).signal(markDeliveredSignal, { by: sellerId });
    expect((await result(res.body.orderId)).status).toBe('completed');
  });

  test('the same Idempotency-Key is the same order; a different body with it is a 422', async () => {
    const sellerId = await seedSeller(tdb.db);
    const productId = await seedProduct(tdb.db, sellerId, 700, 10);
    const buyer = uniqueId('b_');
    await fundWallet(tdb.db, buyer, 10_000);
    const key = uniqueId('idem_');
    const body = { lines: [{ productId, quantity: 2, unitPrice: 700 }] };
    const first = await api.request('POST', '/v1/checkout?wait=true', { token: api.token(buyer), idempotencyKey: key, body });
    const again = await api.request('POST', '/v1/checkout?wait=true', { token: api.token(buyer), idempotencyKey: key, body });
    expect(again.body.orderId).toBe(first.body.orderId);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const other = await api.request('POST', '/v1/checkout', {
      token: api.token(buyer),
      idempotencyKey: key,
      body: { lines: [{ productId, quantity: 1, unitPrice: 700 }] },
    });
    expect(other.status).toBe(422);
    expect(await balanceOf(tdb.db, accounts.userWallet(buyer))).toBe(10_000 - 1_400);
    expect(await stock(productId)).toBe(8);
    await api.request('POST', `/v1/orders/${first.body.orderId}/cancel`, { token: api.token(buyer), body: {} });
    await result(first.body.orderId);
  });
});

describe('an order sold at auction', () => {
  test('the sale wrote it confirmed: a dispatch sent with the flow’s start (before it records the confirmation) is accepted', async () => {
    const sellerId = await seedSeller(tdb.db);
    const productId = await seedProduct(tdb.db, sellerId, 5_000, 1);
    const input = await placeOrder(tdb.db, { buyerId: uniqueId('b_'), sellerId, lines: [{ productId, quantity: 1 }] });
    await tdb.db('orders').where({ id: input.orderId }).update({ status: 'confirmed' });
    // One workflow task holds the start and the update: the flow has not recorded its confirmation yet.
    const dispatched = await worker.client.workflow.executeUpdateWithStart(markDispatchedUpdate, {
      args: [{ by: sellerId, role: 'seller' }],
      startWorkflowOperation: new WithStartWorkflowOperation(checkoutWorkflow, {
        taskQueue: worker.taskQueue,
        workflowId: checkoutWorkflowId(input.orderId),
        workflowIdConflictPolicy: 'FAIL',
        args: [{ ...input, auctionLotId: uniqueId('lot_') }],
      }),
    });
    expect(dispatched.dispatched).toBe(true);
    await eventually(async () => (await orderRow(input.orderId)).status === 'dispatched');
    await handle(input.orderId).terminate('test over');
  });
});

describe('each compensation path', () => {
  test('out of stock: nothing charged, order cancelled', async () => {
    const sellerId = await seedSeller(tdb.db);
    const productId = await seedProduct(tdb.db, sellerId, 1_000, 1);
    const buyer = uniqueId('b_');
    await fundWallet(tdb.db, buyer, 10_000);
    const res = await checkout(buyer, [{ productId, quantity: 2, unitPrice: 1_000 }]);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('out_of_stock');
    const orderId = res.body.error.details.orderId;
    const final = await result(orderId);
    expect(final).toMatchObject({
      status: 'cancelled',
      failureCode: 'out_of_stock',
      compensationsRun: ['refund', 'release_stock', 'close_order'],
    });
    expect(await stock(productId)).toBe(1);
    expect(await balanceOf(tdb.db, accounts.userWallet(buyer))).toBe(10_000);
  });

  test('declined card: the reservation is released, nothing charged', async () => {
    const sellerId = await seedSeller(tdb.db);
    const productId = await seedProduct(tdb.db, sellerId, 2_500, 3);
    const buyer = uniqueId('b_');
    const res = await checkout(buyer, [{ productId, quantity: 2, unitPrice: 2_500 }], { paymentMethod: 'pm_declined' });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('card_declined');
    const final = await result(res.body.error.details.orderId);
    expect(final.compensationsRun).toEqual(['refund', 'release_stock', 'close_order']);
    expect(await stock(productId)).toBe(3);
  });

  test('short wallet and no payment method: insufficient_funds, stock released', async () => {
    const sellerId = await seedSeller(tdb.db);
    const productId = await seedProduct(tdb.db, sellerId, 2_500, 3);
    const buyer = uniqueId('b_');
    await fundWallet(tdb.db, buyer, 2_000);
    const res = await checkout(buyer, [{ productId, quantity: 1, unitPrice: 2_500 }]);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('insufficient_funds');
    expect(await stock(productId)).toBe(3);
    expect(await balanceOf(tdb.db, accounts.userWallet(buyer))).toBe(2_000);
  });

  test('validation fails (the price changed after the order was placed): only the order is closed', async () => {
    const sellerId = await seedSeller(tdb.db);
    const productId = await seedProduct(tdb.db, sellerId, 1_000, 3);
    const buyer = uniqueId('b_');
    await fundWallet(tdb.db, buyer, 5_000);
    const input = await placeOrder(tdb.db, { buyerId: buyer, sellerId, lines: [{ productId, quantity: 1, unitPrice: 900 }] });
    await startSaga(input);
    const final = await result(input.orderId);
    expect(final).toMatchObject({
      status: 'cancelled',
      failureCode: 'price_changed',
      compensationsRun: ['refund', 'release_stock', 'close_order'],
    });
    expect(await stock(productId)).toBe(3);
  });

  test('delivery deadline passes: refund, restock, cancel', async () => {
    const sellerId = await seedSeller(tdb.db);
    const productId = await seedProduct(tdb.db, sellerId, 1_500, 4);
    const buyer = uniqueId('b_');
    await fundWallet(tdb.db, buyer, 5_000);
    const input = await placeOrder(tdb.db, { buyerId: buyer, sellerId, lines: [{ productId, quantity: 2 }], deliveryDeadlineMs: 700 });
    await startSaga(input);
    const final = await result(input.orderId);
    expect(final).toMatchObject({
      status: 'cancelled',
      failureCode: 'delivery_deadline',
      compensationsRun: ['refund', 'release_stock', 'close_order'],
    });
    expect(await stock(productId)).toBe(4);
    expect(await balanceOf(tdb.db, accounts.userWallet(buyer))).toBe(5_000);
  });

  test('the buyer cancels before dispatch (provider-paid: refunded to the card); after dispatch only support can', async () => {
    const { sellerId, productId, buyer, orderId: cancelled } = await cardOrderCancelledByBuyer(4_000, 4, 'pm_ok', 'changed my mind');
    const final = await result(cancelled);
    expect(final).toMatchObject({ status: 'cancelled', failureCode: 'cancelled_by_buyer' });
    expect(await stock(productId)).toBe(4);
    expect(await orderMoney(tdb.db, cancelled)).toMatchObject({ paid: 4_000, refunds: 4_000, escrow: 0 });
    expect(await providerRefunds(cancelled)).toEqual([{ amount: 4_000 }]);

    const second = await checkout(buyer, [{ productId, quantity: 1, unitPrice: 4_000 }], { paymentMethod: 'pm_ok' });
    const orderId = second.body.orderId;
    expect((await api.request('POST', `/v1/orders/${orderId}/dispatch`, { token: api.token(sellerId, ['seller']), body: {} })).status).toBe(
      202,
    );
    await waitForStatus(orderId, 'dispatched');
    const late = await api.request('POST', `/v1/orders/${orderId}/cancel`, { token: api.token(buyer), body: {} });
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('action_rejected');
    // Another seller cannot touch it.
    expect(
      (await api.request('POST', `/v1/orders/${orderId}/delivered`, { token: api.token(uniqueId('s_'), ['seller']), body: {} })).status,
    ).toBe(404);
    const bySupport = await api.request('POST', `/v1/orders/${orderId}/cancel`, { token: support(), body: { reason: 'courier lost it' } });
    expect(bySupport.status).toBe(202);
    expect((await result(orderId)).failureCode).toBe('cancelled_by_support');
    expect(await tdb.db('audit_log').where({ target_id: orderId, action: 'order.cancel' }).count()).toEqual([{ count: 1 }]);
  });

  test('a card refund the provider cannot take at first is retried until it goes through, once', async () => {
    const { orderId, productId } = await cardOrderCancelledByBuyer(2_500, 3, 'pm_refund_flaky_2', 'ordered twice');
    expect(await result(orderId)).toMatchObject({ status: 'cancelled', failureCode: 'cancelled_by_buyer' });
    expect(await providerRefunds(orderId)).toEqual([{ amount: 2_500 }]);
    // Two refused calls, then the one that went through — all with the same key.
    const calls = await tdb.db('fake_provider.calls').where('idempotency_key', 'like', `refund:%${orderId}%`).select('count');
    expect(calls).toEqual([{ count: 3 }]);
    expect(await orderMoney(tdb.db, orderId)).toMatchObject({ paid: 2_500, refunds: 2_500, escrow: 0 });
    expect(await stock(productId)).toBe(3);
  });

  test('return inside the window: refund and restock; a return after settlement is refused', async () => {
    const sellerId = await seedSeller(tdb.db);
    const productId = await seedProduct(tdb.db, sellerId, 1_200, 5);
    const buyer = uniqueId('b_');
    await fundWallet(tdb.db, buyer, 10_000);
    const input = await placeOrder(tdb.db, { buyerId: buyer, sellerId, lines: [{ productId, quantity: 3 }], returnWindowMs: 60_000 });
    await startSaga(input);
    await waitForStatus(input.orderId, 'confirmed');
    await handle(input.orderId).signal(markDeliveredSignal, { by: sellerId });
    await waitForStatus(input.orderId, 'delivered');
    expect(await stock(productId)).toBe(2);
    const ret = await api.request('POST', `/v1/orders/${input.orderId}/return`, {
      token: api.token(buyer),
      body: { reason: 'wrong size' },
    });
    expect(ret.status).toBe(202);
    const final = await result(input.orderId);
    expect(final).toMatchObject({ status: 'returned', compensationsRun: ['refund', 'release_stock', 'close_order'] });
    expect(await stock(productId)).toBe(5);
    expect(await balanceOf(tdb.db, accounts.userWallet(buyer))).toBe(10_000);

    const res = await checkout(buyer, [{ productId, quantity: 1, unitPrice: 1_200 }]);
    await api.request('POST', `/v1/orders/${res.body.orderId}/delivered`, { token: api.token(sellerId, ['seller']), body: {} });
    expect((await result(res.body.orderId)).status).toBe('completed');
    const tooLate = await api.request('POST', `/v1/orders/${res.body.orderId}/return`, { token: api.token(buyer), body: {} });
    expect(tooLate.status).toBe(409);
  });

  test('a step stuck on an outage (confirm, after a card charge) waits for support; support cancels and everything is undone', async () => {
    const sellerId = await seedSeller(tdb.db);
    const productId = await seedProduct(tdb.db, sellerId, 800, 2);
    const buyer = uniqueId('b_');
    // A card order: the wallet placement hands over to the provider, then the saga confirms on its own step.
    faults.set('recordOrderStatus', (req) => req.status === 'confirmed');
    const res = await checkout(buyer, [{ productId, quantity: 2, unitPrice: 800 }], { paymentMethod: 'pm_ok' });
    expect(res.status).toBe(202);
    expect(res.body.status).toBe('stuck');
    const orderId = res.body.orderId;
    const desc = await handle(orderId).describe();
    expect(desc.searchAttributes.FlowStatus).toEqual(['stuck']);
    expect(await balanceOf(tdb.db, accounts.orderEscrow(orderId))).toBe(1_600);
    const staff = await api.request('GET', `/v1/orders/${orderId}`, { token: support() });
    expect(staff.body.saga).toMatchObject({ status: 'stuck', stuckStep: 'confirm' });
    expect((await api.request('POST', `/v1/orders/${orderId}/cancel`, { token: support(), body: { reason: 'give up' } })).status).toBe(202);
    const final = await result(orderId);
    expect(final).toMatchObject({ status: 'cancelled', compensationsRun: ['refund', 'release_stock', 'close_order'] });
    expect(await stock(productId)).toBe(2);
    expect(await orderMoney(tdb.db, orderId)).toMatchObject({ paid: 1_600, refunds: 1_600, escrow: 0 });
    expect(await providerRefunds(orderId)).toEqual([{ amount: 1_600 }]);
  });

  test('the wallet placement stuck on an outage holds nothing; support retries and the order is confirmed once', async () => {
    const sellerId = await seedSeller(tdb.db);
    const productId = await seedProduct(tdb.db, sellerId, 800, 2);
    const buyer = uniqueId('b_');
    await fundWallet(tdb.db, buyer, 1_600);
    let failures = 1;
    faults.set('placeOrder', () => failures-- > 0);
    const res = await checkout(buyer, [{ productId, quantity: 2, unitPrice: 800 }]);
    expect(res.status).toBe(202);
    expect(res.body.status).toBe('stuck');
    const orderId = res.body.orderId;
    const staff = await api.request('GET', `/v1/orders/${orderId}`, { token: support() });
    expect(staff.body.saga).toMatchObject({ status: 'stuck', stuckStep: 'place' });
    expect((await handle(orderId).describe()).searchAttributes.FlowStatus).toEqual(['stuck']);
    expect(await stock(productId)).toBe(2);
    expect(await balanceOf(tdb.db, accounts.userWallet(buyer))).toBe(1_600);
    expect((await api.request('POST', `/v1/orders/${orderId}/retry`, { token: support(), body: { reason: 'db back' } })).status).toBe(202);
    await waitForStatus(orderId, 'confirmed');
    // The row is written by the placement's transaction; FlowStatus by the workflow task after it.
    await eventually(async () => ((await handle(orderId).describe()).searchAttributes.FlowStatus?.[0] === 'confirmed' ? true : null));
    expect(await stock(productId)).toBe(0);
    expect(await balanceOf(tdb.db, accounts.orderEscrow(orderId))).toBe(1_600);
    const view = await api.request('GET', `/v1/orders/${orderId}`, { token: api.token(buyer) });
    expect(view.body.timeline.map((e: { type: string }) => e.type)).toEqual([
      'placed',
      'stuck',
      'validated',
      'stock_reserved',
      'charged',
      'confirmed',
    ]);
    await api.request('POST', `/v1/orders/${orderId}/cancel`, { token: api.token(buyer), body: {} });
    expect(await result(orderId)).toMatchObject({ status: 'cancelled', compensationsRun: ['refund', 'release_stock', 'close_order'] });
    expect(await stock(productId)).toBe(2);
    expect(await balanceOf(tdb.db, accounts.userWallet(buyer))).toBe(1_600);
  });

  test('settlement fails: the order is stuck with the money still in escrow; support retries and it settles', async () => {
    const sellerId = await seedSeller(tdb.db, { commissionBps: 500 });
    const productId = await seedProduct(tdb.db, sellerId, 10_000, 2);
    const buyer = uniqueId('b_');
    await fundWallet(tdb.db, buyer, 10_000);
    let failures = 1;
    faults.set('settleOrder', () => failures-- > 0);
    const input = await placeOrder(tdb.db, { buyerId: buyer, sellerId, lines: [{ productId, quantity: 1 }], returnWindowMs: 100 });
    await startSaga(input);
    await waitForStatus(input.orderId, 'confirmed');
    await handle(input.orderId).signal(markDeliveredSignal, { by: sellerId });
    await waitForStatus(input.orderId, 'stuck');
    expect(await balanceOf(tdb.db, accounts.orderEscrow(input.orderId))).toBe(10_000);
    expect((await api.request('POST', `/v1/orders/${input.orderId}/retry`, { token: api.token(buyer), body: {} })).status).toBe(403);
    expect((await api.request('POST', `/v1/orders/${input.orderId}/retry`, { token: support(), body: { reason: 'db back' } })).status).toBe(
      202,
    );
    expect((await result(input.orderId)).status).toBe('completed');
    expect(await balanceOf(tdb.db, accounts.sellerPayable(sellerId))).toBe(9_500);
    const retryAgain = await api.request('POST', `/v1/orders/${input.orderId}/retry`, { token: support(), body: {} });
    expect(retryAgain.status).toBe(409);
  });

  test('a Temporal cancellation of the workflow (ops, from the UI) runs the compensations', async () => {
    const sellerId = await seedSeller(tdb.db);
    const productId = await seedProduct(tdb.db, sellerId, 999, 3);
    const buyer = uniqueId('b_');
    await fundWallet(tdb.db, buyer, 999);
    const input = await placeOrder(tdb.db, { buyerId: buyer, sellerId, lines: [{ productId, quantity: 1 }] });
    await startSaga(input);
    await waitForStatus(input.orderId, 'confirmed');
    await handle(input.orderId).cancel();
    const final = await result(input.orderId);
    expect(final).toMatchObject({ status: 'cancelled', failureCode: 'workflow_cancelled' });
    expect(await stock(productId)).toBe(3);
    expect(await balanceOf(tdb.db, accounts.userWallet(buyer))).toBe(999);
  });
});

describe('refunds', () => {
  async function settledOrder(opts: { referral?: boolean; paymentMethod?: string } = {}) {
    const sellerId = await seedSeller(tdb.db, { commissionBps: 1000 });
    const productId = await seedProduct(tdb.db, sellerId, 10_001, 5);
    const buyer = uniqueId('b_');
    const referrer = uniqueId('r_');
    if (opts.referral) await tdb.db('referrals').insert({ buyer_id: buyer, referrer_id: referrer, rate_bps: 300 });
    if (!opts.paymentMethod) await fundWallet(tdb.db, buyer, 10_001);
    const input = {
      ...(await placeOrder(tdb.db, {
        buyerId: buyer,
        sellerId,
        lines: [{ productId, quantity: 1 }],
        paymentMethod: opts.paymentMethod ?? null,
      })),
    };
    await startSaga(input);
    await waitForStatus(input.orderId, 'confirmed');
    await handle(input.orderId).signal(markDeliveredSignal, { by: sellerId });
    expect((await result(input.orderId)).status).toBe('completed');
    return { sellerId, productId, buyer, referrer, orderId: input.orderId };
  }

  test('support refund after delivery but before settlement: refunded in full, stock not returned', async () => {
    const sellerId = await seedSeller(tdb.db);
    const productId = await seedProduct(tdb.db, sellerId, 3_000, 2);
    const buyer = uniqueId('b_');
    await fundWallet(tdb.db, buyer, 3_000);
    const input = await placeOrder(tdb.db, { buyerId: buyer, sellerId, lines: [{ productId, quantity: 1 }], returnWindowMs: 60_000 });
    await startSaga(input);
    await waitForStatus(input.orderId, 'confirmed');
    await handle(input.orderId).signal(markDeliveredSignal, { by: sellerId });
    await waitForStatus(input.orderId, 'delivered');
    const partial = await api.request('POST', `/v1/orders/${input.orderId}/refund`, {
      token: support(),
      idempotencyKey: uniqueId('k_'),
      body: { amount: 100, reason: 'x' },
    });
    expect(partial.status).toBe(422);
    const res = await api.request('POST', `/v1/orders/${input.orderId}/refund`, {
      token: support(),
      idempotencyKey: uniqueId('k_'),
      body: { reason: 'item damaged' },
    });
    expect(res.status).toBe(202);
    expect(res.body.phase).toBe('before_settlement');
    expect(await result(input.orderId)).toMatchObject({ status: 'refunded', failureCode: 'refunded_by_support' });
    expect(await balanceOf(tdb.db, accounts.userWallet(buyer))).toBe(3_000);
    expect(await stock(productId)).toBe(1);
  });

  test('full refund after settlement claws back seller and commission; the referral is absorbed by the platform', async () => {
    const o = await settledOrder({ referral: true });
    // 10 001: commission 1 000, referral 300 (out of it), seller 9 001.
    expect(await balanceOf(tdb.db, accounts.sellerPayable(o.sellerId))).toBe(9_001);
    const res = await api.request('POST', `/v1/orders/${o.orderId}/refund`, {
      token: support(),
      idempotencyKey: uniqueId('k_'),
      body: { reason: 'chargeback' },
    });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ phase: 'after_settlement', amount: 10_001 });
    expect(await worker.client.workflow.getHandle(res.body.workflowId).result()).toEqual({ status: 'succeeded' });
    expect(await balanceOf(tdb.db, accounts.sellerPayable(o.sellerId))).toBe(0);
    expect(await balanceOf(tdb.db, accounts.userWallet(o.buyer))).toBe(10_001);
    expect(await balanceOf(tdb.db, accounts.userWallet(o.referrer))).toBe(300);
    expect(await orderMoney(tdb.db, o.orderId)).toMatchObject({
      paid: 10_001,
      sellerCredited: 0,
      commission: -300,
      referral: 300,
      refunds: 10_001,
    });
    const more = await api.request('POST', `/v1/orders/${o.orderId}/refund`, {
      token: support(),
      idempotencyKey: uniqueId('k_'),
      body: { reason: 'again' },
    });
    expect(more.status).toBe(409);
  });

  test('partial refunds after settlement add up exactly; more than what is left is a 422', async () => {
    const o = await settledOrder({ paymentMethod: 'pm_ok' });
    for (const amount of [3_333, 3_333]) {
      const r = await api.request('POST', `/v1/orders/${o.orderId}/refund`, {
        token: support(),
        idempotencyKey: uniqueId('k_'),
        body: { amount, reason: 'partial' },
      });
      expect(r.status).toBe(202);
      await worker.client.workflow.getHandle(r.body.workflowId).result();
    }
    const tooMuch = await api.request('POST', `/v1/orders/${o.orderId}/refund`, {
      token: support(),
      idempotencyKey: uniqueId('k_'),
      body: { amount: 3_336, reason: 'x' },
    });
    expect(tooMuch.status).toBe(422);
    const rest = await api.request('POST', `/v1/orders/${o.orderId}/refund`, {
      token: support(),
      idempotencyKey: uniqueId('k_'),
      body: { reason: 'rest' },
    });
    expect(rest.body.amount).toBe(3_335);
    await worker.client.workflow.getHandle(rest.body.workflowId).result();
    expect(await balanceOf(tdb.db, accounts.sellerPayable(o.sellerId))).toBe(0);
    expect(await orderMoney(tdb.db, o.orderId)).toMatchObject({ paid: 10_001, sellerCredited: 0, commission: 0, refunds: 10_001 });
    expect((await orderRow(o.orderId)).refunded).toBe(10_001);
  });

  test('refund after payout: the payable goes negative and the next payout is refused until it is positive again', async () => {
    const o = await settledOrder();
    const seller = api.token(o.sellerId, ['seller']);
    const payout = await api.request('POST', `/v1/sellers/${o.sellerId}/payouts`, {
      token: seller,
      idempotencyKey: uniqueId('k_'),
      body: {},
    });
    expect(payout.status).toBe(202);
    expect((await worker.client.workflow.getHandle(payout.body.workflowId).result()).status).toBe('paid');
    expect(await balanceOf(tdb.db, accounts.externalBank)).toBe(9_001);

    const r = await api.request('POST', `/v1/orders/${o.orderId}/refund`, {
      token: support(),
      idempotencyKey: uniqueId('k_'),
      body: { reason: 'returned late' },
    });
    await worker.client.workflow.getHandle(r.body.workflowId).result();
    const balance = await api.request('GET', `/v1/sellers/${o.sellerId}/balance`, { token: seller });
    expect(balance.body).toMatchObject({ payable: -9_001, payoutInFlight: 0 });
    const refused = await api.request('POST', `/v1/sellers/${o.sellerId}/payouts`, {
      token: seller,
      idempotencyKey: uniqueId('k_'),
      body: {},
    });
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe('nothing_to_pay');
    expect(await tdb.db('payouts').where({ seller_id: o.sellerId }).count()).toEqual([{ count: 1 }]);
  });
});

describe('API input', () => {
  test('bad input gets a clear 4xx and writes nothing', async () => {
    const sellerId = await seedSeller(tdb.db);
    const productId = await seedProduct(tdb.db, sellerId, 1_000, 5);
    const other = await seedProduct(tdb.db, await seedSeller(tdb.db), 1_000, 5);
    const buyer = uniqueId('b_');
    const before = (await tdb.db('orders').count())[0].count;
    const cases: Array<[unknown, number, string]> = [
      [{ lines: [] }, 400, 'validation_failed'],
      [{ lines: [{ productId, quantity: 1, unitPrice: 1_000 }], extra: 1 }, 400, 'validation_failed'],
      [{ lines: [{ productId, quantity: 0, unitPrice: 1_000 }] }, 400, 'validation_failed'],
      [{ lines: [{ productId, quantity: 1, unitPrice: 10.5 }] }, 400, 'validation_failed'],
      [{ lines: [{ productId, quantity: 1, unitPrice: 1_000 }], paymentMethod: 'card 4242' }, 400, 'validation_failed'],
      [{ lines: [{ productId: 'nope', quantity: 1, unitPrice: 1_000 }] }, 422, 'unknown_product'],
      [{ lines: [{ productId, quantity: 1, unitPrice: 900 }] }, 409, 'price_changed'],
      [
        {
          lines: [
            { productId, quantity: 1, unitPrice: 1_000 },
            { productId: other, quantity: 1, unitPrice: 1_000 },
          ],
        },
        422,
        'mixed_sellers',
      ],
    ];
    for (const [body, status, code] of cases) {
      const res = await api.request('POST', '/v1/checkout', { token: api.token(buyer), idempotencyKey: uniqueId('k_'), body });
      expect({ body, status: res.status, code: res.body?.error?.code }).toEqual({ body, status, code });
    }
    expect(
      (
        await api.request('POST', '/v1/checkout', {
          token: api.token(buyer),
          body: { lines: [{ productId, quantity: 1, unitPrice: 1_000 }] },
        })
      ).status,
    ).toBe(400);
    expect(
      (await api.request('POST', '/v1/checkout', { token: api.token(sellerId, ['seller']), idempotencyKey: uniqueId('k_'), body: {} }))
        .status,
    ).toBe(403);
    expect((await tdb.db('orders').count())[0].count).toBe(before);
    expect(await stock(productId)).toBe(5);

    const sellerToken = api.token(sellerId, ['seller']);
    expect((await api.request('PATCH', `/v1/products/${productId}`, { token: sellerToken, body: {} })).status).toBe(400);
    expect((await api.request('PATCH', `/v1/products/${productId}`, { token: sellerToken, body: { addStock: -6 } })).status).toBe(409);
    expect(
      (await api.request('PATCH', `/v1/products/${productId}`, { token: api.token(uniqueId('s_'), ['seller']), body: { addStock: 1 } }))
        .status,
    ).toBe(404);
    expect((await api.request('PATCH', `/v1/products/${productId}`, { token: sellerToken, body: { addStock: 2 } })).body.stock).toBe(7);
    expect(
      (
        await api.request('POST', '/v1/sellers', {
          token: sellerToken,
          body: { sellerId: 'x', name: 'x', commissionBps: 1, bankAccountRef: 'ok' },
        })
      ).status,
    ).toBe(403);
    expect(
      (await api.request('POST', '/v1/sellers', { token: admin(), body: { sellerId, name: 'x', commissionBps: 1, bankAccountRef: 'ok' } }))
        .status,
    ).toBe(409);
    expect(
      (
        await api.request('POST', '/v1/sellers', {
          token: admin(),
          body: { sellerId: 'new_one', name: 'x', commissionBps: 10_001, bankAccountRef: 'ok' },
        })
      ).status,
    ).toBe(400);
    const created = await api.request('POST', `/v1/sellers/${sellerId}/products`, {
      token: sellerToken,
      body: { productId: uniqueId('p_'), name: 'Atta 5kg', price: 32_000, stock: 3 },
    });
    expect(created.status).toBe(201);
    expect(
      (await api.request('POST', '/v1/orders/ord_000000000000000000000000/cancel', { token: api.token(buyer), body: {} })).status,
    ).toBe(404);
    expect((await api.request('POST', '/v1/orders/not-an-id/cancel', { token: api.token(buyer), body: {} })).status).toBe(400);
  });
});

describe('the stock race', () => {
  test('100 buyers race over HTTP for the last 10 units: exactly 10 orders, the rest fully compensated', async () => {
    const sellerId = await seedSeller(tdb.db);
    const productId = await seedProduct(tdb.db, sellerId, 1_000, 10);
    const buyers = Array.from({ length: 100 }, () => uniqueId('b_'));
    await Promise.all(buyers.map((b) => fundWallet(tdb.db, b, 1_000)));
    const results = await Promise.all(buyers.map((b) => checkout(b, [{ productId, quantity: 1, unitPrice: 1_000 }])));
    // 201 confirmed, 409 out of stock — or 202 when a saga took longer than the API waits on this 2-core box.
    expect(results.filter((r) => ![201, 202, 409].includes(r.status)).map((r) => r.body)).toEqual([]);
    expect(results.filter((r) => r.status === 201).length).toBeLessThanOrEqual(10);
    expect(results.filter((r) => r.status === 409).every((r) => r.body.error.code === 'out_of_stock')).toBe(true);
    const orderIds: string[] = results.map((r) => r.body.orderId ?? r.body.error.details.orderId);
    const settled = await eventually(async () => {
      const rows = await tdb.db('orders').whereIn('id', orderIds).select('status', 'failure_code');
      return rows.every((r: { status: string }) => r.status === 'confirmed' || r.status === 'cancelled') ? rows : null;
    }, 30_000);
    expect(settled.filter((r: { status: string }) => r.status === 'confirmed')).toHaveLength(10);
    expect(settled.filter((r: { failure_code: string }) => r.failure_code === 'out_of_stock')).toHaveLength(90);
    expect(await stock(productId)).toBe(0);
    const winners = (await tdb.db('orders').whereIn('id', orderIds).where({ status: 'confirmed' }).pluck('id')) as string[];
    await Promise.all(orderIds.filter((id) => !winners.includes(id)).map((id) => result(id)));
    expect(await tdb.db('reservations').where({ product_id: productId, status: 'held' }).sum('quantity')).toEqual([{ sum: 10 }]);
    const charged = await Promise.all(buyers.map((b) => balanceOf(tdb.db, accounts.userWallet(b))));
    expect(charged.filter((c) => c === 0)).toHaveLength(10);
    expect(charged.filter((c) => c === 1_000)).toHaveLength(90);
    // Wind the winners down so the file ends with every order terminal.
    await Promise.all(winners.map((id) => handle(id).signal(cancelSignal, { by: 'ops', role: 'support' })));
    await Promise.all(winners.map((id) => result(id)));
    expect(await stock(productId)).toBe(10);
  });
});
