/**
 * The money flows on the real `razorpay` SDK (and RazorpayX over HTTP) against a local server that
 * speaks their documented shapes (test/support/razorpay-fake): top-ups, refunds, the Razorpay
 * webhook and payouts, each ending with the ledger invariants and the provider's books = the ledger.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { accounts } from '../../domain/ledger/accounts';
import { transfer } from '../../domain/ledger/journal';
import { postJournal } from '../../db/ledger';
import { getBalance } from '../../db/ledger-reports';
import { topupWorkflowId, type TopupInput, type TopupState } from '../../contracts/topup';
import { payoutWorkflowId, type PayoutState } from '../../contracts/payout';
import { RazorpayPaymentProvider, razorpayClient } from '../../infra/razorpay/payment-provider';
import { razorpaySignature } from '../../infra/razorpay/webhook';
import { RazorpayXPayoutProvider } from '../../infra/razorpayx/payout-provider';
import { ProviderUnavailableError, RefundRejectedError } from '../../infra/payment-provider';
import { topupWorkflow } from '../../workflows/topup';
import { payoutWorkflow } from '../../workflows/payout';
import { startTestApi, type TestApi } from '../support/api';
import { seedSeller } from '../support/checkout';
import { createTestDatabase, expectLedgerInvariants, type TestDatabase } from '../support/db';
import { connectClient, eventually, startTestWorker, uniqueId, type TestWorker } from '../support/temporal';
import { RazorpayFake } from '../support/razorpay-fake/server';

const WEBHOOK_SECRET = 'rzp-webhook-secret-for-tests';
const keys = { keyId: 'rzp_test_abcdef123456', keySecret: 'test-key-secret' };

let tdb: TestDatabase;
let temporal: { client: Client; close(): Promise<void> };
let api: TestApi;
let worker: TestWorker;
let fake: RazorpayFake;
let payments: RazorpayPaymentProvider;

beforeAll(async () => {
  fake = new RazorpayFake();
  await fake.start();
  tdb = await createTestDatabase();
  temporal = await connectClient();
  const taskQueue = `test-${randomUUID()}`;
  api = await startTestApi({ db: tdb.db, temporal: temporal.client, taskQueue, env: { RAZORPAY_WEBHOOK_SECRET: WEBHOOK_SECRET } });
  payments = new RazorpayPaymentProvider(razorpayClient({ ...keys, apiUrl: fake.url, timeoutMs: 500 }));
  const payouts = new RazorpayXPayoutProvider({ ...keys, apiUrl: fake.url, timeoutMs: 500, accountNumber: '2323230000000000' });
  worker = await startTestWorker({ db: tdb.db, taskQueue, payments, extraDeps: { payouts } });
});
afterAll(async () => {
  await api?.close();
  await worker?.shutdown();
  await temporal?.close();
  await tdb?.drop();
  await fake?.stop();
});
afterEach(async () => {
  await expectLedgerInvariants(tdb.db);
  // The provider's books = the ledger: what Razorpay captured net of refunds is what external:psp
  // gave us, and what RazorpayX paid out is what external:bank received.
  const books = fake.books();
  expect(-(await getBalance(tdb.db, accounts.externalPsp)).balance).toBe(books.captured - books.refunded + credited);
  expect((await getBalance(tdb.db, accounts.externalBank)).balance).toBe(books.paidOut);
});

/** Money put into payables by the test itself (as settlement would), not through Razorpay. */
let credited = 0;

async function topup(paymentMethod: string, amount = 10_000): Promise<{ input: TopupInput; state: TopupState }> {
  const input = { topupId: uniqueId('tu_'), userId: uniqueId('u'), amount, paymentMethod };
  await tdb.db('topups').insert({ id: input.topupId, user_id: input.userId, amount, payment_method: paymentMethod, status: 'pending' });
  const state = await worker.client.workflow.execute(topupWorkflow, {
    taskQueue: worker.taskQueue,
    workflowId: topupWorkflowId(input.topupId),
    args: [input],
  });
  return { input, state };
}

const wallet = async (userId: string) => (await getBalance(tdb.db, accounts.userWallet(userId))).balance;
const ordersWithReceipt = (key: string) => [...fake.orders.values()].filter((o) => o.notes.mandi_key === key);

