/**
 * Recurring debits against a mandate (UPI Autopay) on the dev server with a fast clock (one
 * subscription day = DAY_MS real ms, so the 24 h pre-debit notice is DAY_MS), run against both
 * rails: the sandbox provider and the real `razorpay` SDK talking to the local Razorpay fake
 * (test/support/razorpay-fake). Each test reads the provider's own books (when each notice went out,
 * when each debit was made and how it ended) and checks:
 *   - every debit comes ≥ 24 h (scaled) after its own pre-debit notice, and not before payment_after;
 *   - never two debits in one cycle, across dunning retries and worker restarts;
 *   - a failed debit enters dunning and the retry sends its own notice first;
 *   - a paused mandate (token.paused webhook) is not debited: the payment-failure pause asks for a new method;
 *   - an amount above the mandate's limit is refused before anything is sent;
 * and ends with the ledger invariants and the provider's debits = what the ledger took through the provider.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { insertMandate, mandateDebitsOf } from '../../db/mandates';
import { fakeMandateNotices, setFakeMandateTokenStatus } from '../../db/fake-providers';
import { FakePaymentProvider } from '../../infra/fake-payment-provider';
import type { MandateRails, PaymentProvider } from '../../infra/payment-provider';
import { RazorpayPaymentProvider, razorpayClient } from '../../infra/razorpay/payment-provider';
import { razorpaySignature } from '../../infra/razorpay/webhook';
import { startTestApi, type TestApi } from '../support/api';
import { createTestDatabase, expectLedgerInvariants, type TestDatabase } from '../support/db';
import { connectClient, eventually, startTestWorker, testLogger, uniqueId, type TestWorker } from '../support/temporal';
import { createSubscriptionActivities } from '../../activities/subscriptions';
import { mandateStatusSignal } from '../../contracts/subscription';
import { openRenewal } from '../../db/subscription-renewals';
import { InMemoryPubSub } from '../../infra/pubsub';
import { RazorpayFake } from '../support/razorpay-fake/server';
import {
  PRICE,
  insertSubscription,
  notificationKinds,
  renewals,
  startSubscription,
  state,
  stop,
  testSettings,
} from './subscription-helpers';

const DAY_MS = 1_000;
const WEBHOOK_SECRET = 'rzp-webhook-secret-for-mandate-tests';
const keys = { keyId: 'rzp_test_mandates123', keySecret: 'test-key-secret' };

let tdb: TestDatabase;
let temporal: { client: Client; close(): Promise<void> };
let api: TestApi;
let fake: RazorpayFake;

beforeAll(async () => {
  fake = new RazorpayFake();
  await fake.start();
  tdb = await createTestDatabase();
  temporal = await connectClient();
  api = await startTestApi({
    db: tdb.db,
    temporal: temporal.client,
    taskQueue: `test-${randomUUID()}`,
    env: { RAZORPAY_WEBHOOK_SECRET: WEBHOOK_SECRET },
  });
});
afterAll(async () => {
  await api?.close();
  await temporal?.close();
  await tdb?.drop();
  await fake?.stop();
});

/** One debit as the provider's books record it. */
interface ProviderDebit {
  orderId: string;
  notifiedAtMs: number;
  paymentAfterMs: number;
  debitedAtMs: number | null;
  status: 'succeeded' | 'failed' | null;
  amount: number;
}

interface Rails {
  name: 'sandbox' | 'razorpay';
  provider: () => PaymentProvider;
  debits: (tokenId: string) => Promise<ProviderDebit[]>;
  pauseToken: (tokenId: string) => Promise<void>;
}

const sandbox: Rails = {
  name: 'sandbox',
  provider: () => new FakePaymentProvider(tdb.db, { settleDelayMs: 20 }),
  debits: async (tokenId) => {
    const notices = await fakeMandateNotices(tdb.db, tokenId);
    const out: ProviderDebit[] = [];
    for (const n of notices) {
      const payment = n.payment_id ? await tdb.db('fake_provider.payments').where({ id: n.payment_id }).first() : null;
      out.push({
        orderId: n.order_id,
        notifiedAtMs: new Date(n.notified_at).getTime(),
        paymentAfterMs: new Date(n.payment_after).getTime(),
        debitedAtMs: n.debited_at ? new Date(n.debited_at).getTime() : null,
        status: payment ? payment.status : null,
        amount: Number(n.amount),
      });
    }
    return out;
  },
  pauseToken: (tokenId) => setFakeMandateTokenStatus(tdb.db, tokenId, 'paused'),
};

