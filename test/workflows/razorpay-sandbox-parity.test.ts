/**
 * One suite, two rails: the same top-up, checkout (card charge, then a refund) and payout workflow
 * tests run against the sandbox providers (infra/fake-payment-provider.ts, infra/fake-payout-provider.ts)
 * and against the real `razorpay` SDK and RazorpayX adapter talking to the local Razorpay fake
 * (test/support/razorpay-fake). Each rails names its own instruments for the same behaviours (a
 * payment that succeeds, one that is declined, one behind two 5xx; a payout that is paid, rejected,
 * or processing first). Every test ends with the ledger invariants and the provider's books = the
 * ledger: what it captured net of refunds is what external:psp gave us (beside what the tests put in
 * themselves), and what it paid out is what external:bank received.
 */
import { randomUUID } from 'node:crypto';
import { accounts } from '../../domain/ledger/accounts';
import { transfer } from '../../domain/ledger/journal';
import { postJournal } from '../../db/ledger';
import { getBalance } from '../../db/ledger-reports';
import { awaitConfirmationUpdate, cancelUpdate, checkoutWorkflowId, type CheckoutState } from '../../contracts/checkout';
import { payoutWorkflowId, type PayoutState } from '../../contracts/payout';
import { topupWorkflowId, type TopupState } from '../../contracts/topup';
import { FakePaymentProvider } from '../../infra/fake-payment-provider';
import { FakePayoutProvider } from '../../infra/fake-payout-provider';
import type { PaymentProvider } from '../../infra/payment-provider';
import type { PayoutProvider } from '../../infra/payout-provider';
import { RazorpayPaymentProvider, razorpayClient } from '../../infra/razorpay/payment-provider';
import { RazorpayXPayoutProvider } from '../../infra/razorpayx/payout-provider';
import { checkoutWorkflow } from '../../workflows/checkout';
import { payoutWorkflow } from '../../workflows/payout';
import { topupWorkflow } from '../../workflows/topup';
import { orderMoney, placeOrder, seedProduct, seedSeller } from '../support/checkout';
import { createTestDatabase, expectLedgerInvariants, type TestDatabase } from '../support/db';
import { RazorpayFake } from '../support/razorpay-fake/server';
import { startTestWorker, uniqueId, type TestWorker } from '../support/temporal';

interface Books {
  captured: number;
  refunded: number;
  paidOut: number;
}

interface Rails {
  name: 'sandbox' | 'razorpay';
  setUp(
    db: TestDatabase['db'],
  ): Promise<{ payments: PaymentProvider; payouts: PayoutProvider; books: () => Promise<Books>; close(): Promise<void> }>;
  /** Payment methods: succeeds; declined; two 5xx, then succeeds. */
  method: { ok: string; declined: string; flaky: string };
  /**
   * Bank accounts / fund accounts: paid; rejected; processing first, then paid; processing first,
   * then rejected; made by a call whose answer is lost, then a 5xx, then the answer (paid).
   */
  bank: { ok: string; fails: string; pending: string; pendingThenFails: string; flaky: string };
  /**
   * How a declined top-up ends: the sandbox refuses the charge when it is made (PaymentDeclinedError,
   * `declined`); on Razorpay the order is made and its payment fails at the customer (`failed`). No
   * money moves either way.
   */
  declinedTopup: 'declined' | 'failed';
}

const sum = async (db: TestDatabase['db'], sql: string) => Number((await db.raw(sql)).rows[0].total);

const sandbox: Rails = {
  name: 'sandbox',
  async setUp(db) {
    return {
      payments: new FakePaymentProvider(db, { settleDelayMs: 20 }),
      payouts: new FakePayoutProvider(db, { settleDelayMs: 200 }),
      books: async () => ({
        captured: await sum(db, `SELECT coalesce(sum(amount), 0) AS total FROM fake_provider.payments WHERE status = 'succeeded'`),
        refunded: await sum(db, `SELECT coalesce(sum(amount), 0) AS total FROM fake_provider.refunds`),
        paidOut: await sum(db, `SELECT coalesce(sum(amount), 0) AS total FROM fake_provider.payouts WHERE status = 'succeeded'`),
      }),
      close: async () => undefined,
    };
  },
  method: { ok: 'pm_ok', declined: 'pm_declined', flaky: 'pm_flaky_2' },
  bank: {
    ok: 'ok:parity',
    fails: 'fails:parity',
    pending: 'pending-then-ok:parity',
    pendingThenFails: 'pending-then-fails:parity',
    flaky: 'flaky:parity',
  },
  declinedTopup: 'declined',
};