test('a top-up is an order with our key as receipt; the first poll captures it and the wallet is credited once', async () => {
  const { input, state } = await topup('pm_ok', 25_000);
  expect(state.status).toBe('succeeded');
  expect(await wallet(input.userId)).toBe(25_000);
  const orders = ordersWithReceipt(`topup-${input.topupId}:charge`);
  expect(orders).toHaveLength(1);
  expect(orders[0]).toMatchObject({ status: 'paid', amount: 25_000, receipt: `topup-${input.topupId}:charge` });
  expect(orders[0].notes).toMatchObject({ topupId: input.topupId });
  expect(state.paymentId).toBe(orders[0].id);
});

test('5xx from Razorpay is retried with the same receipt: one order', async () => {
  const { input, state } = await topup('pm_flaky_2');
  expect(state.status).toBe('succeeded');
  expect(fake.calls.get(`order:topup-${input.topupId}:charge`)).toBe(3);
  expect(ordersWithReceipt(`topup-${input.topupId}:charge`)).toHaveLength(1);
});

test('a timeout after Razorpay made the order: the retry finds it by receipt instead of making a second', async () => {
  const { input, state } = await topup('pm_slow');
  expect(state.status).toBe('succeeded');
  expect(ordersWithReceipt(`topup-${input.topupId}:charge`)).toHaveLength(1);
  expect(await wallet(input.userId)).toBe(10_000);
});

test('a failed payment ends the top-up failed and credits nothing', async () => {
  const { input, state } = await topup('pm_declined');
  expect(state).toMatchObject({ status: 'failed', failureCode: 'payment_failed' });
  expect(await wallet(input.userId)).toBe(0);
});

test('refunds: partial then full, idempotent on our key; more than captured is rejected', async () => {
  const { input, state } = await topup('pm_ok', 8_000);
  const orderId = state.paymentId!;
  // The refund moves money back out through the ledger too, as the checkout refund does.
  const refundVia = async (key: string, amount: number) => {
    const r = await payments.refundPayment({ idempotencyKey: key, paymentId: orderId, amount });
    await postJournal(tdb.db, {
      idempotencyKey: key,
      reason: 'order_refund',
      lines: transfer(accounts.userWallet(input.userId), accounts.externalPsp, amount),
    });
    return r;
  };
  const first = await refundVia(`test-refund-${orderId}-a`, 3_000);
  const again = await payments.refundPayment({ idempotencyKey: `test-refund-${orderId}-a`, paymentId: orderId, amount: 3_000 });
  expect(again.id).toBe(first.id);
  await expect(
    payments.refundPayment({ idempotencyKey: `test-refund-${orderId}-b`, paymentId: orderId, amount: 6_000 }),
  ).rejects.toBeInstanceOf(RefundRejectedError);
  await refundVia(`test-refund-${orderId}-c`, 5_000);
  const sent = fake.log.filter((l) => l.path.endsWith('/refund')).map((l) => l.headers.refund);
  expect(sent).toContain(`test-refund-${orderId}-a`);
});

test('a payment Razorpay cannot be reached for is "unavailable", never a decline', async () => {
  const down = new RazorpayPaymentProvider(razorpayClient({ ...keys, apiUrl: 'http://127.0.0.1:9', timeoutMs: 300 }));
  await expect(down.getPayment('order_x')).rejects.toBeInstanceOf(ProviderUnavailableError);
});