const razorpay: Rails = {
  name: 'razorpay',
  provider: () => new RazorpayPaymentProvider(razorpayClient({ ...keys, apiUrl: fake.url, timeoutMs: 1_000 })),
  debits: async (tokenId) =>
    [...fake.orders.values()]
      .filter((o) => o.notification?.token_id === tokenId)
      .map((o) => {
        const payments = [...fake.payments.values()].filter((p) => p.order_id === o.id && p.recurring);
        // The fake refuses a second payment on an order; more than one here would be a double debit.
        expect(payments.length).toBeLessThanOrEqual(1);
        const p = payments[0];
        return {
          orderId: o.id,
          notifiedAtMs: o.notified_at_ms!,
          paymentAfterMs: o.notification!.payment_after * 1000,
          debitedAtMs: p?.created_at_ms ?? null,
          status: p ? (p.captured ? ('succeeded' as const) : ('failed' as const)) : null,
          amount: o.amount,
        };
      })
      .sort((a, b) => a.notifiedAtMs - b.notifiedAtMs),
  pauseToken: async (tokenId) => {
    fake.tokens.get(tokenId)!.recurring_details.status = 'paused';
  },
};

describe.each([sandbox, razorpay])('mandate debits on the $name rails', (rails) => {
  let worker: TestWorker;
  let taskQueue: string;
  let mandates: MandateRails;
  /** Every subscription a test made, with its token: checked against the provider's books after each test. */
  let made: Array<{ subscriptionId: string; tokenId: string }> = [];

  beforeAll(async () => {
    taskQueue = `test-${randomUUID()}`;
    const provider = rails.provider();
    mandates = provider.mandates!;
    worker = await startTestWorker({ db: tdb.db, taskQueue, payments: provider });
  });
  afterAll(async () => {
    await worker?.shutdown();
  });
  afterEach(async () => {
    await expectLedgerInvariants(tdb.db);
    // The provider's books = the ledger: what it debited successfully is what each renewal paid
    // through the provider, and never more than one debit in a period.
    for (const m of made) {
      const debits = await rails.debits(m.tokenId);
      const debited = debits.filter((d) => d.status === 'succeeded').reduce((sum, d) => sum + d.amount, 0);
      const paid = (await renewals(tdb.db, m.subscriptionId)).filter((r) => r.status === 'paid' && r.paid_via === 'provider');
      expect(debited).toBe(paid.reduce((sum, r) => sum + r.amount, 0));
      const rows = await mandateDebitsOf(tdb.db, m.subscriptionId);
      for (const period of new Set(rows.map((r) => r.period))) {
        expect(rows.filter((r) => r.period === period && r.status === 'succeeded').length).toBeLessThanOrEqual(1);
      }
    }
    made = [];
  });

  /** A subscription charged through a mandate the customer authorised (email picks the debits' behaviour). */
  async function subscribeWithMandate(email: string, maxAmount = 100_000) {
    const mandateId = `pm_mandate_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
    const sub = await insertSubscription(tdb.db, { paymentMethod: mandateId });
    const auth = await mandates.createMandateAuthorisation({
      idempotencyKey: `mandate-${sub.id}`,
      customer: { name: 'Asha Rao', email, contact: '9876543210' },
      method: 'upi',
      maxAmount,
      expireAtMs: Date.now() + 365 * 86_400_000,
    });
    const token = await mandates.tokenOfAuthorisation(auth.orderId);
    expect(token).toMatchObject({ status: 'confirmed', maxAmount });
    await insertMandate(tdb.db, {
      id: mandateId,
      subscriptionId: sub.id,
      customerId: sub.customerId,
      providerCustomerId: auth.providerCustomerId,
      tokenId: token!.tokenId,
      method: 'upi',
      maxAmount: token!.maxAmount,
      status: 'active',
    });
    made.push({ subscriptionId: sub.id, tokenId: token!.tokenId });
    return { sub, mandateId, tokenId: token!.tokenId };
  }

  const settings = () => testSettings({ dayMs: DAY_MS });
  const paidPeriods = async (subscriptionId: string) =>
    (await renewals(tdb.db, subscriptionId)).filter((r) => r.status === 'paid').map((r) => r.period);

  /** Every debit came ≥ 24 h (scaled) after its notice and not before the notice's payment_after. */
  function expectNoticeRespected(debits: ProviderDebit[]) {
    for (const d of debits.filter((x) => x.debitedAtMs !== null)) {
      expect(d.debitedAtMs! - d.notifiedAtMs).toBeGreaterThanOrEqual(DAY_MS);
      expect(d.debitedAtMs!).toBeGreaterThanOrEqual(d.paymentAfterMs);
    }
  }

  test('each renewal sends the pre-debit notice, then debits once ≥ 24 h (scaled) later', async () => {
    const { sub, tokenId } = await subscribeWithMandate(`asha.${randomUUID().slice(0, 8)}@example.com`);
    const handle = await startSubscription(worker, sub, settings(), taskQueue);
    try {
      await eventually(async () => (await paidPeriods(sub.id)).length >= 2, 30_000);
      const debits = await rails.debits(tokenId);
      // Two periods paid by two debits, each behind its own notice; nothing refused by the provider.
      expect(debits.filter((d) => d.status === 'succeeded').length).toBeGreaterThanOrEqual(2);
      expectNoticeRespected(debits);
      if (rails.name === 'razorpay') expect(fake.refusedDebits).toEqual([]);
      const rows = await mandateDebitsOf(tdb.db, sub.id);
      expect(rows.slice(0, 2).map((r) => [r.period, r.attempt, r.status])).toEqual([
        [1, 1, 'succeeded'],
        [2, 1, 'succeeded'],
      ]);
      for (const r of rows.filter((x) => x.debited_at)) {
        expect(new Date(r.debited_at!).getTime() - new Date(r.notified_at!).getTime()).toBeGreaterThanOrEqual(DAY_MS);
      }
      // The customer's outbox has the notice of each debit before the debit.
      const notices = (await notificationKinds(tdb.db, sub.id)).filter((n) => n.kind === 'pre_debit_notice');
      expect(notices.map((n) => [n.data.period, n.data.attempt]).slice(0, 2)).toEqual([
        [1, 1],
        [2, 1],
      ]);
      expect((await renewals(tdb.db, sub.id))[0]).toMatchObject({ period: 1, amount: PRICE, status: 'paid', paid_via: 'provider' });
    } finally {
      await stop(handle);
    }
  });

  test('a failed debit enters dunning; the retry sends its own notice first; one debit succeeds in the cycle', async () => {
    const { sub, tokenId } = await subscribeWithMandate('debit_fail_1@example.com');
    const handle = await startSubscription(worker, sub, settings(), taskQueue);
    try {
      await eventually(async () => (await paidPeriods(sub.id)).includes(1), 30_000);
      const rows = (await mandateDebitsOf(tdb.db, sub.id)).filter((r) => r.period === 1);
      expect(rows.map((r) => [r.attempt, r.status])).toEqual([
        [1, 'failed'],
        [2, 'succeeded'],
      ]);
      const debits = (await rails.debits(tokenId)).slice(0, 2);
      expect(debits.map((d) => d.status)).toEqual(['failed', 'succeeded']);
      // The retry's notice went out after the failed debit, and its debit ≥ 24 h after that notice.
      expect(debits[1].notifiedAtMs).toBeGreaterThanOrEqual(debits[0].debitedAtMs!);
      expectNoticeRespected(debits);
      const kinds = (await notificationKinds(tdb.db, sub.id)).map((n) => n.kind);
      expect(kinds.slice(0, 3)).toEqual(['pre_debit_notice', 'payment_declined', 'pre_debit_notice']);
    } finally {
      await stop(handle);
    }
  });

  test('a worker restart between the notice and the debit: still one debit in the cycle, after the full notice', async () => {
    const { sub, tokenId } = await subscribeWithMandate(`ravi.${randomUUID().slice(0, 8)}@example.com`);
    const handle = await startSubscription(worker, sub, settings(), taskQueue);
    try {
      // The notice is out: the worker dies before the debit and comes back after its window.
      await eventually(async () => (await mandateDebitsOf(tdb.db, sub.id)).some((r) => r.notified_at !== null), 20_000, 20);
      await worker.shutdown();
      await new Promise((r) => setTimeout(r, DAY_MS * 1.5));
      worker = await startTestWorker({ db: tdb.db, taskQueue, payments: rails.provider() });
      await eventually(async () => (await paidPeriods(sub.id)).includes(1), 30_000);
      const debits = await rails.debits(tokenId);
      expectNoticeRespected(debits);
      const period1 = (await mandateDebitsOf(tdb.db, sub.id)).filter((r) => r.period === 1);
      expect(period1.map((r) => [r.attempt, r.status])).toEqual([[1, 'succeeded']]);
      // The provider saw one order for the cycle and one debit on it, made after the restart.
      const ofPeriod1 = debits.filter((d) => d.orderId === period1[0].order_id);
      expect(ofPeriod1.map((d) => d.status)).toEqual(['succeeded']);
      expect(ofPeriod1[0].debitedAtMs! - ofPeriod1[0].notifiedAtMs).toBeGreaterThanOrEqual(1.5 * DAY_MS);
    } finally {
      await stop(handle);
    }
  });

  test('token.paused during the notice: no debit, the payment-failure pause asks for a new payment method', async () => {
    const { sub, mandateId, tokenId } = await subscribeWithMandate(`meera.${randomUUID().slice(0, 8)}@example.com`);
    const handle = await startSubscription(worker, sub, testSettings({ dayMs: 4 * DAY_MS }), taskQueue);
    try {
      await eventually(async () => (await mandateDebitsOf(tdb.db, sub.id)).some((r) => r.notified_at !== null), 20_000, 20);
      // The customer pauses the mandate in their UPI app; Razorpay says so in a signed webhook.
      await rails.pauseToken(tokenId);
      const body = {
        entity: 'event',
        account_id: 'acc_test',
        event: 'token.paused',
        contains: ['token'],
        payload: { token: { entity: { id: tokenId, entity: 'token', recurring_details: { status: 'paused' } } } },
        created_at: Math.floor(Date.now() / 1000),
      };
      const raw = JSON.stringify(body);
      const headers = {
        'content-type': 'application/json',
        'x-razorpay-signature': razorpaySignature(WEBHOOK_SECRET, raw),
        'x-razorpay-event-id': uniqueId('evt_'),
      };
      const post = () => fetch(`${api.url}/v1/webhooks/razorpay`, { method: 'POST', headers, body: raw }).then((r) => r.json());
      expect(await post()).toEqual({ received: true, matched: true, duplicate: false });
      expect(await post()).toEqual({ received: true, matched: true, duplicate: true });
      expect((await tdb.db('subscription_mandates').where({ id: mandateId }).first()).status).toBe('paused');

      await eventually(async () => (await state(handle)).billing === 'payment_failed', 20_000);
      const s = await state(handle);
      expect(s.exceptions.some((x) => x.reason === 'payment_failure')).toBe(true);
      expect(s.billingReason).toContain('mandate_paused');
      expect((await rails.debits(tokenId)).filter((d) => d.debitedAtMs !== null)).toEqual([]);
      await eventually(async () => (await notificationKinds(tdb.db, sub.id)).some((n) => n.kind === 'payment_method_required'));
      await eventually(async () => (await renewals(tdb.db, sub.id))[0]?.status === 'payment_failed');
    } finally {
      await stop(handle);
    }
  });

  test('the steps never debit a cycle twice: a repeated debit returns its payment, another attempt of the cycle is refused, none runs early', async () => {
    const { sub, mandateId, tokenId } = await subscribeWithMandate(`dev.${randomUUID().slice(0, 8)}@example.com`);
    const acts = createSubscriptionActivities({ db: tdb.db, payments: rails.provider(), logger: testLogger, pubsub: new InMemoryPubSub() });
    await openRenewal(tdb.db, { subscriptionId: sub.id, period: 1, periodStart: sub.startDate, amount: PRICE });
    const c = { subscriptionId: sub.id, customerId: sub.customerId, period: 1, attempt: 1, amount: PRICE, paymentMethod: mandateId };
    const notice = { paymentAfterMs: Date.now() + DAY_MS, noticeMs: DAY_MS };
    const first = await acts.noticeMandateDebit({ ...c, ...notice });
    // A repeated notice step is the same notice (one provider order).
    expect((await acts.noticeMandateDebit({ ...c, ...notice })).orderId).toBe(first.orderId);
    const second = await acts.noticeMandateDebit({ ...c, attempt: 2, ...notice });
    expect(second.orderId).not.toBe(first.orderId);
    await expect(acts.debitMandate({ ...c, orderId: first.orderId })).rejects.toThrow(/before/);

    await new Promise((r) => setTimeout(r, Math.max(first.paymentAfterMs, second.paymentAfterMs) - Date.now() + 50));
    const paid = await acts.debitMandate({ ...c, orderId: first.orderId });
    expect((await acts.debitMandate({ ...c, orderId: first.orderId })).id).toBe(paid.id);
    await expect(acts.debitMandate({ ...c, attempt: 2, orderId: second.orderId })).rejects.toMatchObject({
      type: 'PaymentDeclined',
      details: [{ code: 'cycle_already_debited' }],
    });
    await eventually(async () => (await acts.getRenewalPayment(paid.id)).status === 'succeeded');
    await acts.settleRenewalViaProvider({ ...c, paymentId: paid.id });
    const debits = await rails.debits(tokenId);
    expect(debits.filter((d) => d.debitedAtMs !== null).map((d) => [d.orderId, d.status])).toEqual([[first.orderId, 'succeeded']]);
    expectNoticeRespected(debits);
    expect((await mandateDebitsOf(tdb.db, sub.id)).map((r) => [r.attempt, r.status])).toEqual([
      [1, 'succeeded'],
      [2, 'notified'],
    ]);
  });

  test('token.cancelled in a paid period: the customer is asked for a new method at once; the next renewal pauses without a notice', async () => {
    const { sub, mandateId, tokenId } = await subscribeWithMandate(`leela.${randomUUID().slice(0, 8)}@example.com`);
    const handle = await startSubscription(worker, sub, testSettings({ dayMs: 2 * DAY_MS }), taskQueue);
    try {
      await eventually(async () => (await paidPeriods(sub.id)).includes(1), 20_000);
      await rails.pauseToken(tokenId);
      await handle.signal(mandateStatusSignal, { paymentMethod: mandateId, status: 'cancelled' });
      await eventually(async () =>
        (await notificationKinds(tdb.db, sub.id)).some((n) => n.kind === 'payment_method_required' && n.data.status === 'cancelled'),
      );
      // With the fast clock the next renewal may already be due: it pauses for a new method without a notice.
      await eventually(async () => (await state(handle)).billing === 'payment_failed', 30_000);
      expect((await state(handle)).billingReason).toContain('mandate_cancelled');
      // Period 2 was never noticed nor debited.
      expect((await mandateDebitsOf(tdb.db, sub.id)).map((r) => r.period)).toEqual([1]);
      expect((await rails.debits(tokenId)).length).toBe(1);
    } finally {
      await stop(handle);
    }
  });

  test('an amount above the mandate limit is refused before any notice or debit', async () => {
    const { sub, tokenId } = await subscribeWithMandate(`kiran.${randomUUID().slice(0, 8)}@example.com`, PRICE - 1);
    const handle = await startSubscription(worker, sub, settings(), taskQueue);
    try {
      await eventually(async () => (await state(handle)).billing === 'payment_failed', 20_000);
      expect((await state(handle)).billingReason).toContain('amount_above_mandate_limit');
      expect(await rails.debits(tokenId)).toEqual([]);
      expect(await mandateDebitsOf(tdb.db, sub.id)).toEqual([]);
      await eventually(async () => (await notificationKinds(tdb.db, sub.id)).some((n) => n.kind === 'payment_method_required'));
      expect((await notificationKinds(tdb.db, sub.id)).map((n) => n.kind)).not.toContain('pre_debit_notice');
    } finally {
      await stop(handle);
    }
  });
});

describe('mandate routes (sandbox rails): registering a mandate and attaching it to a subscription', () => {
  let worker: TestWorker;
  let taskQueue: string;
  beforeAll(async () => {
    taskQueue = `test-${randomUUID()}`;
    worker = await startTestWorker({ db: tdb.db, taskQueue, payments: new FakePaymentProvider(tdb.db, { settleDelayMs: 20 }) });
  });
  afterAll(async () => {
    await worker?.shutdown();
  });
  afterEach(async () => {
    await expectLedgerInvariants(tdb.db);
  });

  const call = (userId: string, path: string, body: unknown) =>
    fetch(`${api.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${api.token(userId)}` },
      body: JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, any> }));
  const customer = { name: 'Asha Rao', email: `asha.${randomUUID().slice(0, 8)}@example.com`, contact: '9876543210' };

  test('a declined card in dunning: the customer authorises a mandate and attaches it; the retry notices, then debits once', async () => {
    const sub = await insertSubscription(tdb.db, { paymentMethod: 'pm_declined' });
    const handle = await startSubscription(worker, sub, testSettings({ dayMs: DAY_MS, dunningRetryDays: [5, 6] }), taskQueue);
    try {
      await eventually(async () => (await state(handle)).billing === 'retrying', 20_000);
      const base = `/v1/subscriptions/${sub.id}/mandate`;
      // Refusals first: a limit below one renewal, a bad body, someone else's subscription, an order not started here.
      expect((await call(sub.customerId, `${base}/authorisation`, { maxAmount: PRICE - 1, customer })).status).toBe(422);
      expect((await call(sub.customerId, `${base}/authorisation`, { maxAmount: 'lots', customer })).status).toBe(400);
      expect((await call(uniqueId('cust'), `${base}/authorisation`, { maxAmount: PRICE, customer })).status).toBe(404);
      expect((await call(sub.customerId, base, { orderId: 'order_notours123' })).status).toBe(404);

      const auth = await call(sub.customerId, `${base}/authorisation`, { method: 'upi', maxAmount: 50_000, customer });
      expect(auth).toMatchObject({ status: 200, body: { method: 'upi', maxAmount: 50_000 } });
      const attached = await call(sub.customerId, base, { orderId: auth.body.orderId });
      expect(attached).toMatchObject({ status: 200, body: { status: 'active', maxAmount: 50_000, retried: true } });
      const mandateId = attached.body.mandateId as string;
      expect(mandateId).toMatch(/^pm_mandate_[0-9a-f]{16}$/);
      // Attaching the same approval again is the same mandate.
      expect((await call(sub.customerId, base, { orderId: auth.body.orderId })).body.mandateId).toBe(mandateId);

      await eventually(async () => (await renewals(tdb.db, sub.id))[0]?.status === 'paid', 20_000);
      expect((await renewals(tdb.db, sub.id))[0]).toMatchObject({ period: 1, paid_via: 'provider', amount: PRICE });
      const rows = (await mandateDebitsOf(tdb.db, sub.id)).filter((r) => r.period === 1);
      expect(rows.map((r) => r.status)).toEqual(['succeeded']);
      expect(new Date(rows[0].debited_at!).getTime() - new Date(rows[0].notified_at!).getTime()).toBeGreaterThanOrEqual(DAY_MS);
      const debits = await sandbox.debits(attached.body.tokenId);
      expect(debits.filter((d) => d.status === 'succeeded').map((d) => d.amount)).toEqual([PRICE]);
    } finally {
      await stop(handle);
    }
  });
});