const razorpay: Rails = {
  name: 'razorpay',
  async setUp() {
    const fake = new RazorpayFake();
    await fake.start();
    const keys = { keyId: 'rzp_test_parity123', keySecret: 'test-key-secret', apiUrl: fake.url, timeoutMs: 1_000 };
    return {
      payments: new RazorpayPaymentProvider(razorpayClient(keys)),
      payouts: new RazorpayXPayoutProvider({ ...keys, accountNumber: '2323230000000000' }),
      books: async () => fake.books(),
      close: () => fake.stop(),
    };
  },
  method: { ok: 'pm_ok', declined: 'pm_declined', flaky: 'pm_flaky_2' },
  bank: {
    ok: 'fa_ok_parity',
    fails: 'fa_fail_parity',
    pending: 'fa_pending_parity',
    pendingThenFails: 'fa_pendfail_parity',
    flaky: 'fa_flaky_parity',
  },
  declinedTopup: 'failed',
};

describe.each([sandbox, razorpay])('money flows on the $name rails', (rails) => {
  let tdb: TestDatabase;
  let worker: TestWorker;
  let books: () => Promise<Books>;
  let close: () => Promise<void>;
  /** Money the tests put in from external:psp themselves (seller payables to pay out), not through the provider. */
  let credited = 0;

  beforeAll(async () => {
    tdb = await createTestDatabase();
    const set = await rails.setUp(tdb.db);
    books = set.books;
    close = set.close;
    worker = await startTestWorker({ db: tdb.db, payments: set.payments, extraDeps: { payouts: set.payouts } });
  });
  afterAll(async () => {
    await worker?.shutdown();
    await tdb?.drop();
    await close?.();
  });
  afterEach(async () => {
    await expectLedgerInvariants(tdb.db);
    const b = await books();
    expect(-(await getBalance(tdb.db, accounts.externalPsp)).balance).toBe(b.captured - b.refunded + credited);
    expect((await getBalance(tdb.db, accounts.externalBank)).balance).toBe(b.paidOut);
  });

  const wallet = async (userId: string) => (await getBalance(tdb.db, accounts.userWallet(userId))).balance;

  async function topup(paymentMethod: string, amount: number): Promise<{ userId: string; state: TopupState }> {
    const input = { topupId: uniqueId('tu_'), userId: uniqueId('u'), amount, paymentMethod };
    await tdb.db('topups').insert({ id: input.topupId, user_id: input.userId, amount, payment_method: paymentMethod, status: 'pending' });
    const state = await worker.client.workflow.execute(topupWorkflow, {
      taskQueue: worker.taskQueue,
      workflowId: topupWorkflowId(input.topupId),
      args: [input],
    });
    return { userId: input.userId, state };
  }

  async function cardOrder(paymentMethod: string, price: number) {
    const sellerId = await seedSeller(tdb.db);
    const productId = await seedProduct(tdb.db, sellerId, price, 5);
    const input = await placeOrder(tdb.db, { buyerId: uniqueId('b_'), sellerId, lines: [{ productId, quantity: 1 }], paymentMethod });
    const handle = await worker.client.workflow.start(checkoutWorkflow, {
      taskQueue: worker.taskQueue,
      workflowId: checkoutWorkflowId(input.orderId),
      args: [input],
    });
    const confirmed = await handle.executeUpdate(awaitConfirmationUpdate, { args: [{ timeoutMs: 30_000 }] });
    return { input, handle, confirmed };
  }

  async function payout(bankAccount: string, amount: number): Promise<{ sellerId: string; state: PayoutState }> {
    const sellerId = await seedSeller(tdb.db, { bank: bankAccount });
    await postJournal(tdb.db, {
      idempotencyKey: `test-settle-${randomUUID()}`,
      reason: 'order_settlement',
      lines: transfer(accounts.externalPsp, accounts.sellerPayable(sellerId), amount),
    });
    credited += amount;
    const payoutId = `po_${randomUUID().replace(/-/g, '').slice(0, 24)}`;
    await tdb
      .db('payouts')
      .insert({ id: payoutId, seller_id: sellerId, status: 'pending', bank_account_ref: bankAccount, requested_by: 'test' });
    const state = await worker.client.workflow.execute(payoutWorkflow, {
      taskQueue: worker.taskQueue,
      workflowId: payoutWorkflowId(payoutId),
      args: [{ payoutId, sellerId, pollMs: 50, maxPollMs: 200 }],
    });
    return { sellerId, state };
  }

  test('top-up: paid once and the wallet credited once', async () => {
    const { userId, state } = await topup(rails.method.ok, 12_500);
    expect(state.status).toBe('succeeded');
    expect(await wallet(userId)).toBe(12_500);
    expect((await books()).captured).toBeGreaterThanOrEqual(12_500);
  });

  test('top-up behind two 5xx: retried with the same key, one payment', async () => {
    const before = (await books()).captured;
    const { userId, state } = await topup(rails.method.flaky, 7_000);
    expect(state.status).toBe('succeeded');
    expect(await wallet(userId)).toBe(7_000);
    expect((await books()).captured - before).toBe(7_000);
  });

  test('a timeout after the provider made the payment: the retry with the same key finds it, the wallet is credited once', async () => {
    const before = (await books()).captured;
    const { userId, state } = await topup('pm_slow', 6_100);
    expect(state.status).toBe('succeeded');
    expect(await wallet(userId)).toBe(6_100);
    expect((await books()).captured - before).toBe(6_100);
  });

  test.each(['pm_declined', 'pm_insufficient_funds'])('top-up with %s: nothing credited, nothing captured', async (method) => {
    const before = (await books()).captured;
    const { userId, state } = await topup(method, 5_000);
    expect(state.status).toBe(rails.declinedTopup);
    expect(await wallet(userId)).toBe(0);
    expect((await books()).captured).toBe(before);
  });

  test('a refund the provider cannot take at first (two 5xx) is retried with the same key until it goes through, once', async () => {
    const before = await books();
    const { input, handle, confirmed } = await cardOrder('pm_refund_flaky_2', 3_600);
    expect(confirmed.status).toBe('confirmed');
    await handle.executeUpdate(cancelUpdate, { args: [{ by: input.buyerId, role: 'buyer' }] });
    expect(((await handle.result()) as CheckoutState).status).toBe('cancelled');
    expect(await orderMoney(tdb.db, input.orderId)).toMatchObject({ paid: 3_600, refunds: 3_600, escrow: 0 });
    const after = await books();
    expect([after.captured - before.captured, after.refunded - before.refunded]).toEqual([3_600, 3_600]);
  });

  test('checkout card charge, then the buyer cancels: the card is refunded in full, once', async () => {
    const before = await books();
    const { input, handle, confirmed } = await cardOrder(rails.method.ok, 4_200);
    expect(confirmed.status).toBe('confirmed');
    await handle.executeUpdate(cancelUpdate, { args: [{ by: input.buyerId, role: 'buyer', reason: 'changed my mind' }] });
    const final = (await handle.result()) as CheckoutState;
    expect(final.status).toBe('cancelled');
    expect(await orderMoney(tdb.db, input.orderId)).toMatchObject({ paid: 4_200, refunds: 4_200, escrow: 0 });
    const after = await books();
    expect([after.captured - before.captured, after.refunded - before.refunded]).toEqual([4_200, 4_200]);
  });

  test('checkout with a declined card: cancelled, nothing charged', async () => {
    const before = (await books()).captured;
    const { input, confirmed } = await cardOrder(rails.method.declined, 3_000);
    expect(confirmed.status).not.toBe('confirmed');
    expect(await orderMoney(tdb.db, input.orderId)).toMatchObject({ paid: 0, escrow: 0 });
    expect((await books()).captured).toBe(before);
  });

  test('payouts: paid; processing first, then paid; rejected, and the money goes back to the payable', async () => {
    const paid = await payout(rails.bank.ok, 4_000);
    expect(paid.state.status).toBe('paid');
    const pending = await payout(rails.bank.pending, 3_000);
    expect(pending.state.status).toBe('paid');
    expect((await getBalance(tdb.db, accounts.sellerPayoutInFlight(pending.sellerId))).balance).toBe(0);
    const failed = await payout(rails.bank.fails, 2_000);
    expect(failed.state.status).toBe('failed');
    expect((await getBalance(tdb.db, accounts.sellerPayable(failed.sellerId))).balance).toBe(2_000);
  });

  test('payouts: processing, then rejected (the money stays in flight until then, then goes back); a lost answer and a 5xx: paid once', async () => {
    const later = await payout(rails.bank.pendingThenFails, 2_500);
    expect(later.state.status).toBe('failed');
    expect((await getBalance(tdb.db, accounts.sellerPayable(later.sellerId))).balance).toBe(2_500);
    expect((await getBalance(tdb.db, accounts.sellerPayoutInFlight(later.sellerId))).balance).toBe(0);
    const before = (await books()).paidOut;
    const flaky = await payout(rails.bank.flaky, 1_900);
    expect(flaky.state.status).toBe('paid');
    expect((await books()).paidOut - before).toBe(1_900);
  });
});