describe('POST /v1/webhooks/razorpay', () => {
  const post = (body: object, headers: Record<string, string>) =>
    fetch(`${api.url}/v1/webhooks/razorpay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const captured = (orderId: string) => ({
    entity: 'event',
    account_id: 'acc_test',
    event: 'payment.captured',
    contains: ['payment'],
    payload: { payment: { entity: { id: 'pay_x', entity: 'payment', amount: 100, status: 'captured', order_id: orderId } } },
    created_at: 1,
  });

  test('a bad signature is 401 and records nothing; a good one matches our order once, a repeat is a duplicate', async () => {
    const { state } = await topup('pm_ok', 1_000);
    const body = captured(state.paymentId!);
    const raw = JSON.stringify(body);
    const eventId = uniqueId('evt_');
    const bad = await post(body, { 'x-razorpay-signature': razorpaySignature('wrong-secret', raw), 'x-razorpay-event-id': eventId });
    expect(bad.status).toBe(401);
    expect(
      await tdb
        .db('webhook_events')
        .where({ event_id: `rzp:${eventId}` })
        .count(),
    ).toEqual([{ count: 0 }]);
    const headers = { 'x-razorpay-signature': razorpaySignature(WEBHOOK_SECRET, raw), 'x-razorpay-event-id': eventId };
    const first = await post(body, headers);
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ received: true, matched: true, duplicate: false });
    expect(await (await post(body, headers)).json()).toEqual({ received: true, matched: true, duplicate: true });
  });

  test('an order we have no record of is received but not matched (and not claimed)', async () => {
    const body = captured('order_notours');
    const raw = JSON.stringify(body);
    const res = await post(body, {
      'x-razorpay-signature': razorpaySignature(WEBHOOK_SECRET, raw),
      'x-razorpay-event-id': uniqueId('evt_'),
    });
    expect(await res.json()).toEqual({ received: true, matched: false });
  });
});

describe('RazorpayX payouts', () => {
  async function payout(
    fundAccount: string,
    amount: number,
    opts: { pollMs?: number; whileRunning?: (payoutId: string) => Promise<void> } = {},
  ): Promise<{ payoutId: string; sellerId: string; state: PayoutState }> {
    const sellerId = await seedSeller(tdb.db, { bank: fundAccount });
    await postJournal(tdb.db, {
      idempotencyKey: `test-settle-${randomUUID()}`,
      reason: 'order_settlement',
      lines: transfer(accounts.externalPsp, accounts.sellerPayable(sellerId), amount),
    });
    credited += amount;
    const payoutId = `po_${randomUUID().replace(/-/g, '').slice(0, 24)}`;
    await tdb
      .db('payouts')
      .insert({ id: payoutId, seller_id: sellerId, status: 'pending', bank_account_ref: fundAccount, requested_by: 'test' });
    const pollMs = opts.pollMs ?? 50;
    const handle = await worker.client.workflow.start(payoutWorkflow, {
      taskQueue: worker.taskQueue,
      workflowId: payoutWorkflowId(payoutId),
      args: [{ payoutId, sellerId, pollMs, maxPollMs: Math.max(200, pollMs) }],
    });
    await opts.whileRunning?.(payoutId);
    const state = await handle.result();
    return { payoutId, sellerId, state };
  }

  test('processed: paid once, sent with X-Payout-Idempotency = our payout key', async () => {
    const { payoutId, state } = await payout('fa_ok_001', 4_000);
    expect(state.status).toBe('paid');
    expect(fake.log.filter((l) => l.path === '/v1/payouts').map((l) => l.headers.payout)).toContain(`payout-${payoutId}`);
  });

  test('processing then processed: the money stays in flight until RazorpayX confirms', async () => {
    const { sellerId, state } = await payout('fa_pending_001', 3_000);
    expect(state.status).toBe('paid');
    expect((await getBalance(tdb.db, accounts.sellerPayoutInFlight(sellerId))).balance).toBe(0);
  });

  test('processed then reversed (webhook): the payable is re-opened once and ops are alerted', async () => {
    const { payoutId, sellerId, state } = await payout('fa_reverse_001', 5_500);
    expect(state.status).toBe('paid');
    expect((await getBalance(tdb.db, accounts.sellerPayable(sellerId))).balance).toBe(0);
    const providerPayoutId = (await tdb.db('payouts').where({ id: payoutId }).first()).provider_payout_id as string;
    // RazorpayX reverses it (the fake does on the next read) and says so in a signed webhook.
    const bank = new RazorpayXPayoutProvider({ ...keys, apiUrl: fake.url, timeoutMs: 500, accountNumber: '2323230000000000' });
    expect(await bank.getPayout(providerPayoutId)).toMatchObject({ status: 'failed', providerState: 'reversed' });
    const body = {
      entity: 'event',
      event: 'payout.reversed',
      contains: ['payout'],
      payload: { payout: { entity: { id: providerPayoutId, entity: 'payout', amount: 5_500, status: 'reversed' } } },
    };
    const raw = JSON.stringify(body);
    const headers = {
      'content-type': 'application/json',
      'x-razorpay-signature': razorpaySignature(WEBHOOK_SECRET, raw),
      'x-razorpay-event-id': uniqueId('evt_'),
    };
    const send = () => fetch(`${api.url}/v1/webhooks/razorpay`, { method: 'POST', headers, body: raw }).then((r) => r.json());
    expect(await send()).toEqual({ received: true, matched: true, duplicate: false });
    expect(await send()).toEqual({ received: true, matched: true, duplicate: true });
    expect((await getBalance(tdb.db, accounts.sellerPayable(sellerId))).balance).toBe(5_500);
    expect(
      await tdb
        .db('journal')
        .where({ idempotency_key: `payout-${payoutId}:reversed` })
        .count(),
    ).toEqual([{ count: 1 }]);
    expect(
      await tdb
        .db('flow_alerts')
        .where({ workflow_id: payoutWorkflowId(payoutId), step: 'reversed' })
        .whereNull('resolved_at')
        .count(),
    ).toEqual([{ count: 1 }]);
    expect((await tdb.db('payouts').where({ id: payoutId }).first()).provider_state).toBe('reversed');
  });

  test('payout.processed (webhook) wakes the payout flow, which asks RazorpayX and finds it paid; a repeat is a duplicate', async () => {
    const started = Date.now();
    const { payoutId, sellerId, state } = await payout('fa_hold_001', 3_300, {
      // The flow would next poll in a minute: only the webhook can make it finish sooner.
      pollMs: 60_000,
      whileRunning: async (id) => {
        const providerPayoutId = await eventually(
          async () => (await tdb.db('payouts').where({ id }).first())?.provider_payout_id as string | undefined,
        );
        await eventually(async () => (await tdb.db('payouts').where({ id }).first())?.status === 'in_flight');
        const body = {
          entity: 'event',
          event: 'payout.processed',
          contains: ['payout'],
          payload: { payout: { entity: { id: providerPayoutId, entity: 'payout', amount: 3_300, status: 'processed' } } },
        };
        const raw = JSON.stringify(body);
        const headers = {
          'content-type': 'application/json',
          'x-razorpay-signature': razorpaySignature(WEBHOOK_SECRET, raw),
          'x-razorpay-event-id': uniqueId('evt_'),
        };
        const send = () => fetch(`${api.url}/v1/webhooks/razorpay`, { method: 'POST', headers, body: raw }).then((r) => r.json());
        // An early event (the bank has not paid yet) moves nothing: the flow asks, sees processing, waits.
        expect(await send()).toEqual({ received: true, matched: true, duplicate: false });
        fake.processPayout(providerPayoutId);
        const again = { ...headers, 'x-razorpay-event-id': uniqueId('evt_') };
        const res = await fetch(`${api.url}/v1/webhooks/razorpay`, { method: 'POST', headers: again, body: raw }).then((r) => r.json());
        expect(res).toEqual({ received: true, matched: true, duplicate: false });
        expect(await send()).toEqual({ received: true, matched: true, duplicate: true });
      },
    });
    expect(state.status).toBe('paid');
    expect(Date.now() - started).toBeLessThan(30_000);
    expect((await getBalance(tdb.db, accounts.sellerPayoutInFlight(sellerId))).balance).toBe(0);
    expect((await tdb.db('payouts').where({ id: payoutId }).first()).status).toBe('paid');
  });

  test('a payout webhook for a payout that is not ours is answered unmatched and records nothing', async () => {
    const body = {
      entity: 'event',
      event: 'payout.failed',
      contains: ['payout'],
      payload: { payout: { entity: { id: 'pout_notours1' } } },
    };
    const raw = JSON.stringify(body);
    const eventId = uniqueId('evt_');
    const res = await fetch(`${api.url}/v1/webhooks/razorpay`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-razorpay-signature': razorpaySignature(WEBHOOK_SECRET, raw),
        'x-razorpay-event-id': eventId,
      },
      body: raw,
    });
    expect(await res.json()).toEqual({ received: true, matched: false });
    expect(
      await tdb
        .db('webhook_events')
        .where({ event_id: `rzp:${eventId}` })
        .count(),
    ).toEqual([{ count: 0 }]);
  });

  test('failed: the money goes back to the payable with the reason', async () => {
    const { sellerId, state } = await payout('fa_fail_001', 2_000);
    expect(state).toMatchObject({ status: 'failed', failureCode: 'beneficiary_bank_rejected' });
    expect((await getBalance(tdb.db, accounts.sellerPayable(sellerId))).balance).toBe(2_000);
  });
});
